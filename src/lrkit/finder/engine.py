"""The range-test loop: ramp the LR, train, watch the loss, stop, restore.

One update ``k`` (``k = 0 .. num_steps-1``):

1. every group's LR is set to ``start_lr * r_g * f(k)`` (``f`` the ramp schedule of
   :mod:`lrkit.finder.ramp``, ``r_g`` the group's ratio to the reference group);
2. the next batch is drawn (the data is iterated again when it runs out, never one batch
   re-read) and one training step runs (``step_fn``, or ``loss_fn``/``training_step``/
   ``criterion`` followed by ``backward()`` and ``optimizer.step()``);
3. the loss is written into a buffer *on the loss's device* -- no ``.item()``, so the host
   never waits on the accelerator inside the loop.

Every ``check_every`` updates the block of new losses is averaged over ranks (one
``all_reduce``, under ``torch.distributed``), copied to the host once, and checked: a NaN or
infinite loss stops the test at that update; the bias-corrected EMA rising above
``best + diverge * max(L0 - best, 0.1 |best|, 3 sigma)`` (``L0`` the mean of the first
losses, ``sigma`` the batch-to-batch noise of the raw loss; no ratio to ``best``, so negative
losses work too) stops it as diverged. The stop decision is reduced across ranks
(``MAX``), so all ranks stop at the same update and none waits in a collective alone.

Whatever happens -- normal end, early stop, NaN, ``KeyboardInterrupt``, an exception from
user code -- the :class:`~lrkit.finder.snapshot.Snapshot` taken before the first update is
restored in a ``finally`` block.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch
from torch.optim import Optimizer

from lrkit.errors import ConfigError
from lrkit.finder.batches import map_batch
from lrkit.finder.holdout import Split, carve
from lrkit.finder.ramp import check_ramp, ramp_schedule
from lrkit.finder.result import FinderResult
from lrkit.finder.revisits import ExampleCounter
from lrkit.finder.smoothing import EMA, ema, noise_sigma, running_median
from lrkit.finder.snapshot import Snapshot
from lrkit.finder.suggest import Suggestion, suggest
from lrkit.finder.trials import Trial
from lrkit.lr_groups import write_lrs

__all__ = ["find_lr", "run_range_test"]

LossFn = Callable[[torch.nn.Module, Any], torch.Tensor]
StepFn = Callable[[torch.nn.Module, Optimizer, Any], Any]
Progress = Callable[[int, int, float, float], None]

_OK, _DIVERGED, _EXHAUSTED, _NAN = 0, 1, 2, 3
_REASON = {_OK: "completed", _DIVERGED: "diverged", _EXHAUSTED: "data_exhausted", _NAN: "nan"}


# -- data -----------------------------------------------------------------------------------
def _batches(data: Iterable[Any]) -> Iterator[Any]:
    """Endless batches: iterate ``data`` again whenever it runs out; stop only when a fresh
    pass yields nothing (an empty loader, or a one-shot generator already used up)."""
    try:
        it = iter(data)
    except TypeError:
        raise ConfigError(
            f"data must be an iterable of batches, got {type(data).__name__}.",
            field="data",
            value=type(data).__name__,
            fix="pass a DataLoader, a list of batches or a generator.",
        ) from None
    fresh = True
    while True:
        try:
            batch = next(it)
        except StopIteration:
            if fresh:
                return
            it = iter(data)
            fresh = True
            continue
        fresh = False
        yield batch


def _to_device(obj: Any, device: torch.device) -> Any:
    return map_batch(
        obj, lambda v: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) and v.device != device else v
    )


# -- one step -------------------------------------------------------------------------------
def _training_step_loss(model: torch.nn.Module) -> LossFn:
    # nn.Module's __getattr__ is typed Tensor | Module; a training_step is a method
    fn = cast(Callable[..., Any], model.training_step)
    try:
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        wants_index = len(params) >= 2  # Lightning's training_step(batch, batch_idx)
    except (TypeError, ValueError):
        wants_index = False
    counter = [0]

    def loss(m: torch.nn.Module, batch: Any) -> torch.Tensor:
        out = fn(batch, counter[0]) if wants_index else fn(batch)
        counter[0] += 1
        return out["loss"] if isinstance(out, Mapping) else out

    return loss


def _make_step(
    model: torch.nn.Module,
    optimizer: Optimizer,
    loss_fn: LossFn | torch.nn.Module | None,
    step_fn: StepFn | None,
    criterion: Callable[[Any, Any], torch.Tensor] | None,
    device: torch.device | None,
) -> Callable[[Any], Any]:
    for name, fn in (("step_fn", step_fn), ("criterion", criterion)):
        if fn is not None and not callable(fn):
            raise ConfigError(
                f"must be callable, got {type(fn).__name__}.",
                field=name,
                value=fn,
                fix="pass step_fn(model, optimizer, batch) -> loss, or criterion(outputs, targets) -> loss.",
            )
    if step_fn is not None:
        if loss_fn is not None or criterion is not None:
            raise ConfigError(
                "step_fn runs the whole training step; loss_fn/criterion would be ignored.",
                field="step_fn",
                fix="pass either step_fn, or loss_fn (or criterion), not both.",
            )
        return lambda batch: step_fn(model, optimizer, batch)
    if loss_fn is not None and criterion is not None:
        raise ConfigError(
            "both loss_fn and criterion are given; one of them would be ignored.",
            field="criterion",
            fix="pass loss_fn(model, batch), or criterion(outputs, targets) for (inputs, targets) batches, not both.",
        )
    if isinstance(loss_fn, torch.nn.Module):  # find_lr(model, opt, loader, nn.CrossEntropyLoss())
        criterion, loss_fn = loss_fn, None
    if loss_fn is None:
        if criterion is not None:

            def loss_fn(m: torch.nn.Module, batch: Any) -> torch.Tensor:
                if not isinstance(batch, list | tuple) or len(batch) != 2:
                    raise ConfigError(
                        f"with criterion=, each batch must be (inputs, targets); got {type(batch).__name__}.",
                        field="data",
                        fix="yield (inputs, targets) pairs, or pass loss_fn(model, batch) / step_fn.",
                    )
                inputs, targets = batch
                return criterion(m(inputs), targets)

        elif callable(getattr(model, "training_step", None)):
            loss_fn = _training_step_loss(model)
        else:
            raise ConfigError(
                "no way to compute a loss: no loss_fn, no criterion, and the model has no training_step.",
                field="loss_fn",
                fix="pass loss_fn=lambda model, batch: ..., criterion=torch.nn.CrossEntropyLoss(), or step_fn.",
            )
    elif not callable(loss_fn):
        raise ConfigError(
            f"loss_fn must be callable (model, batch) -> loss, got {type(loss_fn).__name__}.",
            field="loss_fn",
            value=loss_fn,
            fix="pass loss_fn=lambda model, batch: criterion(model(batch[0]), batch[1]).",
        )
    compute = loss_fn

    def step(batch: Any) -> torch.Tensor:
        if device is not None:
            batch = _to_device(batch, device)
        optimizer.zero_grad(set_to_none=True)
        loss = compute(model, batch)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ConfigError(
                f"the loss must be a scalar tensor, got {type(loss).__name__}"
                + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")
                + ".",
                field="loss_fn",
                fix="return loss.mean() (a 0-dim tensor that requires grad).",
            )
        loss.backward()
        optimizer.step()
        return loss

    def loss_of(m: torch.nn.Module, batch: Any) -> torch.Tensor:
        return compute(m, _to_device(batch, device) if device is not None else batch)

    step.loss_of = loss_of  # type: ignore[attr-defined]  # the held-out loss of the trials
    return step


# -- the watch ------------------------------------------------------------------------------
class _Watch:
    """Host-side check of each block of losses: NaN/inf and divergence.

    Divergence is judged on a trailing running median of the raw losses (``width`` updates;
    one batch's outlier cannot move it), against the curve's own batch-to-batch noise
    ``sigma`` (the upper spread of the raw losses around a centred median), and only once the
    LR has grown: never in the first quarter of the ramp. It is called when the level stays above
    ``best + diverge * max(L0 - best, 0.1 |best|, 4 sigma)`` for ``patience`` updates in a row
    (``best`` the lowest level so far, ``L0`` the mean of the first losses).
    """

    def __init__(self, num_steps: int, beta: float, diverge: float) -> None:
        self.ema = EMA(beta)
        self.diverge = diverge
        self.head = max(3, num_steps // 20)
        self.width = max(7, num_steps // 12) | 1
        self.patience = 2
        # the first quarter of the ramp (at least 10 updates) only teaches the noise: a curve
        # is never called diverged at the LRs it started from
        self.min_steps = max(self.head + self.width, 10, num_steps // 4)
        self.seen: list[float] = []
        self.best = math.inf
        self.above = 0
        self.l0: float | None = None

    def _noise(self) -> float:
        """Noise of one raw loss: the largest of the 84% quantile of the residuals around a
        centred median of 5 above their median (small-batch losses have a long upper tail,
        which a symmetric spread such as the MAD underestimates), their robust spread, and the
        robust spread of successive differences over sqrt(2).

        Why the differences: a centred median's residuals are zero at the median itself and
        shrunk next to it, so their spread comes out low -- 10-30% on long runs of independent
        noise, erratically more on the few dozen losses the check first sees (0.023 against a
        scatter of 0.085 on a batch-8 curve) -- and the level crossed a bar set that low on
        noise alone (issue 16: a premature "diverged" at a tiny LR). Two
        successive losses differ by sqrt(2) times the noise whatever the slow trend under them."""
        if len(self.seen) < 8:
            return 0.0
        y = np.asarray(self.seen)
        r = y - running_median(y, 5)
        return max(
            noise_sigma(r),
            float(np.quantile(r, 0.84) - np.median(r)),
            noise_sigma(np.diff(y)) / math.sqrt(2),
        )

    def feed(self, block: np.ndarray, offset: int) -> tuple[int, int]:
        """(code, cut): stop code and the number of updates to keep."""
        bad = np.nonzero(~np.isfinite(block))[0]
        if bad.size:
            return _NAN, offset + int(bad[0])
        self.ema.update(block)
        self.seen.extend(float(v) for v in block)
        if self.l0 is None and len(self.seen) >= self.head:
            self.l0 = float(np.mean(self.seen[: self.head]))
        first = max(offset, self.width - 1)  # the first update of the block with a full window
        if first >= offset + len(block):
            return _OK, offset + len(block)
        # trailing medians of the block's updates at once
        y = np.asarray(self.seen[first + 1 - self.width :])
        levels = np.median(np.lib.stride_tricks.sliding_window_view(y, self.width), axis=1)
        noise: float | None = None  # computed once per block, and only when a level is high
        for k in range(first, offset + len(block)):
            level = float(levels[k - first])
            self.best = min(self.best, level)
            if self.l0 is None or k < self.min_steps:
                continue
            scale = max(self.l0 - self.best, 0.1 * abs(self.best), 1e-12)
            if level > self.best + self.diverge * scale and noise is None:
                noise = self._noise()  # the noise only raises the bar: needed only above the rest of it
            if noise is not None:
                scale = max(scale, 4.0 * noise)
            self.above = self.above + 1 if level > self.best + self.diverge * scale else 0
            if self.above >= self.patience:
                return _DIVERGED, k + 1
        return _OK, offset + len(block)


# -- distributed ----------------------------------------------------------------------------
def _dist_group(process_group: Any) -> tuple[bool, Any, int]:
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return False, None, 1
    world = dist.get_world_size(process_group)
    return world > 1, process_group, world


def _check_range_args(
    model: Any,
    optimizer: Any,
    start_lr: Any,
    end_lr: Any,
    num_steps: Any,
    mode: Any,
    beta: Any,
    diverge: Any,
    check_every: Any,
    restore: Any,
    progress: Any,
) -> None:
    """Every range-test setting checked in one place (a ConfigError naming the field)."""
    if not isinstance(model, torch.nn.Module):
        raise ConfigError(
            f"model must be a torch.nn.Module, got {type(model).__name__}.", field="model", fix="pass your nn.Module."
        )
    if not isinstance(optimizer, Optimizer):
        raise ConfigError(
            f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}.",
            field="optimizer",
            fix="build it first: torch.optim.AdamW(model.parameters(), lr=1e-3).",
        )
    check_ramp(start_lr, end_lr, num_steps, mode)
    if not (isinstance(beta, int | float) and 0.0 <= beta < 1.0):
        raise ConfigError(f"must be in [0, 1), got {beta!r}.", field="beta", value=beta, fix="use 0.9.")
    if not (isinstance(diverge, int | float) and diverge > 0 and math.isfinite(diverge)):
        raise ConfigError(f"must be a number > 0, got {diverge!r}.", field="diverge", value=diverge, fix="use 1.0.")
    if isinstance(check_every, bool) or not isinstance(check_every, int) or check_every < 1:
        raise ConfigError(
            f"must be an int >= 1, got {check_every!r}.", field="check_every", value=check_every, fix="use 8."
        )
    if not isinstance(restore, bool):
        raise ConfigError(f"must be True or False, got {restore!r}.", field="restore", value=restore, fix="use True.")
    if progress is not None and not callable(progress):
        raise ConfigError(
            f"must be callable (done, num_steps, lr, smoothed_loss), got {type(progress).__name__}.",
            field="progress",
            value=progress,
            fix="pass a function, or leave progress=None.",
        )


def _range_device(model: torch.nn.Module, device: Any) -> torch.device | None:
    """Where batches go: ``"auto"`` the model's device, ``None`` leave them, else a checked torch device."""
    if device == "auto":
        first = next(iter(model.parameters()), None)
        return None if first is None else first.device
    if device is None:
        return None
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(
            f"not a torch device: {device!r}.",
            field="device",
            value=device,
            fix="use 'auto' (the model's device), None (leave batches alone), 'cpu' or 'cuda:0'.",
        ) from None


def _group_ratios(optimizer: Optimizer) -> tuple[float, ...]:
    """Each group's LR over the reference group's (the first non-zero LR); frozen (LR 0) groups stay 0."""
    group_lrs = [float(g["lr"]) for g in optimizer.param_groups]
    ref = next((lr for lr in group_lrs if lr > 0), None)
    return tuple(1.0 for _ in group_lrs) if ref is None else tuple(lr / ref for lr in group_lrs)


class _LossBook:
    """The range test's losses: a buffer on the loss's device written each update (no host
    sync), read to the host once per check, where the watch decides -- together across ranks
    under ``torch.distributed`` -- whether to stop. ``host`` holds the losses kept."""

    def __init__(self, num_steps: int, watch: _Watch, process_group: Any, lrs: list[float], progress: Any) -> None:
        self.num_steps, self.watch, self.lrs, self.progress = num_steps, watch, lrs, progress
        self.distributed, self.pg, self.world = _dist_group(process_group)
        self.buf: torch.Tensor | None = None
        self.flags: torch.Tensor | None = None
        self.host: list[float] = []

    def allocate(self, dev: torch.device) -> None:
        self.buf = torch.full((self.num_steps,), math.nan, dtype=torch.float32, device=dev)
        self.flags = torch.zeros(2, dtype=torch.float64, device=dev)

    def record(self, k: int, loss_value: Any) -> None:
        """Write update ``k``'s loss into the buffer (allocated on the first loss's device)."""
        if self.buf is None:
            dev = loss_value.device if isinstance(loss_value, torch.Tensor) else torch.device("cpu")
            self.allocate(_collective_device(dev) if self.distributed else dev)
        assert self.buf is not None
        if loss_value is None:
            self.buf[k] = 0.0  # an exhausted rank still joins the collectives until the check
        elif isinstance(loss_value, torch.Tensor):
            self.buf[k] = loss_value.detach().reshape(())
        else:
            self.buf[k] = float(loss_value)

    def check(self, lo: int, hi: int, exhausted_at: int | None) -> tuple[int, int]:
        """Read losses ``lo..hi-1`` (one host sync), decide collectively whether to stop."""
        buf = self.buf
        avail = hi if exhausted_at is None else min(hi, exhausted_at)
        if buf is None or hi <= lo:
            code, cut = _OK, lo
            values = np.zeros(0)
        else:
            block = buf[lo:hi]
            if self.distributed:
                import torch.distributed as dist

                dist.all_reduce(block, group=self.pg)
                block.div_(self.world)
            values = block.cpu().numpy().astype(np.float64)
            code, cut = self.watch.feed(values[: max(0, avail - lo)], lo)
        if code == _OK and exhausted_at is not None:
            code, cut = _EXHAUSTED, exhausted_at
        if self.distributed and self.flags is not None:
            import torch.distributed as dist

            flags = self.flags
            flags[0], flags[1] = float(code), -float(cut)
            dist.all_reduce(flags, op=dist.ReduceOp.MAX, group=self.pg)
            code, cut = int(flags[0].item()), int(-flags[1].item())
        self.host.extend(values[: max(0, cut - lo)].tolist())
        if self.progress is not None and self.host:
            self.progress(len(self.host), self.num_steps, self.lrs[len(self.host) - 1], self.watch.ema.value)
        return code, cut


# -- the public entry ---------------------------------------------------------------------------
def run_range_test(
    model: torch.nn.Module,
    optimizer: Optimizer,
    data: Iterable[Any],
    loss_fn: LossFn | torch.nn.Module | None = None,
    *,
    step_fn: StepFn | None = None,
    criterion: Callable[[Any, Any], torch.Tensor] | None = None,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exp",
    beta: float = 0.9,
    diverge: float = 1.0,
    check_every: int = 8,
    snapshot: str = "cpu",
    snapshot_dir: str | None = None,
    restore: bool = True,
    device: torch.device | str | None = "auto",
    progress: Progress | None = None,
    process_group: Any = None,
) -> tuple[np.ndarray, np.ndarray, str, tuple[float, ...]]:
    """The loop alone: ``(lrs, raw_losses, stopped_reason, group_ratios)`` (see :func:`find_lr`)."""
    _check_range_args(
        model, optimizer, start_lr, end_lr, num_steps, mode, beta, diverge, check_every, restore, progress
    )
    device = _range_device(model, device)
    step = _make_step(model, optimizer, loss_fn, step_fn, criterion, device)
    ratios = _group_ratios(optimizer)
    factors = ramp_schedule(start_lr, end_lr, num_steps, mode)(np.arange(num_steps)).tolist()
    lrs = [start_lr * f for f in factors]

    distributed = _dist_group(process_group)[0]
    book = _LossBook(num_steps, _Watch(num_steps, beta, diverge), process_group, lrs, progress)
    if distributed:
        # allocated up front: a rank whose data is empty must still join every collective
        first = next(iter(model.parameters()), None)
        book.allocate(_collective_device(first.device if first is not None else torch.device("cpu")))
    snap = Snapshot.take(model, optimizer, to=snapshot, directory=snapshot_dir) if restore else None
    batches = _batches(data)
    reason = _OK
    try:
        model.train()
        lo = 0
        exhausted_at: int | None = None
        for k in range(num_steps):
            _set_lrs(optimizer, ratios, lrs[k])
            loss_value: Any = None
            if exhausted_at is None:
                try:
                    batch = next(batches)
                except StopIteration:
                    exhausted_at = k
                else:
                    loss_value = step(batch)
            if exhausted_at is not None and not distributed:
                code, _ = book.check(lo, k, exhausted_at)
                reason = code
                break
            book.record(k, loss_value)
            if (k + 1) % check_every and k + 1 < num_steps:
                continue
            code, _ = book.check(lo, k + 1, exhausted_at)
            lo = k + 1
            if code != _OK:
                reason = code
                break
    finally:
        if snap is not None:
            try:
                snap.restore()
            finally:
                snap.close()
    host = book.host
    if reason == _EXHAUSTED and not host:
        raise ConfigError(
            "the data yielded no batch.",
            field="data",
            fix="pass a non-empty DataLoader/list, or a generator that yields at least num_steps batches.",
        )
    if reason == _EXHAUSTED:
        warnings.warn(
            f"the data ran out after {len(host)} of {num_steps} updates and could not be iterated again; "
            "pass a re-iterable (DataLoader, list) for a full ramp.",
            stacklevel=3,
        )
    n = len(host)
    return np.asarray(lrs[:n]), np.asarray(host, dtype=np.float64), _REASON[reason], ratios


def _collective_device(dev: torch.device) -> torch.device:
    import torch.distributed as dist

    backend = dist.get_backend()
    if backend == "nccl" and dev.type != "cuda":
        return torch.device("cuda", torch.cuda.current_device())
    return dev


def _set_lrs(optimizer: Optimizer, ratios: tuple[float, ...], lr: float) -> None:
    """Every group at ``lr * r_g`` (through lrkit's one LR writer: a tensor LR is filled in place)."""
    write_lrs(optimizer.param_groups, [lr * r for r in ratios])


#: decades around the curve's suggestion where the confirmation trials run: at it and below
#: only, a vote against a fragile peak. A short trial favours the highest LR that survives it
#: (lower LRs have not converged yet), by the training and by the held-out loss alike: with a
#: trial 0.3 decades above, val_data picked it and sank runs the full length of which diverged
#: or over-fitted (benchmark, tuning part)
TRIAL_OFFSETS = (-1.0, -0.5, 0.0)
TRIAL_OFFSETS_VAL = TRIAL_OFFSETS
#: decades below the highest LR the test reached where the fallback trials run, when no
#: descent shows in the range test or the zoom pass
FALLBACK_OFFSETS = (-2.5, -2.0, -1.5, -1.0)
#: decades below the top the zoom pass covers, and its share of a pass's updates
ZOOM_DECADES = 2.5
#: candidates are placed at rounded log10 LRs: closer than this (decades) is the same LR
_SAME_DECADES = 1e-4
#: trial length bounds (updates)
MIN_TRIAL_STEPS, MAX_TRIAL_STEPS = 16, 150
#: a heavy-ball optimizer's range-test reading lies this fraction of its momentum horizon
#: (``beta / (1 - beta)`` updates) of the ramp too high (see :func:`_momentum_lag`)
MOMENTUM_LAG = 0.35
#: ... by at most this many decades (measured only at ``beta`` 0.9 and the default ramp)
MAX_MOMENTUM_LAG_DECADES = 0.5
#: without ``max_evals`` a call spends at most this many times the range test's ``num_steps``
#: (300 at the default 100): a short ramp (``num_steps=20``) is a quick look, and its zoom pass
#: and trials stay as short as it
SEARCH_BUDGET_FACTOR = 3


def _search_budget(max_evals: Any, num_steps: int) -> int:
    """The loss evaluations one call may spend: ``max_evals``, or ``SEARCH_BUDGET_FACTOR * num_steps``."""
    if max_evals is None:
        return SEARCH_BUDGET_FACTOR * num_steps
    if isinstance(max_evals, bool) or not isinstance(max_evals, int) or max_evals < num_steps:
        raise ConfigError(
            f"must be an int >= num_steps ({num_steps}), got {max_evals!r}.",
            field="max_evals",
            value=max_evals,
            fix=f"leave it out ({SEARCH_BUDGET_FACTOR} x num_steps), or lower num_steps;"
            " max_evals counts every loss the finder computes.",
        )
    return max_evals


def _check_search(trials: Any, zoom: Any) -> None:
    if not isinstance(trials, bool):
        raise ConfigError(f"must be True or False, got {trials!r}.", field="trials", value=trials, fix="use True.")
    if not isinstance(zoom, bool):
        raise ConfigError(f"must be True or False, got {zoom!r}.", field="zoom", value=zoom, fix="use True.")


def _val_batches(val_data: Any, step: Any) -> list[Any] | None:
    if val_data is None:
        return None
    if getattr(step, "loss_of", None) is None:
        raise ConfigError(
            "val_data needs a loss to evaluate; step_fn runs whole updates and gives none.",
            field="val_data",
            fix="pass loss_fn(model, batch) or criterion= instead of step_fn, or leave val_data out.",
        )
    try:
        batches = list(val_data)
    except TypeError:
        raise ConfigError(
            f"val_data must be an iterable of held-out batches, got {type(val_data).__name__}.",
            field="val_data",
            value=type(val_data).__name__,
            fix="pass a DataLoader or a list of batches of the held-out set.",
        ) from None
    if not batches:
        raise ConfigError(
            "val_data yielded no batch.", field="val_data", fix="pass at least one held-out batch, or leave it out."
        )
    return batches


def find_lr(
    model: torch.nn.Module,
    optimizer: Optimizer,
    data: Iterable[Any],
    loss_fn: LossFn | torch.nn.Module | None = None,
    *,
    step_fn: StepFn | None = None,
    criterion: Callable[[Any, Any], torch.Tensor] | None = None,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exp",
    beta: float = 0.9,
    diverge: float = 1.0,
    check_every: int = 8,
    snapshot: str = "cpu",
    snapshot_dir: str | None = None,
    restore: bool = True,
    device: torch.device | str | None = "auto",
    progress: Progress | None = None,
    process_group: Any = None,
    val_data: Iterable[Any] | None = None,
    max_evals: int | None = None,
    trials: bool = True,
    zoom: bool = True,
) -> FinderResult:
    """LR range test: ramp the LR from ``start_lr`` to ``end_lr`` over ``num_steps`` optimizer
    updates, record the training loss, suggest a peak LR, confirm it with short trials, and
    restore everything.

    The search, within ``max_evals`` loss evaluations:

    1. the range test (``num_steps`` updates; stops at NaN or divergence) read by the rule of
       :func:`lrkit.finder.suggest.suggest`;
    2. if its curve shows no clear descent, a *zoom pass*: a slower ramp over the
       ``ZOOM_DECADES`` (2.5) decades below the highest LR reached, where a narrow window a
       fast ramp passes through too quickly can show;
    3. *confirmation trials*: short warm-up + cosine runs (``lrkit.finder.trials``) at the
       suggestion and 0.5 and 1 decade below it, each from
       the state the test started from, judged by the held-out loss over ``val_data`` or by
       the training loss of their last quarter; the best trial that learned is the
       suggestion. On a tiny data set (the range test drew each example 8+ times) without
       ``val_data``, a quarter of its examples is held out of the trials to judge them
       (:mod:`lrkit.finder.holdout`; ``held_out`` in the result). Where nothing descended,
       trials 1 to 2.5 decades below the top choose a *fallback* (``confidence="low"``, with
       a note on what to do).

    Args:
        model, optimizer: trained in place during the test, restored bitwise afterwards
            (parameters, grads, buffers, train/eval flags, optimizer state and param_group
            hyper-parameters, RNG states) -- also after an exception or ``KeyboardInterrupt``,
            and between the passes and trials.
        data: any iterable of batches; iterated again whenever it runs out.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor``. A loss *module* passed here is
            taken as ``criterion``. Without one, ``criterion(model(inputs), targets)`` on
            ``(inputs, targets)`` batches, else ``model.training_step(batch)``.
        step_fn: ``step_fn(model, optimizer, batch) -> loss`` runs a whole update itself
            (AMP + GradScaler, clipping, accumulation, dict batches); the finder only sets
            the LRs before it.
        start_lr, end_lr, num_steps, mode: the ramp (``"exp"``: evenly spaced in log LR;
            ``"linear"``), as an lrkit schedule applied per group so group LR ratios hold.
        beta: EMA factor of the reported smoothed losses.
        diverge: stop once the running median of the losses stays above ``best + diverge *
            max(L0 - best, 0.1 |best|, 4 sigma)`` (``L0``: mean of the first losses,
            ``sigma``: the batch noise), never in the first quarter of the ramp; works for
            negative losses too.
        check_every: updates between host reads of the losses (no sync in between).
        snapshot, snapshot_dir: ``"cpu"`` (host memory) or ``"disk"`` (a temporary file in
            ``snapshot_dir``); never a second copy on the accelerator.
        restore: set False to keep the model as the range test left it (then neither the zoom
            pass nor the trials run).
        device: where batches go for ``loss_fn``/``criterion`` (``"auto"``: the model's
            device; ``None``: leave batches alone).
        progress: ``progress(done, num_steps, lr, smoothed_loss)`` at each check of a pass.
        process_group: the group to average losses over (default: the world, when
            ``torch.distributed`` is initialised). Trials run only on a single process.
        val_data: held-out batches (read once into a list) that judge the trials; needs
            ``loss_fn``, ``criterion`` or ``training_step`` (not ``step_fn``).
        max_evals: the most loss evaluations (training updates of every pass and trial, plus
            every held-out batch evaluated) one call spends; default ``3 * num_steps`` (300 at
            the default ``num_steps``), so the zoom pass and the trials scale with the range
            test. At most a quarter goes to held-out batches.
        trials, zoom: set False to skip the confirmation trials / the zoom pass.

    Returns:
        :class:`FinderResult` with ``suggestion``, ``range``, ``confidence``, ``method``,
        ``trials``, ``zoom``, ``loss_evaluations``, ``lrs``, ``losses``, ``raw_losses``,
        ``stopped_reason``, ``plot(path)``, ``to_dict()``.
    """
    _check_search(trials, zoom)
    check_ramp(start_lr, end_lr, num_steps, mode)  # num_steps is known valid before the budget uses it
    max_evals = _search_budget(max_evals, num_steps)
    probe = _make_step(model, optimizer, loss_fn, step_fn, criterion, None)
    val = _val_batches(val_data, probe)
    common = dict(
        step_fn=step_fn,
        criterion=criterion,
        mode=mode,
        beta=beta,
        diverge=diverge,
        check_every=check_every,
        snapshot=snapshot,
        snapshot_dir=snapshot_dir,
        device=device,
        process_group=process_group,
    )
    # the examples the range test draws are counted (any iterable; see lrkit.finder.revisits)
    counter = ExampleCounter(data) if isinstance(data, Iterable) else None
    lrs, raw, reason, ratios = run_range_test(
        model,
        optimizer,
        data if counter is None else counter,
        loss_fn,
        start_lr=start_lr,
        end_lr=end_lr,
        num_steps=num_steps,
        restore=restore,
        progress=progress,
        **common,
    )
    sug = suggest(lrs, raw)
    # the top: the highest LR the test reached (past divergence when it diverged)
    x_top = math.log10(float(lrs[-1])) if len(lrs) else math.log10(end_lr)
    notes = list(sug.notes)
    if reason in (_REASON[_DIVERGED], _REASON[_NAN]):
        # the reading drops non-finite losses and may see no rise; the test itself blew up
        notes = [n for n in notes if "did not diverge" not in n]
    s = _Search(sug=sug, notes=notes, evals=len(raw), x_top=x_top)
    s.start_level = _start_level(raw)
    s.passes = None if counter is None else counter.passes()
    s.user_val = val is not None
    distributed = _dist_group(process_group)[0]
    # more passes need the start state back and data that can be iterated again
    searching = restore and len(raw) > 0 and reason != "data_exhausted"

    def run_pass(lo: float, hi: float, steps: int) -> tuple[np.ndarray, np.ndarray, str]:
        zl, zr, zreason, _ = run_range_test(
            model,
            optimizer,
            data,
            loss_fn,
            start_lr=lo,
            end_lr=hi,
            num_steps=steps,
            restore=True,
            progress=None,
            **common,
        )
        return zl, zr, zreason

    if searching and zoom and s.sug.lr is None:
        reserve = MIN_TRIAL_STEPS * len(FALLBACK_OFFSETS) if trials and not distributed else 0
        _zoom_stage(s, run_pass, min(num_steps, max_evals - s.evals - reserve))
    split = None
    if searching and trials and not distributed and val is None and step_fn is None and counter is not None:
        split = _split_stage(s, data, counter)
    _candidates_stage(s, lrs, raw, reason, with_val=val is not None or split is not None, optimizer=optimizer)
    if searching and trials and not distributed:
        _trials_stage(
            s,
            _TrialSetup(
                model=model,
                optimizer=optimizer,
                data=data if split is None else split.trained_on(data),
                make_step=lambda dev: _make_step(model, optimizer, loss_fn, step_fn, criterion, dev),
                probe=probe,
                val=val if split is None else split.val,
                ratios=ratios,
                device=device,
                snapshot=snapshot,
                snapshot_dir=snapshot_dir,
            ),
            max_evals,
        )
    elif distributed and trials and searching:
        s.notes.append("confirmation trials run on a single process only; the suggestion is the curve's.")
    chosen, confidence, low, high = _choice_stage(s, optimizer, lrs, raw)
    return FinderResult(
        lrs=lrs,
        raw_losses=raw,
        losses=ema(raw, beta) if len(raw) else raw,
        suggestion=chosen,
        range=(low, high),
        confidence=confidence if chosen is not None else "none",
        stopped_reason=reason,
        num_steps=num_steps,
        start_lr=float(start_lr),
        end_lr=float(end_lr),
        mode=mode,
        beta=float(beta),
        group_ratios=ratios,
        details=s.sug,
        notes=tuple(s.notes),
        method=s.method,
        trials=tuple(s.done),
        zoom=s.zoom_curve,
        loss_evaluations=s.evals,
        val_start_evaluations=s.val_start_evals,
        max_evals=max_evals,
        held_out=0 if split is None else split.held_found,
    )


# -- the search's stages (find_lr runs them in this order on one _Search) ---------------------------
@dataclass
class _Search:
    """What the search knows so far; each stage below reads it and fills in its part."""

    sug: Suggestion  # the curve reading the search builds on: the range test's, or the zoom pass's
    notes: list[str]
    evals: int  # loss evaluations spent so far
    x_top: float  # log10 of the highest LR the range test reached
    method: str = "curve"
    zoom_curve: dict[str, Any] | None = None
    x_star: float | None = None  # log10 of the curve's suggestion; None: no descent anywhere
    wide: bool = False  # a shallow descent: the fallback's candidates run too, judged relatively
    xs: list[float] = field(default_factory=list)  # log10 peak LRs of the trials' candidates
    done: list[Trial] = field(default_factory=list)  # the trials that ran, in order
    val_start_evals: int = 0
    passes: float | None = None  # examples the range test drew / distinct examples (None: not counted)
    revisited: bool = False  # the tiny-data rule moved the choice (confidence "low")
    user_val: bool = False  # the trials are judged by the caller's val_data
    no_cliff: bool = False  # the curve read for x* never diverged: nothing bounds it from above
    start_level: float | None = None  # the training loss the search started from (range test's first losses)


@dataclass(frozen=True)
class _TrialSetup:
    """Everything the trials need from the caller (model, data, how to step, held-out batches)."""

    model: torch.nn.Module
    optimizer: Optimizer
    data: Iterable[Any]
    make_step: Callable[[torch.device | None], Any]
    probe: Any  # a step built without a device: its loss_of evaluates val batches
    val: list[Any] | None
    ratios: tuple[float, ...]
    device: Any
    snapshot: str
    snapshot_dir: str | None


def _zoom_stage(
    s: _Search, run_pass: Callable[[float, float, int], tuple[np.ndarray, np.ndarray, str]], z_steps: int
) -> None:
    """Step 2: where the range test showed no descent, a slower ramp over the
    :data:`ZOOM_DECADES` below the top (``z_steps`` updates, at least 20); its reading replaces
    the range test's when it shows a descent."""
    if z_steps < 20:
        return
    z_lo = s.x_top - ZOOM_DECADES
    zl, zr, zreason = run_pass(10**z_lo, 10**s.x_top, z_steps)
    s.evals += len(zr)
    s.zoom_curve = {"lrs": zl, "raw_losses": zr, "stopped_reason": zreason}
    zs = suggest(zl, zr)
    if zs.lr is not None:
        s.sug, s.method = zs, "zoom"
        s.notes = [n for n in zs.notes if "start_lr" not in n]
        s.notes.append(
            f"the range test showed no clear descent; a slower zoom pass over {10**z_lo:.3g}..{10**s.x_top:.3g}"
            " found one."
        )


def _split_stage(s: _Search, data: Iterable[Any], counter: ExampleCounter) -> Split | None:
    """Before the trials, on a tiny data set (the range test went round it at least
    :data:`REVISIT_PASSES` times) and without ``val_data``: hold a share of its examples out of
    the trials to judge them (:mod:`lrkit.finder.holdout`), with a note; ``None`` otherwise."""
    if s.passes is None or s.passes < REVISIT_PASSES:
        return None
    split = carve(counter.prints(), _batches(data))
    if split is not None:
        s.notes.append(
            f"the range test went round the training data about {s.passes:.0f} times (a tiny data set): the trials"
            f" trained on {split.examples - split.held_found} of its {split.examples} examples and were judged by the"
            f" loss on the {split.held_found} held out (the training loss cannot tell learning from memorising"
            " there); pass val_data= to choose the held-out examples yourself."
        )
    return split


def _candidates_stage(
    s: _Search,
    lrs: np.ndarray,
    raw: np.ndarray,
    reason: str,
    *,
    with_val: bool,
    optimizer: Optimizer | None = None,
) -> None:
    """Step 3's candidates: at the curve's suggestion and below it (plus the fallback's near the
    top after a shallow descent), or the fallback's alone where nothing descended. With a
    heavy-ball optimizer the curve's suggestion is first lowered by :func:`_momentum_lag`."""
    if s.sug.lr is None:
        s.xs = [s.x_top + o for o in FALLBACK_OFFSETS]
        return
    x_star = s.x_star = math.log10(s.sug.lr)
    z = s.zoom_curve
    lag = 0.0
    if optimizer is not None:
        read_lrs = z["lrs"] if s.method == "zoom" and z else lrs
        lag = _momentum_lag(optimizer, np.asarray(read_lrs, dtype=float), s.sug.lr)
    if lag > 0:
        x_star = s.x_star = x_star - lag
        s.notes.append(
            f"SGD momentum {_heavy_ball(optimizer):g}: the range test's reading {s.sug.lr:.3g} was lowered by"
            f" {lag:.2f} decades to {10**x_star:.3g} (the loss answers a rising LR about"
            " beta/(1-beta) updates late, so the curve reads momentum runs too high)."
        )
    x_cap = math.log10(s.sug.divergence_lr) if s.sug.divergence_lr else x_star
    offsets = TRIAL_OFFSETS_VAL if with_val else TRIAL_OFFSETS
    xs = sorted({round(x_star + o, 6) for o in offsets if o <= 0 or x_star + o <= x_cap})
    cl, cr, why = (z["lrs"], z["raw_losses"], z["stopped_reason"]) if s.method == "zoom" and z else (lrs, raw, reason)
    s.wide = _shallow(cl, cr)
    s.no_cliff = why not in (_REASON[_DIVERGED], _REASON[_NAN]) and _no_cliff(cl, cr)
    if s.wide:
        # a shallow descent may be a side show (an output bias learning the class prior) far
        # below the narrow window where a deep plain net really learns: the fallback's
        # candidates above the curve's also run, and the trials choose
        xs = sorted(set(xs) | {round(s.x_top + o, 6) for o in FALLBACK_OFFSETS if s.x_top + o > xs[-1] + 0.25})
    s.xs = xs


def _trials_stage(s: _Search, setup: _TrialSetup, max_evals: int) -> None:
    """Step 3: one short warm-up + cosine trial per candidate, each from the snapshot of the
    start state, within what is left of ``max_evals`` (at most a quarter of it for held-out
    batches)."""
    from lrkit.finder.trials import DataExhausted, run_trial, val_loss

    model, optimizer, val = setup.model, setup.optimizer, setup.val
    budget = max_evals - s.evals
    val_use = val
    start_val: float | None = None
    if val is not None:
        # at most a quarter of what is left goes to held-out batches (before, and after each trial)
        per = max(1, (budget // 4) // (len(s.xs) + 1))
        val_use = val[:per]
        budget -= len(val_use) * (len(s.xs) + 1)
    t_steps = min(MAX_TRIAL_STEPS, budget // len(s.xs)) if s.xs else 0
    if t_steps < MIN_TRIAL_STEPS:
        if s.xs:
            s.notes.append(
                f"no confirmation trials: max_evals={max_evals} leaves too few updates after the range test."
            )
        return
    snap = Snapshot.take(model, optimizer, to=setup.snapshot, directory=setup.snapshot_dir)
    try:
        step = setup.make_step(_range_device(model, setup.device))
        judge = None
        if val_use is not None:
            start_val, n = val_loss(model, step.loss_of, val_use)
            s.val_start_evals = n
            s.evals += n
            judge = (step.loss_of, val_use)
        batches = _batches(setup.data)
        for x in s.xs:
            snap.restore()
            t = run_trial(
                model=model,
                optimizer=optimizer,
                batches=batches,
                step=step,
                set_lrs=lambda lr: _set_lrs(optimizer, setup.ratios, lr),
                peak=10**x,
                steps=t_steps,
                val=judge,
                start_val=start_val,
                start_level=s.start_level,
            )
            s.done.append(t)
            s.evals += t.evaluations
    except DataExhausted as end:
        # trials judged on different amounts of data cannot be compared: keep the curve's choice
        s.evals += end.updates  # spent, like the finished trials' (already counted)
        s.done.clear()
        s.notes.append(
            "the training data ran out during the confirmation trials (a one-shot iterable the range test had "
            "nearly used up), so none is used: pass a DataLoader or a list, which can be read again."
        )
    finally:
        try:
            snap.restore()
        finally:
            snap.close()


def _blew_up(t: Trial, start_level: float | None) -> bool:
    """Whether a trial diverged or blew up in its warm-up (:func:`~lrkit.finder.trials.blew_up_in_warm_up`)."""
    from lrkit.finder.trials import blew_up_in_warm_up

    return t.diverged or blew_up_in_warm_up(float(t.train_start), start_level)


def _start_level(raw: np.ndarray) -> float | None:
    """The training loss the search started from: the median of the range test's first
    ``max(3, n // 20)`` finite losses (taken at LRs too small to move the model)."""
    finite = np.asarray(raw, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return None
    return float(np.median(finite[: max(3, finite.size // 20)]))


def _choice_stage(
    s: _Search, optimizer: Optimizer, lrs: np.ndarray, raw: np.ndarray
) -> tuple[float | None, str, float | None, float | None]:
    """Step 3's and 4's choice: ``(suggestion, confidence, low, high)`` from the curve and the
    trials (or the fallback where nothing descended)."""
    sug, done = s.sug, s.done
    confidence = sug.confidence
    low, high = sug.low, sug.high
    chosen: float | None = sug.lr
    learned = [t for t in done if t.learned]
    below_zero = _went_below_zero(s, raw)
    if s.x_star is not None and done:
        if learned:
            # after a shallow descent the candidates start from different levels of a slow
            # drift: judged by how much each improved on its own start, not by absolute loss
            best = _unclear_pick(done) if s.wide else None
            best = best or min(learned, key=_relative if s.wide else (lambda t: t.score))
            if s.user_val and not s.wide:
                best = _not_above_train_choice(best, learned, s.notes)
            if s.no_cliff and not s.wide:
                best = _below_top_without_cliff(best, learned, done, s.notes)
            if not s.wide and _adaptive(optimizer) and _fitted(best):
                best = _below_fitted(best, learned, s.notes)
            if not s.wide and not below_zero and _adaptive(optimizer):
                stepped = _below_unfitted_tiny(best, learned, s.passes, s.notes)
                s.revisited = stepped is not best
                best = stepped
            chosen = _below_zero_step_down(best.lr, learned, s.notes) if below_zero else best.lr
            s.method += "+trials"
            moved = math.log10(chosen) - s.x_star
            if abs(moved) > _SAME_DECADES:
                s.notes.append(
                    f"short trials ({done[0].steps} updates, judged by {done[0].judged_by} loss) moved the curve's "
                    f"suggestion {10**s.x_star:.3g} to {chosen:.3g}."
                )
        else:
            chosen = _none_learned_choice(done, s.notes)
            s.method += "+trials"
        if chosen is not None and sug.lr:
            scale = chosen / sug.lr
            low, high = (None if low is None else low * scale), (None if high is None else high * scale)
    elif s.x_star is not None and sug.lr and abs(s.x_star - math.log10(sug.lr)) > _SAME_DECADES:
        # no trials ran: the curve's suggestion as lowered for momentum (_candidates_stage)
        chosen = 10**s.x_star
        scale = chosen / sug.lr
        low, high = (None if low is None else low * scale), (None if high is None else high * scale)
    elif s.x_star is None:
        chosen, low, high = _fallback_choice(s, learned, below_zero)
        confidence = "low"
    if chosen is not None and s.method != "fallback":
        zoom_curve = s.zoom_curve if s.method.startswith("zoom") else None
        confidence = _confidence(sug, zoom_curve, lrs, raw, s.x_star, done, chosen)
        if confidence == "low" and sug.confidence != "low" and learned:
            s.notes.append(
                "the loss fell only a little over the whole test: this network may learn only in a narrow LR window"
                " (deep plain nets); check with a short grid around the suggestion (lrkit compare)."
            )
        if confidence == "high" and _adaptive(optimizer):
            confidence = _overfit_risk(chosen, learned, s.notes)
        elif confidence == "high":
            confidence = _fitted_risk(chosen, learned, s.notes)
        if s.revisited:
            confidence = "low"
    return chosen, confidence, low, high


def _went_below_zero(s: _Search, raw: np.ndarray) -> bool:
    """Whether any loss the search recorded fell below zero: one update of the range test, of
    the zoom pass or of a trial."""
    curves = [np.asarray(raw, dtype=float)]
    if s.zoom_curve is not None:
        curves.append(np.asarray(s.zoom_curve["raw_losses"], dtype=float))
    for c in curves:
        finite = c[np.isfinite(c)]
        if finite.size and float(finite.min()) < 0:
            return True
    return any(t.train_min < 0 for t in s.done)  # nan (no finite loss) compares False


def _below_zero_step_down(lr: float, learned: list[Trial], notes: list[str]) -> float:
    """Where the loss went below zero: the lowest trial that learned, instead of ``lr``, with a note.

    Why: a loss that goes negative has no floor at 0 -- typically a likelihood with a learned
    scale (a Gaussian NLL with a predicted variance). Its training loss keeps falling as the
    predicted variance shrinks on the training examples, so the range test and short trials
    both favour peaks at which a full run over-fits the variance and the held-out loss rises
    above the untrained model's. The lowest trial (a decade below the curve's suggestion, or
    the fallback's lowest) is the margin fastai's "minimum / 10" keeps against that cliff."""
    lowest = min(learned, key=lambda t: t.lr)
    if lowest.lr >= lr:
        return lr
    notes.append(
        f"the loss went below zero (a likelihood with a learned scale, e.g. a Gaussian NLL): its training loss"
        f" keeps falling as the predicted variance shrinks, where a full run over-fits; the suggestion is the"
        f" lowest trial that learned ({lowest.lr:.3g}) rather than {lr:.3g}. With val_data= and a full-length"
        " check, the higher one may be better."
    )
    return lowest.lr


#: a chosen trial whose training loss ended under this fraction of its start (adaptive optimizers)
#: is near fitting its data: ``confidence`` is not "high" (docs/finder.md, calibration)
OVERFIT_RISK_FRACTION = 0.1


def _overfit_risk(chosen: float, learned: list[Trial], notes: list[str]) -> str:
    """``"low"`` (with a note) when the chosen trial's training loss ended under
    :data:`OVERFIT_RISK_FRACTION` of its start, else ``"high"``. On small data an adaptive
    optimizer's full run at such a peak may over-fit where the short trial does not show it."""
    t = next((t for t in learned if t.lr == chosen), None)
    start, end = (math.nan, math.nan) if t is None else (float(t.train_start), float(t.train_end))
    if not (math.isfinite(start) and math.isfinite(end) and start > 0 and 0 <= end < OVERFIT_RISK_FRACTION * start):
        return "high"
    lower = [u.lr for u in learned if u.lr < chosen]
    notes.append(
        f"the chosen trial's training loss ended at {end / start:.0%} of its start (under"
        f" {OVERFIT_RISK_FRACTION:.0%}): with an adaptive optimizer on small data a full run at this peak may"
        " over-fit (the held-out loss rises) where the short trial cannot show it; pass val_data= and compare"
        + (f" with {max(lower):.3g} (lrkit compare)." if lower else " with a lower peak (lrkit compare).")
    )
    return "low"


def _fitted_risk(chosen: float, learned: list[Trial], notes: list[str]) -> str:
    """``"medium"`` (with a note) when the chosen trial fitted its training batches almost
    exactly (:func:`_fitted`), else ``"high"``; for optimizers that are not adaptive, whose
    suggestion the "fitted" step-down leaves alone.

    Why: plain and momentum SGD on a small set at a peak whose short trial already drove the
    training loss to its floor ran several times longer into spikes on the benchmark (a decade
    too high, regret 0.5-2, at ``high``), while most such peaks were fine: a warning, not a
    step down."""
    t = next((t for t in learned if t.lr == chosen), None)
    if t is None or not _fitted(t):
        return "high"
    lower = [u.lr for u in learned if u.lr < chosen]
    notes.append(
        f"the chosen trial's training loss ended at {t.train_end / t.train_start:.1%} of its start in {t.steps}"
        " updates (it fitted its training batches): a full run several times longer at this peak may spike or"
        " over-fit; compare"
        + (f" with {max(lower):.3g} (lrkit compare)." if lower else " with a lower peak (lrkit compare).")
    )
    return "medium"


def _below_fitted(best: Trial, learned: list[Trial], notes: list[str]) -> Trial:
    """The highest learned trial below ``best`` that did not fit its training batches exactly
    (else the lowest learned one), with a note; see :func:`_fitted`."""
    lower = [t for t in learned if t.lr < best.lr and not _fitted(t)]
    stepped = max(lower, key=lambda t: t.lr) if lower else min(learned, key=lambda t: t.lr)
    if stepped is not best:
        notes.append(
            f"the trial at {best.lr:.3g} fitted its training batches almost exactly (training loss"
            f" {best.train_end:.3g}, under {FIT_FRACTION:.0%} of its start) in {best.steps} updates:"
            " with an adaptive optimizer a longer run at that peak tends to over-fit or spike on small"
            f" data, so the suggestion is the highest trial that did not ({stepped.lr:.3g});"
            " with plenty of data, pass val_data= or try the higher one."
        )
    return stepped


#: the range test drew each training example at least this many times on average: a tiny data set
REVISIT_PASSES = 8.0
#: ... and the chosen trial's training loss over its last quarter kept at least this fraction of
#: its first tenth's after going round the data several times (what it could not fit: label noise)
NOISE_FRACTION = 0.15


def _below_unfitted_tiny(best: Trial, learned: list[Trial], passes: float | None, notes: list[str]) -> Trial:
    """The next lower learned trial instead of ``best`` (with a note) when the data is tiny
    relative to the search (``passes >= REVISIT_PASSES``) and ``best`` still kept at least
    :data:`NOISE_FRACTION` of its starting training loss; else ``best``.

    Why: a short trial that went round a tiny data set several times and still could not fit it
    is looking at examples it cannot learn (flipped labels, overlapping classes). A full run,
    several times longer, at that peak memorises them with an adaptive optimizer's large
    normalised steps, and its held-out loss climbs (on the benchmark, above the untrained
    model's); the short trial's score, which favours the highest LR that survives it, cannot
    show this. A tiny clean set is fitted by the trial (its loss falls under the fraction) and
    is left alone. Adaptive optimizers only (the caller checks)."""
    if passes is None or passes < REVISIT_PASSES:
        return best
    start, end = float(best.train_start), float(best.train_end)
    if not (math.isfinite(start) and math.isfinite(end) and start > 0 and end >= NOISE_FRACTION * start):
        return best
    lower = [t for t in learned if t.lr < best.lr]
    if not lower:
        return best
    stepped = max(lower, key=lambda t: t.lr)
    notes.append(
        f"the range test went round the training data about {passes:.0f} times (a tiny data set) and the trial at"
        f" {best.lr:.3g} still kept {end / start:.0%} of its starting training loss: what is left is likely"
        " examples it cannot learn (label noise), which a longer run at that peak memorises with an adaptive"
        f" optimizer, so the suggestion is the next lower trial ({stepped.lr:.3g}); with val_data= and a"
        " full-length check (lrkit compare) the higher one may be better."
    )
    return stepped


#: the lowest trial's held-out loss ended at least this fraction above where it started (while
#: its training loss fell): it over-fitted, and so did every trial above it
OVERFIT_RISE = 0.5
#: decades between neighbouring trials: how far below the lowest trial to step
_TRIAL_SPACING = TRIAL_OFFSETS[1] - TRIAL_OFFSETS[0]


def _none_learned_choice(done: list[Trial], notes: list[str]) -> float:
    """Where no trial ended below where it started: the lowest trial's LR, or half a decade
    below it when that trial's held-out loss rose by :data:`OVERFIT_RISE` or more while its
    training loss fell (with a note either way).

    Why: trials judged by held-out data that all end worse than they started, though each
    learned its training batches, over-fitted -- even the lowest, which the candidates place a
    decade below the curve's suggestion. On a tiny set the range test can show a descent 5-30x
    above the LR a full run wants (issue 16), so the best LR lies below every candidate, and the
    lowest is still too high. A held-out loss that merely stays level (a hard task, a small
    noisy held-out set) is not that: the lowest trial is kept."""
    lowest = min(done, key=lambda t: t.lr)
    start, score = float(lowest.start_score), float(lowest.score)
    overfit = (
        lowest.judged_by == "val"
        and math.isfinite(score)
        and start > 0
        and score >= (1 + OVERFIT_RISE) * start
        and float(lowest.train_end) < float(lowest.train_start)
    )
    if not overfit:
        notes.append("no trial learned anything; the suggestion is the lowest trial LR: check the model and data.")
        return lowest.lr
    chosen = lowest.lr / 10**_TRIAL_SPACING
    notes.append(
        f"every trial's held-out loss ended above where it started while its training loss fell: even the lowest"
        f" ({lowest.lr:.3g}; held-out {start:.3g} -> {score:.3g}) over-fitted, so the suggestion is half a decade"
        f" below it ({chosen:.3g}); compare a decade lower too (lrkit compare)."
    )
    return chosen


def _fallback_choice(s: _Search, learned: list[Trial], below_zero: bool) -> tuple[float, float, float]:
    """Step 4: no descent in the curve (nor in the zoom pass): the best trial (the lowest that
    learned where the loss went below zero); where none learned, half a decade below the lowest
    trial when every trial ended clearly worse than it started (by :data:`SHALLOW_DESCENT`, or
    diverged) and the highest blew up (:func:`_blew_up`), else 2 decades below the top; with a
    range of a decade either side and a note.

    Why the first: a range test can run to ``end_lr`` without a visible descent or divergence
    when small noisy batches hide the descent and the model then dies quietly (a ReLU net whose
    loss returns to its untrained level); its top says nothing about where the model learns,
    and trials that all made the model worse, the highest by blowing up, say the window lies
    below them. Trials that stay level (a deep plain net at chance), or that end above their start
    without any blowing up (batch noise; a tiny held-out set the trials over-fitted), keep the
    hedge of 2 decades below the top."""
    s.method = "fallback"
    if learned:
        unclear = _unclear_pick(s.done)
        pick = unclear or min(learned, key=lambda t: t.score)
        # where no trial learned clearly, neither loss tells the candidates apart (see _unclear_pick)
        chosen = (_not_above_train_choice(pick, learned, s.notes) if s.user_val and unclear is None else pick).lr
        if below_zero:
            chosen = _below_zero_step_down(chosen, learned, s.notes)
    elif (
        s.done
        and _blew_up(max(s.done, key=lambda t: t.lr), s.start_level)
        and all(t.diverged or _relative(t) > SHALLOW_DESCENT for t in s.done)
    ):
        # the top candidate blew up and none left the model better: all lie above where it learns
        lowest = min(s.done, key=lambda t: t.lr)
        chosen = lowest.lr / 10**_TRIAL_SPACING
        s.notes.append(
            f"every fallback trial ended worse than it started, the lowest ({lowest.lr:.3g}) too: the candidates lie"
            f" above where this model learns, so the suggestion is half a decade below the lowest ({chosen:.3g})."
        )
    else:
        chosen = 10 ** (s.x_top + FALLBACK_OFFSETS[1])
    low, high = chosen / 10, min(chosen * 10, 10**s.x_top / 10)
    s.notes = [n for n in s.notes if "never clearly decreased" not in n]
    s.notes.append(
        f"no descent showed in the range test{' or the zoom pass' if s.zoom_curve is not None else ''}; "
        f"{'the best of short trials' if learned else 'a fallback'} at {chosen:.3g} "
        f"({math.log10(10**s.x_top / chosen):.1f} decades below where the test ended): run a short grid over "
        f"{low:.3g}..{high:.3g} (lrkit compare), pass val_data=, or check the model and data."
    )
    return chosen, low, high


#: a descent shallower than this fraction of the start level is not trusted (``confidence="low"``)
SHALLOW_DESCENT = 0.1


def _confidence(
    sug: Any,
    zoom_curve: dict[str, Any] | None,
    lrs: np.ndarray,
    raw: np.ndarray,
    x_star: float | None,
    done: list[Any],
    chosen: float,
) -> str:
    """``high``: the curve reads stably (bootstrap) *and* the trials confirm its suggestion;
    ``low``: the curve is unstable, did not diverge, or its descent is shallow (under
    :data:`SHALLOW_DESCENT` of the start level), or no trial learned; else ``medium``.
    Calibrated on the benchmark (docs/finder.md)."""
    from lrkit.finder.suggest import read_curve

    cl, cr = (zoom_curve["lrs"], zoom_curve["raw_losses"]) if zoom_curve is not None else (lrs, raw)
    if read_curve(np.asarray(cl), np.asarray(cr)) is None:
        return "low"
    shallow = _shallow(cl, cr)
    learned = [t for t in done if t.learned]
    if sug.confidence == "low" or shallow or (done and not learned):
        return "low"
    confirmed = bool(learned) and x_star is not None and abs(math.log10(chosen) - x_star) < _SAME_DECADES
    return "high" if confirmed else "medium"


def _shallow(lrs: Any, raw: Any) -> bool:
    """Whether the curve's descent is under :data:`SHALLOW_DESCENT` of its start level
    (the median of its first 5% smoothed points), or no descent reads at all."""
    from lrkit.finder.suggest import read_curve

    r = read_curve(np.asarray(lrs), np.asarray(raw))
    if r is None:
        return True
    head = max(3, len(r.smooth) // 20)
    level = float(np.median(r.smooth[:head]))
    return bool(r.depth < SHALLOW_DESCENT * abs(level))


def _no_cliff(lrs: Any, raw: Any) -> bool:
    """Whether the curve's loss did not rise clearly past its lowest point (the caller checks
    that the pass was not stopped by a divergence or a NaN, whose losses the reading drops)."""
    from lrkit.finder.suggest import read_curve

    r = read_curve(np.asarray(lrs), np.asarray(raw))
    return r is not None and not r.diverged


def _below_top_without_cliff(best: Trial, learned: list[Trial], done: list[Trial], notes: list[str]) -> Trial:
    """Where the curve never diverged and ``best`` is the highest trial that ran: the next lower
    learned trial, with a note; else ``best`` (a higher trial that diverged or did not learn is
    the cliff the curve did not show).

    Why: short trials favour the highest LR that survives them (lower ones have not converged
    yet), and a full run several times longer holds a peak only below its cliff. Where the
    range test diverged, the curve's suggestion sits below that point and the trials only look
    down from it; where it never diverged, the curve's suggestion comes from a descent that may
    run to the end of the ramp, and nothing bounds the trials' upward bias. On the benchmark's
    seen tasks, 7 of the 8 suggestions that took the top trial of a curve with no divergence lay
    0.25-1 decade above the best peak, one of them past a full run's cliff."""
    lower = [t for t in learned if t.lr < best.lr]
    if not lower or any(t.lr > best.lr for t in done):
        return best
    stepped = max(lower, key=lambda t: t.lr)
    notes.append(
        f"the range test never diverged, so no cliff bounds the highest trial ({best.lr:.3g}): a short trial"
        " favours the highest LR that survives it, which a longer run may not; the suggestion is the next lower"
        f" trial ({stepped.lr:.3g}). Raise end_lr to see where the loss diverges, or compare both (lrkit compare)."
    )
    return stepped


def _relative(t: Any) -> float:
    """A trial's end over its start, as a loss change relative to the start's size (lower is better)."""
    return (t.score - t.start_score) / max(abs(t.start_score), 1e-12)


def _not_above_train_choice(best: Trial, learned: list[Trial], notes: list[str]) -> Trial:
    """With ``val_data``: the held-out loss's choice ``best``, or the trial the training loss
    of their last quarter picks (the choice without ``val_data``) where that one is lower, with
    a note.

    Why: both measures favour the LR that progressed fastest in a short trial, which a full run
    can hold only below its cliff, and a held-out loss over a few batches adds its own noise to
    that bias. On the benchmark's seen tasks, the 38 of 333 held-out choices above the training
    loss's ruined 4 full runs that the training loss's choice did not, and saved none; where the
    held-out loss chose lower (over-fitting a training loss cannot show) it ruined fewer. So the
    held-out loss may lower the choice, never raise it (docs/finder.md: ruined 8 -> 7 of 333,
    mean regret 0.39 -> 0.36). Not where no trial learned clearly (:func:`_unclear_pick`):
    there neither loss tells the candidates apart."""
    by_train = [t for t in learned if math.isfinite(t.train_end)]
    if not by_train:
        return best
    train_best = min(by_train, key=lambda t: t.train_end)
    if train_best.lr >= best.lr:
        return best
    notes.append(
        f"the held-out loss favoured {best.lr:.3g} and the training loss {train_best.lr:.3g}: the lower is kept"
        " (a held-out loss over a few batches can raise a short trial's choice by noise, not lower it)."
    )
    return train_best


def _unclear_pick(done: list[Any]) -> Any | None:
    """Where no trial learned clearly (none fell by :data:`SHALLOW_DESCENT` of its own start),
    the highest LR among the stable ones (finite, ended within that band of its start); else
    ``None`` (the best score decides).

    Why: after a shallow descent or none, every candidate sits at the network's starting level
    and the trials' small ups and downs are batch noise; a narrow window a network learns in
    lies near the top, below where the test blew up, so the highest stable candidate is the
    better bet than the noisiest lowest loss."""
    stable = [t for t in done if not t.diverged and _relative(t) < SHALLOW_DESCENT]
    if not stable or min(_relative(t) for t in stable) < -SHALLOW_DESCENT:
        return None
    return max(stable, key=lambda t: t.lr)


#: a trial whose training loss of its last quarter ends under this fraction of its first tenth
#: has fitted its training batches almost exactly (a non-negative loss near its floor of 0)
FIT_FRACTION = 0.03
#: ``optimizer.defaults`` keys of optimizers whose step is normalised by a running gradient
#: scale (Adam, AdamW, NAdam, RAdam, Adamax, Lion-like: ``betas``; RMSprop: ``centered``;
#: Adagrad: ``initial_accumulator_value``; Adadelta: ``rho``; torch's Adafactor:
#: ``beta2_decay``; transformers' Adafactor: ``decay_rate``)
_ADAPTIVE_KEYS = frozenset({"betas", "centered", "initial_accumulator_value", "rho", "beta2_decay", "decay_rate"})


def _heavy_ball(optimizer: Optimizer | None) -> float:
    """The reference group's momentum ``beta`` of an optimizer that is not adaptive (SGD with
    momentum or Nesterov), else 0."""
    if optimizer is None or _adaptive(optimizer) or not optimizer.param_groups:
        return 0.0
    beta = optimizer.param_groups[0].get("momentum", 0.0)
    return float(beta) if isinstance(beta, (int, float)) and 0.0 < beta < 1.0 else 0.0


def _momentum_lag(optimizer: Optimizer, lrs: np.ndarray, lr: float) -> float:
    """Decades by which a range test's reading of a heavy-ball optimizer lies too high:
    ``min(MAX_MOMENTUM_LAG_DECADES, MOMENTUM_LAG * beta / (1 - beta) * r)``, with ``r`` the
    ramp's rate at ``lr`` in decades of LR per update (0.08 for the default 1e-7..10 over 100
    updates); 0 without momentum.

    Why: the momentum buffer averages about ``beta / (1 - beta)`` updates of gradients, so the
    loss answers a rising LR that many updates late, while the LR keeps climbing; a ramp 4x
    slower lowered momentum runs' readings by 0.2-0.3 decades more than plain SGD's. On the
    benchmark the final suggestions for momentum SGD lay high (a quarter ruined or over
    regret 0.5), those for plain SGD and Adam(W) centred; 0.25 decades lower at ``beta`` 0.9
    and the default ramp is where the momentum tasks' regret was least."""
    beta = _heavy_ball(optimizer)
    if beta <= 0.0 or len(lrs) < 2 or not (lr > 0):
        return 0.0
    x = np.log10(lrs)
    i = int(np.clip(np.searchsorted(x, math.log10(lr)), 1, len(x) - 1))
    rate = float(x[i] - x[i - 1])
    if not (math.isfinite(rate) and rate > 0):
        return 0.0
    return min(MAX_MOMENTUM_LAG_DECADES, MOMENTUM_LAG * beta / (1.0 - beta) * rate)


def _adaptive(optimizer: Optimizer) -> bool:
    """Whether the optimizer normalises its steps by a running gradient scale (Adam's family)."""
    return bool(_ADAPTIVE_KEYS & set(getattr(optimizer, "defaults", {}) or {}))


def _fitted(t: Any) -> bool:
    """Whether a trial fitted its training batches almost exactly: a non-negative training loss
    that ended under :data:`FIT_FRACTION` of where it started.

    Why it matters (small data, adaptive optimizers): a short trial that already drove the
    training loss to its floor has run out of data to learn from; a full run several times
    longer spends most of its updates at that peak on examples it has fitted, where an
    adaptive optimizer's normalised steps stay large as the gradients vanish -- the held-out
    loss then grows (over-confidence) or spikes. The range test and the trials' own scores
    cannot see this (both favour the highest LR that survives a short run)."""
    start, end = float(t.train_start), float(t.train_end)
    return math.isfinite(start) and math.isfinite(end) and start > 0 and 0 <= end < FIT_FRACTION * start
