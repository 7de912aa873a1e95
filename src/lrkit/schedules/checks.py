"""The one validation path: a number parser, a step-count parser and declarative field checks.

Every schedule family lists its fields' checks in a table, ``_checks = {"steps": STEPS, ...}``;
:meth:`Schedule.__post_init__ <lrkit.schedules.Schedule>` runs them in order and stores the
normalised values, then calls the family's ``_validate`` for rules that tie fields together.
Bad input is a :class:`~lrkit.errors.ConfigError` naming the field, the value and the fix.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from lrkit.errors import ConfigError, did_you_mean

__all__ = [
    "MAX_STEPS",
    "REQUIRED",
    "NONNEG",
    "POSITIVE",
    "RATIO",
    "STEPS",
    "Choice",
    "Each",
    "FieldCheck",
    "Flag",
    "Real",
    "Steps",
    "check_bool",
    "check_choice",
    "check_steps",
    "is_number_text",
    "parse_number",
]

#: the largest step count lrkit accepts: float64 evaluation is exact for integers up to here
MAX_STEPS = 2**53

# A number written as text: PyYAML follows YAML 1.1, which reads 1e-4 (no dot) as a string,
# while the frameworks (OmegaConf, YAML 1.2) read a float; underscores as in 1_000 are allowed.
_NUMBER_TEXT = re.compile(r"^[-+]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?$")


class _Required:
    """The default of a field every real use must set (a length): leaving it out is a
    :class:`ConfigError` naming the field, not a placeholder such as ``steps=1`` (which made a
    cosine reach its floor after one update)."""

    def __repr__(self) -> str:
        return "REQUIRED"


#: default of a required field; a dataclass field needs a default to keep positional arguments
REQUIRED: Any = _Required()


def _shown(value: Any, limit: int = 60) -> str:
    """``value`` in a message: its type and a short repr (``str '1e-4x'``), ``True``/``None`` alone."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text if isinstance(value, bool | None) else f"{type(value).__name__} {text}"


def is_number_text(value: Any) -> bool:
    """Whether ``value`` is a string that spells a finite decimal number (``"1e-4"``, ``"3_000"``)."""
    return isinstance(value, str) and _NUMBER_TEXT.match(value.strip()) is not None


def parse_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    text: bool = False,
    fix: str | None = None,
) -> float:
    """A finite real number within ``[low, high]`` (an end excluded when ``*_open``), as ``float``.

    With ``text=True`` a string that spells a number is read as one (config files); a bool is
    never a number. Anything else is a :class:`ConfigError` naming ``name``.
    """
    raw = value
    if text and is_number_text(value):
        value = float(value.strip().replace("_", ""))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(
            f"must be a number, got {_shown(raw)}.",
            field=name,
            value=raw,
            fix=fix or ("give a number." if isinstance(raw, bool | None) else "give a number such as 1.0e-4."),
        )
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(f"must be finite, got {raw!r}.", field=name, value=raw, fix=fix or "give a finite number.")
    if low is not None and (v < low or (low_open and v == low)):
        op = ">" if low_open else ">="
        raise ConfigError(
            f"must be {op} {low:g}, got {raw!r}.", field=name, value=raw, fix=fix or f"use a value {op} {low:g}."
        )
    if high is not None and (v > high or (high_open and v == high)):
        op = "<" if high_open else "<="
        raise ConfigError(
            f"must be {op} {high:g}, got {raw!r}.", field=name, value=raw, fix=fix or f"use a value {op} {high:g}."
        )
    return v


def check_steps(name: str, value: Any, *, minimum: int = 0, fix: str | None = None, text: bool = False) -> int:
    """A whole number of steps ``>= minimum`` as ``int``; a float with an integral value is
    accepted (YAML writes ``1e3`` as a float), and with ``text=True`` a string that spells one;
    anything else is a :class:`ConfigError`."""
    raw = value
    if text and is_number_text(value):
        value = float(value.strip().replace("_", ""))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(
            f"must be a whole number of steps, got {raw!r}.",
            field=name,
            value=raw,
            fix=fix or "give an integer count of optimizer updates.",
        )
    if isinstance(value, numbers.Integral):
        v = int(value)
    else:
        f = float(value)
        if not math.isfinite(f) or f != int(f):
            raise ConfigError(
                f"must be a whole number of steps, got {raw!r}.",
                field=name,
                value=raw,
                fix=fix or "round it to an integer count of optimizer updates.",
            )
        v = int(f)
    if v > MAX_STEPS:
        raise ConfigError(
            f"must be at most 2**53 ({MAX_STEPS}) steps, got {raw!r}.",
            field=name,
            value=raw,
            fix="give a real number of optimizer updates (float64 counts steps exactly only up to 2**53).",
        )
    if v < minimum:
        raise ConfigError(
            f"must be >= {minimum}, got {raw!r}.",
            field=name,
            value=raw,
            fix=fix or f"use at least {minimum} step{'s' if minimum != 1 else ''}.",
        )
    return v


def check_bool(name: str, value: Any) -> bool:
    """``True`` or ``False`` (not 0/1, not a string); else a :class:`ConfigError`."""
    if not isinstance(value, bool):
        raise ConfigError(f"must be true or false, got {value!r}.", field=name, value=value, fix="use true or false.")
    return value


def check_choice(name: str, value: Any, choices: tuple[str, ...] | list[str]) -> str:
    """``value`` if it is one of ``choices``; else a :class:`ConfigError` with a did-you-mean."""
    if not isinstance(value, str) or value not in choices:
        raise ConfigError(
            f"must be one of {', '.join(map(repr, choices))}, got {value!r}.{did_you_mean(str(value), choices)}",
            field=name,
            value=value,
            fix=f"use one of: {', '.join(choices)}.",
        )
    return value


# -- declarative field checks ----------------------------------------------------------------


class FieldCheck(Protocol):
    """Checks one field's value and returns it normalised (``float``, ``int``, ``tuple``...)."""

    def __call__(self, name: str, value: Any) -> Any: ...


@dataclass(frozen=True)
class Real:
    """A finite real within bounds (see :func:`parse_number`); ``None`` passes when ``optional``."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    optional: bool = False
    fix: str | None = None

    def __call__(self, name: str, value: Any) -> float | None:
        if value is None and self.optional:
            return None
        return parse_number(
            name,
            value,
            low=self.low,
            high=self.high,
            low_open=self.low_open,
            high_open=self.high_open,
            fix=self.fix,
        )


@dataclass(frozen=True)
class Steps:
    """A whole number of steps ``>= minimum`` (see :func:`check_steps`); ``None`` passes when ``optional``."""

    minimum: int = 0
    optional: bool = False

    def __call__(self, name: str, value: Any) -> int | None:
        if value is None and self.optional:
            return None
        return check_steps(name, value, minimum=self.minimum)


@dataclass(frozen=True)
class Choice:
    """One of ``choices``; ``aliases`` maps other accepted spellings to a choice."""

    choices: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, name: str, value: Any) -> str:
        if isinstance(value, str):
            value = self.aliases.get(value, value)
        return check_choice(name, value, self.choices)


@dataclass(frozen=True)
class Each:
    """A list whose every item passes ``item`` (named ``field[i]``), as a tuple."""

    item: FieldCheck
    what: str = "a list"

    def __call__(self, name: str, value: Any) -> tuple[Any, ...]:
        if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
            raise ConfigError(
                f"must be {self.what}, got {value!r}.", field=name, value=value, fix=f"write {name}: [...]."
            )
        return tuple(self.item(f"{name}[{i}]", v) for i, v in enumerate(value))


@dataclass(frozen=True)
class Flag:
    """``True`` or ``False``."""

    def __call__(self, name: str, value: Any) -> bool:
        return check_bool(name, value)


#: the checks most fields use
NONNEG = Real(low=0.0)
POSITIVE = Real(low=0.0, low_open=True)
RATIO = Real(low=0.0, high=1.0)
STEPS = Steps()
