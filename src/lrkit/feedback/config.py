"""Build a controller from its config dict (``training.scheduler.controller`` in lrkit YAML).

    controller: {type: plateau, patience: 5, factor: 0.5, min_lr: 1.0e-6}
    controller: {type: adaptive, window: 20, patience: 2}

Field names in errors are relative to the controller dict (``patience``, ``type``); callers
that know the dict's place in a config prefix them with ``ConfigError.at``. The functions
live in :mod:`lrkit.feedback.base`, next to the registry of controller types they read.
"""

from __future__ import annotations

from lrkit.feedback.base import CONTROLLER_TYPES, controller_from_dict, controller_keys

__all__ = ["CONTROLLER_TYPES", "controller_from_dict", "controller_keys"]
