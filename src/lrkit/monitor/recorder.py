""":class:`LRMonitor`: one record per optimizer update, to files, dashboards and plots.

A record describes update ``k`` (``k`` updates already taken, the same step the schedule
algebra uses): the LR each parameter group used for it, the group's momentum (SGD/RMSprop
``momentum``, or ``betas[0]`` for Adam-style optimizers) and weight decay, and -- when
given -- the loss and gradient norm of that update.

Keys of a record: ``step``, ``loss``, ``grad_norm``, then ``lr``, ``momentum``,
``weight_decay`` for the first parameter group; with more than one group, also
``lr/<name>``, ``momentum/<name>``, ``weight_decay/<name>`` for every group, where ``<name>``
is ``param_group["name"]`` when present and ``group<i>`` otherwise. Extra metrics passed as
keywords are added as they are.

Log *before* ``scheduler.step()`` (right after ``optimizer.step()`` is fine): then the LR read
from the optimizer is the one the update used.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lrkit.errors import ConfigError
from lrkit.monitor.sinks import Sink, make_sink

if TYPE_CHECKING:  # pragma: no cover
    from lrkit.diagnosis import Diagnosis

__all__ = ["LRMonitor", "optimizer_record", "group_names", "grad_norm"]


def _to_float(value: Any, field: str) -> float | None:
    if value is None:
        return None
    if hasattr(value, "detach"):  # a torch tensor (LR tensors, loss tensors)
        value = value.detach()
        if getattr(value, "numel", lambda: 1)() != 1:
            raise ConfigError(
                f"must be a single number, got a tensor of shape {tuple(value.shape)}.",
                field=field,
                fix="pass loss.mean() or a Python float.",
            )
        value = value.item()
    elif hasattr(value, "item") and not isinstance(value, numbers.Real):  # numpy scalars
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"must be a number, got {value!r}.", field=field, value=value, fix="pass a float.")
    return float(value)


def group_names(param_groups: Sequence[Mapping[str, Any]]) -> list[str]:
    """``param_group["name"]`` for each group, else ``group<i>``; duplicates get ``#<i>``."""
    names: list[str] = []
    for i, group in enumerate(param_groups):
        raw = group.get("name")
        name = str(raw) if raw not in (None, "") else f"group{i}"
        if name in names:
            name = f"{name}#{i}"
        names.append(name)
    return names


def _momentum(group: Mapping[str, Any]) -> float | None:
    if "momentum" in group:
        return _to_float(group["momentum"], "momentum")
    betas = group.get("betas")
    if isinstance(betas, Sequence) and betas:
        return _to_float(betas[0], "betas[0]")
    return None


def optimizer_record(optimizer: Any) -> dict[str, float | None]:
    """LR, momentum/beta1 and weight decay of every parameter group, as record keys."""
    groups = getattr(optimizer, "param_groups", None)
    if not isinstance(groups, Sequence) or not groups:
        raise ConfigError(
            f"expected a torch optimizer with param_groups, got {type(optimizer).__name__}.",
            field="optimizer",
            fix="pass the optimizer itself (trainer.optimizer), not the model or the scheduler.",
        )
    names = group_names(groups)
    out: dict[str, float | None] = {}
    for i, (name, group) in enumerate(zip(names, groups, strict=True)):
        if "lr" not in group:
            raise ConfigError(f"parameter group {name!r} has no 'lr'.", field=f"param_groups[{i}].lr")
        values = {
            "lr": _to_float(group["lr"], f"param_groups[{i}].lr"),
            "momentum": _momentum(group),
            "weight_decay": _to_float(group.get("weight_decay"), f"param_groups[{i}].weight_decay"),
        }
        if i == 0:
            out.update(values)
        if len(groups) > 1:
            out.update({f"{k}/{name}": v for k, v in values.items()})
    return out


def grad_norm(params_or_optimizer: Any, norm_type: float = 2.0) -> float:
    """The total ``norm_type``-norm of the gradients (what ``clip_grad_norm_`` reports), over an
    optimizer's parameters or an iterable of parameters. Parameters without a gradient are skipped."""
    import torch

    if hasattr(params_or_optimizer, "param_groups"):
        params: Iterable[Any] = (p for g in params_or_optimizer.param_groups for p in g["params"])
    elif hasattr(params_or_optimizer, "parameters"):
        params = params_or_optimizer.parameters()
    elif isinstance(params_or_optimizer, Iterable) and not isinstance(params_or_optimizer, str | bytes):
        params = params_or_optimizer
    else:
        raise ConfigError(
            f"expected an optimizer, a model or an iterable of parameters, got {type(params_or_optimizer).__name__}.",
            field="params_or_optimizer",
            value=params_or_optimizer,
            fix="pass the optimizer (or model.parameters()).",
        )
    grads = [p.grad.detach() for p in params if getattr(p, "grad", None) is not None]
    if not grads:
        return 0.0
    norms = torch.stack([torch.linalg.vector_norm(g.float(), norm_type) for g in grads])
    return float(torch.linalg.vector_norm(norms, norm_type))


def _check_step(step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or step < 0:
        raise ConfigError(
            f"must be a whole number of updates >= 0, got {step!r}.",
            field="step",
            value=step,
            fix="pass the count of optimizer updates already taken (0 for the first update).",
        )
    return int(step)


_total_grad_norm = grad_norm  # LRMonitor.log has a parameter of the same name


class LRMonitor:
    """Record the LR (and momentum, weight decay, loss, grad norm) of every optimizer update.

    Args:
        log_dir: folder for the file sinks (``<name>.csv``, ``<name>.jsonl``, ``tensorboard/``);
            ``None`` keeps records in memory only (the guide's ``LRMonitor()``).
        sinks: names (``"csv"``, ``"jsonl"``, ``"tensorboard"``, ``"wandb"``, ``"mlflow"``) or sink
            objects; default ``["csv", "jsonl"]`` when ``log_dir`` is given, else none.
        name: file stem of the CSV/JSONL logs.
        append: append to existing logs (a resumed run continues the same files).
        keep: keep records in memory (for plots and :meth:`diagnose`).

    Use :meth:`log` once per optimizer update, before ``scheduler.step()``::

        monitor = LRMonitor("runs/exp1")
        for step, batch in enumerate(loader):
            loss = model(batch).loss
            loss.backward()
            optimizer.step()
            monitor.log(optimizer, step, loss=loss, grad_norm=True)
            scheduler.step()
            optimizer.zero_grad()
        monitor.close()
    """

    def __init__(
        self,
        log_dir: str | Path | None = None,
        *,
        sinks: Sequence[Any] | None = None,
        name: str = "lrkit",
        append: bool = True,
        keep: bool = True,
    ) -> None:
        self.log_dir = None if log_dir is None else Path(log_dir)
        if sinks is None:
            sinks = ["csv", "jsonl"] if log_dir is not None else []
        if isinstance(sinks, str):
            sinks = [sinks]
        self.sinks: list[Sink] = []
        try:
            for spec in sinks:
                self.sinks.append(make_sink(spec, log_dir=self.log_dir, name=name, append=append))
        except Exception:
            self.close()
            raise
        self.keep = keep
        self.records: list[dict[str, Any]] = []
        self._next_step = 0

    # -- recording ------------------------------------------------------------------------
    def log(
        self,
        optimizer: Any,
        step: int | None = None,
        *,
        loss: Any = None,
        grad_norm: Any = None,
        **metrics: Any,
    ) -> dict[str, Any]:
        """Record update ``step`` (default: one past the previous record) and return the record.

        ``loss`` and ``grad_norm`` may be floats or one-element tensors; ``grad_norm=True``
        computes the gradient norm from the optimizer's parameters (call it before
        ``zero_grad``). Extra keyword metrics are recorded under their own names.
        """
        step = _check_step(self._next_step if step is None else step)
        optimizer_values = optimizer_record(optimizer)  # checks the optimizer before grad_norm reads it
        if grad_norm is True:
            grad_value: float | None = _total_grad_norm(optimizer)
        else:
            grad_value = _to_float(grad_norm, "grad_norm")
        record: dict[str, Any] = {"step": step, "loss": _to_float(loss, "loss"), "grad_norm": grad_value}
        record.update(optimizer_values)
        for key, value in metrics.items():
            record[key] = _to_float(value, key)
        return self.write(record)

    def write(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Hand a ready record (it needs ``step``) to every sink; used by the framework callbacks."""
        if not isinstance(record, Mapping):
            raise ConfigError(
                f"a record must be a mapping, got {type(record).__name__}.",
                field="record",
                fix="pass a dict such as {'step': 0, 'lr': 1e-3}.",
            )
        rec = dict(record)
        if "step" not in rec:
            raise ConfigError("a record needs a 'step'.", field="step", fix="add the optimizer update count.")
        rec["step"] = _check_step(rec["step"])
        for sink in self.sinks:
            sink.write(rec)
        if self.keep:
            self.records.append(rec)
        self._next_step = int(rec["step"]) + 1
        return rec

    def log_lr(self, optimizer: Any, step: int) -> None:
        """The guide's call: record the optimizer's current LRs at ``step``."""
        self.log(optimizer, step)

    # -- the guide's attributes -----------------------------------------------------------
    @property
    def step_history(self) -> list[int]:
        return [int(r["step"]) for r in self.records]

    @property
    def lr_history(self) -> list[float]:
        """The first parameter group's LR at each recorded step."""
        return [r.get("lr", math.nan) for r in self.records]

    @property
    def loss_history(self) -> list[float]:
        return [math.nan if r.get("loss") is None else r["loss"] for r in self.records]

    def run_log(self):
        """The records in memory as a :class:`~lrkit.monitor.RunLog` (for plots and diagnosis)."""
        from lrkit.monitor.readers import RunLog

        return RunLog.from_records(self.records, source="<LRMonitor>", step_col="step", require_loss=False)

    # -- plots and diagnosis ----------------------------------------------------------------
    def _plot_path(self, path: str | Path | None, default: str) -> Path:
        if path is not None:
            return Path(path)
        return (self.log_dir or Path.cwd()) / default

    def plot_lr_schedule(self, path: str | Path | None = None) -> Path:
        """LR over steps (log scale, every group) to ``path`` (default ``<log_dir>/lr_schedule.png``,
        or ``./lr_schedule.png`` without a log_dir); never opens a window. Returns the path."""
        from lrkit.monitor.plots import plot_lr

        return plot_lr(self.run_log(), self._plot_path(path, "lr_schedule.png"))

    def plot_lr_loss(self, path: str | Path | None = None) -> Path:
        """LR and loss over steps on twin axes; returns the path written."""
        from lrkit.monitor.plots import plot_lr_and_loss

        return plot_lr_and_loss(self.run_log(), self._plot_path(path, "lr_loss.png"))

    def plot_loss_vs_lr(self, path: str | Path | None = None) -> Path:
        """Loss against LR (log x); returns the path written."""
        from lrkit.monitor.plots import plot_loss_vs_lr

        return plot_loss_vs_lr(self.run_log(), self._plot_path(path, "loss_vs_lr.png"))

    def diagnose(self, schedule: Any = None) -> Diagnosis:
        """:func:`lrkit.diagnosis.diagnose_log` on the records: the training loss, the LR and,
        when logged (``eval_loss=...``, ``val_loss=...``), the eval loss, so the overfitting and
        schedule findings of ``lrkit diagnose`` apply here too."""
        from lrkit.diagnosis import diagnose_log

        return diagnose_log(self.run_log(), schedule=schedule)

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close every sink (files, writers); safe to call twice."""
        for sink in self.sinks:
            sink.close()

    def __enter__(self) -> LRMonitor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
