"""Errors and warnings that lrkit raises.

Every error a person can cause with bad input is a :class:`ConfigError`: a ``ValueError``
whose message names the field (a dotted config path where there is one), the offending value
and the fix. Nothing in lrkit should surface a raw ``KeyError``/``TypeError`` for bad input.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ArgumentError", "ConfigError", "RenamedFieldWarning", "ResumeWarning", "did_you_mean"]


class ConfigError(ValueError):
    """Bad input: names the field, the value and how to fix it.

    Attributes:
        field: dotted path of the offending field (``"training.scheduler.warmup_steps"``), or
            ``None`` when the error is not about one field.
        value: the offending value (``None`` when missing).
        fix: one sentence on what to do instead.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        fix: str | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.fix = fix
        self.message = message
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.field:
            parts.append(f"{self.field}: ")
        parts.append(self.message)
        if self.fix:
            parts.append(f" Fix: {self.fix}")
        return "".join(parts)

    def at(self, prefix: str) -> ConfigError:
        """Return the same error with ``prefix`` prepended to its field path."""
        field = f"{prefix}.{self.field}" if self.field else prefix
        return type(self)(self.message, field=field, value=self.value, fix=self.fix)


class ArgumentError(ConfigError, TypeError):
    """A call's arguments do not fit: an unknown keyword (with the closest valid name), one given
    twice, too many positional ones, or a required one missing. Also a ``TypeError``, which is
    what Python raises for such a call, so code that catches that keeps working."""


class ResumeWarning(UserWarning):
    """A resumed scheduler's checkpoint disagrees with the scheduler it is loaded into."""


class RenamedFieldWarning(DeprecationWarning):
    """A schedule field was given (or read) under its old name; the message names the new one.

    A :class:`DeprecationWarning`, so Python shows it for the caller's own code; the ``lrkit``
    command line shows it for configs too (as a note), where Python's filters would hide it."""


def did_you_mean(name: str, choices: Iterable[str], aliases: Mapping[str, str] | None = None) -> str:
    """``" Did you mean 'x'?"`` for the closest of ``choices``, or ``""``. ``aliases`` are other
    spellings matched too, each suggesting the choice it maps to (an old name suggests its new one)."""
    spelled = {str(c): str(c) for c in choices} | dict(aliases or {})
    close = difflib.get_close_matches(str(name), list(spelled), n=1, cutoff=0.6)
    return f" Did you mean {spelled[close[0]]!r}?" if close else ""
