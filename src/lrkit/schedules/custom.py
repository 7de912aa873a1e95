"""User-defined schedules: subclass :class:`SchedulerInterface` and write ``get_lr(step)``.

This is the guide's ``CustomScheduler`` pattern. A subclass is registered by its class name
(or ``name=`` in the class statement), so configs can name it with ``type:``, and it works
wherever a built-in schedule does: in :class:`lrkit.Scheduler`, in plots, in the linter.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules import base as _base
from lrkit.schedules.base import Schedule, check_real

__all__ = ["SchedulerInterface"]


class SchedulerInterface(Schedule):
    """Base for schedules written as a Python function of the step.

    Subclasses receive their config as a dict (``self.config``) and implement
    ``get_lr(step) -> float``, where ``step`` is the number of optimizer updates already
    taken. ``self.base_lr`` is ``config["base_lr"]`` (or ``config["lr"]``), default ``1.0``,
    so a schedule written against ``base_lr`` is a factor curve unless you give a real LR.

    Evaluation calls ``get_lr`` once per step, so it is slower than the closed-form
    families on very long previews; it must be a pure function of ``step``.
    """

    def __init_subclass__(cls, name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        key = name or cls.__name__
        previous = _base._REGISTRY.get(key)
        # Re-running a class statement (a notebook cell, a reloaded module) replaces it.
        if previous is not None and (previous.__module__, previous.__qualname__) == (cls.__module__, cls.__qualname__):
            del _base._REGISTRY[key]
        _base.register(key)(cls)

    def __init__(self, config: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        if config is not None and not isinstance(config, Mapping):
            raise ConfigError(
                f"config must be a mapping, got {type(config).__name__}.",
                field="config",
                value=config,
                fix="pass a dict such as {'warmup_steps': 1000}.",
            )
        cfg = dict(config or {})
        cfg.update(kwargs)
        self.config = cfg
        key = "base_lr" if "base_lr" in cfg else "lr"
        self.base_lr = check_real(key, cfg.get(key, 1.0), low=0.0, fix="give the peak LR as a number, e.g. 3e-4.")

    def get_lr(self, step: int | float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr(step)")

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        out = np.empty_like(t)
        for i, x in enumerate(t):
            step = int(x) if float(x).is_integer() else float(x)
            v = self.get_lr(step)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
                raise ConfigError(
                    f"{type(self).__name__}.get_lr({step}) returned {v!r}; "
                    "a learning rate must be a finite number >= 0.",
                    field=self.type_name,
                    value=v,
                    fix="fix get_lr so that it returns a float for every step >= 0.",
                )
            out[i] = v
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type_name, **self.config}

    @classmethod
    def _build(cls, kwargs: dict[str, Any], where: str) -> Schedule:
        try:
            return cls(kwargs)
        except ConfigError as err:
            raise err.at(where) from None
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(
                f"{cls.__name__} could not be built from {kwargs!r}: {err}.",
                field=where,
                value=kwargs,
                fix=f"check the keys that {cls.__name__}.__init__ reads.",
            ) from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SchedulerInterface) and type(self) is type(other) and self.config == other.config

    def __hash__(self) -> int:
        return hash((type(self), repr(sorted(self.config.items()))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"
