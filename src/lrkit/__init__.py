"""lrkit: learning-rate schedules that are easy to get right.

A schedule is a pure, closed-form function of the optimizer step (:mod:`lrkit.schedules`);
:class:`lrkit.Scheduler` applies one to a PyTorch optimizer. Heavy parts (torch, plotting,
config readers) are imported on first use, so ``import lrkit`` stays fast for the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lrkit.errors import ArgumentError, ConfigError, RenamedFieldWarning, ResumeWarning
from lrkit.schedules import Schedule, SchedulerInterface

__version__ = "0.1.0"

# Public name -> the module it is read from, imported on first use. A name maps to an
# attribute of that module, except "schedules" and "tasks", which are the modules themselves.
# Every name here is imported below for type checkers too, and tests/test_exports.py checks
# both lists agree and every entry resolves, so a typo fails the tests instead of hiding.
_LAZY: dict[str, str] = {
    "schedules": "lrkit.schedules",
    "Scheduler": "lrkit.scheduler",
    "Controller": "lrkit.scheduler",
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
    "read_log": "lrkit.monitor",
    "RunLog": "lrkit.monitor",
    "diagnose": "lrkit.diagnosis",
    "Diagnosis": "lrkit.diagnosis",
    "tasks": "lrkit.tasks",
    "Task": "lrkit.tasks",
    "get_task": "lrkit.tasks",
    "run_comparison": "lrkit.compare",
}
_MODULES = frozenset({"schedules", "tasks"})

__all__ = [
    "ArgumentError",
    "ConfigError",
    "RenamedFieldWarning",
    "ResumeWarning",
    "Schedule",
    "SchedulerInterface",
    "__version__",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lrkit' has no attribute {name!r}")
    mod = importlib.import_module(module)
    # strict: a name missing from its module is an error, never the module in its place
    value = mod if name in _MODULES else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - what type checkers and IDEs see for the lazy names
    from lrkit import schedules, tasks
    from lrkit.compare import run_comparison
    from lrkit.config import (
        FORMATS,
        ResolvedConfig,
        build,
        load_config,
        load_config_text,
        load_schedule,
        to_config,
    )
    from lrkit.diagnosis import Diagnosis, diagnose
    from lrkit.feedback import AdaptiveController, AdaptiveLearningRate, PlateauController
    from lrkit.finder import FinderResult, LearningRateFinder, find_lr
    from lrkit.findings import Finding
    from lrkit.guide import (
        CyclicalLearningRate,
        cosine_annealing_schedule,
        debug_lr_schedule,
        linear_warmup_decay_schedule,
        step_decay_schedule,
    )
    from lrkit.linter import lint
    from lrkit.monitor import LRMonitor, RunLog, read_log
    from lrkit.scheduler import Controller, Scheduler
    from lrkit.tasks import Task, get_task
