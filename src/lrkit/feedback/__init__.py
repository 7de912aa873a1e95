"""Feedback controllers: learning rates that react to the loss.

A controller is fed one metric per update (``Scheduler.step(metric)`` or ``update(metric)``)
and returns a scale per parameter group that :class:`lrkit.Scheduler` multiplies into any
schedule. They are the only stateful parts of lrkit: their ``state_dict`` is plain data and a
resumed run decides exactly like an uninterrupted one, and the metric is averaged across
``torch.distributed`` ranks before every decision so all replicas keep the same LR.

- :class:`PlateauController`: ``ReduceLROnPlateau`` semantics (reduce when the metric stops
  improving), as a scale on a schedule.
- :class:`AdaptiveController`: follows the loss trend (least-squares slope with a noise test,
  patience, cooldown, bounded scale).
- :class:`AdaptiveLearningRate`: the guide's class with its original API, made safe.
- :func:`controller_from_dict`: the YAML form ``{type: adaptive|plateau, ...}``.

Importing this package does not import torch.
"""

from lrkit.feedback.adaptive import AdaptiveController, trend_t_statistic
from lrkit.feedback.base import FeedbackController
from lrkit.feedback.config import CONTROLLER_TYPES, controller_from_dict, controller_keys
from lrkit.feedback.distributed import average_metric, collective_device, process_group_active
from lrkit.feedback.guide import AdaptiveLearningRate
from lrkit.feedback.plateau import PlateauController

__all__ = [
    "CONTROLLER_TYPES",
    "AdaptiveController",
    "AdaptiveLearningRate",
    "FeedbackController",
    "PlateauController",
    "average_metric",
    "collective_device",
    "controller_from_dict",
    "controller_keys",
    "process_group_active",
    "trend_t_statistic",
]
