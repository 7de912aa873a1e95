"""The schedule base class, its registry and the value checks every family shares.

A schedule is an immutable value that maps a step to a number. *Step* ``k`` means "``k``
optimizer updates already taken": the learning rate (or factor of the peak) used for update
``k`` is ``schedule(k)``. Evaluation is closed-form and vectorized: ``schedule(np.arange(n))``
returns all ``n`` values at once, and ``schedule(k)`` for an ``int`` returns a ``float`` that is
bitwise equal to the corresponding element of the vectorized result.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, ClassVar, ParamSpec, TypeVar, overload

import numpy as np

from lrkit.errors import ArgumentError, ConfigError, RenamedFieldWarning, did_you_mean
from lrkit.schedules.checks import MAX_STEPS, REQUIRED, FieldCheck, check_choice, check_steps, parse_number

__all__ = [
    "MAX_STEPS",
    "check_choice",
    "check_real",
    "check_steps",
    "set_field",
    "Schedule",
    "register",
    "get_schedule_class",
    "schedule_names",
    "from_dict",
    "as_schedule",
    "Nested",
    "rename_fields",
    "current_names",
    "check_arguments",
    "argument_error",
]

_REGISTRY: dict[str, type[Schedule]] = {}

S = TypeVar("S", bound="type[Schedule]")


def register(name: str) -> Callable[[S], S]:
    """Class decorator: make a schedule family known to :func:`from_dict` under ``name``.

    A dataclass family's constructor is wrapped once here (:func:`_check_keywords`): it still takes
    the old keywords of ``_renamed`` (see :func:`rename_fields`), and arguments that do not fit
    its fields are an :class:`~lrkit.errors.ArgumentError` naming the closest field.
    """

    def deco(cls: S) -> S:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ConfigError(
                f"a schedule named {name!r} is already registered ({_REGISTRY[name].__qualname__}).",
                field="type",
                value=name,
                fix="pick another name for your schedule class.",
            )
        cls.type_name = name
        _REGISTRY[name] = cls
        if dataclasses.is_dataclass(cls):
            _check_keywords(cls)
        return cls

    return deco


def rename_fields(
    cls: type[Schedule],
    kwargs: Mapping[str, Any],
    *,
    where: str = "",
    positional: Sequence[str] = (),
) -> dict[str, Any]:
    """``kwargs`` with ``cls``'s old field names (its ``_renamed`` table) replaced by the new ones.

    The one place old names are honoured: constructors, :func:`from_dict` (hence ``from_config``,
    every config reader built on it and inline compare specs) call it. Each old name gives a
    :class:`DeprecationWarning` naming the new one; an old and a new name for the same field
    (or the old name for a field already given positionally) is a :class:`ConfigError` naming
    both. ``where`` prefixes the field in errors (a config path). The warning points at the first
    caller outside lrkit (the user's line, not a config reader's)."""
    renamed = cls._renamed
    out = dict(kwargs)
    for old, new in renamed.items():
        if old not in out:
            continue
        if new in out or new in positional:
            raise ConfigError(
                f"gives both {old!r} (the old name) and {new!r} for the same field of {cls.__name__}.",
                field=f"{where}.{new}" if where else new,
                value=out[old],
                fix=f"keep {new!r} only ({old!r} is its old name).",
            )
        warnings.warn(
            f"{cls.__name__}: field {old!r} is now called {new!r} (the old name is still accepted; write {new!r}).",
            RenamedFieldWarning,
            stacklevel=_first_frame_outside_lrkit(),
        )
        out[new] = out.pop(old)
    return out


def current_names(data: Any) -> Any:
    """A schedule's plain-data form (``to_dict()`` output, perhaps saved before a field was
    renamed) with every old field name replaced by the current one, recursively. Nothing is
    built, checked or warned about: this is for comparing a saved dict with ``to_dict()``."""
    if isinstance(data, list | tuple):
        return [current_names(d) for d in data]
    if not isinstance(data, Mapping):
        return data
    name = data.get("type")
    cls = _REGISTRY.get(name) if isinstance(name, str) else None
    renamed = cls._renamed if cls is not None else {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        new = renamed.get(key)
        out[new if new is not None and new not in data else key] = current_names(value)
    return out


_LRKIT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _first_frame_outside_lrkit() -> int:
    """The ``stacklevel`` that makes a warning raised by this function's caller point at the first
    frame outside the lrkit package."""
    level = 1
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LRKIT_DIR):
        frame, level = frame.f_back, level + 1
    return level


def _check_keywords(cls: type[Schedule]) -> None:
    """Wrap ``cls.__init__`` (construction only: evaluating a schedule never passes through here)
    so the old keywords of ``cls._renamed`` still work and arguments that do not fit the fields
    are an :class:`ArgumentError`. The happy path pays one call and, for a family with renamed
    fields, one set test; the diagnosis runs only once the dataclass's ``__init__`` refused."""
    init = cls.__init__
    names = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    old_names = frozenset(cls._renamed)

    @functools.wraps(init)
    def __init__(self: Schedule, *args: Any, **kwargs: Any) -> None:
        if old_names and kwargs and not old_names.isdisjoint(kwargs):
            kwargs = rename_fields(cls, kwargs, positional=names[: len(args)])
        try:
            init(self, *args, **kwargs)
        except TypeError as err:
            bad = argument_error(cls.__name__, init, (self, *args), kwargs, renamed=cls._renamed, noun="field")
            if bad is None:
                raise
            raise bad from err

    setattr(cls, "__init__", __init__)  # noqa: B010 - mypy refuses assigning to a method


P = ParamSpec("P")
R = TypeVar("R")


def check_arguments(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator for a function that builds a schedule or scheduler (a preset, a guide factory):
    arguments that do not fit its signature are an :class:`ArgumentError` naming the closest
    parameter, as for the schedule constructors."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TypeError as err:
            bad = argument_error(func.__qualname__.removesuffix(".__init__"), func, args, kwargs, noun="argument")
            if bad is None:
                raise
            raise bad from err

    return wrapper


def argument_error(
    owner: str,
    func: Callable[..., Any],
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    *,
    renamed: Mapping[str, str] | None = None,
    noun: str = "argument",
) -> ArgumentError | None:
    """Why ``func(*args, **kwargs)`` does not bind, as an :class:`ArgumentError`, or ``None`` when
    it binds (then the ``TypeError`` being handled came from inside ``func`` and is not ours).

    ``owner`` names the schedule or function in the message; ``renamed`` maps old names to new
    ones, so a misspelt old name suggests the current one."""
    sig = inspect.signature(func)
    try:
        sig.bind(*args, **kwargs)
    except TypeError:
        pass
    else:
        return None
    params = list(sig.parameters.values())
    if params and params[0].name == "self" and args:
        params, args = params[1:], args[1:]
    names = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    listed = f"{owner}'s {noun}s are {', '.join(names)}."
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params)
    keywordable = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    for key, value in kwargs.items():
        if key in keywordable or takes_any:
            continue
        # an old name counts as a spelling of its new one, so 'max_valu' suggests 'peak'
        aliases = {o: n for o, n in (renamed or {}).items() if n in names}
        return ArgumentError(
            f"{owner} has no {noun} {key!r}.{did_you_mean(key, names, aliases)}",
            field=key,
            value=value,
            fix=f"use one of them: {listed}",
        )
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(args) > len(positional) and not any(p.kind is p.VAR_POSITIONAL for p in params):
        return ArgumentError(
            f"{owner} takes {len(positional)} positional {noun}s ({', '.join(positional)}), got {len(args)}.",
            field=None,
            value=tuple(args),
            fix=f"pass the others by name. {listed}",
        )
    for key in positional[: len(args)]:
        if key in kwargs:
            return ArgumentError(
                f"{owner} got {key!r} twice: positionally and by name.",
                field=key,
                value=kwargs[key],
                fix=f"give {key} once.",
            )
    given = set(positional[: len(args)]) | set(kwargs)
    missing = [
        p.name
        for p in params
        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in given
    ]
    if missing:
        return ArgumentError(
            f"{owner} needs {', '.join(repr(m) for m in missing)}.",
            field=missing[0],
            fix=f"give {missing[0]}. {listed}",
        )
    return None  # pragma: no cover - bind refused for a reason not listed above


def schedule_names() -> list[str]:
    """Names of every registered schedule family, sorted."""
    return sorted(_REGISTRY)


def get_schedule_class(name: str, *, field: str = "type") -> type[Schedule]:
    """The class registered under ``name``; a :class:`ConfigError` with a suggestion if none."""
    if not isinstance(name, str):
        raise ConfigError(
            f"schedule type must be a string, got {name!r}.",
            field=field,
            value=name,
            fix=f"use one of: {', '.join(schedule_names())}.",
        )
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown schedule type {name!r}.{did_you_mean(name, _REGISTRY)}",
            field=field,
            value=name,
            fix=f"use one of: {', '.join(schedule_names())}.",
        ) from None


class Schedule:
    """Base of every schedule: a pure function of the step count.

    Subclasses are frozen dataclasses that implement :meth:`_evaluate` on a float64 array of
    non-negative steps. Their arguments are checked in one declarative place: the ``_checks``
    table maps a field to its check (:mod:`lrkit.schedules.checks`), run in order by
    ``__post_init__``, which stores the normalised values and then calls ``_validate`` for the
    rules that tie fields together. Bad input is a :class:`~lrkit.ConfigError` naming the
    field, the value and the fix.
    """

    type_name: ClassVar[str] = ""
    #: field name -> its check, run in this order
    _checks: ClassVar[Mapping[str, FieldCheck]] = {}
    #: old field name -> its current name: still accepted by the constructor, ``from_dict`` and
    #: the config readers (with a DeprecationWarning) and readable as an attribute;
    #: ``to_dict`` writes the current names only
    _renamed: ClassVar[Mapping[str, str]] = {}

    def __post_init__(self) -> None:
        for name, check in self._checks.items():
            value = getattr(self, name)
            if value is REQUIRED:
                raise ConfigError(
                    f"is required: {self.type_name or type(self).__name__} has no default for it.",
                    field=name,
                    fix=f"give {name} (a count of optimizer updates, e.g. the length of your run).",
                )
            object.__setattr__(self, name, check(name, value))
        self._validate()

    def _validate(self) -> None:
        """Rules that tie several fields together, after each field passed its own check."""

    if not TYPE_CHECKING:  # hidden from type checkers: a misspelt attribute stays a type error

        def __getattr__(self, name: str) -> Any:
            # only reached when normal lookup fails: an old field name reads the new field
            new = type(self)._renamed.get(name)
            if new is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            warnings.warn(
                f"{type(self).__name__}.{name} is now called {new!r} (the old name is still readable; use {new!r}).",
                RenamedFieldWarning,
                stacklevel=2,
            )
            return getattr(self, new)

    # -- evaluation -----------------------------------------------------------------------
    @overload
    def __call__(self, step: int | float) -> float: ...

    @overload
    def __call__(self, step: np.ndarray | Sequence[int]) -> np.ndarray: ...

    def __call__(self, step: Any) -> Any:
        """Value(s) at ``step`` (updates already taken); float for a scalar, array otherwise."""
        if isinstance(step, numbers.Real) and not isinstance(step, bool):
            t = np.array([step], dtype=np.float64)
            _check_steps_array(t)
            return float(self._evaluate(t)[0])
        arr = np.asarray(step)
        if arr.dtype.kind not in "iuf":
            raise ConfigError(
                f"steps must be integers or floats, got an array of dtype {arr.dtype}.",
                field="step",
                value=step,
                fix="pass an int or a numpy array of step counts.",
            )
        t = arr.astype(np.float64, copy=False).reshape(-1)
        _check_steps_array(t)
        return self._evaluate(t).reshape(arr.shape)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- structure --------------------------------------------------------------------------
    @property
    def horizon(self) -> float | None:
        """First step from which the value never changes again, or ``None`` if it keeps moving
        (periodic or asymptotic families). Used by plots and the linter."""
        return None

    def phase_starts(self, until: int | None = None) -> list[int]:
        """Steps where a phase starts (warm-up end, decay start, restarts, milestones), sorted,
        limited to ``<= until`` when given."""
        return []

    # -- serialization ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-data description (``{"type": name, **fields}``) that :func:`from_dict` reverses."""
        out: dict[str, Any] = {"type": self.type_name}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            out[f.name] = _plain(getattr(self, f.name))
        return out

    get_config = to_dict

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        """Build a schedule from :meth:`to_dict` output; on ``Schedule`` itself dispatch by
        ``type``, on a subclass the ``type`` key is optional."""
        return from_dict(data, expected=None if cls is Schedule else cls)

    from_config = from_dict

    @classmethod
    def _build(cls, kwargs: dict[str, Any], where: str) -> Schedule:
        """The instance :func:`from_dict` makes from the fields of a dict (``type`` removed)."""
        return _build_dataclass(cls, kwargs, where)

    # -- conveniences -----------------------------------------------------------------------
    def maximum(self, until: int) -> float:
        """Largest value over steps ``0..until-1`` (a method name no family uses as a field)."""
        return float(np.max(self(np.arange(max(int(until), 1)))))

    def __mul__(self, factor: float) -> Schedule:
        from lrkit.schedules.combinators import Scale

        return Scale(self, factor)

    __rmul__ = __mul__


def _plain(value: Any) -> Any:
    if isinstance(value, Schedule):
        return value.to_dict()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _check_steps_array(t: np.ndarray) -> None:
    if t.size and not (np.all(np.isfinite(t)) and np.min(t) >= 0):
        bad = t[~(np.isfinite(t) & (t >= 0))][0]
        raise ConfigError(
            f"a step must be a finite count >= 0, got {bad!r}.",
            field="step",
            value=bad,
            fix="steps count optimizer updates already taken, starting at 0.",
        )


def from_dict(data: Any, *, expected: type[Schedule] | None = None, path: str = "") -> Schedule:
    """Build a schedule from a plain dict (``{"type": ..., **fields}``), recursively.

    Unknown types and fields get a did-you-mean; errors carry the dotted ``path``.
    """
    where = path or "schedule"
    if isinstance(data, Schedule):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"a schedule must be a mapping with a 'type' key, got {type(data).__name__} {data!r}.",
            field=where,
            value=data,
            fix="write it as {type: cosine, steps: 1000, ...}.",
        )
    kwargs = dict(data)
    name = kwargs.pop("type", None)
    if name is None:
        if expected is None:
            raise ConfigError(
                "missing 'type'.",
                field=where,
                fix=f"add type: one of {', '.join(schedule_names())}.",
            )
        cls: type[Schedule] = expected
    else:
        cls = get_schedule_class(name, field=f"{where}.type")
        if expected is not None and not issubclass(cls, expected):
            raise ConfigError(
                f"expected a {expected.type_name!r} schedule, got {name!r}.",
                field=f"{where}.type",
                value=name,
            )
    return cls._build(kwargs, where)


def _build_dataclass(cls: type[Schedule], kwargs: dict[str, Any], where: str) -> Schedule:
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    if cls._renamed:
        kwargs = rename_fields(cls, kwargs, where=where)
    for key in kwargs:
        if key not in fields:
            raise ConfigError(
                f"unknown field {key!r} for schedule {cls.type_name!r}.{did_you_mean(key, fields)}",
                field=f"{where}.{key}",
                value=kwargs[key],
                fix=f"{cls.type_name} takes: {', '.join(fields)}.",
            )
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(
            f"schedule {cls.type_name!r} needs {', '.join(repr(m) for m in missing)}.",
            field=f"{where}.{missing[0]}",
            fix=f"add {missing[0]}: <value>.",
        )
    # nested schedules are built by their fields' checks (Nested), inside the constructor
    try:
        return cls(**kwargs)
    except ConfigError as err:
        raise err.at(where) from None


@dataclass(frozen=True)
class Nested:
    """Field check: a schedule, or its dict form (built with :func:`from_dict`); ``purpose``
    ends the message when it is missing ("needs the schedule to warm up into.")."""

    purpose: str = ""

    def __call__(self, name: str, value: Any) -> Schedule:
        if value is None:
            raise ConfigError(
                f"needs the schedule {self.purpose}".rstrip() + ".", field=name, fix=f"add {name}: {{type: ...}}."
            )
        return value if isinstance(value, Schedule) else from_dict(value, path=name)


def as_schedule(value: Any, *, field: str = "schedule") -> Schedule:
    """Accept a :class:`Schedule`, a dict, or a registered name without arguments.

    A bare name is only taken for a family whose defaults do not change with the step
    (``"constant"``): the defaults of the others are placeholders (``"cosine"`` would decay to
    0 within one update), so they need their arguments."""
    if isinstance(value, Schedule):
        return value
    if isinstance(value, str):
        cls = get_schedule_class(value, field=field)
        required = [f.name for f in dataclasses.fields(cls) if f.default is REQUIRED]  # type: ignore[arg-type]
        if required:
            raise ConfigError(
                f"a bare {value!r} has no length: it needs {', '.join(required)}.",
                field=field,
                value=value,
                fix=f"give its arguments, e.g. {{type: {value}, {required[0]}: <steps>}} with the step counts of "
                "your run, or a Schedule such as lrkit.schedules.warmup_cosine(total_steps, warmup_steps).",
            )
        built = from_dict({"type": value}, path=field)
        if built.horizon != 0:
            raise ConfigError(
                f"a bare {value!r} has no length: its defaults are placeholders (e.g. {built.to_dict()}).",
                field=field,
                value=value,
                fix=f"give its arguments, e.g. {{type: {value}, ...}} with the step counts of your run, "
                "or a Schedule such as lrkit.schedules.warmup_cosine(total_steps, warmup_steps).",
            )
        return built
    return from_dict(value, path=field)


# -- argument checks: lrkit.schedules.checks is the one validation path; these names stay for importers

check_real = parse_number


def set_field(obj: Any, name: str, value: Any) -> None:
    """Normalise a field of a frozen dataclass (for a family's ``_validate``)."""
    object.__setattr__(obj, name, value)
