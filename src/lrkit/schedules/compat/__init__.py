"""Framework curves the algebra's own families cannot express, reproduced formula for formula.

lrkit's families never rise again past their end and warm up without wasting the first
update at LR 0. Frameworks do not always agree, and a config reader must reproduce what the
framework really does, so these families transcribe each framework's published formula,
vectorized, in *factor* units (values multiply the optimizer's base LR):

- :class:`PeriodicCosine` -- torch's ``CosineAnnealingLR`` closed form and Hugging Face's
  cosine lambdas: a cosine that climbs back after its half period;
- :class:`HFLambda` -- every curve of ``transformers.get_scheduler``;
- :class:`MegatronLR` -- Megatron-LM / Megatron-core ``OptimizerParamScheduler.get_lr``;
- :class:`NemoLR` -- NeMo's ``nemo/core/optim/lr_scheduler.py`` policies, and
  :class:`NemoT5InverseSqrt` its ``T5InverseSquareRootAnnealing`` (absolute LRs);
- :class:`AxolotlLambda` -- axolotl's own schedulers (``axolotl/utils/schedulers.py``);
- :class:`DeepSpeedLR`, :class:`DeepSpeedOneCycle`, :class:`DeepSpeedRangeTest` -- DeepSpeed's
  WarmupLR, WarmupDecayLR, WarmupCosineLR, OneCycle and LRRangeTest
  (``deepspeed/runtime/lr_schedules.py``), in absolute LRs or factors.

``t`` is the step (optimizer updates already taken), exactly the framework's step counter
after ``t`` calls of its ``step()``.
"""

from lrkit.schedules.compat.axolotl import AXOLOTL_CURVES, AxolotlLambda, JaggedRestarts
from lrkit.schedules.compat.deepspeed import (
    DEEPSPEED_TYPES,
    DEEPSPEED_WARMUP_TYPES,
    DeepSpeedLR,
    DeepSpeedOneCycle,
    DeepSpeedRangeTest,
)
from lrkit.schedules.compat.hf import HF_TYPES, HFLambda
from lrkit.schedules.compat.megatron import MEGATRON_STYLES, MegatronLR
from lrkit.schedules.compat.nemo import NEMO_POLICIES, NemoLR, NemoT5InverseSqrt
from lrkit.schedules.compat.pytorch import PeriodicCosine

__all__ = [
    "AXOLOTL_CURVES",
    "DEEPSPEED_TYPES",
    "DEEPSPEED_WARMUP_TYPES",
    "HF_TYPES",
    "MEGATRON_STYLES",
    "NEMO_POLICIES",
    "AxolotlLambda",
    "DeepSpeedLR",
    "DeepSpeedOneCycle",
    "DeepSpeedRangeTest",
    "HFLambda",
    "JaggedRestarts",
    "MegatronLR",
    "NemoLR",
    "NemoT5InverseSqrt",
    "PeriodicCosine",
]
