"""Build a controller from its config dict (``training.scheduler.controller`` in lrkit YAML).

    controller: {type: plateau, patience: 5, factor: 0.5, min_lr: 1.0e-6}
    controller: {type: adaptive, window: 20, patience: 2}

Field names in errors are relative to the controller dict (``patience``, ``type``); callers
that know the dict's place in a config prefix them with ``ConfigError.at``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from typing import Any

from lrkit.errors import ConfigError, did_you_mean
from lrkit.feedback.adaptive import AdaptiveController
from lrkit.feedback.base import FeedbackController, unknown_key_error
from lrkit.feedback.plateau import PlateauController

__all__ = ["CONTROLLER_TYPES", "controller_from_dict", "controller_keys"]

CONTROLLER_TYPES: dict[str, type[FeedbackController]] = {
    AdaptiveController.type_name: AdaptiveController,
    PlateauController.type_name: PlateauController,
}

# PyYAML follows YAML 1.1, which reads 1e-6 (no dot) as a string; such a string is a number
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def controller_keys(kind: str) -> list[str]:
    """The settings a controller dict of type ``kind`` accepts (besides ``type``)."""
    params = inspect.signature(CONTROLLER_TYPES[kind].__init__).parameters
    return [p for p in params if p not in ("self", "process_group")]


def _coerce(value: Any) -> Any:
    if isinstance(value, str) and _NUMBER.match(value.strip()):
        return float(value)
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
