"""Megatron-LM / Megatron-core learning-rate arguments, read into Megatron's own formula.

Accepted shapes: the flat argument namespace (``lr``, ``min_lr``, ``lr_decay_style``,
``lr_warmup_iters``, ``train_iters``, ``global_batch_size``, ...) or the nested
Megatron-core / Megatron-Bridge one (``optimizer: {lr, min_lr}``, ``scheduler:
{lr_decay_style, ...}``, ``train: {train_iters, global_batch_size}``).

How Megatron counts (``megatron/training/training.py``, ``get_optimizer_param_scheduler``):
the scheduler's counter advances by the global batch size at every successful iteration,
and every iteration count is turned into samples the same way, so

- iteration-based: ``lr_decay_steps = lr_decay_iters * gbs`` (``lr_decay_iters`` defaults to
  ``train_iters``), warm-up ``lr_warmup_fraction * lr_decay_steps`` or
  ``lr_warmup_iters * gbs``, WSD decay ``lr_wsd_decay_iters * gbs``;
- sample-based: the same with ``*_samples`` and no multiplication.

The curve is :class:`lrkit.schedules.compat.MegatronLR` (``OptimizerParamScheduler.get_lr``)
evaluated at ``num_steps = k * gbs`` for iteration ``k``. Quirks recorded as findings: the
first update at ``lr_warmup_init`` (0 by default), the peak only at update ``W``, and the
``inverse-square-root`` cliff to ``min_lr`` after ``lr_decay_steps``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lrkit.config import fields as F
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.signature import Signature
from lrkit.config.writing import agree, cannot, describe, tidy
from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.schedules import Constant, Cosine, Linear, Schedule, Sequence, Shift, Warmup
from lrkit.schedules.compat import MEGATRON_STYLES, MegatronLR, PeriodicCosine
from lrkit.schedules.compat.megatron import BatchRamp

__all__ = [
    "MEGATRON_ARGS",
    "CURVE_ARGS",
    "read_megatron",
    "resolve_megatron",
    "flatten_megatron",
    "write_megatron",
    "megatron_args_of",
    "looks_like_megatron",
    "SIGNATURES",
]

_STYLE_ALIASES = {
    "wsd": "WSD",
    "inverse_square_root": "inverse-square-root",
    "inverse-sqrt": "inverse-square-root",
    "Constant": "constant",
    "Linear": "linear",
    "Cosine": "cosine",
}
_WSD_STYLES = ("linear", "cosine", "exponential", "minus_sqrt")
#: Every Megatron argument (underscore form) lrkit knows, by what it is to the LR curve -- the one
#: list the readers, the script parser and the linter's context draw on:
#: ``curve`` decides the curve or the run length (kept with the curve); ``batch`` decides the
#: batches or whether the run trains (asked for, never drawn); ``kept`` does not change the curve
#: but is kept with it for the linter; ``group`` changes some parameter groups' LR only;
#: ``near`` is a Megatron argument whose name is close to a curve argument's (no misspelling).
MEGATRON_ARGS: dict[str, str] = {
    "lr": "curve",
    "min_lr": "curve",
    "lr_decay_style": "curve",
    "lr_decay_iters": "curve",
    "lr_decay_samples": "curve",
    "lr_warmup_iters": "curve",
    "lr_warmup_samples": "curve",
    "lr_warmup_fraction": "curve",
    "lr_warmup_init": "curve",
    "lr_wsd_decay_style": "curve",
    "lr_wsd_decay_iters": "curve",
    "lr_wsd_decay_samples": "curve",
    "train_iters": "curve",
    "train_samples": "curve",
    "global_batch_size": "curve",
    "rampup_batch_size": "batch",
    "step_batch_size_schedule": "curve",
    "seq_length": "curve",
    # Megatron-DeepSpeed only (megatron/arguments.py there; current Megatron-LM has neither)
    "lr_decay_tokens": "curve",
    "train_tokens": "near",
    # later microsoft/Megatron-DeepSpeed only: a token-based warm-up lrkit does not draw (refused by name)
    "lr_warmup_tokens": "near",
    "skip_train": "batch",
    "start_weight_decay": "kept",
    "end_weight_decay": "kept",
    "weight_decay_incr_style": "kept",
    "weight_decay": "kept",
    "use_checkpoint_opt_param_scheduler": "kept",
    "override_opt_param_scheduler": "kept",
    "lr_warmup_steps": "kept",
    "lr_decay_steps": "kept",
    "wsd_decay_steps": "kept",
    "decoupled_lr": "group",
    "decoupled_min_lr": "group",
    "head_lr_mult": "group",
    "no_weight_decay_cond_type": "near",
    "micro_batch_size": "near",
    "eval_iters": "near",
    "eval_interval": "near",
    "ft_num_warmup_iters": "near",
    "eval_global_batch_size": "near",
    "eval_micro_batch_size": "near",
    "decrease_batch_size_if_needed": "near",
    "exit_interval": "near",
}


def _args_of(*roles: str) -> tuple[str, ...]:
    return tuple(k for k, role in MEGATRON_ARGS.items() if role in roles)


#: arguments that decide the LR curve or the run length
CURVE_ARGS = _args_of("curve", "batch")
#: arguments kept with a resolved curve (``context["megatron_args"]``)
RECORDED_ARGS = _args_of("curve", "kept")
#: arguments that change the batch size during the run or whether it trains
BATCH_ARGS = _args_of("batch")
#: arguments that change the LR of some parameter groups only
GROUP_LR_ARGS = _args_of("group")
#: known arguments that are not curve arguments (a near-miss of a curve name that is one of these is no typo)
OTHER_ARGS = _args_of("kept", "group", "near")


def looks_like_megatron(data: Mapping[str, Any]) -> str | None:
    """Megatron's shape: a flat argument only Megatron has (``lr_decay_style``, ``lr_warmup_iters``,
    ``train_iters``, ...), or the nested ``scheduler``/``optimizer`` holding ``lr_decay_style``."""
    own = (
        "lr_decay_style",
        "lr_warmup_iters",
        "lr_decay_iters",
        "lr_warmup_fraction",
        "lr_warmup_samples",
        "train_iters",
        "train_samples",
    )
    if any(k in data for k in own) or any(
        isinstance(data.get(s), Mapping) and "lr_decay_style" in data[s] for s in ("scheduler", "optimizer")
    ):
        return "megatron"
    return None


_ABOUT = "Megatron-LM / Megatron-core arguments: lr, min_lr, lr_decay_style, lr_warmup_*, lr_decay_*"
SIGNATURES = (Signature("megatron", _ABOUT, ("megatron_lm",), "read_megatron", looks_like_megatron, precedence=40),)


def flatten_megatron(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Flat args and, for each, the dotted path it came from."""
    flat: dict[str, Any] = {}
    where: dict[str, str] = {}
    for key, value in data.items():
        if key in ("optimizer", "scheduler", "train", "training") and isinstance(value, Mapping):
            for k, v in value.items():
                flat[str(k)] = v
                where[str(k)] = f"{key}.{k}"
        else:
            flat[str(key)] = value
            where[str(key)] = str(key)
    return flat, where


def _get(args: Mapping[str, Any], key: str) -> Any:
    v = args.get(key)
    return None if v is None else v


def _refuse_other_family(args: Mapping[str, Any], path: Any, *, samples: bool) -> None:
    """``validate_args``: in an iteration-based run the ``*_samples`` keys are unset (warm-up 0),
    in a sample-based run the ``*_iters`` keys."""
    other, mine = ("iters", "samples") if samples else ("samples", "iters")
    run = "a sample-based run (train_samples)" if samples else "an iteration-based run (train_iters)"
    expected = "sample-based ..." if samples else "iteration-based learning rate ..."
    for key, unset in ((f"lr_decay_{other}", None), (f"lr_warmup_{other}", 0)):
        v = _get(args, key)
        if v is not None and v != unset:
            raise ConfigError(
                f"{key} is set in {run}; Megatron asserts 'expected {expected}'.",
                field=path(key),
                value=v,
                fix=f"use {key.replace(other, mine)} instead.",
            )


def _sample_based(args: Mapping[str, Any], path: Any) -> bool:
    """Megatron's rule (``get_optimizer_param_scheduler``): iteration-based when train_iters is
    set, sample-based when train_samples is; the other family's keys must then be unset or 0
    (``validate_args`` asserts it). With neither (the run length comes from the caller), a
    non-zero ``*_samples`` key makes it sample-based."""
    iters, samples = _get(args, "train_iters"), _get(args, "train_samples")
    if iters:
        if samples is not None:
            raise ConfigError(
                "train_iters and train_samples are both set; Megatron asserts 'expected iteration-based training'.",
                field=path("train_samples"),
                value=samples,
                fix="keep one of them.",
            )
        _refuse_other_family(args, path, samples=False)
        return False
    if samples:
        _refuse_other_family(args, path, samples=True)
        return True
    return any(_get(args, k) not in (None, 0) for k in ("lr_decay_samples", "lr_warmup_samples"))


@dataclass(frozen=True)
class _Args:
    """Flat Megatron arguments with the dotted config path of each (for messages)."""

    args: Mapping[str, Any]
    paths: Mapping[str, str]

    def path(self, key: str) -> str:
        return self.paths.get(key) or F.join(self.paths.get("", ""), key)

    def get(self, key: str) -> Any:
        return _get(self.args, key)

    def num(self, key: str, **kw: Any) -> float | None:
        return F.opt_number(self.get(key), self.path(key), **kw)

    def stp(self, key: str, minimum: int = 0) -> int | None:
        return F.opt_steps(self.get(key), self.path(key), minimum=minimum)


@dataclass(frozen=True)
class _Counter:
    """How Megatron's scheduler counter moves: ``inc`` per iteration, or the batch size in force
    under ``--step-batch-size-schedule`` (``ramp``); config counts times ``scale`` are counter units
    (iteration counts times the batch size, sample counts as they are)."""

    samples: bool
    inc: float
    scale: float
    ramp: BatchRamp | None = None
    #: Megatron-DeepSpeed's ``--rampup-batch-size``: ``(ramp-up samples, global batch size)``
    rampup: tuple[int, int] | None = None

    def iters(self, n: float) -> float:
        """Counter units to (fractional) iterations."""
        return self.ramp.updates(n) if self.ramp is not None else n / self.inc

    def counter(self, iters: int) -> int:
        """The counter after ``iters`` iterations (samples consumed in a sample-based run)."""
        if self.ramp is not None:
            return int(self.ramp.samples(np.asarray(float(iters))))
        return iters * int(self.inc)

    def train_iters(self, train_samples: int) -> int:
        """Megatron's ``update_train_iters``: iterations until ``train_samples`` are consumed."""
        if self.ramp is not None and self.rampup is not None:
            # Megatron-DeepSpeed: the ramp's iterations (until more than the ramp-up samples are
            # consumed), then whole batches of the final size from what is left
            ramp_samples, gbs = self.rampup
            k = self.ramp.first_update_past(ramp_samples)
            return k + (train_samples - int(self.ramp.samples(np.asarray(float(k))))) // gbs
        if self.ramp is not None:
            return self.ramp.first_update_reaching(train_samples)
        return train_samples // int(self.inc)

    @property
    def sfx(self) -> str:
        return "samples" if self.samples else "iters"


@dataclass(frozen=True)
class _Curve:
    """The resolved numbers of a Megatron curve, in scheduler-counter units unless named ``*_iters``."""

    max_lr: float
    min_lr: float
    init: float
    style: str
    counter: _Counter
    run_iters: int | None
    decay_steps: float
    decay_from: str
    warmup: float
    wsd_steps: float | None
    wsd_style: str

    @property
    def warm_iters(self) -> float:
        return self.counter.iters(self.warmup)

    @property
    def decay_iters(self) -> float:
        return self.counter.iters(self.decay_steps)

    @property
    def wsd_iters(self) -> float | None:
        if self.wsd_steps is None:
            return None
        return self.decay_iters - self.counter.iters(self.decay_steps - self.wsd_steps)


def _levels(a: _Args) -> tuple[float, float, float]:
    """``(lr, min_lr, lr_warmup_init)``: the peak is required, the floor at most the peak."""
    if a.get("lr") is None:
        raise ConfigError("no learning rate: Megatron needs lr (the peak).", field=a.path("lr"), fix="add lr: 3.0e-4.")
    max_lr = F.number(a.args["lr"], a.path("lr"), low=0.0, low_open=True)
    min_lr = a.num("min_lr", low=0.0) or 0.0
    if min_lr > max_lr:
        raise ConfigError(
            f"min_lr {min_lr:g} is above lr {max_lr:g}.",
            field=a.path("min_lr"),
            value=min_lr,
            fix="use a min_lr below lr (often lr / 10).",
        )
    return max_lr, min_lr, a.num("lr_warmup_init", low=0.0) or 0.0


def _style(a: _Args) -> str:
    style_raw = a.get("lr_decay_style") or "linear"
    return F.choice(
        _STYLE_ALIASES.get(style_raw, style_raw) if isinstance(style_raw, str) else style_raw,
        a.path("lr_decay_style"),
        MEGATRON_STYLES,
    )


def _counter(a: _Args, increment: float | None) -> _Counter:
    """Iteration- or sample-based, and the counter's step: ``increment`` when given (NeMo RL
    steps by 1), else the global batch size, or the batch size in force under
    ``step_batch_size_schedule``."""
    gbs = a.stp("global_batch_size", minimum=1)
    samples = _sample_based(a.args, a.path)
    if a.get("rampup_batch_size") is not None and increment is None:
        ramp, ramp_samples, final = _rampup(a, gbs)
        return _Counter(samples=samples, inc=1.0, scale=1.0, ramp=ramp, rampup=(ramp_samples, final))
    if a.get("step_batch_size_schedule") is not None and increment is None:
        return _Counter(samples=samples, inc=1.0, scale=1.0, ramp=_batch_ramp(a, samples, gbs))
    if samples and increment is None and gbs is None:
        raise ConfigError(
            "a sample-based run needs global_batch_size to turn samples into iterations.",
            field=a.path("global_batch_size"),
            fix="add global_batch_size: <samples per iteration> (CLI: --set global_batch_size=<value>).",
        )
    if increment is not None:
        return _Counter(samples=samples, inc=increment, scale=1.0)
    inc = float(gbs or 1)
    return _Counter(samples=samples, inc=inc, scale=1.0 if samples else inc)


_SUFFIXES = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}


def _rampup_int(value: Any, where: str) -> int:
    """One value of ``--rampup-batch-size`` as Megatron-DeepSpeed reads it (``int(value)``)."""
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConfigError(
            f"{value!r} is not an integer; Megatron-DeepSpeed's int() raises on it.",
            field=where,
            value=value,
            fix="write --rampup-batch-size START INCREMENT SAMPLES (three integers).",
        ) from None


def _rampup(a: _Args, gbs: int | None) -> tuple[BatchRamp, int, int]:
    """Megatron-DeepSpeed's ``--rampup-batch-size START INCREMENT SAMPLES`` (megatron/microbatches.py,
    ``RampupBatchsizeNumMicroBatches``) as the batch-size steps it takes: with ``p = SAMPLES / n``
    (``n = (gbs - START) / INCREMENT`` increments), an iteration started after ``c`` samples uses
    ``START + int(c / p) * INCREMENT`` while ``c <= SAMPLES`` and ``gbs`` after. Each step's threshold
    is the first sample count where Megatron's own float expression reaches it. Returns the ramp,
    ``SAMPLES`` and ``gbs``; what Megatron asserts (or divides by zero on) is refused."""
    where = a.path("rampup_batch_size")
    raw = a.get("rampup_batch_size")
    values = list(raw) if isinstance(raw, list | tuple) else str(raw).split()
    if len(values) != 3:
        raise ConfigError(
            f"takes three values, got {len(values)}; Megatron-DeepSpeed asserts 'expected the following format: "
            "--rampup-batch-size <start batch size> <batch size incerement> <ramp-up samples>'.",
            field=where,
            value=raw,
            fix="write --rampup-batch-size START INCREMENT SAMPLES, e.g. 16 16 5859375.",
        )
    start, inc, ramp_samples = (_rampup_int(v, where) for v in values)
    if gbs is None:
        raise ConfigError(
            "a batch-size ramp ends at the global batch size, which is not set (Megatron-DeepSpeed then uses "
            "micro-batch size x data-parallel size, which depends on the cluster).",
            field=a.path("global_batch_size"),
            fix="pass --set global_batch_size=<samples per iteration after the ramp>.",
        )
    diff = gbs - start
    bad = (
        "the start batch size must be > 0"
        if start <= 0
        else "the start batch size is above --global-batch-size"
        if diff < 0
        else "the increment must be > 0"
        if inc <= 0
        else f"global batch size interval ({diff}) is not divisible by the increment ({inc})"
        if diff % inc
        else "the ramp-up samples must be >= 0"
        if ramp_samples < 0
        else None
    )
    if bad is not None:
        raise ConfigError(
            f"{bad}; Megatron-DeepSpeed asserts it.",
            field=where,
            value=raw,
            fix="start below --global-batch-size and step up to it by a divisor of the difference.",
        )
    if diff == 0 or ramp_samples == 0:
        raise ConfigError(
            "a ramp from the global batch size itself, or over 0 samples: Megatron-DeepSpeed divides by zero "
            "(ZeroDivisionError in microbatches.py) at start-up.",
            field=where,
            value=raw,
            fix="drop --rampup-batch-size for a constant batch size, or ramp over a positive number of samples.",
        )
    n = diff // inc
    per = ramp_samples / n
    steps: dict[int, int] = {}
    for j in range(1, n + 1):
        c = max(math.ceil(j * per) - 2, 1)
        while int(c / per) < j:  # Megatron's expression, float division included
            c += 1
        steps[min(c, ramp_samples + 1)] = start + j * inc  # past SAMPLES the batch is gbs at once
    ths = sorted(steps)
    with F.at_path(where):
        schedule = MegatronLR(
            decay_steps=1.0, batch_thresholds=(0, *ths), batch_sizes=(start, *(steps[t] for t in ths))
        )
    assert schedule.batch_ramp is not None
    return schedule.batch_ramp, ramp_samples, gbs


def _schedule_count(text: str, where: str) -> int:
    """One count of a step batch-size schedule: a number with an optional K/M/B/T suffix, as
    Megatron's ``_parse_numeric_value`` reads it (``int(float(v) * multiplier)``)."""
    body = text.strip().upper()
    mult = _SUFFIXES.get(body[-1:], 1)
    body = body[:-1] if body[-1:] in _SUFFIXES else body
    try:
        return int(float(body) * mult)
    except (ValueError, OverflowError):  # not a number, nan, or inf
        raise ConfigError(
            f"{text!r} is not a count (a number with an optional K, M, B or T suffix).",
            field=where,
            value=text,
            fix='write THRESHOLD:BATCH pairs such as "0:768 250B:1536".',
        ) from None


def _batch_ramp(a: _Args, samples: bool, gbs: int | None) -> BatchRamp:
    """``step_batch_size_schedule`` ("THRESHOLD:BATCH ...", commas allowed) read as Megatron's
    ``StepBatchsizeNumMicroBatchesCalculator`` reads it: thresholds in tokens when ``seq_length``
    is set (divided by it, rounding down), in samples otherwise; pairs sorted by threshold."""
    where = a.path("step_batch_size_schedule")
    if gbs is not None:
        raise ConfigError(
            f"{where} and {a.path('global_batch_size')} are both set; Megatron raises "
            "('Cannot specify both --step-batch-size-schedule and --global-batch-size').",
            field=a.path("global_batch_size"),
            value=gbs,
            fix="keep one of them.",
        )
    if not samples:
        raise ConfigError(
            "a step batch-size schedule in an iteration-based run (train_iters): Megatron then counts the "
            "LR in lr_decay_iters x the default global batch size (micro-batch x data-parallel size, set by "
            "the cluster) while the schedule sets the samples per iteration, so the curve depends on the cluster.",
            field=where,
            value=a.get("step_batch_size_schedule"),
            fix="give the run in samples (train_samples, lr_decay_samples, lr_warmup_samples) to see its curve.",
        )
    raw = a.get("step_batch_size_schedule")
    if not isinstance(raw, str):
        raise ConfigError(
            f"takes one string of THRESHOLD:BATCH pairs, got {raw!r}.",
            field=where,
            value=raw,
            fix='quote it on a command line: --step-batch-size-schedule "0:768 250B:1536".',
        )
    seq = a.stp("seq_length", minimum=1)
    pairs = []
    for entry in raw.replace(",", " ").split():
        if ":" not in entry:
            raise ConfigError(
                f"entry {entry!r} is not THRESHOLD:BATCH_SIZE; Megatron raises.",
                field=where,
                value=raw,
                fix='write pairs such as "0:768 250B:1536".',
            )
        th, bs = entry.split(":", 1)
        threshold = _schedule_count(th, where)
        pairs.append((threshold // seq if seq else threshold, _schedule_count(bs, where)))
    if not pairs:
        raise ConfigError(
            "is empty; Megatron asserts at least one entry.", field=where, value=raw, fix='write "0:<batch>".'
        )
    pairs.sort(key=lambda p: p[0])
    with F.at_path(where):
        schedule = MegatronLR(
            decay_steps=1.0, batch_thresholds=tuple(p[0] for p in pairs), batch_sizes=tuple(p[1] for p in pairs)
        )
    assert schedule.batch_ramp is not None
    return schedule.batch_ramp


def _decay_length(a: _Args, c: _Counter, train: int | None, run_length: int | None) -> tuple[int, str]:
    """``lr_decay_{iters,samples}`` (defaulting to the train length) and where it came from."""
    decay_key = f"lr_decay_{c.sfx}"
    decay = a.stp(decay_key, minimum=0)
    if decay is not None:
        return decay, decay_key
    if train is not None:
        return train, "train length"
    if run_length is not None:
        # the run length is in iterations; a sample-based decay counts samples
        return (c.counter(run_length) if c.samples else run_length), "train length"
    raise ConfigError(
        f"neither {decay_key} nor train_{c.sfx} is set: Megatron cannot place the end of the decay.",
        field=a.path(decay_key),
        fix=f"add {decay_key} (warm-up included) or train_{c.sfx}, or pass the run length (CLI: --total-steps N).",
    )


def _warmup(a: _Args, c: _Counter, decay_steps: float) -> tuple[float, float | None, int | None]:
    """The warm-up in counter units, from ``lr_warmup_fraction`` or ``lr_warmup_{iters,samples}``
    (Megatron refuses both), with the two raw values."""
    frac = a.num("lr_warmup_fraction", low=0.0, high=1.0)
    wkey = f"lr_warmup_{c.sfx}"
    wval = a.stp(wkey)
    if frac is not None and wval:
        raise ConfigError(
            f"lr_warmup_fraction and {wkey} are both set; Megatron refuses both.",
            field=a.path("lr_warmup_fraction"),
            value=frac,
            fix="keep one of them.",
        )
    warmup = frac * decay_steps if frac is not None else float(wval or 0) * c.scale
    return warmup, frac, wval


def _check_order(
    a: _Args, c: _Counter, *, decay: int, decay_from: str, warmup: float, frac: float | None, wval: int | None
) -> None:
    """What Megatron's OptimizerParamScheduler asserts at start-up (a curve for them would be fiction)."""
    decay_key = f"lr_decay_{c.sfx}"
    decay_name = decay_key if decay_from == decay_key else f"train_{c.sfx}"
    decay_steps = decay * c.scale
    if decay_steps <= 0:
        raise ConfigError(
            f"the decay ends at {decay_key}=0; Megatron asserts lr_decay_steps > 0.",
            field=a.path(decay_name),
            value=decay,
            fix=f"set {decay_key} to the step the decay ends at (warm-up included), or leave it out.",
        )
    if warmup >= decay_steps:
        wfield = a.path("lr_warmup_fraction") if frac is not None else a.path(f"lr_warmup_{c.sfx}")
        raise ConfigError(
            f"the warm-up ({warmup / c.scale:g} {c.sfx}) does not end before the decay does ({decay_name}={decay}); "
            "Megatron asserts lr_warmup_steps < lr_decay_steps.",
            field=wfield,
            value=frac if frac is not None else wval,
            fix=f"shorten the warm-up, or end the decay later: {decay_key} counts from step 0, warm-up included.",
        )


def _check_init(a: _Args, init: float, max_lr: float) -> None:
    if init > max_lr:
        raise ConfigError(
            f"lr_warmup_init {init:g} is above lr {max_lr:g}; Megatron asserts init_lr <= max_lr.",
            field=a.path("lr_warmup_init"),
            value=init,
            fix="start the warm-up below the peak (often 0 or lr / warm-up length).",
        )


def _wsd(a: _Args, c: _Counter, style: str) -> tuple[float | None, str]:
    """The WSD cool-down length in counter units (``None`` for other styles) and its shape."""
    wsd_steps = None
    if style == "WSD":
        wk = f"lr_wsd_decay_{c.sfx}"
        wsd = a.stp(wk, minimum=1)
        if wsd is None:
            raise ConfigError(
                "lr_decay_style WSD needs the length of its decay.",
                field=a.path(wk),
                fix=f"add {wk}: <cool-down length>.",
            )
        wsd_steps = wsd * c.scale
    wsd_style = F.choice(a.get("lr_wsd_decay_style") or "exponential", a.path("lr_wsd_decay_style"), _WSD_STYLES)
    return wsd_steps, wsd_style


def _curve(a: _Args, *, run_length: int | None, increment: float | None) -> _Curve:
    """Megatron's rules, in the order Megatron checks them, from flat args to the curve's numbers."""
    max_lr, min_lr, init = _levels(a)
    style = _style(a)
    c = _counter(a, increment)
    train = a.stp(f"train_{c.sfx}", minimum=1)
    run_iters = run_length
    if run_iters is None and train is not None:
        run_iters = c.train_iters(train) if c.samples else train
    decay, decay_from = _decay_length(a, c, train, run_length)
    warmup, frac, wval = _warmup(a, c, decay * c.scale)
    _check_order(a, c, decay=decay, decay_from=decay_from, warmup=warmup, frac=frac, wval=wval)
    _check_init(a, init, max_lr)
    wsd_steps, wsd_style = _wsd(a, c, style)
    return _Curve(
        max_lr=max_lr,
        min_lr=min_lr,
        init=init,
        style=style,
        counter=c,
        run_iters=run_iters,
        decay_steps=decay * c.scale,
        decay_from=decay_from,
        warmup=warmup,
        wsd_steps=wsd_steps,
        wsd_style=wsd_style,
    )


def _context(args: Mapping[str, Any], cv: _Curve, increment: float | None, iteration_unit: str) -> dict[str, Any]:
    """What the linter and the writers read back: the arguments as Megatron sees them (with the
    run length NeMo RL injects or --total-steps stands for) and the curve's lengths in iterations."""
    c = cv.counter
    megatron_args = {k: args.get(k) for k in RECORDED_ARGS if args.get(k) is not None}
    if not megatron_args.get("train_iters") and not megatron_args.get("train_samples") and cv.run_iters is not None:
        # in samples for a sample-based run
        if c.samples:
            megatron_args["train_samples"] = c.counter(cv.run_iters)
        else:
            megatron_args["train_iters"] = cv.run_iters
    if increment is not None:
        megatron_args["increment"] = increment
    warm = math.ceil(cv.warm_iters) if cv.warmup > 0 else 0
    context: dict[str, Any] = {
        "megatron_args": megatron_args,
        "warmup_steps": warm,
        "lr_warmup_iters": warm,
        "lr_decay_iters": cv.decay_iters,
        "decay_steps": cv.decay_iters - cv.warm_iters,
        "declared_horizon": cv.decay_iters if cv.style != "constant" else None,
        "min_lr": cv.min_lr,
        "lr_decay_style": cv.style,
        "step_unit": iteration_unit,
    }
    if cv.wsd_steps is not None:
        context["cooldown_steps"] = cv.wsd_iters
        context["lr_wsd_decay_iters"] = cv.wsd_iters
    return context


def _token_decay(a: _Args, base: MegatronLR, cv: _Curve) -> tuple[Schedule, int]:
    """Megatron-DeepSpeed's token-based decay (``--lr-decay-tokens``, ``AnnealingLR.get_lr`` in its
    megatron/learning_rates.py) built from two ``MegatronLR`` pieces; returns it and the first update
    at ``min_lr``.

    The scheduler holds ``num_steps`` (samples, as in Megatron-LM) and ``num_tokens``; ``train_step``
    steps it with the iteration's samples *before* ``train`` adds that iteration's tokens
    (``consumed_train_tokens += samples * seq_length``), so the LR of update ``t >= 1`` sees the
    samples ``c_t`` consumed before it but the tokens ``L * c_{t-1}`` consumed before update ``t - 1``.
    The warm-up is sample-based as always (``base`` while ``c_t <= W``); after it the decay ratio is
    ``(tokens - T_w) / (D_tok - T_w)`` and ``min_lr`` once ``tokens > D_tok``, where ``T_w`` is the token
    count seen when ``num_steps`` equalled ``W`` exactly (``L * c_{t_w - 1}``), and 0 if it never did.
    In samples that is ``MegatronLR`` with warm-up ``T_w / L`` and decay ``D_tok / L`` evaluated at
    ``c_{t-1}``: ``Sequence([base, Shift(decay, b - 1)], [b])`` with ``b`` the first update past ``W``."""
    tokens = F.number(a.get("lr_decay_tokens"), a.path("lr_decay_tokens"), low=0.0)
    seq = a.stp("seq_length", minimum=1)
    if seq is None:
        raise ConfigError(
            "token-based decay (--lr-decay-tokens) counts seq_length tokens per sample, and --seq-length is not set.",
            field=a.path("seq_length"),
            fix="pass --set seq_length=<tokens per sample> (the --seq-length Megatron-DeepSpeed trains with).",
        )
    w = cv.warmup
    warm_tokens = 0.0  # in samples (tokens / seq_length)
    if w > 0 and float(w).is_integer():
        t_w = base.first_update_reaching(w)
        if float(base.counter_at(np.asarray(float(t_w)))) == w:
            warm_tokens = float(base.counter_at(np.asarray(float(t_w - 1))))
    b = base.first_update_past(w)
    decay = MegatronLR(
        style=cv.style,
        max_lr=1.0,
        min_lr=base.min_lr,
        warmup_steps=warm_tokens,
        decay_steps=tokens / seq,
        increment=base.increment,
        batch_thresholds=base.batch_thresholds,
        batch_sizes=base.batch_sizes,
    )
    end = decay.first_update_past(tokens / seq) + 1
    return Sequence((base, Shift(decay, b - 1)), (b,)), max(end, b)


def _findings(cv: _Curve, src: str | None) -> list[Finding]:
    """Megatron's quirks that a user is unlikely to want, each with the argument that avoids it."""
    findings: list[Finding] = []
    warm_iters, decay_iters = cv.warm_iters, cv.decay_iters
    if cv.warmup > 0 and cv.init == 0:
        findings.append(
            Finding(
                rule="first-update-at-zero",
                severity="warning",
                message=f"Megatron's warm-up starts at lr_warmup_init=0: the first update trains at LR 0 and the peak "
                f"{cv.max_lr:g} is reached only at update {math.ceil(warm_iters)}.",
                fix="set lr_warmup_init to a small positive LR (e.g. lr / warm-up length) so no update is wasted.",
                evidence={"step": 0, "lr": 0.0, "lr_warmup_init": cv.init},
                source=src,
            )
        )
    if cv.style == "inverse-square-root" and (cv.run_iters is None or decay_iters < cv.run_iters):
        findings.append(
            Finding(
                rule="inverse-sqrt-cliff",
                severity="warning",
                message=f"with inverse-square-root Megatron drops to min_lr ({cv.min_lr:g}) at once after "
                f"{cv.decay_from} ({decay_iters:g} iterations) instead of continuing the decay.",
                fix="set lr_decay_iters beyond the end of the run to keep the 1/sqrt decay.",
                evidence={"lr_decay_iters": decay_iters},
                source=src,
            )
        )
    if cv.wsd_steps is not None and cv.decay_steps - cv.wsd_steps < cv.warmup:
        wsd_iters = cv.wsd_iters
        findings.append(
            Finding(
                rule="wsd-decay-overlaps-warmup",
                severity="info",
                message=f"the WSD cool-down ({wsd_iters:g} iterations, ending at {decay_iters:g}) starts "
                f"before the warm-up ends ({warm_iters:g}): there is no stable phase and the LR after the warm-up "
                "is already below the peak (Megatron allows this; a whole-run cool-down is a common choice).",
                fix="if you wanted a stable phase, make lr_wsd_decay_iters shorter than lr_decay_iters "
                "minus the warm-up.",
                evidence={"lr_wsd_decay_iters": wsd_iters, "lr_decay_iters": decay_iters, "warmup": warm_iters},
                source=src,
            )
        )
    if cv.decay_steps <= cv.warmup and cv.style != "constant":
        findings.append(
            Finding(
                rule="megatron-decay-iters-after-warmup",
                severity="error",
                message=f"lr_decay ({decay_iters:g}) ends before the warm-up ({warm_iters:g}): after the warm-up "
                "the LR falls straight to min_lr.",
                fix="lr_decay_iters counts from step 0 and includes the warm-up; make it longer than the warm-up.",
                evidence={"lr_decay_iters": decay_iters, "warmup": warm_iters},
                source=src,
            )
        )
    return findings


def resolve_megatron(
    args: Mapping[str, Any],
    *,
    run_length: int | None,
    source: str,
    fmt: str,
    paths: Mapping[str, str],
    iteration_unit: str = "iteration",
    increment: float | None = None,
    flavor: str | None = None,
) -> ResolvedConfig:
    """Build the Megatron curve from flat args. ``paths`` maps an arg to its dotted config
    path (``""`` is the prefix for the others). ``increment`` fixes the counter step (NeMo RL
    steps by 1 per algorithm step); otherwise it is the global batch size.

    ``flavor="deepspeed"`` (Megatron-DeepSpeed, chosen by :mod:`lrkit.config.megatron_args`) reads
    ``rampup_batch_size`` and ``lr_decay_tokens`` as Megatron-DeepSpeed does; other readers never
    pass them.

    The curve is ``MegatronLR`` relative to the peak ``lr``, evaluated at ``num_steps = k * inc``."""
    if flavor != "deepspeed":
        args = {k: v for k, v in args.items() if k not in ("rampup_batch_size", "lr_decay_tokens")}
    cv = _curve(_Args(args, paths), run_length=run_length, increment=increment)
    with F.at_path(paths.get("", "") or "megatron"):
        base = MegatronLR(
            style=cv.style,
            max_lr=1.0,
            min_lr=cv.min_lr / cv.max_lr,
            init_lr=cv.init / cv.max_lr,
            warmup_steps=cv.warmup,
            decay_steps=float(cv.decay_steps),
            wsd_decay_steps=cv.wsd_steps,
            wsd_style=cv.wsd_style,
            increment=cv.counter.inc,
            batch_thresholds=cv.counter.ramp.thresholds if cv.counter.ramp else (),
            batch_sizes=cv.counter.ramp.sizes if cv.counter.ramp else (),
        )
    schedule: Schedule = base
    context = _context(args, cv, increment, iteration_unit)
    findings = _findings(cv, paths.get("", "") or None)
    if flavor == "deepspeed":  # its parser has no --lr-warmup-init: the warm-up always starts at 0
        findings = [
            replace(f, fix="Megatron-DeepSpeed has no lr_warmup_init; the first update at LR 0 comes with its warm-up.")
            if f.rule == "first-update-at-zero"
            else f
            for f in findings
        ]
    if args.get("lr_decay_tokens") is not None and cv.style != "constant":
        a = _Args(args, paths)
        with F.at_path(paths.get("", "") or "megatron"):
            schedule, end = _token_decay(a, base, cv)
        context.update(lr_decay_tokens=args["lr_decay_tokens"], lr_decay_iters=end, declared_horizon=end)
        context["decay_steps"] = end - cv.warm_iters
        findings = [f for f in findings if f.rule != "megatron-decay-iters-after-warmup"]
    return ResolvedConfig(
        schedule=schedule,
        peak_lr=cv.max_lr,
        total_steps=cv.run_iters,
        format=fmt,
        source=source,
        findings=tuple(findings),
        context=context,
        optimizer=None,
        raw=dict(args),
        controller=None,
    )


def read_megatron(
    data: Mapping[str, Any],
    *,
    total_steps: int | None,
    source: str,
    paths: Mapping[str, str] | None = None,
    flavor: str | None = None,
) -> ResolvedConfig:
    """Flat or nested Megatron arguments; ``paths`` (flat ``data`` already, e.g. from a command
    line) names each argument as the user wrote it. YAML whose keys are dashed flags
    (``MODEL_ARGS: {--lr: ...}``) goes to :mod:`lrkit.config.megatron_args`."""
    from lrkit.config.megatron_args import looks_like_dashed_megatron, read_megatron_dashed

    if paths is None and looks_like_dashed_megatron(data):
        return read_megatron_dashed(data, total_steps=total_steps, source=source)
    if paths is not None:
        flat, where = dict(data), dict(paths)
    else:
        flat, where = flatten_megatron(data)
    resolved = resolve_megatron(flat, run_length=total_steps, source=source, fmt="megatron", paths=where, flavor=flavor)
    kind = str(flat.get("optimizer", "adam")).lower() if isinstance(flat.get("optimizer"), str) else "adam"
    # Megatron's "adam" decouples weight decay (AdamW)
    optimizer = {"type": "adamw" if kind == "adam" else kind, "lr": resolved.peak_lr}
    for key in ("weight_decay", "adam_beta1", "adam_beta2", "adam_eps"):
        if key in flat:
            optimizer[key] = flat[key]
    return ResolvedConfig(
        schedule=resolved.schedule,
        peak_lr=resolved.peak_lr,
        total_steps=resolved.total_steps,
        format="megatron",
        source=source,
        findings=resolved.findings,
        context=resolved.context,
        optimizer=optimizer,
        raw=dict(data),
        controller=None,
    )


# -- writing (to_config(..., 'megatron'); nemo_rl_megatron puts the same arguments in its own place) --


def _megatron_from_list(sched: Schedule, peak: float, total: int | None) -> dict[str, Any] | None:
    """A NeMo RL-style list -- a linear warm-up to the peak over ``W`` steps, then one cosine,
    linear or constant piece from the peak -- as Megatron's warm-up + decay, when the two agree on
    every update of the run (torch's cosine climbs back after ``T_max``, Megatron holds min_lr:
    they may differ only after the run). ``None`` when the shape does not fit."""
    if not (isinstance(sched, Sequence) and len(sched.pieces) == 2):
        return None
    (warm, decay), (w,) = sched.pieces, sched.boundaries
    if not (isinstance(warm, Linear) and warm.steps == w and warm.end == 1.0 and 0.0 <= warm.start < 1.0 and w > 0):
        return None
    args: dict[str, Any] = {"lr": peak, "lr_warmup_iters": w, "lr_warmup_init": tidy(warm.start * peak)}
    if isinstance(decay, Constant) and decay.value == 1.0:
        return {**args, "min_lr": 0.0, "lr_decay_style": "constant", "lr_decay_iters": total or w}
    if isinstance(decay, Cosine | PeriodicCosine) and decay.peak == 1.0:
        if isinstance(decay, PeriodicCosine) and (decay.cycles != 0.5 or decay.offset != 0):
            return None  # not one half-period from the peak: no Megatron cosine
        style, steps, end = "cosine", decay.steps, decay.end
    elif isinstance(decay, Linear) and decay.start == 1.0:
        style, steps, end = "linear", decay.steps, decay.end
    else:
        return None
    if not float(steps).is_integer() or steps <= 0:
        return None
    return {**args, "min_lr": tidy(end * peak), "lr_decay_style": style, "lr_decay_iters": w + int(steps)}


def _same_over_run(sched: Schedule, peak: float, args: dict[str, Any], total: int | None) -> bool:
    """Whether Megatron ``args`` give ``peak * sched`` on every update of the run (for ever when
    the run length is unknown, checked to twice the decay's end)."""
    from lrkit.config import load_config

    horizon = total if total is not None else 2 * int(args.get("lr_decay_iters") or 1) + 2
    res = load_config({**args, "train_iters": horizon}, format="megatron", total_steps=horizon)
    return agree(sched, peak, res.lr_schedule, horizon)


def _megatron_lr_args(sched: MegatronLR, peak: float) -> dict[str, Any]:
    """A curve read from a Megatron config, as its own arguments (counts back in iterations)."""
    if sched.batch_ramp is not None:
        raise cannot("a Megatron curve whose batch size changes during the run (step_batch_size_schedule)", "megatron")
    inc = sched.increment
    w, d = sched.warmup_steps / inc, sched.decay_steps / inc
    if not (float(w).is_integer() and float(d).is_integer()):
        raise cannot("a Megatron curve with fractional iteration counts", "megatron")
    args = {
        "lr": sched.max_lr * peak,
        "min_lr": sched.min_lr * peak,
        "lr_decay_style": sched.style,
        "lr_warmup_iters": int(w),
        "lr_warmup_init": sched.init_lr * peak,
        "lr_decay_iters": int(d),
    }
    if sched.style == "WSD":
        args["lr_wsd_decay_style"] = sched.wsd_style
        args["lr_wsd_decay_iters"] = sched.wsd_decay_steps / inc  # type: ignore[operator]
    return args


def _decay_style(sched: Schedule, inner: Schedule) -> tuple[str, int | None, float, str | None]:
    """``(lr_decay_style, decay steps, floor factor, WSD shape)`` of an lrkit decay from the peak."""
    if isinstance(inner, Constant) and inner.value == 1.0:
        return "constant", None, 0.0, None
    if isinstance(inner, Cosine) and inner.peak == 1.0:
        return "cosine", inner.steps, inner.end, "cosine"
    if isinstance(inner, Linear) and inner.start == 1.0:
        return "linear", inner.steps, inner.end, "linear"
    raise cannot(
        describe(sched),
        "megatron",
        "Megatron's lr_decay_style expresses a linear warm-up from lr_warmup_init, then one constant, "
        "linear, cosine, inverse-square-root or WSD decay to min_lr; export to lrkit instead.",
    )


def _warmup_decay_args(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    """lrkit's (warm-up +) constant / cosine / linear decay as Megatron arguments."""
    inner, w, init = sched, 0, 0.0
    if isinstance(sched, Warmup):
        inner, w, init = sched.schedule, sched.warmup_steps, sched.init
        target = sched.target if sched.target is not None else float(inner(0))
        if target != 1.0:
            raise cannot("a warm-up to a value other than the peak", "megatron")
    style, d, end, shape = _decay_style(sched, inner)
    args: dict[str, Any] = {"lr": peak, "min_lr": end * peak}
    if w == 0:
        args.update(
            lr_decay_style=style,
            lr_warmup_iters=0,
            lr_warmup_init=0.0,
            lr_decay_iters=d if d is not None else (total or 1),
        )
        return args
    # lrkit's warm-up (k + 1) / W reaches the peak at update W - 1 and holds it at W: Megatron's
    # warm-up of W - 1 iterations from peak / W, then a WSD whose cool-down starts at W.
    first = init + (1.0 - init) / w
    args.update(lr_warmup_iters=w - 1, lr_warmup_init=first * peak)
    if style == "constant":
        args.update(lr_decay_style="constant", lr_decay_iters=total or w)
    else:
        assert d is not None
        args.update(lr_decay_style="WSD", lr_decay_iters=w + d, lr_wsd_decay_style=shape, lr_wsd_decay_iters=d)
        if d == 0:
            raise cannot("a decay of zero length", "megatron")
    return args


def megatron_args_of(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    """Megatron's LR arguments (``lr``, ``min_lr``, ``lr_decay_style``, ``lr_warmup_*``,
    ``lr_decay_iters``, ``lr_wsd_*``) giving ``peak * sched`` on every update of the run.

    An lrkit warm-up ``(k + 1) / W`` followed by a cosine or linear decay is Megatron's ``WSD``
    with ``lr_warmup_iters = W - 1``, ``lr_warmup_init = peak / W`` and a cool-down over the
    whole decay; a NeMo RL list (linear warm-up, then one piece) when it agrees over the run; a
    Megatron curve as it was read.
    """
    listed = _megatron_from_list(sched, peak, total)
    if listed is not None:
        if _same_over_run(sched, peak, listed, total):
            return listed
        raise cannot(
            f"{describe(sched)}",
            "megatron",
            "Megatron holds min_lr after lr_decay_iters while this curve climbs back inside the run; "
            "set T_max to the steps left after the warm-up, then convert.",
        )
    if isinstance(sched, MegatronLR):
        return _megatron_lr_args(sched, peak)
    return _warmup_decay_args(sched, peak, total)


def write_megatron(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    """Megatron-LM arguments (:func:`megatron_args_of`) with ``train_iters`` when the run length is known."""
    args = megatron_args_of(sched, peak, total)
    if total is not None:
        args["train_iters"] = total
    return args
