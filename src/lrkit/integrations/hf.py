"""Hugging Face ``Trainer`` callback: one :class:`lrkit.LRMonitor` record per optimizer update.

The Trainer calls ``on_optimizer_step`` once per update -- after the gradients of all
``gradient_accumulation_steps`` micro-batches were applied, before the LR scheduler steps --
so the LRs read there are the ones the update used, and ``state.global_step`` is still the
number of updates already taken (lrkit's step). The loss and gradient norm come from the
Trainer's own logs (``on_log``): with ``logging_steps=1`` every record has the loss of its
update; with ``logging_steps=N`` the record of every N-th update carries the Trainer's mean
loss over the last N updates and the others have none.

    from lrkit.integrations.hf import LRMonitorCallback
    trainer = Trainer(..., args=TrainingArguments(..., logging_steps=1),
                      callbacks=[LRMonitorCallback(log_dir="runs/exp1")])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers.trainer_callback import TrainerCallback

from lrkit.integrations import _check_monitor
from lrkit.monitor.recorder import LRMonitor, optimizer_record

__all__ = ["LRMonitorCallback"]


class LRMonitorCallback(TrainerCallback):
    """Record LR, momentum/beta1 and weight decay of every parameter group per optimizer update,
    with the Trainer's logged loss and gradient norm.

    Args:
        monitor: an existing :class:`~lrkit.LRMonitor` (left open at the end); by default one is
            made from ``log_dir``/``sinks`` and closed when training ends.
        log_dir: folder for the monitor's CSV/JSONL logs (default: ``<output_dir>/lrkit`` of the
            Trainer's arguments).
        sinks: sink names or objects for a new monitor (default CSV and JSONL).
    """

    def __init__(
        self,
        monitor: LRMonitor | None = None,
        *,
        log_dir: str | Path | None = None,
        sinks: list[Any] | None = None,
    ) -> None:
        _check_monitor(monitor)
        self.monitor = monitor
        self._owned = monitor is None
        self._log_dir = log_dir
        self._sinks = sinks
        self._pending: dict[str, Any] | None = None

    def _ensure(self, args: Any) -> LRMonitor:
        if self.monitor is None:
            log_dir = self._log_dir
            if log_dir is None and self._sinks != []:
                log_dir = Path(getattr(args, "output_dir", None) or ".") / "lrkit"
            self.monitor = LRMonitor(log_dir, sinks=self._sinks)
        return self.monitor

    def _flush(self) -> None:
        if self._pending is not None and self.monitor is not None:
            self.monitor.write(self._pending)
        self._pending = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._ensure(args)

    def on_optimizer_step(self, args: Any, state: Any, control: Any, optimizer: Any = None, **kwargs: Any) -> None:
        self._ensure(args)
        self._flush()
        if optimizer is None:
            return
        record: dict[str, Any] = {"step": int(state.global_step), "loss": None, "grad_norm": None}
        record.update(optimizer_record(optimizer))
        self._pending = record

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        pending = self._pending
        # the Trainer logs after global_step was incremented: its step N is the update lrkit calls N-1
        if pending is None or not logs or pending["step"] != int(state.global_step) - 1:
            return
        if "loss" in logs:
            pending["loss"] = float(logs["loss"])
        if logs.get("grad_norm") is not None:
            pending["grad_norm"] = float(logs["grad_norm"])
        if "loss" in logs:
            self._flush()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._flush()
        if self._owned and self.monitor is not None:
            self.monitor.close()
