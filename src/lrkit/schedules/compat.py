"""Framework curves the algebra's own families cannot express, reproduced formula for formula.

lrkit's families never rise again past their end and warm up without wasting the first
update at LR 0. Frameworks do not always agree, and a config reader must reproduce what the
framework really does, so these families transcribe each framework's published formula,
vectorized, in *factor* units (values multiply the optimizer's base LR):

- :class:`PeriodicCosine` -- torch's ``CosineAnnealingLR`` closed form and Hugging Face's
  cosine lambdas: a cosine that climbs back after its half period;
- :class:`HFLambda` -- every curve of ``transformers.get_scheduler``;
- :class:`MegatronLR` -- Megatron-LM / Megatron-core ``OptimizerParamScheduler.get_lr``;
- :class:`NemoLR` -- NeMo's ``nemo/core/optim/lr_scheduler.py`` policies.

``t`` is the step (optimizer updates already taken), exactly the framework's step counter
after ``t`` calls of its ``step()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrkit.errors import ConfigError
from lrkit.schedules.base import (
    Schedule,
    check_choice,
    check_real,
    check_steps,
    register,
    set_field,
)

__all__ = [
    "PeriodicCosine",
    "HFLambda",
    "MegatronLR",
    "NemoLR",
    "AxolotlLambda",
    "HF_TYPES",
    "MEGATRON_STYLES",
    "NEMO_POLICIES",
    "AXOLOTL_CURVES",
]


def _optional_real(obj: Schedule, name: str, **kw) -> None:
    value = getattr(obj, name)
    if value is not None:
        set_field(obj, name, check_real(name, value, **kw))


@register("periodic_cosine")
@dataclass(frozen=True)
class PeriodicCosine(Schedule):
    """``end + (peak - end) * (1 + cos(pi * 2 * cycles * (t + offset) / steps)) / 2`` for every ``t``.

    With ``cycles=0.5`` and ``offset=0`` this is torch's ``CosineAnnealingLR(T_max=steps)``
    (its closed form, which the recursive form follows): it reaches ``end`` at ``steps`` and then
    climbs back to ``peak`` at ``2 * steps``, and so on. Hugging Face's ``cosine`` and
    ``cosine_with_min_lr`` lambdas are the same curve behind their warm-up.
    """

    peak: float = 1.0
    steps: float = 1.0
    end: float = 0.0
    cycles: float = 0.5
    offset: float = 0.0

    def __post_init__(self) -> None:
        set_field(self, "peak", check_real("peak", self.peak, low=0.0))
        set_field(self, "steps", check_real("steps", self.steps, low=0.0, low_open=True))
        set_field(self, "end", check_real("end", self.end, low=0.0))
        set_field(self, "cycles", check_real("cycles", self.cycles, low=0.0))
        set_field(self, "offset", check_real("offset", self.offset))

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        p = (t + self.offset) / self.steps if self.offset else t / self.steps
        c = 0.5 * (1.0 + np.cos(math.pi * self.cycles * 2.0 * p))
        return self.end + (self.peak - self.end) * c

    def phase_starts(self, until: int | None = None) -> list[int]:
        if until is None or self.cycles == 0:
            return []
        half = self.steps / (2.0 * self.cycles)
        out, k = [], 1
        while k * half - self.offset <= until and len(out) < 10_000:
            b = int(math.ceil(k * half - self.offset))
            if b > 0:
                out.append(b)
            k += 1
        return out


# --------------------------------------------------------------------------------------------
# Hugging Face transformers.get_scheduler
# --------------------------------------------------------------------------------------------

#: SchedulerType values that define a curve (reduce_lr_on_plateau and greedy react to metrics)
HF_TYPES = (
    "linear",
    "cosine",
    "cosine_with_restarts",
    "polynomial",
    "constant",
    "constant_with_warmup",
    "inverse_sqrt",
    "cosine_with_min_lr",
    "cosine_warmup_with_min_lr",
    "warmup_stable_decay",
)
_WSD_SHAPES = ("linear", "cosine", "1-sqrt")


@register("hf_lambda")
@dataclass(frozen=True)
class HFLambda(Schedule):
    """The multiplier of ``transformers.get_scheduler(name, ...)`` at step ``t``.

    Follows ``transformers/optimization.py`` (the ``_get_*_lr_lambda`` functions) term by term,
    including its quirks: the warm-up ``t / W`` trains the first update at LR 0; ``cosine``
    and ``cosine_with_min_lr`` climb back after ``training_steps`` (no clamp) and when
    ``num_cycles != 0.5``; ``linear`` clamps at 0. ``lr_init``/``lr_end`` are absolute LRs used
    only by ``polynomial`` (whose multiplier is ``lr / lr_init``).
    """

    name: str = "linear"
    warmup_steps: int = 0
    training_steps: int | None = None
    num_cycles: float = 0.5
    power: float = 1.0
    lr_init: float = 1.0
    lr_end: float = 1e-7
    timescale: float | None = None
    min_lr_rate: float = 0.0
    warmup_lr_rate: float | None = None
    num_stable_steps: int | None = None
    num_decay_steps: int | None = None
    warmup_type: str = "linear"
    decay_type: str = "cosine"

    def __post_init__(self) -> None:
        set_field(self, "name", check_choice("name", self.name, HF_TYPES))
        set_field(self, "warmup_steps", check_steps("warmup_steps", self.warmup_steps))
        if self.training_steps is not None:
            set_field(self, "training_steps", check_steps("training_steps", self.training_steps))
        needs_total = self.name not in ("constant", "constant_with_warmup", "inverse_sqrt", "warmup_stable_decay")
        if needs_total and self.training_steps is None:
            raise ConfigError(
                f"hf {self.name!r} needs the number of training steps.",
                field="training_steps",
                fix="set max_steps (or epochs and steps per epoch).",
            )
        set_field(self, "num_cycles", check_real("num_cycles", self.num_cycles, low=0.0))
        set_field(self, "power", check_real("power", self.power, low=0.0, low_open=True))
        set_field(self, "lr_init", check_real("lr_init", self.lr_init, low=0.0, low_open=True))
        set_field(self, "lr_end", check_real("lr_end", self.lr_end, low=0.0))
        if self.name == "polynomial" and not self.lr_init > self.lr_end:
            raise ConfigError(
                f"lr_end ({self.lr_end:g}) must be smaller than the initial lr ({self.lr_init:g}).",
                field="lr_end",
                value=self.lr_end,
                fix="lower lr_end in lr_scheduler_kwargs (transformers raises the same error).",
            )
        _optional_real(self, "timescale", low=0.0, low_open=True)
        set_field(self, "min_lr_rate", check_real("min_lr_rate", self.min_lr_rate, low=0.0, high=1.0))
        _optional_real(self, "warmup_lr_rate", low=0.0, high=1.0)
        for name in ("num_stable_steps", "num_decay_steps"):
            if getattr(self, name) is not None:
                set_field(self, name, check_steps(name, getattr(self, name)))
        set_field(self, "warmup_type", check_choice("warmup_type", self.warmup_type, _WSD_SHAPES))
        set_field(self, "decay_type", check_choice("decay_type", self.decay_type, _WSD_SHAPES))
        if self.name == "warmup_stable_decay":
            if self.num_decay_steps is None:
                raise ConfigError(
                    "warmup_stable_decay needs num_decay_steps.",
                    field="num_decay_steps",
                    fix="add num_decay_steps to lr_scheduler_kwargs.",
                )
            if self.num_stable_steps is None:
                if self.training_steps is None:
                    raise ConfigError(
                        "warmup_stable_decay needs num_stable_steps or the number of training steps.",
                        field="num_stable_steps",
                        fix="add num_stable_steps to lr_scheduler_kwargs or set max_steps.",
                    )
                stable = self.training_steps - self.warmup_steps - self.num_decay_steps
                if stable < 0:
                    raise ConfigError(
                        f"warm-up ({self.warmup_steps}) plus decay ({self.num_decay_steps}) is longer than the run "
                        f"({self.training_steps}).",
                        field="num_decay_steps",
                        value=self.num_decay_steps,
                        fix="shorten the warm-up or num_decay_steps, or train longer.",
                    )
                set_field(self, "num_stable_steps", stable)

    def _warm(self, t: np.ndarray) -> np.ndarray:
        return t / float(max(1, self.warmup_steps))

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        w, n, name = self.warmup_steps, self.training_steps, self.name
        warm = t < w
        if name == "constant":
            return np.ones_like(t)
        if name == "constant_with_warmup":
            return np.where(warm, t / float(max(1.0, w)), 1.0)
        if name == "linear":
            rest = np.maximum(0.0, (n - t) / float(max(1, n - w)))
            return np.where(warm, self._warm(t), rest)
        if name in ("cosine", "cosine_with_min_lr"):
            p = (t - w) / float(max(1, n - w))
            f = 0.5 * (1.0 + np.cos(math.pi * float(self.num_cycles) * 2.0 * p))
            if name == "cosine_with_min_lr":
                f = f * (1 - self.min_lr_rate) + self.min_lr_rate
            return np.where(warm, self._warm(t), np.maximum(0.0, f))
        if name == "cosine_with_restarts":
            p = (t - w) / float(max(1, n - w))
            f = np.maximum(0.0, 0.5 * (1.0 + np.cos(math.pi * ((float(self.num_cycles) * p) % 1.0))))
            return np.where(warm, self._warm(t), np.where(p >= 1.0, 0.0, f))
        if name == "polynomial":
            lr_range = self.lr_init - self.lr_end
            decay_steps = n - w
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = 1 - (t - w) / decay_steps if decay_steps else np.zeros_like(t)
                mid = (lr_range * np.maximum(pct, 0.0) ** self.power + self.lr_end) / self.lr_init
            return np.where(warm, self._warm(t), np.where(t > n, self.lr_end / self.lr_init, mid))
        if name == "inverse_sqrt":
            ts = self.timescale if self.timescale is not None else (w or 10_000)
            shift = ts - w
            with np.errstate(divide="ignore"):
                decay = 1.0 / np.sqrt(np.maximum(t + shift, 0.0) / ts)
            return np.where(warm, self._warm(t), decay)
        if name == "cosine_warmup_with_min_lr":
            if self.warmup_lr_rate is None:
                wv = (t + 1.0) / max(1.0, float(w))
            else:
                wr = float(self.warmup_lr_rate)
                wv = wr + (1.0 - wr) * t / max(1, w - 1)
            p = (t - w + 1.0) / max(1.0, float(n) - w)
            f = 0.5 * (1.0 + np.cos(math.pi * self.num_cycles * 2.0 * p))
            f = f * (1 - self.min_lr_rate) + self.min_lr_rate
            return np.where(warm, wv, np.maximum(0.0, f))
        # warmup_stable_decay
        r, s, d = self.min_lr_ratio_wsd, self.num_stable_steps or 0, self.num_decay_steps or 0
        pw = t / float(max(1, w))
        if self.warmup_type == "linear":
            fw = pw
        elif self.warmup_type == "cosine":
            fw = 0.5 * (1.0 - np.cos(math.pi * pw))
        else:
            fw = 1.0 - np.sqrt(np.maximum(1.0 - pw, 0.0))
        fw = np.maximum(0.0, fw * (1.0 - r) + r)
        pd = (t - w - s) / float(max(1, d))
        if self.decay_type == "linear":
            fd = 1.0 - pd
        elif self.decay_type == "cosine":
            fd = 0.5 * (1.0 + np.cos(math.pi * float(self.num_cycles) * 2.0 * pd))
        else:
            fd = 1.0 - np.sqrt(np.maximum(pd, 0.0))
        fd = np.maximum(0.0, fd * (1.0 - r) + r)
        return np.where(warm, fw, np.where(t < w + s, 1.0, np.where(t < w + s + d, fd, r)))

    @property
    def min_lr_ratio_wsd(self) -> float:
        return self.min_lr_rate

    @property
    def horizon(self) -> float | None:
        if self.name == "constant":
            return 0
        if self.name == "constant_with_warmup":
            return self.warmup_steps
        if self.name in ("linear", "polynomial", "cosine_with_restarts"):
            return max(self.training_steps or 0, self.warmup_steps)
        if self.name == "warmup_stable_decay":
            return self.warmup_steps + (self.num_stable_steps or 0) + (self.num_decay_steps or 0)
        return None

    def phase_starts(self, until: int | None = None) -> list[int]:
        bs = {self.warmup_steps}
        if self.training_steps is not None and self.name != "warmup_stable_decay":
            bs.add(self.training_steps)
        if self.name == "warmup_stable_decay":
            bs.add(self.warmup_steps + (self.num_stable_steps or 0))
            bs.add(self.warmup_steps + (self.num_stable_steps or 0) + (self.num_decay_steps or 0))
        return sorted(b for b in bs if b > 0 and (until is None or b <= until))


# --------------------------------------------------------------------------------------------
# Megatron OptimizerParamScheduler
# --------------------------------------------------------------------------------------------

MEGATRON_STYLES = ("constant", "linear", "cosine", "inverse-square-root", "WSD")
_MEGATRON_WSD = ("linear", "cosine", "exponential", "minus_sqrt")


@register("megatron")
@dataclass(frozen=True)
class MegatronLR(Schedule):
    """Megatron's ``OptimizerParamScheduler.get_lr`` (megatron/core/optimizer_param_scheduler.py).

    ``n = t * increment`` is Megatron's ``num_steps`` after ``t`` updates (``increment`` is the
    global batch size in sample-based runs, where every count below is in samples; 1 otherwise).

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
    decay_steps: float = 1.0
    wsd_decay_steps: float | None = None
    wsd_style: str = "exponential"
    increment: float = 1.0

    def __post_init__(self) -> None:
        set_field(self, "style", check_choice("style", self.style, MEGATRON_STYLES))
        set_field(self, "max_lr", check_real("max_lr", self.max_lr, low=0.0))
        set_field(self, "min_lr", check_real("min_lr", self.min_lr, low=0.0))
        set_field(self, "init_lr", check_real("init_lr", self.init_lr, low=0.0))
        set_field(self, "warmup_steps", check_real("warmup_steps", self.warmup_steps, low=0.0))
        set_field(self, "decay_steps", check_real("decay_steps", self.decay_steps, low=0.0))
        set_field(self, "wsd_style", check_choice("wsd_style", self.wsd_style, _MEGATRON_WSD))
        set_field(self, "increment", check_real("increment", self.increment, low=0.0, low_open=True))
        if self.style == "WSD":
            if self.wsd_decay_steps is None:
                raise ConfigError(
                    "the WSD decay style needs the length of its decay.",
                    field="wsd_decay_steps",
                    fix="set lr_wsd_decay_iters (or lr_wsd_decay_samples).",
                )
            w = check_real("wsd_decay_steps", self.wsd_decay_steps, low=0.0, low_open=True)
            set_field(self, "wsd_decay_steps", w)
        elif self.wsd_decay_steps is not None:
            set_field(self, "wsd_decay_steps", check_real("wsd_decay_steps", self.wsd_decay_steps, low=0.0))

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        n = t * self.increment if self.increment != 1.0 else t
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
            return math.floor(self.warmup_steps / self.increment) + 1 if self.warmup_steps else 0
        return math.floor(max(self.decay_steps, self.warmup_steps) / self.increment) + 1

    def phase_starts(self, until: int | None = None) -> list[int]:
        inc = self.increment
        bs = set()
        if self.warmup_steps > 0:
            bs.add(math.ceil(self.warmup_steps / inc))
        if self.style != "constant":
            bs.add(math.floor(self.decay_steps / inc) + 1)
            if self.style == "WSD" and self.wsd_decay_steps is not None:
                bs.add(math.ceil((self.decay_steps - self.wsd_decay_steps) / inc))
        return sorted(b for b in bs if b > 0 and (until is None or b <= until))


# --------------------------------------------------------------------------------------------
# NeMo nemo/core/optim/lr_scheduler.py
# --------------------------------------------------------------------------------------------

NEMO_POLICIES = (
    "WarmupPolicy",
    "WarmupHoldPolicy",
    "WarmupAnnealing",
    "CosineAnnealing",
    "InverseSquareRootAnnealing",
    "NoamAnnealing",
    "NoamHoldAnnealing",
    "PolynomialDecayAnnealing",
    "PolynomialHoldDecayAnnealing",
    "SquareAnnealing",
    "SquareRootAnnealing",
)
_HOLD_FAMILY = ("WarmupHoldPolicy", "PolynomialHoldDecayAnnealing", "NoamHoldAnnealing")


@register("nemo")
@dataclass(frozen=True)
class NemoLR(Schedule):
    """A NeMo ``optim.sched`` policy, as ``nemo/core/optim/lr_scheduler.py`` computes it.

    Values are factors of the optimizer's LR (``min_lr`` too). The step is the scheduler's
    ``last_epoch``. The warm-up of the Warmup* policies is ``(t + 1) / (W + 1)`` for ``t <= W``;
    past ``max_steps`` every policy but Noam returns ``min_lr``. ``CosineAnnealing`` with
    ``constant_steps > 0`` switches to Megatron's form: warm-up ``t / W`` (first update at 0),
    cosine over ``max_steps - W - constant_steps`` steps, then ``min_lr`` for the last
    ``constant_steps`` (a floor tail, not a hold at the peak). ``hold_steps`` here is NeMo's
    absolute end of the hold (its ``hold_steps`` argument plus the warm-up), 0 without a hold.
    """

    policy: str = "CosineAnnealing"
    max_steps: int = 1
    warmup_steps: int = 0
    hold_steps: int = 0
    constant_steps: int = 0
    min_lr: float = 0.0
    power: float = 1.0
    cycle: bool = False
    d_model: float = 1.0
    decay_rate: float = 0.5

    def __post_init__(self) -> None:
        set_field(self, "policy", check_choice("policy", self.policy, NEMO_POLICIES))
        set_field(self, "max_steps", check_steps("max_steps", self.max_steps, minimum=1))
        set_field(self, "warmup_steps", check_steps("warmup_steps", self.warmup_steps))
        set_field(self, "hold_steps", check_steps("hold_steps", self.hold_steps))
        set_field(self, "constant_steps", check_steps("constant_steps", self.constant_steps))
        set_field(self, "min_lr", check_real("min_lr", self.min_lr, low=0.0))
        set_field(self, "power", check_real("power", self.power, low=0.0, low_open=True))
        set_field(self, "d_model", check_real("d_model", self.d_model, low=0.0, low_open=True))
        set_field(self, "decay_rate", check_real("decay_rate", self.decay_rate, low=0.0, low_open=True))
        if not isinstance(self.cycle, bool):
            raise ConfigError(f"must be true or false, got {self.cycle!r}.", field="cycle", value=self.cycle)
        p, w, m = self.policy, self.warmup_steps, self.max_steps
        if p in ("CosineAnnealing", "NoamAnnealing") and self.min_lr > 1.0:
            raise ConfigError(
                f"min_lr is {self.min_lr:g} times the optimizer's LR; NeMo refuses an initial LR below min_lr.",
                field="min_lr",
                value=self.min_lr,
                fix="lower min_lr below optim.lr.",
            )
        if p == "CosineAnnealing" and self.constant_steps > 0 and not self.min_lr < 1.0:
            raise ConfigError(
                "with constant_steps NeMo asserts the LR is above min_lr.",
                field="min_lr",
                value=self.min_lr,
                fix="lower min_lr below optim.lr.",
            )
        if p == "NoamHoldAnnealing" and w == 0:
            raise ConfigError(
                "NoamHoldAnnealing cannot be used without warm-up steps (NeMo raises).",
                field="warmup_steps",
                value=w,
                fix="set warmup_steps or warmup_ratio.",
            )
        if p not in ("NoamAnnealing", "WarmupPolicy", "WarmupHoldPolicy") and m - w <= 0 and p != "SquareRootAnnealing":
            if not (p == "CosineAnnealing" and self.constant_steps > 0 and m - w - self.constant_steps > 0):
                raise ConfigError(
                    f"the warm-up ({w} steps) leaves no decay before max_steps ({m}); NeMo divides by zero.",
                    field="warmup_steps",
                    value=w,
                    fix="use a warm-up shorter than max_steps.",
                )
        if p == "CosineAnnealing" and self.constant_steps > 0 and m - w - self.constant_steps <= 0:
            raise ConfigError(
                f"warm-up ({w}) plus constant_steps ({self.constant_steps}) leave no decay before max_steps ({m}).",
                field="constant_steps",
                value=self.constant_steps,
                fix="shorten constant_steps or the warm-up.",
            )
        if p == "PolynomialHoldDecayAnnealing" and m - max(w, self.hold_steps) <= 0:
            raise ConfigError(
                f"warm-up and hold reach max_steps ({m}); NeMo divides by zero.",
                field="hold_steps",
                value=self.hold_steps,
                fix="shorten the hold or the warm-up.",
            )

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        p, w, m, mn = self.policy, self.warmup_steps, self.max_steps, self.min_lr
        if p == "NoamAnnealing":
            return self._noam(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            main = self._main(t)
        if p == "CosineAnnealing":
            decay = m - (self.constant_steps + w)
            if self.constant_steps > 0:
                warm = t / w if w > 0 else np.zeros_like(t)
                out = np.where((t > w + decay) & (t <= m), mn, main)
            else:
                warm = (t + 1) / (w + 1)
                out = main
            out = np.where(t > m, mn, out)
            if w > 0:
                out = np.where(t <= w, warm, out)
            return out
        out = np.where(t > m, mn, main)
        if p in _HOLD_FAMILY:
            out = np.where((t >= w) & (t < self.hold_steps), 1.0, out)
        if w > 0:
            out = np.where(t <= w, (t + 1) / (w + 1), out)
        return out

    def _main(self, t: np.ndarray) -> np.ndarray:
        p, w, m, mn = self.policy, self.warmup_steps, self.max_steps, self.min_lr
        if p in ("WarmupPolicy", "WarmupHoldPolicy"):
            return np.ones_like(t)
        if p == "WarmupAnnealing":
            mult = (t - w) / (m - w)
            return mn + (1 - mult) * (1.0 - mn)
        if p == "CosineAnnealing":
            if self.constant_steps == 0:
                c = 0.5 * (1 + np.cos(math.pi * (t - w) / (m - w)))
                return (1.0 - mn) * c + mn
            decay = m - (self.constant_steps + w)
            ratio = (t - w) / float(decay)
            c = 0.5 * (np.cos(math.pi * ratio) + 1.0)
            return np.where(t > w + decay, mn, mn + c * (1.0 - mn))
        if p == "InverseSquareRootAnnealing":
            return 1.0 / ((t + 1) / (w + 1)) ** 0.5
        if p == "SquareAnnealing":
            ms = m - w
            return np.maximum(((ms - (t - w)) / ms) ** 2, mn)
        if p == "SquareRootAnnealing":
            return np.maximum(np.sqrt(np.maximum((m - t) / m, 0.0)), mn)
        if p == "PolynomialDecayAnnealing":
            return self._poly(t - w, m - w)
        if p == "PolynomialHoldDecayAnnealing":
            return self._poly(t - self.hold_steps, m - max(w, self.hold_steps))
        # NoamHoldAnnealing
        hold = self.hold_steps - w if self.hold_steps > 0 else 0
        twd = max(1.0, w**self.decay_rate)
        thd = np.maximum(1.0, np.maximum(t - hold, 0.0) ** self.decay_rate)
        return np.maximum(twd / thd, mn)

    def _poly(self, step: np.ndarray, decay_steps: int) -> np.ndarray:
        if self.cycle:
            mult = np.where(step == 0, 1.0, np.ceil(step / decay_steps))
            ds = decay_steps * mult
            s = step
        else:
            ds = float(decay_steps)
            s = np.minimum(step, decay_steps)
        pr = s / ds
        return (1.0 - self.min_lr) * np.power(np.maximum(1.0 - pr, 0.0), self.power) + self.min_lr

    def _noam(self, t: np.ndarray) -> np.ndarray:
        step = np.maximum(1.0, t)
        w = self.warmup_steps
        norm = self.d_model ** (-0.5)
        if w > 0:
            mult = norm * np.minimum(step ** (-0.5), step * (w ** (-1.5)))
        else:
            mult = norm * step ** (-0.5)
        return np.where(step > w, np.maximum(mult, self.min_lr), mult)

    @property
    def horizon(self) -> float | None:
        if self.policy == "NoamAnnealing":
            return None
        return self.max_steps + 1

    def phase_starts(self, until: int | None = None) -> list[int]:
        bs = {self.warmup_steps + 1 if self.warmup_steps else 0, self.max_steps + 1}
        if self.hold_steps:
            bs.add(self.hold_steps)
        if self.constant_steps:
            bs.add(self.max_steps - self.constant_steps + 1)
        return sorted(b for b in bs if b > 0 and (until is None or b <= until))


# --------------------------------------------------------------------------------------------
# axolotl's own scheduler functions (axolotl/utils/schedulers.py)
# --------------------------------------------------------------------------------------------

#: axolotl curves that are not transformers' (chosen by lr_quadratic_warmup, cosine_min_lr_ratio,
#: cosine_constant_lr_ratio and lr_scheduler: rex)
AXOLOTL_CURVES = ("cosine_with_min_lr", "cosine_with_warmup_decay_constant", "cosine_with_quadratic_warmup", "rex")


@register("axolotl_lambda")
@dataclass(frozen=True)
class AxolotlLambda(Schedule):
    """The multiplier of axolotl's own schedulers at update ``t``, term by term.

    With ``W = warmup_steps``, ``N = training_steps``, ``m = min_lr_ratio``:

    - ``cosine_with_min_lr``: ``t / max(1, W)`` for ``t < W``, then
      ``(1 - m) * (1 + cos(pi * p)) / 2 + m`` with ``p = (t - W) / max(1, N - W)`` (not clamped:
      it climbs back after ``N``, as axolotl's lambda does);
    - ``cosine_with_warmup_decay_constant``: the same warm-up, then ``C = int(N * constant_lr_ratio)``,
      ``p = (min(t, C) - W) / max(1, C - W)`` and ``max(0, (1 - m) * (1 + cos(pi * p)) / 2) + m``:
      held at ``m`` from update ``C`` on;
    - ``cosine_with_quadratic_warmup``: ``(t / max(1, W)) ** 2`` for ``t < W``, then
      ``max(0, (1 + cos(pi * p)) / 2)`` (not clamped);
    - ``rex`` (``RexLR``): evaluated at ``s = t + 1`` because the scheduler steps once when it is
      built: ``s / W`` for ``1 <= s <= W``; ``m`` once ``s - W >= N - W``; else with
      ``z = (N - s) / (N - W)``: ``m + (1 - m) * z / (0.1 + 0.9 z)``.
    """

    name: str = "cosine_with_min_lr"
    warmup_steps: int = 0
    training_steps: int = 1
    min_lr_ratio: float = 0.0
    constant_lr_ratio: float = 1.0

    def __post_init__(self) -> None:
        set_field(self, "name", check_choice("name", self.name, AXOLOTL_CURVES))
        set_field(self, "warmup_steps", check_steps("warmup_steps", self.warmup_steps))
        set_field(self, "training_steps", check_steps("training_steps", self.training_steps))
        set_field(self, "min_lr_ratio", check_real("min_lr_ratio", self.min_lr_ratio, low=0.0, high=1.0))
        set_field(self, "constant_lr_ratio", check_real("constant_lr_ratio", self.constant_lr_ratio, low=0.0, high=1.0))
        if self.name == "rex" and self.warmup_steps > self.training_steps:
            raise ConfigError(
                f"warm-up ({self.warmup_steps}) is longer than the run ({self.training_steps}); RexLR raises.",
                field="warmup_steps",
                value=self.warmup_steps,
                fix="shorten the warm-up or train longer.",
            )

    @property
    def constant_steps(self) -> int:
        return int(self.training_steps * self.constant_lr_ratio)

    def _evaluate(self, t: np.ndarray) -> np.ndarray:
        w, n, m = self.warmup_steps, self.training_steps, self.min_lr_ratio
        if self.name == "rex":
            return self._rex(t + 1.0)
        warm = t < w
        if self.name == "cosine_with_quadratic_warmup":
            p = (t - w) / float(max(1, n - w))
            f = np.maximum(0.0, 0.5 * (1.0 + np.cos(math.pi * 0.5 * 2.0 * p)))
            return np.where(warm, (t / float(max(1, w))) ** 2, f)
        if self.name == "cosine_with_min_lr":
            p = (t - w) / float(max(1, n - w))
            f = (1 - m) * (0.5 * (1.0 + np.cos(math.pi * p))) + m
        else:
            c = self.constant_steps
            p = (np.minimum(t, c) - w) / float(max(1, c - w))
            f = np.maximum(0.0, (1 - m) * 0.5 * (1.0 + np.cos(math.pi * 0.5 * 2.0 * p))) + m
        return np.where(warm, t / float(max(1, w)), f)

    def _rex(self, s: np.ndarray) -> np.ndarray:
        w, n, m = self.warmup_steps, self.training_steps, self.min_lr_ratio
        after, remaining = s - w, n - w
        out = np.full_like(s, m)
        if remaining > 0:
            live = (after < remaining) & (after != -1)
            z = (remaining - np.mod(after[live], remaining)) / remaining
            out[live] = m + (1.0 - m) * (z / (0.1 + 0.9 * z))
        if w > 0:
            warm = (s >= 1) & (s <= w)
            out[warm] = s[warm] / w
        return out

    @property
    def horizon(self) -> float | None:
        if self.name == "cosine_with_warmup_decay_constant":
            return max(self.constant_steps, self.warmup_steps)
        if self.name == "rex":
            return max(self.training_steps - 1, 0)
        return None

    def phase_starts(self, until: int | None = None) -> list[int]:
        bs = {self.warmup_steps, self.training_steps}
        if self.name == "cosine_with_warmup_decay_constant":
            bs = {self.warmup_steps, self.constant_steps}
        return sorted(b for b in bs if b > 0 and (until is None or b <= until))
