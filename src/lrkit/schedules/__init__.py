"""The schedule algebra: every learning rate lrkit produces is computed here.

A schedule is an immutable value; ``schedule(k)`` is the value for the update that follows
``k`` updates already taken. ``schedule(np.arange(n))`` evaluates ``n`` steps at once.
``to_dict()``/``from_dict()`` round-trip through plain data.
"""

from lrkit.schedules.base import (
    Schedule,
    as_schedule,
    from_dict,
    get_schedule_class,
    register,
    schedule_names,
)
from lrkit.schedules.combinators import Floor, Scale, Sequence, Shift, Warmup, join
from lrkit.schedules.custom import SchedulerInterface
from lrkit.schedules.cyclic import CosineRestarts, Cyclic, OneCycle
from lrkit.schedules.presets import warmup_constant, warmup_cosine, warmup_linear
from lrkit.schedules.primitives import (
    COOLDOWN_SHAPES,
    Constant,
    Cosine,
    Exponential,
    InverseSqrt,
    Linear,
    MultiStep,
    PiecewiseConstant,
    Polynomial,
    StepDecay,
    WarmupStableDecay,
    cooldown_coefficient,
)

__all__ = [
    "Schedule",
    "SchedulerInterface",
    "as_schedule",
    "from_dict",
    "get_schedule_class",
    "register",
    "schedule_names",
    "Constant",
    "Linear",
    "Cosine",
    "StepDecay",
    "MultiStep",
    "Exponential",
    "Polynomial",
    "InverseSqrt",
    "PiecewiseConstant",
    "WarmupStableDecay",
    "OneCycle",
    "Cyclic",
    "CosineRestarts",
    "Sequence",
    "Warmup",
    "Floor",
    "Scale",
    "Shift",
    "join",
    "warmup_cosine",
    "warmup_linear",
    "warmup_constant",
    "COOLDOWN_SHAPES",
    "cooldown_coefficient",
]

from lrkit.schedules import compat as _compat  # noqa: F401  (framework families: periodic_cosine, hf_lambda, megatron, nemo, axolotl_lambda)
