"""Megatron curves (Megatron-LM args and NeMo RL's Megatron path) against Megatron's formula.

Megatron is not pip-installable here, so the reference below is a line-by-line scalar
transcription of ``OptimizerParamScheduler.get_lr`` (megatron/core/optimizer_param_scheduler.py)
driven as ``megatron/training/training.py`` drives it: ``get_optimizer_param_scheduler``
multiplies every iteration count by the global batch size (sample-based runs use samples
as they are), the constructor calls ``step(0)`` and ``train_step`` calls
``step(increment=global_batch_size)`` after each successful update. NeMo RL's Megatron
worker steps by 1 per algorithm step with the counts as given. Requirement: max relative
difference <= 1e-9.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lrkit.config import load_config
from lrkit.errors import ConfigError

TOL = 1e-9


class RefOptimizerParamScheduler:
    """Transcription of Megatron's get_lr (learning-rate part only)."""

    def __init__(
        self,
        init_lr,
        max_lr,
        min_lr,
        lr_warmup_steps,
        lr_decay_steps,
        lr_decay_style,
        wsd_decay_steps=None,
        lr_wsd_decay_style=None,
    ):
        self.init_lr, self.max_lr, self.min_lr = init_lr, max_lr, min_lr
        self.lr_warmup_steps, self.lr_decay_steps = lr_warmup_steps, lr_decay_steps
        self.lr_decay_style = lr_decay_style
        self.wsd_decay_steps, self.lr_wsd_decay_style = wsd_decay_steps, lr_wsd_decay_style
        self.num_steps = 0

    def get_lr(self):
        max_lr, min_lr = self.max_lr, self.min_lr
        if self.lr_warmup_steps > 0 and self.num_steps <= self.lr_warmup_steps:
            return self.init_lr + ((max_lr - self.init_lr) * float(self.num_steps) / float(self.lr_warmup_steps))
        if self.lr_decay_style == "constant":
            return max_lr
        if self.num_steps > self.lr_decay_steps:
            return min_lr
        if self.lr_decay_style == "inverse-square-root":
            warmup_steps = max(self.lr_warmup_steps, 1)
            num_steps = max(self.num_steps, 1)
            lr = max_lr * warmup_steps**0.5 / (num_steps**0.5)
            return max(min_lr, lr)
        num_steps_ = self.num_steps - self.lr_warmup_steps
        decay_steps_ = self.lr_decay_steps - self.lr_warmup_steps
        decay_ratio = float(num_steps_) / float(decay_steps_)
        delta_lr = max_lr - min_lr
        if self.lr_decay_style == "linear":
            coeff = 1.0 - decay_ratio
        elif self.lr_decay_style == "cosine":
            coeff = 0.5 * (math.cos(math.pi * decay_ratio) + 1.0)
        else:  # WSD
            wsd_anneal_start_ = self.lr_decay_steps - self.wsd_decay_steps
            if self.num_steps <= wsd_anneal_start_:
                coeff = 1.0
            else:
                wsd_steps = self.num_steps - wsd_anneal_start_
                wsd_decay_ratio = float(wsd_steps) / float(self.wsd_decay_steps)
                if self.lr_wsd_decay_style == "linear":
                    coeff = 1.0 - wsd_decay_ratio
                elif self.lr_wsd_decay_style == "cosine":
                    coeff = 0.5 * (math.cos(math.pi * wsd_decay_ratio) + 1.0)
                elif self.lr_wsd_decay_style == "exponential":
                    coeff = (2.0 * math.pow(0.5, wsd_decay_ratio)) - 1.0
                else:  # minus_sqrt
                    coeff = 1.0 - math.sqrt(wsd_decay_ratio)
        return min_lr + coeff * delta_lr

    def step(self, increment):
        self.num_steps += increment


def drive_megatron_lm(args: dict, iterations: int) -> np.ndarray:
    """training.py's get_optimizer_param_scheduler + train_step, without batch-size ramp-up."""
    gbs = args.get("global_batch_size", 1)
    if "train_iters" in args:
        decay = args.get("lr_decay_iters", args["train_iters"]) * gbs
        wsd = args["lr_wsd_decay_iters"] * gbs if args.get("lr_wsd_decay_iters") is not None else None
        warm = (
            args["lr_warmup_fraction"] * decay
            if args.get("lr_warmup_fraction") is not None
            else args.get("lr_warmup_iters", 0) * gbs
        )
    else:
        decay = args.get("lr_decay_samples", args["train_samples"])
        wsd = args.get("lr_wsd_decay_samples")
        warm = (
            args["lr_warmup_fraction"] * decay
            if args.get("lr_warmup_fraction") is not None
            else args.get("lr_warmup_samples", 0)
        )
    ref = RefOptimizerParamScheduler(
        args.get("lr_warmup_init", 0.0),
        args["lr"],
        args.get("min_lr", 0.0),
        warm,
        decay,
        args.get("lr_decay_style", "linear"),
        wsd,
        args.get("lr_wsd_decay_style", "exponential"),
    )
    out = []
    for _ in range(iterations):
        out.append(ref.get_lr())
        ref.step(gbs)
    return np.asarray(out)


def max_rel_diff(ours, ref, peak):
    return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-12 * peak)))


BASE = {"lr": 3e-4, "min_lr": 3e-5, "train_iters": 1000, "global_batch_size": 256}
CASES = {
    "cosine": {"lr_decay_style": "cosine", "lr_warmup_iters": 100},
    "linear_fraction": {"lr_decay_style": "linear", "lr_warmup_fraction": 0.037, "lr_decay_iters": 900},
    "constant_init": {"lr_decay_style": "constant", "lr_warmup_iters": 50, "lr_warmup_init": 1e-5},
    "isqrt": {"lr_decay_style": "inverse-square-root", "lr_warmup_iters": 64, "lr_decay_iters": 700},
    "wsd_exp": {
        "lr_decay_style": "WSD",
        "lr_warmup_iters": 30,
        "lr_wsd_decay_iters": 200,
        "lr_wsd_decay_style": "exponential",
    },
    "wsd_sqrt": {
        "lr_decay_style": "WSD",
        "lr_warmup_iters": 30,
        "lr_wsd_decay_iters": 150,
        "lr_wsd_decay_style": "minus_sqrt",
    },
    "wsd_cos": {
        "lr_decay_style": "WSD",
        "lr_warmup_iters": 0,
        "lr_wsd_decay_iters": 333,
        "lr_wsd_decay_style": "cosine",
    },
    # a whole-run cool-down that overlaps the warm-up (Megatron-Bridge recipes do this)
    "wsd_whole_run": {
        "lr_decay_style": "WSD",
        "lr_warmup_iters": 100,
        "lr_decay_iters": 900,
        "lr_wsd_decay_iters": 900,
        "lr_wsd_decay_style": "cosine",
    },
    "no_warmup_cosine": {"lr_decay_style": "cosine", "lr_decay_iters": 800},
    "samples": {
        "lr_decay_style": "cosine",
        "train_iters": None,
        "train_samples": 256 * 1000,
        "lr_warmup_samples": 10_000,
        "lr_decay_samples": 200_000,
    },
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_megatron_lm_args_match_formula(name):
    args = {k: v for k, v in {**BASE, **CASES[name]}.items() if v is not None}
    resolved = load_config(args)
    assert resolved.format == "megatron"
    assert resolved.total_steps == 1000
    ref = drive_megatron_lm(args, 1200)
    ours = resolved.lr_schedule(np.arange(1200))
    assert max_rel_diff(ours, ref, args["lr"]) <= TOL


def test_nested_megatron_core_shape():
    cfg = {
        "optimizer": {"lr": 1e-4, "min_lr": 1e-5},
        "scheduler": {"lr_decay_style": "cosine", "lr_warmup_iters": 10},
        "train": {"train_iters": 300, "global_batch_size": 8},
    }
    ref = drive_megatron_lm(
        {
            "lr": 1e-4,
            "min_lr": 1e-5,
            "lr_decay_style": "cosine",
            "lr_warmup_iters": 10,
            "train_iters": 300,
            "global_batch_size": 8,
        },
        300,
    )
    ours = load_config(cfg, format="megatron").lr_schedule(np.arange(300))
    assert max_rel_diff(ours, ref, 1e-4) <= TOL


@pytest.mark.parametrize(
    "style,extra",
    [
        ("cosine", {}),
        ("linear", {}),
        ("constant", {}),
        ("inverse-square-root", {}),
        ("WSD", {"lr_wsd_decay_style": "linear", "lr_wsd_decay_iters": 100}),
    ],
)
def test_nemo_rl_megatron_path(style, extra):
    sched = {"lr_decay_style": style, "lr_warmup_iters": 20, "lr_warmup_init": 3e-7, "lr_decay_iters": 500, **extra}
    cfg = {
        "grpo": {"max_num_steps": 600},
        "policy": {"megatron_cfg": {"enabled": True, "optimizer": {"lr": 3e-6, "min_lr": 3e-7}, "scheduler": sched}},
    }
    r = load_config(cfg)
    assert r.format == "nemo_rl_megatron" and r.total_steps == 600
    ref = RefOptimizerParamScheduler(
        3e-7, 3e-6, 3e-7, 20, 500, style, extra.get("lr_wsd_decay_iters"), extra.get("lr_wsd_decay_style")
    )
    want = []
    for _ in range(600):
        want.append(ref.get_lr())
        ref.step(1)
    assert max_rel_diff(r.lr_schedule(np.arange(600)), np.asarray(want), 3e-6) <= TOL


def test_nemo_rl_megatron_decay_iters_default_to_the_run():
    cfg = {
        "grpo": {"max_num_steps": 200},
        "policy": {
            "megatron_cfg": {
                "enabled": True,
                "optimizer": {"lr": 1e-6, "min_lr": 0.0},
                "scheduler": {"lr_decay_style": "linear", "lr_warmup_iters": 0},
            }
        },
    }
    r = load_config(cfg)
    assert r.context["lr_decay_iters"] == 200
    assert r.lr_schedule(200) == 0.0


def test_quirks_are_findings():
    r = load_config({**BASE, "lr_decay_style": "cosine", "lr_warmup_iters": 100})
    assert "first-update-at-zero" in {f.rule for f in r.findings}
    assert r.lr_schedule(0) == 0.0 and r.lr_schedule(100) == pytest.approx(3e-4)
    isq = load_config({**BASE, "lr_decay_style": "inverse-square-root", "lr_warmup_iters": 64, "lr_decay_iters": 700})
    assert "inverse-sqrt-cliff" in {f.rule for f in isq.findings}
    assert isq.lr_schedule(701) == pytest.approx(3e-5)


def test_megatron_errors():
    with pytest.raises(ConfigError, match="lr_wsd_decay"):
        load_config({**BASE, "lr_decay_style": "WSD"})
    with pytest.raises(ConfigError) as err:
        load_config({**BASE, "lr_decay_style": "cosin"})
    assert err.value.field == "lr_decay_style" and "cosine" in str(err.value)
    with pytest.raises(ConfigError, match="min_lr"):
        load_config({**BASE, "min_lr": 1.0, "lr_decay_style": "cosine"})


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"lr_warmup_iters": 200, "lr_decay_iters": 100}, "lr_warmup_iters"),  # decay counted after the warm-up
        ({"lr_warmup_iters": 1000}, "lr_warmup_iters"),  # as long as the run (decay defaults to train_iters)
        ({"lr_warmup_fraction": 1.0}, "lr_warmup_fraction"),
        ({"lr_decay_iters": 0}, "lr_decay_iters"),
        ({"lr_warmup_iters": 10, "lr_warmup_init": 1.0}, "lr_warmup_init"),
    ],
)
def test_what_megatron_asserts_at_start_up_is_refused(extra, field):
    # OptimizerParamScheduler.__init__: lr_decay_steps > 0, lr_warmup_steps < lr_decay_steps, init_lr <= max_lr
    with pytest.raises(ConfigError) as err:
        load_config({**BASE, "train_iters": 1000, "lr_decay_style": "cosine", **extra})
    assert err.value.field == field and "Megatron asserts" in str(err.value)
    nemo_rl = {
        "grpo": {"max_num_steps": 1000},
        "policy": {
            "megatron_cfg": {
                "enabled": True,
                "optimizer": {"lr": 3e-4},
                "scheduler": {"lr_decay_style": "cosine", **extra},
            }
        },
    }
    if "lr_decay_iters" in extra or "lr_warmup_iters" in extra:
        with pytest.raises(ConfigError) as err:
            load_config(nemo_rl)
        assert err.value.field.startswith("policy.megatron_cfg.")
