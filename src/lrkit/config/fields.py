"""Typed access to plain config data, with errors that name the dotted path.

Every reader goes through these helpers instead of indexing dicts, so bad input always
becomes a :class:`~lrkit.ConfigError` naming the field (``policy.scheduler[1].kwargs.T_max``),
the value and the fix -- never a ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from lrkit.errors import ConfigError, did_you_mean
from lrkit.schedules.checks import check_steps, parse_number

__all__ = [
    "join",
    "mapping",
    "sequence",
    "number",
    "opt_number",
    "steps",
    "opt_steps",
    "boolean",
    "choice",
    "string",
    "check_keys",
    "at_path",
    "dig",
    "need",
]


def need(value: Any, path: str) -> Any:
    """``value``, unless it is a value the loader could not resolve (``???``, an unset
    ``${oc.env:X}``, an unknown resolver): then the curve needs it and the user is asked."""
    from lrkit.config.loading import Unresolved

    if isinstance(value, Unresolved):
        raise ConfigError(
            f"is {value.expr!r}, which cannot be resolved ({value.why}); the curve needs it.",
            field=path,
            value=value.expr,
            fix=f"pass --set {path}=<value> (or set it in the file).",
        )
    return value


def join(path: str, key: Any) -> str:
    """``join("a.b", "c") -> "a.b.c"``; ``join("a", 3) -> "a[3]"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def mapping(value: Any, path: str, *, what: str = "a mapping") -> Mapping[str, Any]:
    need(value, path)
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"must be {what}, got {type(value).__name__} {_short(value)}.",
            field=path,
            value=value,
            fix="write it as key: value pairs.",
        )
    return value


def sequence(value: Any, path: str) -> Sequence[Any]:
    need(value, path)
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConfigError(
            f"must be a list, got {type(value).__name__} {_short(value)}.",
            field=path,
            value=value,
            fix="write it as a YAML list ([a, b] or one '- item' per line).",
        )
    return value


def number(
    value: Any,
    path: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    fix: str | None = None,
) -> float:
    """A finite real within bounds; text that spells a number (YAML 1.1 reads ``1e-4`` as a
    string, OmegaConf a float) is one. Parsed by the algebra's one parser,
    :func:`lrkit.schedules.checks.parse_number`."""
    need(value, path)
    return parse_number(path, value, low=low, high=high, low_open=low_open, high_open=high_open, text=True, fix=fix)


def opt_number(value: Any, path: str, **kw: Any) -> float | None:
    return None if value is None else number(value, path, **kw)


def steps(value: Any, path: str, *, minimum: int = 0, fix: str | None = None) -> int:
    """A whole number of steps ``>= minimum`` (``1e3``, ``"1e3"`` and ``1000.0`` are accepted)."""
    need(value, path)
    return check_steps(path, value, minimum=minimum, fix=fix, text=True)


def opt_steps(value: Any, path: str, **kw: Any) -> int | None:
    return None if value is None else steps(value, path, **kw)


def boolean(value: Any, path: str) -> bool:
    need(value, path)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ConfigError(
        f"must be true or false, got {_short(value)}.", field=path, value=value, fix="write true or false."
    )


def string(value: Any, path: str) -> str:
    need(value, path)
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"must be a non-empty string, got {_short(value)}.", field=path, value=value, fix="write a name."
        )
    return value


def choice(value: Any, path: str, choices: Iterable[str]) -> str:
    need(value, path)
    options = list(choices)
    if not isinstance(value, str) or value not in options:
        raise ConfigError(
            f"unknown value {_short(value)}.{did_you_mean(str(value), options)}",
            field=path,
            value=value,
            fix=f"use one of: {', '.join(options)}.",
        )
    return value


def check_keys(m: Mapping[str, Any], allowed: Iterable[str], path: str, *, what: str = "") -> None:
    """Refuse keys outside ``allowed`` with a did-you-mean."""
    options = list(allowed)
    for key in m:
        if key not in options:
            where = f" for {what}" if what else ""
            raise ConfigError(
                f"unknown key {key!r}{where}.{did_you_mean(str(key), options)}",
                field=join(path, str(key)),
                value=m[key],
                fix=f"use one of: {', '.join(options)}." if options else "remove it.",
            )


def dig(m: Any, dotted: str) -> Any:
    """``m["a"]["b"]`` for ``"a.b"``, or ``None`` when any level is missing or not a mapping."""
    cur = m
    for part in dotted.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


def refield(err: ConfigError, field: str | None) -> ConfigError:
    """``err`` on another field; a ``--set <old field>=`` in its fix follows the field."""
    fix = err.fix
    if fix and err.field and field and f"--set {err.field}=" in fix:
        fix = fix.replace(f"--set {err.field}=", f"--set {field}=")
    return ConfigError(err.message, field=field, value=err.value, fix=fix)


@contextmanager
def at_path(path: str):
    """Prefix the field of any :class:`ConfigError` raised inside with ``path``."""
    try:
        yield
    except ConfigError as err:
        raise refield(err, err.at(path).field) from None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
