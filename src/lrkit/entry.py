"""``module:function`` entry points: how a user's own code reaches lrkit's commands.

Used by ``lrkit find --entry`` and ``lrkit compare --entry``. Every failure of the user's code or
spec (malformed, not importable, missing, raising) is a :class:`~lrkit.ConfigError` naming the
entry and what the function must return -- the commands print it as one line.
"""

from __future__ import annotations

import importlib
from typing import Any

from lrkit.errors import ConfigError, did_you_mean

__all__ = ["call_entry"]


def call_entry(entry: str, *, returns: str, example: str, accept: type | None = None) -> Any:
    """Import ``module:function``, call the function with no arguments and return the result.

    Args:
        entry: the ``module:function`` spec.
        returns: what the function must return, for error messages ("an lrkit Task").
        example: an example spec for the fix ("mypkg.tasks:make_task").
        accept: a type whose instances may stand at ``module:name`` directly instead of a
            function (returned as they are).
    """
    if not isinstance(entry, str) or entry.count(":") != 1 or not all(entry.split(":")):
        raise ConfigError(
            f"an entry point is written module:function, got {entry!r}.",
            field="entry",
            value=entry,
            fix=f"e.g. --entry {example} (a function that takes no arguments and returns {returns}).",
        )
    module_name, func_name = entry.split(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # user code failing at import is bad input here
        raise ConfigError(
            f"cannot import module {module_name!r}: {type(err).__name__}: {err}.",
            field="entry",
            value=entry,
            fix="check the module name and that it is importable from the current directory (or installed).",
        ) from None
    factory = getattr(module, func_name, None)
    if factory is None:
        public = [n for n in dir(module) if not n.startswith("_")]
        raise ConfigError(
            f"module {module_name!r} has no attribute {func_name!r}.{did_you_mean(func_name, public)}",
            field="entry",
            value=entry,
            fix=f"name a function of that module that returns {returns}.",
        )
    if accept is not None and isinstance(factory, accept):
        return factory
    if not callable(factory):
        raise ConfigError(
            f"{entry} is a {type(factory).__name__}, not a function returning {returns}.",
            field="entry",
            value=entry,
            fix=f"point --entry at a function that takes no arguments and returns {returns}.",
        )
    try:
        return factory()
    except Exception as err:
        raise ConfigError(
            f"calling {entry}() raised {type(err).__name__}: {err}.",
            field="entry",
            value=entry,
            fix=f"the function must take no arguments and return {returns}.",
        ) from None
