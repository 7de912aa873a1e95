"""Lightning ``Callback``: one :class:`lrkit.LRMonitor` record per optimizer update.

``on_before_optimizer_step`` runs once per update, after all ``accumulate_grad_batches``
micro-batches were backpropagated (gradients unscaled under AMP) and before the optimizer and
the LR scheduler step: the LRs read there are the ones the update uses, the gradient norm is
the update's, and ``trainer.global_step`` is the number of updates already taken (lrkit's
step). The loss of the update is the mean over its micro-batches (Lightning hands each
micro-batch's loss to ``on_train_batch_end`` already divided by ``accumulate_grad_batches``
under automatic optimization, so those parts are summed).

Works with ``lightning`` (``lightning.pytorch``) or the older ``pytorch_lightning`` package.

    from lrkit.integrations.lightning import LRMonitorCallback
    trainer = lightning.Trainer(callbacks=[LRMonitorCallback(log_dir="runs/exp1")])
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type-checked against one of the two packages (they define distinct classes)
    from lightning.pytorch.callbacks import Callback
else:
    try:
        from lightning.pytorch.callbacks import Callback
    except ImportError:  # the standalone package
        from pytorch_lightning.callbacks import Callback

from lrkit.integrations import _check_monitor
from lrkit.monitor.recorder import LRMonitor, grad_norm, optimizer_record

__all__ = ["LRMonitorCallback"]


def _loss_of(outputs: Any) -> float | None:
    if outputs is None:
        return None
    if isinstance(outputs, dict):
        outputs = outputs.get("loss")
    if outputs is None or not hasattr(outputs, "detach"):
        return None
    return float(outputs.detach().float().mean())


class LRMonitorCallback(Callback):
    """Record LR, momentum/beta1, weight decay (every parameter group), gradient norm and loss
    once per optimizer update.

    Args:
        monitor: an existing :class:`~lrkit.LRMonitor` (left open); by default one is made from
            ``log_dir``/``sinks`` and closed when training ends.
        log_dir: folder for the CSV/JSONL logs (default ``<trainer.default_root_dir>/lrkit``).
        sinks: sink names or objects for a new monitor (default CSV and JSONL).
        log_grad_norm: compute the total gradient 2-norm before each update.
    """

    def __init__(
        self,
        monitor: LRMonitor | None = None,
        *,
        log_dir: str | Path | None = None,
        sinks: list[Any] | None = None,
        log_grad_norm: bool = True,
    ) -> None:
        super().__init__()
        _check_monitor(monitor)
        self.monitor = monitor
        self._owned = monitor is None
        self._log_dir = log_dir
        self._sinks = sinks
        self.log_grad_norm = log_grad_norm
        self._pending: list[dict[str, Any]] = []
        self._parts: list[float] = []

    def _ensure(self, trainer: Any) -> LRMonitor:
        if self.monitor is None:
            log_dir = self._log_dir
            if log_dir is None and self._sinks != []:
                log_dir = Path(getattr(trainer, "default_root_dir", None) or ".") / "lrkit"
            self.monitor = LRMonitor(log_dir, sinks=self._sinks)
        return self.monitor

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        self._ensure(trainer)

    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        self._ensure(trainer)
        record: dict[str, Any] = {
            "step": int(trainer.global_step),
            "loss": None,
            "grad_norm": grad_norm(optimizer) if self.log_grad_norm else None,
        }
        record.update(optimizer_record(optimizer))
        self._pending.append(record)

    def on_train_batch_end(self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int) -> None:
        loss = _loss_of(outputs)
        if loss is not None:
            self._parts.append(loss)
        if not self._pending:
            return  # a micro-batch inside an accumulation window
        if self._parts:
            automatic = getattr(pl_module, "automatic_optimization", True)
            total = sum(self._parts) if automatic else sum(self._parts) / len(self._parts)
        else:
            total = None
        for record in self._pending:
            record["loss"] = total
            self.monitor.write(record)  # type: ignore[union-attr]
        self._pending.clear()
        self._parts.clear()

    def on_train_end(self, trainer: Any, pl_module: Any) -> None:
        for record in self._pending:
            self.monitor.write(record)  # type: ignore[union-attr]
        self._pending.clear()
        if self._owned and self.monitor is not None:
            self.monitor.close()
