"""What every feedback controller shares: argument checks, metric intake and state checks.

A controller turns a stream of metrics (one per ``update``) into a scale per parameter group
(``factor(g)``) that :class:`lrkit.Scheduler` multiplies into the schedule:

    lr_g(k) = max(base_lr_g * schedule_g(k) * controller.factor(g), floor_g)

Controllers are the only stateful objects in lrkit, so their state is explicit plain data
(ints, floats, strings, lists, dicts): ``state_dict()`` survives
``torch.save``/``torch.load(weights_only=True)`` and a resumed run decides exactly as an
uninterrupted one.
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

from lrkit.errors import ConfigError, ResumeWarning, did_you_mean
from lrkit.feedback.distributed import average_metric
from lrkit.schedules.checks import check_bool, check_choice, check_steps, is_number_text
from lrkit.schedules.checks import parse_number as check_real

__all__ = [
    "CONTROLLER_TYPES",
    "FeedbackController",
    "check_bool",
    "check_choice",
    "check_real",
    "check_steps",
    "controller_from_dict",
    "controller_keys",
]

_STATE_VERSION = 1

#: controller type name -> class: every FeedbackController subclass with a ``type_name``
#: registers itself here when it is defined, so this module needs no import of them
CONTROLLER_TYPES: dict[str, type[FeedbackController]] = {}


def metric_value(metric: Any) -> float:
    """A metric as a Python float: numbers, numpy scalars and one-element tensors."""
    if isinstance(metric, bool) or metric is None or isinstance(metric, str | bytes):
        raise ConfigError(
            f"a metric must be a number, got {metric!r}.",
            field="metric",
            value=metric,
            fix="pass the loss (or validation score) as a float or a scalar tensor.",
        )
    if isinstance(metric, numbers.Real):
        return float(metric)
    try:
        return float(metric.item()) if hasattr(metric, "item") else float(metric)
    except (TypeError, ValueError, RuntimeError):
        raise ConfigError(
            f"a metric must be a single number, got {type(metric).__name__} {metric!r}.",
            field="metric",
            value=metric,
            fix="reduce it first, e.g. loss.mean().item().",
        ) from None


class FeedbackController:
    """Base of lrkit's controllers (:class:`~lrkit.feedback.AdaptiveController`,
    :class:`~lrkit.feedback.PlateauController`).

    Subclasses set ``type_name`` and ``_state_keys`` and implement ``_decide(value)`` (the
    rank-averaged metric), ``factor(group)`` and ``to_dict()``.

    Args (shared):
        sync: average the metric over ``torch.distributed`` ranks before deciding, when a
            process group is initialized (every rank must then call ``update``).
        process_group: the group to average over (``None``: the default group).
    """

    type_name: ClassVar[str] = ""
    _state_keys: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.type_name:
            CONTROLLER_TYPES[cls.type_name] = cls

    def __init__(self, *, sync: bool = True, process_group: Any = None) -> None:
        self.sync = check_bool("sync", sync)
        self.process_group = process_group
        #: metrics received so far (after any interruption, counted across the resume)
        self.num_updates = 0
        #: the last rank-averaged metric the decision used (NaN before the first update)
        self.last_metric = math.nan

    # -- feeding ------------------------------------------------------------------------------
    def update(self, metric: Any) -> None:
        """Feed one metric (usually the loss of the update just taken, or a validation score).

        The value is first averaged across ranks (a collective every rank joins, even when its
        own value is NaN), then the controller decides. NaN and inf are never written into a
        scale."""
        value = metric_value(metric)
        if self.sync:
            value = average_metric(value, group=self.process_group)
        self.num_updates += 1
        self.last_metric = value
        self._decide(value)

    step = update

    def _decide(self, value: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def factor(self, group: int = 0) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- plain-data forms ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    get_config = to_dict

    def state_dict(self) -> dict[str, Any]:
        """The controller's whole state as plain data, its configuration included (to warn when
        a checkpoint is loaded into a differently configured controller)."""
        state: dict[str, Any] = {
            "lrkit_controller_version": _STATE_VERSION,
            "type": self.type_name,
            "config": self.to_dict(),
            "num_updates": self.num_updates,
            "last_metric": self.last_metric,
        }
        for key in self._state_keys:
            state[key] = _plain(getattr(self, key))
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output; decisions then continue exactly."""
        if not isinstance(state, Mapping) or state.get("type") != self.type_name:
            got = state.get("type") if isinstance(state, Mapping) else type(state).__name__
            raise ConfigError(
                f"not the state of a {self.type_name!r} controller (got {got!r}).",
                field="state_dict",
                value=got,
                fix=f"load the dict returned by a {type(self).__name__}'s state_dict().",
            )
        missing = [k for k in ("num_updates", *self._state_keys) if k not in state]
        if missing:
            raise ConfigError(
                f"the controller state lacks {', '.join(missing)}.",
                field="state_dict",
                value=sorted(state),
                fix="load a state written by this version of lrkit's controller.state_dict().",
            )
        saved = state.get("config")
        if saved is not None and dict(saved) != self.to_dict():
            warnings.warn(
                f"the checkpoint's controller {dict(saved)} differs from this one {self.to_dict()}; "
                "restoring its state under this controller's settings.",
                ResumeWarning,
                stacklevel=2,
            )
        self.num_updates = int(state["num_updates"])
        self.last_metric = float(state.get("last_metric", math.nan))
        self._load(state)

    def _load(self, state: Mapping[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FeedbackController:
        """Build from :meth:`to_dict`'s form (``type`` optional); see
        :func:`lrkit.feedback.controller_from_dict` for the checks."""
        if isinstance(d, Mapping) and cls.type_name:
            d = {"type": cls.type_name, **d}
            if d["type"] != cls.type_name:
                raise ConfigError(
                    f"{cls.__name__}.from_dict got a {d['type']!r} controller.",
                    field="type",
                    value=d["type"],
                    fix=f"use type: {cls.type_name}, or lrkit.feedback.controller_from_dict for any type.",
                )
        return controller_from_dict(d)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "type")
        return f"{type(self).__name__}({args})"


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    return float(value)


def unknown_key_error(key: str, allowed: list[str], kind: str) -> ConfigError:
    return ConfigError(
        f"unknown setting {key!r} for the {kind} controller.{did_you_mean(key, allowed)}",
        field=key,
        value=key,
        fix=f"use only: {', '.join(allowed)}.",
    )


def controller_keys(kind: str) -> list[str]:
    """The settings a controller dict of type ``kind`` accepts (besides ``type``)."""
    params = inspect.signature(CONTROLLER_TYPES[kind].__init__).parameters
    return [p for p in params if p not in ("self", "process_group")]


def _coerce(value: Any) -> Any:
    # PyYAML follows YAML 1.1, which reads 1e-6 (no dot) as a string; such a string is a number
    if is_number_text(value):
        return float(value.strip().replace("_", ""))
    if isinstance(value, list | tuple):
        return [_coerce(v) for v in value]
    return value


def controller_from_dict(d: Mapping[str, Any]) -> FeedbackController:
    """A controller from ``{type: adaptive|plateau, ...settings}``.

    Raises :class:`~lrkit.ConfigError` naming the field, the value and the fix for a missing
    or unknown ``type``, an unknown setting (with a did-you-mean) and any bad value.
    """
    kinds = sorted(CONTROLLER_TYPES)
    if isinstance(d, FeedbackController):
        return d
    if not isinstance(d, Mapping):
        raise ConfigError(
            f"a controller must be a mapping, got {type(d).__name__} {d!r}.",
            value=d,
            fix="write e.g. controller: {type: plateau, patience: 10}.",
        )
    if "type" not in d:
        raise ConfigError(
            "the controller has no type.",
            field="type",
            fix=f"add type: {' or type: '.join(kinds)}.",
        )
    kind = d["type"]
    if not isinstance(kind, str) or kind not in CONTROLLER_TYPES:
        raise ConfigError(
            f"unknown controller type {kind!r}.{did_you_mean(str(kind), kinds)}",
            field="type",
            value=kind,
            fix=f"use one of: {', '.join(kinds)}.",
        )
    allowed = controller_keys(kind)
    kwargs: dict[str, Any] = {}
    for key, value in d.items():
        if key == "type":
            continue
        if not isinstance(key, str) or key not in allowed:
            raise unknown_key_error(str(key), allowed, kind)
        kwargs[key] = _coerce(value)
    return CONTROLLER_TYPES[kind](**kwargs)
