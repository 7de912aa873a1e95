"""The linter: findings about a learning-rate schedule and the run it drives.

``lrkit.lint(target)`` looks at the *resolved curve* (the absolute LR of every update,
computed by the schedule algebra in one vectorized call) and at the *run context* a config
reader records (warm-up length, the pieces of a torch scheduler list and their milestones,
Megatron's ``lr_decay_iters``, ``min_lr`` ...). It never pattern-matches one file format, so
every reader benefits from every rule. Readers' own findings (framework quirks they
reproduced) are passed through.

Modules: :mod:`~lrkit.linter.core` (:func:`lint`), :mod:`~lrkit.linter.catalog` (:data:`RULES`:
id -> default severity and one line, each documented with an example in ``docs/lint.md``),
:mod:`~lrkit.linter.curve` (the resolved curve), :mod:`~lrkit.linter.structure` (the schedule
tree and its warm-up), :mod:`~lrkit.linter.run` (what the rules share),
:mod:`~lrkit.linter.shape_rules` and :mod:`~lrkit.linter.config_rules` (the rules),
:mod:`~lrkit.linter.summary` (:func:`summarize_config`: the key steps, figures and sparkline
``lrkit show`` prints).
"""

from lrkit.linter.catalog import LONG_RUN_STEPS, RULES
from lrkit.linter.core import lint
from lrkit.linter.curve import Curve, evaluate_curve
from lrkit.linter.structure import warmup_steps_of
from lrkit.linter.summary import summarize_config

__all__ = ["lint", "Curve", "evaluate_curve", "warmup_steps_of", "summarize_config", "RULES", "LONG_RUN_STEPS"]
