"""Framework callbacks that feed :class:`lrkit.LRMonitor` one record per optimizer update.

- :class:`lrkit.integrations.hf.LRMonitorCallback`: a Hugging Face ``TrainerCallback``.
- :class:`lrkit.integrations.lightning.LRMonitorCallback`: a Lightning ``Callback``.

Each module imports its framework, so import the one you use; this package imports neither.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HFLRMonitorCallback", "LightningLRMonitorCallback"]


def _check_monitor(monitor: Any) -> None:
    """A callback's ``monitor`` argument is an LRMonitor or None (a path there is a common slip)."""
    from lrkit.errors import ConfigError
    from lrkit.monitor.recorder import LRMonitor

    if monitor is not None and not isinstance(monitor, LRMonitor):
        raise ConfigError(
            f"must be an lrkit.LRMonitor, got {type(monitor).__name__} {monitor!r}.",
            field="monitor",
            value=monitor,
            fix=f"pass LRMonitorCallback(log_dir={str(monitor)!r}) to log to a folder.",
        )


def __getattr__(name: str) -> Any:
    if name == "HFLRMonitorCallback":
        from lrkit.integrations.hf import LRMonitorCallback as HFCallback

        return HFCallback
    if name == "LightningLRMonitorCallback":
        from lrkit.integrations.lightning import LRMonitorCallback as LightningCallback

        return LightningCallback
    raise AttributeError(f"module 'lrkit.integrations' has no attribute {name!r}")
