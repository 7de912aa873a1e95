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
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import numpy as np
import torch
from torch.optim import Optimizer

from lrkit.errors import ConfigError
from lrkit.finder.batches import batch_iter, endless, map_batch
from lrkit.finder.choice import choice_stage
from lrkit.finder.ramp import check_ramp, ramp_schedule
from lrkit.finder.result import FinderResult
from lrkit.finder.revisits import ExampleCounter
from lrkit.finder.search import (
    FALLBACK_OFFSETS,
    MIN_TRIAL_STEPS,
    Search,
    TrialSetup,
    candidates_stage,
    split_stage,
    start_level_of,
    trials_stage,
    zoom_stage,
)
from lrkit.finder.smoothing import EMA, difference_noise, ema, noise_sigma, running_median
from lrkit.finder.snapshot import Snapshot
from lrkit.finder.suggest import CLIFF_STOPS, suggest
from lrkit.lr_groups import write_lrs

__all__ = ["find_lr", "run_range_test"]

LossFn = Callable[[torch.nn.Module, Any], torch.Tensor]
StepFn = Callable[[torch.nn.Module, Optimizer, Any], Any]
Progress = Callable[[int, int, float, float], None]

_OK, _DIVERGED, _EXHAUSTED, _NAN = 0, 1, 2, 3
_REASON = {_OK: "completed", _DIVERGED: "diverged", _EXHAUSTED: "data_exhausted", _NAN: "nan"}


# -- data -----------------------------------------------------------------------------------
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
        user_step = step_fn

        def whole_step(batch: Any) -> Any:
            try:
                return user_step(model, optimizer, batch)
            except Exception:
                if _parameters_finite(model):
                    raise
                return torch.tensor(math.nan)

        return whole_step
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
        try:
            loss = compute(model, batch)
        except Exception:
            if _parameters_finite(model):
                raise
            # the model already blew up; a loss that validates its inputs (torch.distributions)
            # raises on the NaNs instead of returning one: that is the NaN, not a bug to report
            return torch.tensor(math.nan)
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


def _parameters_finite(model: torch.nn.Module) -> bool:
    """Whether every parameter of ``model`` is finite (checked only after a loss raised)."""
    with torch.no_grad():
        return all(bool(torch.isfinite(p).all()) for p in model.parameters())


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
            difference_noise(y),
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
    batches = endless(data)
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
    batches = list(batch_iter(val_data, "val_data", "pass a DataLoader or a list of batches of the held-out set."))
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
    sug = suggest(lrs, raw, stopped=reason)
    # the top: the highest LR the test reached (past divergence when it diverged)
    x_top = math.log10(float(lrs[-1])) if len(lrs) else math.log10(end_lr)
    s = Search(sug=sug, notes=list(sug.notes), evals=len(raw), x_top=x_top)
    s.start_level = start_level_of(raw)
    s.cliff_at_top, s.stopped = reason in CLIFF_STOPS, reason
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
        zoom_stage(s, run_pass, min(num_steps, max_evals - s.evals - reserve))
    split = None
    if searching and trials and not distributed and val is None and step_fn is None and counter is not None:
        split = split_stage(s, data, counter)
    candidates_stage(s, lrs, raw, with_val=val is not None or split is not None, optimizer=optimizer)
    if searching and trials and not distributed:
        trial_data = data if split is None else split.trained_on(data)
        trials_stage(
            s,
            TrialSetup(
                model=model,
                optimizer=optimizer,
                batches=lambda: endless(trial_data),
                make_step=lambda: _make_step(
                    model, optimizer, loss_fn, step_fn, criterion, _range_device(model, device)
                ),
                set_lrs=lambda lr: _set_lrs(optimizer, ratios, lr),
                val=val if split is None else split.val,
                snapshot=snapshot,
                snapshot_dir=snapshot_dir,
            ),
            max_evals,
        )
    elif distributed and trials and searching:
        s.notes.append("confirmation trials run on a single process only; the suggestion is the curve's.")
    chosen, confidence, low, high = choice_stage(s, optimizer, lrs, raw)
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
