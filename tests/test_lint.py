"""The linter: every rule has a case that triggers it and one that must not."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit
from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.linter import RULES, evaluate_curve, lint, warmup_steps_of
from lrkit.schedules import (
    Constant,
    Cosine,
    Cyclic,
    Floor,
    Linear,
    MultiStep,
    Sequence,
    Warmup,
    WarmupStableDecay,
    warmup_cosine,
    warmup_linear,
)
from lrkit.schedules.compat import MegatronLR, PeriodicCosine


@dataclasses.dataclass(frozen=True)
class _Resolved:
    """Shape of lrkit.config.ResolvedConfig (only what the linter reads)."""

    schedule: Any
    peak_lr: float = 1e-3
    total_steps: int | None = None
    format: str = "lrkit"
    source: str = "<test>"
    findings: tuple[Finding, ...] = ()
    context: dict = dataclasses.field(default_factory=dict)


def resolved(schedule, *, peak_lr=1e-3, total_steps=None, context=None, findings=()):
    """The real ResolvedConfig when the config layer provides it, else the test double."""
    fields = dict(
        schedule=schedule,
        peak_lr=peak_lr,
        total_steps=total_steps,
        format="lrkit",
        source="<test>",
        findings=tuple(findings),
        context=dict(context or {}),
    )
    try:
        from lrkit.config import ResolvedConfig

        return ResolvedConfig(**fields, optimizer=None, raw={}, controller=None)
    except (ImportError, TypeError):
        return _Resolved(**fields)


def rules(findings):
    return [f.rule for f in findings]


def torch_list(pieces, milestones=None, *, t_max=900, warm=100):
    """The context a NeMo RL scheduler-list reader records."""
    ctx: dict[str, Any] = {"pieces": pieces, "warmup_steps": warm}
    if milestones is not None:
        ctx["milestones"] = milestones
    return ctx


LINEAR_LR = {"name": "torch.optim.lr_scheduler.LinearLR", "kwargs": {"start_factor": 0.01, "total_iters": 100}}


def cosine_lr(t_max, start=100):
    return {"name": "torch.optim.lr_scheduler.CosineAnnealingLR", "kwargs": {"T_max": t_max}, "start": start}


# rule -> (triggering case, quiet case); a case is (target, lint kwargs)
CASES: dict[str, tuple[tuple[Any, dict], tuple[Any, dict]]] = {
    "zero-lr": ((Constant(0.0), {"total_steps": 100}), (Constant(1.0), {"total_steps": 100})),
    "total-steps-unknown": ((warmup_cosine(1000, 50), {}), (warmup_cosine(1000, 50), {"total_steps": 1000})),
    "decay-horizon-too-long": (
        (warmup_cosine(20_000, 500), {"total_steps": 10_000}),
        (warmup_cosine(10_000, 500), {"total_steps": 10_000}),
    ),
    "decay-horizon-too-short": (
        (warmup_cosine(5_000, 500), {"total_steps": 10_000}),
        (warmup_cosine(10_000, 500), {"total_steps": 10_000}),
    ),
    "warmup-longer-than-run": (
        (Warmup(Cosine(steps=1000), 2000), {"total_steps": 1000}),
        (warmup_cosine(1000, 50), {"total_steps": 1000}),
    ),
    "warmup-too-long": (
        (warmup_cosine(10_000, 2_000), {"total_steps": 10_000}),
        (warmup_cosine(10_000, 1_000), {"total_steps": 10_000}),
    ),
    "warmup-too-short": (
        (warmup_cosine(10_000, 50), {"total_steps": 10_000}),
        (warmup_cosine(10_000, 100), {"total_steps": 10_000}),
    ),
    "no-warmup": (
        (Cosine(steps=10_000), {"total_steps": 10_000}),
        (warmup_cosine(10_000, 500), {"total_steps": 10_000}),
    ),
    "first-update-at-zero": (
        (Sequence([Linear(0.0, 1.0, 100), Cosine(steps=900)], [100]), {"total_steps": 1000}),
        (Sequence([Linear(0.01, 1.0, 100), Cosine(steps=900)], [100]), {"total_steps": 1000}),
    ),
    "lr-rises-again": (
        (Warmup(PeriodicCosine(steps=400), 100), {"total_steps": 1000}),
        (warmup_cosine(1000, 100), {"total_steps": 1000}),
    ),
    "cosine-tmax-mismatch": (
        (
            resolved(
                Warmup(Cosine(steps=700), 100), total_steps=1000, context=torch_list([LINEAR_LR, cosine_lr(700)], [100])
            ),
            {},
        ),
        (
            resolved(
                Warmup(Cosine(steps=900), 100), total_steps=1000, context=torch_list([LINEAR_LR, cosine_lr(900)], [100])
            ),
            {},
        ),
    ),
    "milestones-missing": (
        (resolved(warmup_cosine(1000, 100), total_steps=1000, context=torch_list([LINEAR_LR, cosine_lr(900)])), {}),
        (
            resolved(
                warmup_cosine(1000, 100), total_steps=1000, context=torch_list([LINEAR_LR, cosine_lr(900)], [100])
            ),
            {},
        ),
    ),
    "milestones-mismatch": (
        (
            resolved(warmup_cosine(1000, 100), total_steps=1000, context=torch_list([LINEAR_LR, cosine_lr(900)], [50])),
            {},
        ),
        (
            resolved(
                warmup_cosine(1000, 100), total_steps=1000, context=torch_list([LINEAR_LR, cosine_lr(900)], [100])
            ),
            {},
        ),
    ),
    "min-lr-above-peak": (
        (resolved(warmup_cosine(1000, 50), peak_lr=1e-4, total_steps=1000, context={"min_lr": 2e-4}), {}),
        (resolved(warmup_cosine(1000, 50), peak_lr=1e-4, total_steps=1000, context={"min_lr": 1e-5}), {}),
    ),
    "megatron-decay-iters-after-warmup": (
        (
            resolved(
                MegatronLR(style="cosine", min_lr=0.1, init_lr=0.01, warmup_steps=1000, decay_steps=9000),
                total_steps=10_000,
                context={"lr_decay_iters": 9000, "warmup_steps": 1000},
            ),
            {},
        ),
        (
            resolved(
                MegatronLR(style="cosine", min_lr=0.1, init_lr=0.01, warmup_steps=1000, decay_steps=10_000),
                total_steps=10_000,
                context={"lr_decay_iters": 10_000, "warmup_steps": 1000},
            ),
            {},
        ),
    ),
    "wsd-cooldown-too-short": (
        (WarmupStableDecay(warmup_steps=500, stable_steps=9300, decay_steps=200), {"total_steps": 10_000}),
        (WarmupStableDecay(warmup_steps=500, stable_steps=7500, decay_steps=2000), {"total_steps": 10_000}),
    ),
    "never-decays": (
        (Warmup(Constant(1.0), 1000), {"total_steps": 20_000}),
        (Warmup(Constant(1.0), 100), {"total_steps": 2_000}),
    ),
}


def test_every_rule_has_cases():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_triggers(rule):
    (target, kwargs), _ = CASES[rule]
    found = [f for f in lint(target, **kwargs) if f.rule == rule]
    assert found, f"{rule} did not fire: {rules(lint(target, **kwargs))}"
    for f in found:
        assert f.severity in ("error", "warning", "info")
        assert f.message and f.fix and f.evidence
        assert any(ch.isdigit() for ch in f.message)  # the message carries the numbers
        json.dumps(f.to_dict())  # evidence is plain data
        if "steps" in f.evidence and "values" in f.evidence and f.evidence["values"]:
            assert all(isinstance(x, int) for x in f.evidence["steps"])


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_stays_quiet(rule):
    _, (target, kwargs) = CASES[rule]
    assert rule not in rules(lint(target, **kwargs))


def test_clean_schedule_has_no_findings():
    assert lint(warmup_cosine(100_000, 5_000, min_ratio=0.1), total_steps=100_000) == []
    cfg = resolved(warmup_linear(20_000, 1_000), peak_lr=3e-4, total_steps=20_000, context={"warmup_steps": 1000})
    assert lint(cfg) == []


def test_horizon_too_long_says_how_far_the_lr_gets():
    (f,) = [f for f in lint(warmup_cosine(20_000, 500), total_steps=10_000) if f.rule == "decay-horizon-too-long"]
    final = float(warmup_cosine(20_000, 500)(9_999))
    assert f"{100 * final:.0f}% of the peak" in f.message
    assert f.severity == "error"  # less than half-way down
    assert f.evidence["steps"] == [9_999, 20_000]
    assert f.evidence["values"][0] == pytest.approx(final, rel=1e-5)
    # a little too long: still told, as a warning
    (g,) = [g for g in lint(warmup_cosine(11_000, 500), total_steps=10_000) if g.rule == "decay-horizon-too-long"]
    assert g.severity == "warning"


def test_horizon_too_short_says_how_much_sits_at_the_floor():
    (f,) = [
        f
        for f in lint(warmup_cosine(6_000, 300, min_ratio=0.1), total_steps=10_000)
        if f.rule == "decay-horizon-too-short"
    ]
    assert "last 4000 updates (40% of the run)" in f.message
    assert f.evidence["values"][0] == pytest.approx(0.1)


def test_absolute_lrs_are_scaled_by_peak_lr():
    cfg = resolved(warmup_cosine(20_000, 500), peak_lr=3e-4, total_steps=10_000)
    (f,) = [f for f in lint(cfg) if f.rule == "decay-horizon-too-long"]
    assert f.evidence["values"][0] == pytest.approx(3e-4 * float(warmup_cosine(20_000, 500)(9_999)), rel=1e-5)


def test_multistep_final_plateau_is_not_a_short_horizon():
    sched = Warmup(MultiStep(milestones=(3000, 6000)), 500)
    assert "decay-horizon-too-short" not in rules(lint(sched, total_steps=10_000))


def test_a_rise_after_the_run_is_no_finding_and_inside_it_an_error():
    # torch's CosineAnnealingLR with T_max = steps after warm-up: climbs back only after the run
    after = Warmup(PeriodicCosine(steps=900), 100)
    assert [f for f in lint(after, total_steps=1000) if f.severity != "info"] == []
    # one update longer and the last update is already on the way back up
    (e,) = [f for f in lint(after, total_steps=1002) if f.rule == "lr-rises-again"]
    assert e.severity == "error" and e.evidence["steps"][1] == 1001
    (g,) = [g for g in lint(Warmup(PeriodicCosine(steps=400), 100), total_steps=1000) if g.rule == "lr-rises-again"]
    assert g.severity == "error" and g.evidence["steps"][0] == 500


def test_cyclical_schedules_are_not_rising_mistakes():
    found = rules(lint(Cyclic(init=0.1, peak=1.0, step_size_up=500), total_steps=10_000))
    assert "lr-rises-again" not in found and "warmup-too-long" not in found


def test_cosine_tmax_both_directions():
    long = resolved(
        Warmup(Cosine(steps=1900), 100), total_steps=1000, context=torch_list([LINEAR_LR, cosine_lr(1900)], [100])
    )
    (f,) = [f for f in lint(long) if f.rule == "cosine-tmax-mismatch"]
    assert f.severity == "warning" and "T_max: 900" in f.fix
    short = resolved(
        Warmup(PeriodicCosine(steps=700), 100), total_steps=1000, context=torch_list([LINEAR_LR, cosine_lr(700)], [100])
    )
    found = lint(short)
    (g,) = [g for g in found if g.rule == "cosine-tmax-mismatch"]
    assert g.severity == "error" and "climbs back for the remaining 200 updates" in g.message
    # the specific finding replaces the generic horizon one
    assert "decay-horizon-too-short" not in rules(found) and "decay-horizon-too-long" not in rules(lint(long))


def test_milestone_count_mismatch_is_an_error():
    cfg = resolved(
        warmup_cosine(1000, 100), total_steps=1000, context=torch_list([LINEAR_LR, cosine_lr(900)], [100, 500])
    )
    (f,) = [f for f in lint(cfg) if f.rule == "milestones-mismatch"]
    assert f.severity == "error"


def test_min_lr_from_schedule_structure():
    assert "min-lr-above-peak" in rules(lint(Floor(warmup_cosine(1000, 50), 1.0), total_steps=1000))
    assert "min-lr-above-peak" in rules(lint(Warmup(Cosine(peak=1.0, end=1.0, steps=900), 100), total_steps=1000))
    assert "min-lr-above-peak" not in rules(lint(Floor(warmup_cosine(1000, 50), 0.1), total_steps=1000))
    assert "min-lr-above-peak" in rules(lint(resolved(Constant(1.0), total_steps=100, context={"min_lr_ratio": 1.0})))


def test_megatron_message_names_the_fix():
    (target, kwargs), _ = CASES["megatron-decay-iters-after-warmup"]
    found = lint(target, **kwargs)
    (f,) = [f for f in found if f.rule == "megatron-decay-iters-after-warmup"]
    assert "lr_decay_iters: 10000" in f.fix and "last 1000 updates (10% of the run)" in f.message
    assert "decay-horizon-too-short" not in rules(found)


def test_megatron_wsd_structure():
    sched = MegatronLR(style="WSD", min_lr=0.0, init_lr=0.01, warmup_steps=100, decay_steps=10_000, wsd_decay_steps=300)
    assert "wsd-cooldown-too-short" in rules(lint(sched, total_steps=10_000))
    assert warmup_steps_of(sched) == 100


def test_reader_findings_are_included_once():
    quirk = Finding("first-update-at-zero", "warning", "HF warm-up starts at 0", source="lr_scheduler_type")
    other = Finding("hf-quirk", "info", "something the reader noticed")
    cfg = resolved(
        Sequence([Linear(0.0, 1.0, 100), Cosine(steps=900)], [100]), total_steps=1000, findings=[quirk, other]
    )
    found = lint(cfg)
    assert rules(found).count("first-update-at-zero") == 1
    assert "hf-quirk" in rules(found)
    (f,) = [f for f in found if f.rule == "first-update-at-zero"]
    assert f.source == "lr_scheduler_type"


def test_errors_come_first():
    found = lint(Warmup(Cosine(steps=100), 5000), total_steps=1000)
    order = {"error": 0, "warning": 1, "info": 2}
    assert [order[f.severity] for f in found] == sorted(order[f.severity] for f in found)


def test_total_steps_argument_overrides_the_config():
    cfg = resolved(warmup_cosine(10_000, 500), total_steps=10_000)
    assert lint(cfg) == []
    assert "decay-horizon-too-long" in rules(lint(cfg, total_steps=5_000))


def test_bad_targets_and_lengths_are_config_errors():
    with pytest.raises(ConfigError):
        lint(42)
    with pytest.raises(ConfigError, match="total_steps"):
        lint(Constant(1.0), total_steps=0)


def test_lrkit_lint_is_callable_from_the_package():
    assert rules(lrkit.lint(Constant(0.0), total_steps=10)) == ["zero-lr"]
    assert lrkit.lint is lint


@pytest.mark.slow
def test_importing_the_linter_package_first_keeps_lrkit_lint_a_function():
    # a fresh interpreter: in this one the package attribute is already bound
    code = (
        "import lrkit.linter, lrkit.linter.core, lrkit\n"
        "from lrkit.schedules import Constant\n"
        "print([f.rule for f in lrkit.lint(Constant(0.0), total_steps=10)])\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "['zero-lr']"


def test_long_runs_are_sampled_and_keep_boundaries():
    sched = Warmup(MultiStep(milestones=(3_000_001, 6_000_003)), 1000)
    c = evaluate_curve(sched, total=9_000_000)
    assert c.steps.size < 2_000_000 and not c.full
    for b in (1000, 3_001_001, 6_001_003):
        assert b in c.steps and b - 1 in c.steps
    assert c.weights.sum() == pytest.approx(9_000_000)
    area = float(np.sum(c.values * c.weights))
    exact = 1000 * 0.5005 + 3_000_001 * 1.0 + 3_000_002 * 0.1 + (9_000_000 - 6_001_003) * 0.01
    assert area == pytest.approx(exact, rel=1e-5)  # left sums on the sampled ramp


@settings(max_examples=40, deadline=None)
@given(
    total=st.integers(1, 50_000),
    horizon=st.integers(1, 80_000),
    warm_frac=st.floats(0, 1),
    floor=st.floats(0, 1),
)
def test_lint_never_crashes_and_findings_are_plain_data(total, horizon, warm_frac, floor):
    warm = int(warm_frac * horizon)
    sched = warmup_cosine(horizon, warm, min_ratio=floor)
    for f in lint(sched, total_steps=total):
        assert f.rule in RULES
        json.dumps(f.to_dict())


# ------------------------------------------------------------------------------------------
# the same rules through the real config readers (every reader benefits)
# ------------------------------------------------------------------------------------------


def _native(scheduler: dict, lr: float = 1e-3) -> dict:
    return {"training": {"optimizer": {"type": "adamw", "lr": lr}, "scheduler": scheduler}}


def _nemo_rl(pieces: list, milestones: list | None, steps: int = 500) -> dict:
    sched = [{"name": f"torch.optim.lr_scheduler.{n}", "kwargs": kw} for n, kw in pieces]
    if milestones is not None:
        sched.append({"milestones": milestones})
    return {
        "grpo": {"max_num_steps": steps},
        "policy": {"optimizer": {"name": "torch.optim.AdamW", "kwargs": {"lr": 1e-6}}, "scheduler": sched},
    }


def _megatron(**kw) -> dict:
    return {"lr": 3e-4, "min_lr": 3e-5, "lr_decay_style": "cosine", "lr_warmup_init": 3e-6, **kw}


WARM = ("LinearLR", {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 50})

# rule -> (config that triggers it, config that must not), read by lrkit.load_config
CONFIG_CASES: dict[str, tuple[dict, dict]] = {
    "decay-horizon-too-long": (
        {
            "training": {
                **_native({"type": "cosine_annealing", "warmup_steps": 500, "total_steps": 20_000})["training"],
                "total_steps": 10_000,
            }
        },
        _native({"type": "cosine_annealing", "warmup_steps": 500, "total_steps": 10_000}),
    ),
    "warmup-too-long": (
        _native({"type": "linear", "warmup_steps": 3000, "total_steps": 10_000}),
        _native({"type": "linear", "warmup_steps": 800, "total_steps": 10_000}),
    ),
    "first-update-at-zero": (
        {"learning_rate": 2e-5, "lr_scheduler_type": "linear", "warmup_steps": 100, "max_steps": 2000},
        _native({"type": "linear", "warmup_steps": 100, "total_steps": 2000}),
    ),
    "lr-rises-again": (
        _nemo_rl([WARM, ("CosineAnnealingLR", {"T_max": 200, "eta_min": 1e-7})], [50]),
        _native({"type": "cosine_annealing", "warmup_steps": 25, "total_steps": 500}),
    ),
    "cosine-tmax-mismatch": (
        _nemo_rl([WARM, ("CosineAnnealingLR", {"T_max": 600, "eta_min": 1e-7})], [50]),
        _nemo_rl([WARM, ("CosineAnnealingLR", {"T_max": 450, "eta_min": 1e-7})], [50]),
    ),
    "milestones-mismatch": (
        _nemo_rl([WARM, ("CosineAnnealingLR", {"T_max": 450, "eta_min": 1e-7})], [30]),
        _nemo_rl([WARM, ("CosineAnnealingLR", {"T_max": 450, "eta_min": 1e-7})], [50]),
    ),
    "megatron-decay-iters-after-warmup": (
        _megatron(lr_warmup_iters=1000, lr_decay_iters=9000, train_iters=10_000),
        _megatron(lr_warmup_iters=1000, lr_decay_iters=10_000, train_iters=10_000),
    ),
    "wsd-cooldown-too-short": (
        _megatron(
            lr_decay_style="WSD",
            lr_wsd_decay_style="linear",
            lr_wsd_decay_iters=300,
            lr_warmup_iters=500,
            lr_decay_iters=20_000,
            train_iters=20_000,
        ),
        _megatron(
            lr_decay_style="WSD",
            lr_wsd_decay_style="linear",
            lr_wsd_decay_iters=3000,
            lr_warmup_iters=500,
            lr_decay_iters=20_000,
            train_iters=20_000,
        ),
    ),
    "never-decays": (
        _nemo_rl([WARM, ("ConstantLR", {"factor": 1.0, "total_iters": 10_000_000_000})], [50], steps=20_000),
        _nemo_rl([WARM, ("ConstantLR", {"factor": 1.0, "total_iters": 10_000_000_000})], [50], steps=2_000),
    ),
}


@pytest.mark.parametrize("rule", sorted(CONFIG_CASES))
def test_rule_through_the_readers(rule):
    hit, quiet = CONFIG_CASES[rule]
    assert rule in rules(lint(lrkit.load_config(hit))), rules(lint(lrkit.load_config(hit)))
    assert rule not in rules(lint(lrkit.load_config(quiet)))


class _Halving(lrkit.SchedulerInterface, name="test_lint_halving"):
    """A schedule written in Python: halve every 300 steps."""

    def get_lr(self, step: int) -> float:
        return self.base_lr * 0.5 ** (step // 300)


def _families(total: int, a: int, b: int):
    from lrkit.schedules import CosineRestarts, OneCycle
    from lrkit.schedules.compat import HFLambda

    return [
        WarmupStableDecay(warmup_steps=a, stable_steps=b, decay_steps=max(1, total // 7)),
        Warmup(MultiStep(milestones=(a + 1, a + b + 2)), a),
        Cyclic(init=0.1, peak=1.0, step_size_up=max(1, a)),
        OneCycle(peak=1.0, steps=max(20, total)),
        CosineRestarts(peak=1.0, period=max(1, b)),
        Warmup(PeriodicCosine(steps=max(1, b)), a),
        MegatronLR(style="linear", warmup_steps=a, decay_steps=a + b),
        HFLambda(name="cosine", warmup_steps=a, training_steps=a + b),
        _Halving({"base_lr": 1e-3}),
    ]


@settings(max_examples=25, deadline=None)
@given(total=st.integers(1, 30_000), a=st.integers(0, 5_000), b=st.integers(1, 30_000))
def test_lint_handles_every_family(total, a, b):
    for sched in _families(total, a, b):
        found = lint(sched, total_steps=total)
        for f in found:
            assert f.rule in RULES and f.severity in ("error", "warning", "info")
            json.dumps(f.to_dict())


# -- findings are about the updates the run takes (issue 14, items 1-2) -----------------------

NEMO_RL_RECIPE = """\
policy:
  optimizer: {name: torch.optim.AdamW, kwargs: {lr: 5.0e-6}}
  scheduler:
    - name: torch.optim.lr_scheduler.LinearLR
      kwargs: {start_factor: 0.1, end_factor: 1.0, total_iters: 50}
    - name: torch.optim.lr_scheduler.CosineAnnealingLR
      kwargs: {T_max: 450, eta_min: 5.0e-7}
    - milestones: [50]
grpo: {max_num_steps: 500}
"""


def test_the_standard_nemo_rl_recipe_checks_clean():
    """Warm-up W, cosine T_max = run - W, milestones [W]: torch's cosine climbs back only after
    the last update, so nothing is wrong with the run."""
    from lrkit.config import load_config_text

    cfg = load_config_text(NEMO_RL_RECIPE)
    assert [f.rule for f in lint(cfg) if f.severity != "info"] == []
    # ten more updates and the run does train on the way back up
    longer = load_config_text(NEMO_RL_RECIPE, total_steps=520)
    assert "lr-rises-again" in [f.rule for f in lint(longer) if f.severity == "error"]


def test_a_warmup_of_one_percent_is_not_too_short():
    assert "warmup-too-short" not in rules(lint(Warmup(Cosine(steps=99_001), 999), total_steps=100_000))
    assert "warmup-too-short" in rules(lint(Warmup(Cosine(steps=99_100), 900), total_steps=100_000))


def test_a_warmup_ending_one_update_before_its_milestone_at_the_next_pieces_value_is_no_mismatch():
    linear = {"name": "torch.optim.lr_scheduler.LinearLR", "kwargs": {"start_factor": 0.01, "total_iters": 99}}
    sched = Warmup(Cosine(steps=900), 100)  # reaches the peak at update 99; the cosine starts at it
    ctx = torch_list([linear, cosine_lr(900)], [100])
    assert "milestones-mismatch" not in rules(lint(resolved(sched, total_steps=1000, context=ctx)))
    # a LinearLR that ends 50 updates early holds: still reported
    short = {"name": "torch.optim.lr_scheduler.LinearLR", "kwargs": {"start_factor": 0.01, "total_iters": 50}}
    ctx = torch_list([short, cosine_lr(900)], [100])
    assert "milestones-mismatch" in rules(lint(resolved(sched, total_steps=1000, context=ctx)))


def test_a_constant_lr_cut_short_by_its_milestone_is_no_mismatch_but_one_that_jumps_back_is():
    def const(factor, iters):
        return {"name": "torch.optim.lr_scheduler.ConstantLR", "kwargs": {"factor": factor, "total_iters": iters}}

    sched = Constant(1.0)
    for piece in (const(1.0, 1), const(0.5, 10_000_000_000)):
        ctx = torch_list([piece, cosine_lr(500, start=500)], [500], warm=0)
        assert "milestones-mismatch" not in rules(lint(resolved(sched, total_steps=1000, context=ctx)))
    ctx = torch_list([const(0.5, 100), cosine_lr(500, start=500)], [500], warm=0)
    assert "milestones-mismatch" in rules(lint(resolved(sched, total_steps=1000, context=ctx)))


def test_a_readers_fix_for_the_same_rule_wins_and_the_linter_keeps_the_runs_numbers():
    # the reader knows its format's setting (DeepSpeed: warmup_min_lr); the linter's fix is generic
    quirk = Finding(
        "first-update-at-zero", "warning", "DeepSpeed writes 0 first", fix="set a warmup_min_lr above 0.", source="x"
    )
    cfg = resolved(Sequence([Linear(0.0, 1.0, 100), Cosine(steps=900)], [100]), total_steps=1000, findings=[quirk])
    (f,) = [f for f in lint(cfg) if f.rule == "first-update-at-zero"]
    assert f.fix == "set a warmup_min_lr above 0." and f.source == "x"
    assert "step 0" in f.message and f.evidence["steps"] == [0, 1]  # the linter's message and numbers


def test_every_leading_zero_lr_update_is_counted():
    two = Sequence([Constant(0.0), Linear(0.01, 1.0, 100), Cosine(steps=898)], [2, 102])
    (f,) = [f for f in lint(two, total_steps=1000) if f.rule == "first-update-at-zero"]
    assert "the first 2 updates (steps 0-1)" in f.message and "2 updates and their gradients" in f.message
    assert f.evidence["steps"] == [0, 2]
