"""lrkit: learning-rate schedules that are easy to get right.

A schedule is a pure, closed-form function of the optimizer step (:mod:`lrkit.schedules`);
:class:`lrkit.Scheduler` applies one to a PyTorch optimizer. Heavy parts (torch, plotting,
config readers) are imported on first use, so ``import lrkit`` stays fast for the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lrkit.errors import ConfigError, ResumeWarning
from lrkit.schedules import Schedule, SchedulerInterface

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily)
_LAZY: dict[str, str] = {
    "schedules": "lrkit.schedules",
    "Scheduler": "lrkit.scheduler",
    "linear_warmup_decay_schedule": "lrkit.guide",
    "cosine_annealing_schedule": "lrkit.guide",
    "step_decay_schedule": "lrkit.guide",
    "CyclicalLearningRate": "lrkit.guide",
    "debug_lr_schedule": "lrkit.guide",
    "load_schedule": "lrkit.config",
    "load_config": "lrkit.config",
    "load_config_text": "lrkit.config",
    "ResolvedConfig": "lrkit.config",
    "FORMATS": "lrkit.config",
    "build": "lrkit.config",
    "to_config": "lrkit.config",
    "lint": "lrkit.linter",
    "Finding": "lrkit.findings",
    "find_lr": "lrkit.finder",
    "FinderResult": "lrkit.finder",
    "LearningRateFinder": "lrkit.finder",
    "AdaptiveLearningRate": "lrkit.feedback",
    "AdaptiveController": "lrkit.feedback",
    "PlateauController": "lrkit.feedback",
    "LRMonitor": "lrkit.monitor",
    "diagnose": "lrkit.diagnosis",
    "Diagnosis": "lrkit.diagnosis",
    "Controller": "lrkit.scheduler",
    "tasks": "lrkit.tasks",
    "Task": "lrkit.tasks",
    "get_task": "lrkit.tasks",
    "run_comparison": "lrkit.compare",
    "read_log": "lrkit.monitor",
    "RunLog": "lrkit.monitor",
}

__all__ = ["ConfigError", "ResumeWarning", "Schedule", "SchedulerInterface", "__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lrkit' has no attribute {name!r}")
    mod = importlib.import_module(module)
    # `lrkit.lint` and `lrkit.diagnose` are functions of the `linter` and `diagnosis` packages
    # (named apart so importing a package never rebinds the function); `lrkit.schedules` is the
    # module itself.
    value = getattr(mod, name, mod)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover
    from lrkit.guide import (
        CyclicalLearningRate,
        cosine_annealing_schedule,
        linear_warmup_decay_schedule,
        step_decay_schedule,
    )
    from lrkit.scheduler import Scheduler
