"""Framework callbacks that feed :class:`lrkit.LRMonitor` one record per optimizer update.

- :class:`lrkit.integrations.hf.LRMonitorCallback`: a Hugging Face ``TrainerCallback``.
- :class:`lrkit.integrations.lightning.LRMonitorCallback`: a Lightning ``Callback``.

Each module imports its framework, so import the one you use; this package imports neither.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HFLRMonitorCallback", "LightningLRMonitorCallback"]


def __getattr__(name: str) -> Any:
    if name == "HFLRMonitorCallback":
        from lrkit.integrations.hf import LRMonitorCallback

        return LRMonitorCallback
    if name == "LightningLRMonitorCallback":
        from lrkit.integrations.lightning import LRMonitorCallback

        return LRMonitorCallback
    raise AttributeError(f"module 'lrkit.integrations' has no attribute {name!r}")
