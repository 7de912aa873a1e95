"""Confirmation trials: short, schedule-shaped runs at a few candidate peak LRs.

A range test sees each LR for one update; a full run holds its peak for many. Where the two
disagree (a fragile full run that diverges or overfits below the range test's divergence
point, a network that learns only in a narrow window) a short run shaped like the real one
tells them apart. Trial ``i`` at peak LR ``c_i``:

* starts from the state the range test started from (model, optimizer, RNG restored from the
  same :class:`~lrkit.finder.snapshot.Snapshot`, exactly as after the range test);
* runs ``steps`` updates of a warm-up (10%) + cosine schedule peaking at ``c_i`` (the lrkit
  schedule ``warmup_cosine``), every group at ``c_i * r_g`` (its ratio to the reference group);
* is judged by the mean loss over the held-out batches ``val_data`` after the last update
  (model in eval mode, no gradient), or without ``val_data`` by the mean training loss of the
  last quarter of its updates. A non-finite loss ends the trial: its score is ``inf``.

The losses stay on their device until the trial ends (one host read per trial).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch.optim import Optimizer

from lrkit.finder.smoothing import difference_noise
from lrkit.schedules import warmup_cosine

__all__ = [
    "DataExhausted",
    "Trial",
    "blew_up_in_warm_up",
    "judged_by_train",
    "learned_clearly",
    "rose_in_warm_up",
    "run_trial",
    "val_loss",
]

#: a trial whose first tenth of training losses averages over this many times the start level
#: blew up in its warm-up (see :func:`run_trial`)
BLOWN_UP_FACTOR = 5.0


def blew_up_in_warm_up(first_tenth: float, start_level: float | None) -> bool:
    """Whether a trial's first tenth of training losses (mean) is over :data:`BLOWN_UP_FACTOR`
    times ``start_level``, the loss every trial started from (a positive, finite level only)."""
    return start_level is not None and 0 < start_level < math.inf and first_tenth > BLOWN_UP_FACTOR * start_level


@dataclass(frozen=True)
class Trial:
    """One confirmation trial.

    Attributes:
        lr: its peak LR (reference group).
        steps: optimizer updates it ran (fewer than planned when a loss went non-finite).
        score: held-out loss after the trial (``judged_by="val"``) or mean training loss of its
            last quarter (``"train"``); ``inf`` when it diverged.
        start_score: the same measure before the first update (``val``), or the mean training
            loss of its first updates (``train``): what "learned something" is judged against.
        judged_by: ``"val"`` (held-out batches: ``val_data``, or the examples the finder held
            out of a tiny data set) or ``"train"``.
        evaluations: loss evaluations it cost (training updates + held-out batches).
        train_start, train_end: the mean training loss of its first tenth and of its last
            quarter of updates, whatever judges it (``inf`` at the end when it diverged): how
            closely the trial fitted its training batches.
        train_min: the lowest finite training loss of one of its updates (``nan`` when none
            was finite): below zero, the objective has no floor at 0 (a likelihood with a
            learned scale).
        train_noise: the batch-to-batch noise of one update's training loss: a robust standard
            deviation of the differences of consecutive losses, over ``sqrt(2)`` (a slow trend
            barely moves it; ``nan`` under 4 finite losses). ``train_start`` averages
            ``max(1, steps // 10)`` losses and ``train_end`` ``max(1, steps // 4)``: their
            standard errors follow (:func:`learned_clearly`).
    """

    lr: float
    steps: int
    score: float
    start_score: float
    judged_by: str
    evaluations: int
    train_start: float = math.nan
    train_end: float = math.nan
    train_min: float = math.nan
    train_noise: float = math.nan

    @property
    def diverged(self) -> bool:
        return not math.isfinite(self.score)

    @property
    def learned(self) -> bool:
        """Ended finite and below where it started (by the measure that judges it)."""
        return not self.diverged and self.score < self.start_score

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("score", "start_score", "train_start", "train_end", "train_min", "train_noise"):
            if not math.isfinite(d[k]):
                d[k] = None
        d["diverged"] = self.diverged
        return d


def val_loss(
    model: torch.nn.Module, compute: Callable[[torch.nn.Module, Any], torch.Tensor], batches: Sequence[Any]
) -> tuple[float, int]:
    """(mean loss over ``batches`` in eval mode without gradient, batches evaluated)."""
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            vals = [compute(model, b).detach().reshape(()).float() for b in batches]
    finally:
        model.train(was)
    if not vals:
        return math.nan, 0
    v = float(torch.stack([t.cpu() for t in vals]).mean())
    return (v if math.isfinite(v) else math.inf), len(vals)


class DataExhausted(Exception):
    """The training data ran out during a trial (a one-shot iterable the range test used up)."""

    def __init__(self, updates: int) -> None:
        super().__init__(f"the data ran out after {updates} updates of a trial")
        self.updates = updates


def run_trial(
    *,
    model: torch.nn.Module,
    optimizer: Optimizer,
    batches: Iterator[Any],
    step: Callable[[Any], Any],
    set_lrs: Callable[[float], None],
    peak: float,
    steps: int,
    val: tuple[Callable[[torch.nn.Module, Any], torch.Tensor], Sequence[Any]] | None,
    start_val: float | None,
    start_level: float | None = None,
) -> Trial:
    """Run one trial from the current state (the caller restores afterwards); raises
    :class:`DataExhausted` when ``batches`` runs out before ``steps`` updates.

    ``start_level``: the training loss of the state every trial starts from (the range test's
    first losses). Judged by training loss, a trial whose own first tenth is over
    :data:`BLOWN_UP_FACTOR` times it blew up in its warm-up (first tenth 26, or 3,500, against a
    start of 0.9; batch noise moves a mean of a few losses far less): its ``start_score`` is
    ``start_level``, so a trial that came only partly back has not "learned", although it ended
    below its own first tenth. Otherwise the trial's own first tenth is its start."""
    lrs = peak * warmup_cosine(steps, max(1, steps // 10))(np.arange(steps))
    losses: list[Any] = []
    model.train()
    done = 0
    for k in range(steps):
        set_lrs(float(lrs[k]))
        try:
            batch = next(batches)
        except StopIteration:
            # not a divergence: the trial cannot be judged at all
            raise DataExhausted(done) from None
        loss = step(batch)
        losses.append(
            loss.detach().reshape(()).float() if isinstance(loss, torch.Tensor) else torch.tensor(float(loss))
        )
        done += 1
        # a cheap guard every 16 updates: a blown-up trial need not run to the end
        if (k + 1) % 16 == 0 and not bool(torch.isfinite(losses[-1]).item()):
            break
    raw = np.asarray([float(t) for t in torch.stack([t.cpu() for t in losses])]) if losses else np.zeros(0)
    evaluations = done
    head = raw[: max(1, len(raw) // 10)]
    own = float(np.mean(head)) if head.size else math.nan
    # a trial that blew up in its warm-up is judged against where every trial started
    start = start_level if start_level is not None and blew_up_in_warm_up(own, start_level) else own
    finite = raw[np.isfinite(raw)]
    lowest = float(finite.min()) if finite.size else math.nan
    noise = difference_noise(finite) if finite.size >= 4 else math.nan
    if raw.size == 0 or not np.all(np.isfinite(raw)) or done < steps:
        first = start if start_val is None else start_val
        return Trial(float(peak), done, math.inf, first, _kind(val), evaluations, own, math.inf, lowest, noise)
    end = float(np.mean(raw[-max(1, len(raw) // 4) :]))
    if val is not None:
        score, n = val_loss(model, val[0], val[1])
        evaluations += n
        first = start_val if start_val is not None else start
        return Trial(float(peak), done, score, first, "val", evaluations, own, end, lowest, noise)
    return Trial(float(peak), done, end, start, "train", evaluations, own, end, lowest, noise)


def _kind(val: Any) -> str:
    return "train" if val is None else "val"


def judged_by_train(t: Trial, start_level: float | None) -> Trial:
    """``t`` as it reads without held-out batches: scored by the mean training loss of its last
    quarter (``train_end``; ``inf`` when it diverged) against its first tenth's (``train_start``),
    or against ``start_level`` where it blew up in its warm-up -- what :func:`run_trial` returns
    without ``val``. A trial judged by training loss already is returned as it is."""
    if t.judged_by == "train":
        return t
    start = start_level if start_level is not None and blew_up_in_warm_up(t.train_start, start_level) else t.train_start
    return replace(t, score=t.train_end, start_score=start, judged_by="train")


#: a drop counts only when it exceeds this many standard errors of the difference of the two
#: means (the first tenth's and the last quarter's training losses)
CLEAR_DROP_SE = 2.0


def learned_clearly(t: Trial, start_level: float | None = None) -> bool:
    """Whether a trial learned by more than its batch noise: judged by training loss, its start
    minus its end (``score``) exceeds :data:`CLEAR_DROP_SE` standard errors,
    ``train_noise * sqrt(1 / max(1, steps // 10) + 1 / max(1, steps // 4))``; judged by held-out
    loss (the same fixed batches before and after), :attr:`Trial.learned`.

    The start is the trial's own (``start_score``), or ``start_level`` -- the loss every trial
    started from -- where its first tenth climbed above that level by more than
    :data:`CLEAR_DROP_SE` standard errors of its mean: such a trial has to come back below where
    the model started before its drop counts. Measured from its own first tenth, a climb of 2-3x
    that stays under :data:`RISE_SE` noise units (batch 3-6) read as the clearest learning of
    all, and the trial that had only recovered from its climb was chosen."""
    if not t.learned or t.judged_by != "train" or not math.isfinite(t.train_noise):
        return t.learned
    se = t.train_noise * math.sqrt(1.0 / max(1, t.steps // 10) + 1.0 / max(1, t.steps // 4))
    return start_of(t, start_level) - t.score > CLEAR_DROP_SE * se


def start_of(t: Trial, start_level: float | None) -> float:
    """Where a trial's drop is measured from: its own start (``start_score``), or ``start_level``
    (where the model started) where, judged by training loss, its first tenth climbed above that
    level by more than :data:`CLEAR_DROP_SE` standard errors of its mean,
    ``train_noise / sqrt(max(1, steps // 10))`` (see :func:`learned_clearly`)."""
    start = t.start_score
    if t.judged_by != "train" or not math.isfinite(t.train_noise):
        return start
    if start_level is None or not 0 < start_level < math.inf:
        return start
    climb = start - start_level
    return start_level if climb > CLEAR_DROP_SE * t.train_noise / math.sqrt(max(1, t.steps // 10)) else start


#: a trial's first tenth rose above the start level by more than this many standard errors of
#: its mean (and by :data:`RISE_FRACTION` of the level) ...
RISE_SE = 10.0
#: ... and by more than this fraction of the start level
RISE_FRACTION = 0.05


def rose_in_warm_up(t: Trial, start_level: float | None) -> bool:
    """Whether a trial's training loss rose in its warm-up, clear of its batch noise: its first
    tenth's mean (``train_start``) exceeds ``start_level`` (the loss every trial started from)
    by more than :data:`RISE_FRACTION` of it and by more than :data:`RISE_SE` standard errors,
    ``train_noise / sqrt(max(1, steps // 10))``. A positive, finite level and noise only.

    Below :data:`BLOWN_UP_FACTOR` a trial that rose still counts as having learned when it ends
    below its own first tenth: the rise says its peak is past the edge of what the starting
    model takes (:mod:`lrkit.finder.choice` prefers a lower trial that did not rise)."""
    start, noise = float(t.train_start), float(t.train_noise)
    if start_level is None or not (0 < start_level < math.inf) or not math.isfinite(start):
        return False
    if not (math.isfinite(noise) and noise > 0):
        return False
    rise = start - start_level
    se = noise / math.sqrt(max(1, t.steps // 10))
    return rise > RISE_FRACTION * start_level and rise > RISE_SE * se
