"""Megatron-LM / Megatron-core ``OptimizerParamScheduler.get_lr``."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule, register
from lrkit.schedules.checks import NONNEG, POSITIVE, REQUIRED, Choice, Each, Real, Steps, parse_number

__all__ = ["MEGATRON_STYLES", "MegatronLR", "BatchRamp"]


MEGATRON_STYLES = ("constant", "linear", "cosine", "inverse-square-root", "WSD")
_MEGATRON_WSD = ("linear", "cosine", "exponential", "minus_sqrt")


@dataclass(frozen=True)
class BatchRamp:
    """Samples consumed before each update under Megatron's ``--step-batch-size-schedule``.

    ``thresholds[j]`` (samples, the first 0) switches the global batch size to ``sizes[j]`` once
    that many samples are consumed; Megatron picks the batch size of each iteration from the samples
    consumed before it, so with ``c_0 = 0``, ``c_{t+1} = c_t + size(c_t)``. That is piecewise linear
    in ``t``: stage ``i`` starts at update ``k_i`` with ``c_i`` samples consumed and adds ``b_i`` per
    update, so ``c_t = c_i + (t - k_i) * b_i``. With one size ``b`` it is ``t * b``.
    """

    thresholds: tuple[int, ...]
    sizes: tuple[int, ...]

    def __post_init__(self) -> None:
        th, sz = self.thresholds, self.sizes
        if not th:
            raise ConfigError(
                "needs at least one THRESHOLD:BATCH pair.",
                field="batch_thresholds",
                value=[],
                fix="start with 0:<batch size>.",
            )
        if any(b < 1 for b in sz):
            raise ConfigError(
                f"batch sizes must be >= 1, got {list(sz)}.",
                field="batch_sizes",
                value=list(sz),
                fix="use positive sizes.",
            )
        if len(th) != len(sz):
            raise ConfigError(
                f"has {len(th)} batch thresholds but {len(sz)} batch sizes.",
                field="batch_sizes",
                value=list(sz),
                fix="give one global batch size per threshold.",
            )
        # Megatron's StepBatchsizeNumMicroBatchesCalculator asserts both
        if th and th[0] != 0:
            raise ConfigError(
                f"the first batch threshold must be 0, got {th[0]} (Megatron asserts it).",
                field="batch_thresholds",
                value=list(th),
                fix="start the schedule with 0:<batch size>.",
            )
        if any(b <= a for a, b in itertools.pairwise(th)):
            raise ConfigError(
                "batch thresholds must be strictly increasing (Megatron asserts it).",
                field="batch_thresholds",
                value=list(th),
                fix="sort the THRESHOLD:BATCH pairs and drop repeated thresholds.",
            )

    def stages(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(k_i, c_i, b_i)``: first update, samples consumed before it, batch size of each stage."""
        ks, cs, bs = [0], [0], []
        k = c = 0
        j = 0
        while True:
            b = self.sizes[j]
            bs.append(b)
            if j == len(self.thresholds) - 1:
                break
            m = -(-(self.thresholds[j + 1] - c) // b)  # updates until the next threshold is reached
            k, c = k + m, c + m * b
            ks.append(k)
            cs.append(c)
            j = int(np.searchsorted(self.thresholds, c, side="right")) - 1
        return np.asarray(ks, dtype=np.float64), np.asarray(cs, dtype=np.float64), np.asarray(bs, dtype=np.float64)

    def samples(self, t: np.ndarray) -> np.ndarray:
        """Samples consumed before update ``t`` (Megatron's ``num_steps`` then)."""
        ks, cs, bs = self.stages()
        i = np.searchsorted(ks, t, side="right") - 1
        return cs[i] + (t - ks[i]) * bs[i]

    def updates(self, samples: float) -> float:
        """The (fractional) update at which ``samples`` have been consumed: the inverse of :meth:`samples`."""
        ks, cs, bs = self.stages()
        i = max(int(np.searchsorted(cs, samples, side="right")) - 1, 0)
        return float(ks[i] + (samples - cs[i]) / bs[i])

    def first_update_reaching(self, samples: float) -> int:
        """The first update ``t`` with ``samples(t) >= samples`` (Megatron's run length for
        ``--train-samples``: it trains while fewer samples than that are consumed)."""
        if samples <= 0:
            return 0
        ks, cs, bs = self.stages()
        i = int(np.searchsorted(cs, samples, side="right")) - 1
        return int(ks[i] + math.ceil((samples - cs[i]) / bs[i]))

    def first_update_past(self, samples: float) -> int:
        """The first update ``t`` with ``samples(t) > samples``."""
        if samples < 0:
            return 0
        ks, cs, bs = self.stages()
        i = int(np.searchsorted(cs, samples, side="right")) - 1
        return int(ks[i] + math.floor((samples - cs[i]) / bs[i]) + 1)


@register("megatron")
@dataclass(frozen=True)
class MegatronLR(Schedule):
    """Megatron's ``OptimizerParamScheduler.get_lr`` (megatron/core/optimizer_param_scheduler.py).

    ``n = t * increment`` is Megatron's ``num_steps`` after ``t`` updates (``increment`` is the
    global batch size in sample-based runs, where every count below is in samples; 1 otherwise).
    With ``batch_thresholds``/``batch_sizes`` (Megatron's ``--step-batch-size-schedule``, in
    samples) the batch size changes during the run and ``n`` is the samples consumed before update
    ``t`` (:class:`BatchRamp`); ``increment`` is then unused.

    - warm-up (``W > 0`` and ``n <= W``): ``init + (max - init) * n / W`` -- with ``init = 0``
      the first update trains at LR 0 and the peak is reached at update ``W``;
    - ``constant``: ``max``;
    - ``n > D`` (``D = decay_steps``, warm-up included): ``min``;
    - ``inverse-square-root``: ``max(min, max * sqrt(max(W, 1)) / sqrt(max(n, 1)))`` (and ``min``
      as soon as ``n > D``: a cliff);
    - otherwise ``r = (n - W) / (D - W)``, ``min + c(r) * (max - min)`` with ``c`` linear
      ``1 - r``, cosine ``(1 + cos(pi r)) / 2`` or WSD: 1 until ``D - wsd_decay_steps``, then
      the WSD shape of the WSD progress.
    """

    style: str = "cosine"
    max_lr: float = 1.0
    min_lr: float = 0.0
    init_lr: float = 0.0
    warmup_steps: float = 0.0
    decay_steps: float = REQUIRED
    wsd_decay_steps: float | None = None
    wsd_style: str = "exponential"
    increment: float = 1.0
    batch_thresholds: tuple[int, ...] = ()
    batch_sizes: tuple[int, ...] = ()

    _checks = {
        "style": Choice(MEGATRON_STYLES),
        "max_lr": NONNEG,
        "min_lr": NONNEG,
        "init_lr": NONNEG,
        "warmup_steps": NONNEG,
        "decay_steps": NONNEG,
        "wsd_style": Choice(_MEGATRON_WSD),
        "increment": POSITIVE,
        "wsd_decay_steps": Real(low=0.0, optional=True),
        "batch_thresholds": Each(Steps(minimum=0), "a list of sample counts"),
        "batch_sizes": Each(Steps(minimum=1), "a list of global batch sizes"),
    }

    def _validate(self) -> None:
        if self.batch_thresholds or self.batch_sizes:
            BatchRamp(self.batch_thresholds, self.batch_sizes)  # its own checks
            if self.increment != 1.0:
                raise ConfigError(
                    "increment and a batch ramp are both given; with a ramp the counter advances by the batch size.",
                    field="increment",
                    value=self.increment,
                    fix="leave increment at 1 when batch_thresholds/batch_sizes are set.",
                )
        if self.style == "WSD":
            if self.wsd_decay_steps is None:
                raise ConfigError(
                    "the WSD decay style needs the length of its decay.",
                    field="wsd_decay_steps",
                    fix="set lr_wsd_decay_iters (or lr_wsd_decay_samples).",
                )
            parse_number("wsd_decay_steps", self.wsd_decay_steps, low=0.0, low_open=True)

    @property
    def batch_ramp(self) -> BatchRamp | None:
        """The changing batch size, or ``None`` at a constant ``increment``."""
        return BatchRamp(self.batch_thresholds, self.batch_sizes) if self.batch_thresholds or self.batch_sizes else None

    def counter_at(self, t: np.ndarray) -> np.ndarray:
        """Megatron's ``num_steps`` before update ``t``: ``t * increment``, or the samples consumed."""
        ramp = self.batch_ramp
        if ramp is not None:
            return ramp.samples(t)
        return t * self.increment if self.increment != 1.0 else t

    def updates_at(self, n: float) -> float:
        """The (fractional) update at which the counter is ``n``: the inverse of :meth:`counter_at`."""
        ramp = self.batch_ramp
        return ramp.updates(n) if ramp is not None else n / self.increment

    def first_update_reaching(self, n: float) -> int:
        """The first update whose counter is ``>= n``."""
        ramp = self.batch_ramp
        return ramp.first_update_reaching(n) if ramp is not None else math.ceil(n / self.increment)

    def first_update_past(self, n: float) -> int:
        """The first update whose counter is ``> n``."""
        ramp = self.batch_ramp
        return ramp.first_update_past(n) if ramp is not None else math.floor(n / self.increment) + 1

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        n = self.counter_at(t)
        w, d = self.warmup_steps, self.decay_steps
        mx, mn = self.max_lr, self.min_lr
        if self.style == "constant":
            out = np.full_like(n, mx)
        elif self.style == "inverse-square-root":
            ws = max(w, 1.0)
            out = np.maximum(mn, mx * ws**0.5 / np.maximum(n, 1.0) ** 0.5)
            out = np.where(n > d, mn, out)
        else:
            span = d - w
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.clip((n - w) / span, 0.0, 1.0) if span > 0 else np.ones_like(n)
            if self.style == "linear":
                coeff = 1.0 - r
            elif self.style == "cosine":
                coeff = 0.5 * (np.cos(math.pi * r) + 1.0)
            else:
                wsd = float(self.wsd_decay_steps)  # type: ignore[arg-type]
                start = d - wsd
                wr = np.clip((n - start) / wsd, 0.0, None)
                if self.wsd_style == "linear":
                    c = 1.0 - wr
                elif self.wsd_style == "cosine":
                    c = 0.5 * (np.cos(math.pi * wr) + 1.0)
                elif self.wsd_style == "exponential":
                    c = 2.0 * np.power(0.5, wr) - 1.0
                else:
                    c = 1.0 - np.sqrt(wr)
                coeff = np.where(n <= start, 1.0, c)
            out = mn + coeff * (mx - mn)
            out = np.where(n > d, mn, out)
        if w > 0:
            out = np.where(n <= w, self.init_lr + (mx - self.init_lr) * n / w, out)
        return out

    @property
    def horizon(self) -> float | None:
        if self.style == "constant":
            return self.first_update_past(self.warmup_steps) if self.warmup_steps else 0
        return self.first_update_past(max(self.decay_steps, self.warmup_steps))

    def phase_starts(self, until: int | None = None) -> list[int]:
        bs = set()
        if self.warmup_steps > 0:
            bs.add(self.first_update_reaching(self.warmup_steps))
        if self.style != "constant":
            bs.add(self.first_update_past(self.decay_steps))
            if self.style == "WSD" and self.wsd_decay_steps is not None:
                bs.add(self.first_update_reaching(self.decay_steps - self.wsd_decay_steps))
        ramp = self.batch_ramp
        if ramp is not None:  # where the batch size changes, the counter changes pace
            bs.update(int(k) for k in ramp.stages()[0][1:])
        return sorted(b for b in bs if b > 0 and (until is None or b <= until))
