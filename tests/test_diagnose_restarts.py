"""A resumed run whose LR schedule restarted inside one log (lrkit.diagnosis.restarts): small
logs written to mirror the shape of a LoRA fine-tune resumed on new data several times
(benchmarks/data/diagnose, blind6), and the schedules that restart by design (SGDR, a
cyclical LR), which must read as before."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrkit.diagnosis import diagnose
from lrkit.diagnosis.restarts import find_lr_restarts
from lrkit.schedules import warmup_cosine, warmup_linear
from lrkit.schedules.cyclic import CosineRestarts, Cyclic

#: (first step, end step, peak LR, warm-up steps, loss at the start, loss at the end) per segment:
#: each resume restarts the scheduler (LR from 0, a short warm-up, a linear decay to ~0) on new
#: data, and the loss jumps up at the restart and falls again
RESUMES = (
    (0, 201, 2e-4, 50, 1.67, 0.009),
    (201, 251, 4e-5, 1, 3.0, 0.58),
    (251, 276, 1.7e-5, 1, 2.0, 1.0),
    (276, 351, 4.2e-5, 1, 1.25, 0.031),
    (351, 401, 1.3e-5, 1, 1.09, 0.29),
    (401, 501, 4e-5, 1, 1.14, 0.065),
)


def _segment_lr(t: np.ndarray, length: int, peak: float, warm: int) -> np.ndarray:
    """A warm-up from 0 over ``warm`` steps, then a linear decay to 0 at ``length``."""
    return np.where(t < warm, peak * t / warm, peak * (1 - (t - warm) / max(length - warm, 1)))


def _resumed_log(
    segments: tuple[tuple[int, int, float, int, float, float], ...] = RESUMES, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logged every 2 steps (odd steps, as a Hugging Face trainer with logging_steps=2)."""
    rng = np.random.default_rng(seed)
    steps, losses, lrs = [], [], []
    for a, b, peak, warm, start, end in segments:
        s = np.arange(a + (1 - a % 2), b, 2)
        t = (s - a).astype(np.float64)
        frac = t / (b - a)
        steps.append(s)
        losses.append(start * (end / start) ** frac * np.exp(rng.normal(0, 0.02, s.size)))
        lrs.append(_segment_lr(t, b - a, peak, warm))
    return np.concatenate(steps), np.concatenate(losses), np.concatenate(lrs)


def test_a_run_resumed_with_its_schedule_restarted_is_judged_on_its_last_segment():
    # the loss jumps 0.009 -> 3.0 where the LR restarts from 0: new data, not a spike; the LR at
    # 0 between segments is no schedule bug; the last segment (1.14 -> 0.065) is healthy
    s, y, lr = _resumed_log()
    d = diagnose(s, y, lr)
    assert d.verdict == "healthy", str(d)
    assert not d.of("spikes") and not d.of("schedule")
    (note,) = [f for f in d.findings if f.rule == "lr-restart"]
    assert note.severity == "info"
    assert note.evidence["restart_steps"] == [201, 251, 277, 351, 401]
    assert "201" in note.message and "401" in note.message
    assert d.summary["first_step"] == 401 and d.summary["lr_restart_steps"][-1] == 401
    assert d.summary["lr_peak"] == pytest.approx(4e-5, rel=0.02)


def test_a_spike_inside_the_last_segment_is_still_a_spike():
    s, y, lr = _resumed_log()
    y = y.copy()
    y[(s >= 451) & (s <= 459)] *= 8.0
    d = diagnose(s, y, lr)
    assert d.verdict == "spikes", str(d)
    assert 451 <= d.of("spikes")[0].evidence["peak_step"] <= 459


def test_the_eval_loss_of_earlier_segments_is_not_read_against_the_last():
    # each resume evaluates on its own new data; an eval loss far lower before the last restart
    # is no overfitting of the last segment
    s, y, lr = _resumed_log()
    es = np.arange(25, 501, 25)
    ey = np.where(es < 401, 0.01, np.linspace(1.2, 0.1, es.size))
    d = diagnose(s, y, lr, eval_steps=es, eval_losses=ey)
    assert d.verdict == "healthy", str(d)
    assert d.summary["eval_points"] == int((es >= 401).sum())


# -- near misses: what must read as before -----------------------------------------------------------


def _healthy_loss(s: np.ndarray, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 + 2.0 * np.exp(-s / (0.2 * s[-1]))) * np.exp(rng.normal(0, 0.02, s.size))


def test_one_warm_up_and_decay_to_zero_is_no_restart():
    s = np.arange(1, 1000, 2)
    lr = warmup_cosine(1000, 50, peak=2e-4)(s)
    assert find_lr_restarts(s, lr) is None
    d = diagnose(s, _healthy_loss(s), lr)
    assert d.verdict == "healthy" and not any(f.rule == "lr-restart" for f in d.findings), str(d)


@pytest.mark.parametrize(
    "schedule",
    [
        CosineRestarts(peak=1e-3, period=200, end=0.0),  # torch's CosineAnnealingWarmRestarts
        CosineRestarts(peak=1e-3, period=100, period_mult=2.0, end=0.0),  # T_mult = 2
        CosineRestarts(peak=1e-3, period=150, end=1e-6, peak_decay=0.5),  # timm's cycle_decay
        Cyclic(init=1e-5, peak=1e-3, step_size_up=100),  # triangular CLR down to 1% of its peak
        Cyclic(init=1e-5, peak=1e-3, step_size_up=100, mode="triangular2"),
    ],
    ids=["sgdr", "sgdr-tmult2", "sgdr-decay", "clr", "clr-triangular2"],
)
def test_restarts_at_regular_periods_are_a_configured_schedule_not_resumes(schedule):
    s = np.arange(0, 1000, 2)
    lr = np.asarray(schedule(s), dtype=np.float64)
    assert find_lr_restarts(s, lr) is None
    d = diagnose(s, _healthy_loss(s), lr)
    assert not any(f.rule == "lr-restart" for f in d.findings)
    assert d.summary["first_step"] == 0


def test_one_restart_back_to_the_same_peak_is_left_as_it_was():
    # SGDR with one restart in the log cannot be told from a resume with the same settings
    s = np.arange(0, 600, 2)
    lr = CosineRestarts(peak=1e-3, period=400, end=0.0)(s)
    assert find_lr_restarts(s, np.asarray(lr, dtype=np.float64)) is None


def test_a_glitch_to_zero_is_no_restart():
    # an LR of exactly 0 at one row between rows at the peak is a logging glitch (or the lr-zero
    # bug), not a schedule that decayed and started again
    s = np.arange(0, 400, 2)
    lr = np.full(s.size, 1e-3)
    lr[100] = 0.0
    assert find_lr_restarts(s, lr) is None
    d = diagnose(s, _healthy_loss(s), lr)
    assert d.of("schedule") and d.summary["first_step"] == 0, str(d)


def test_a_last_segment_too_short_to_judge_leaves_the_whole_log():
    segs = ((0, 301, 2e-4, 30, 1.6, 0.05), (301, 371, 5e-5, 1, 1.0, 0.2), (371, 377, 3e-5, 1, 0.9, 0.8))
    s, y, lr = _resumed_log(segs)
    assert find_lr_restarts(s, lr) is not None
    d = diagnose(s, y, lr)
    assert d.summary["first_step"] == int(s[0]) and not any(f.rule == "lr-restart" for f in d.findings)


def test_a_configured_cyclic_schedule_is_never_split():
    s, y, lr = _resumed_log()
    d = diagnose(s, y, lr, schedule=CosineRestarts(peak=2e-4, period=100, end=0.0))
    assert d.summary["first_step"] == int(s[0]) and not any(f.rule == "lr-restart" for f in d.findings)


@settings(max_examples=60, deadline=None)
@given(
    total=st.integers(200, 5000),
    warm_share=st.floats(0.0, 0.2),
    floor=st.sampled_from([0.0, 0.01, 0.1]),
    every=st.integers(1, 5),
    linear=st.booleans(),
)
def test_one_warm_up_and_decay_never_reads_as_a_restart(total, warm_share, floor, every, linear):
    make = warmup_linear if linear else warmup_cosine
    s = np.arange(0, total, every)
    lr = np.asarray(make(total, int(warm_share * total), peak=3e-4, min_ratio=floor)(s), dtype=np.float64)
    assert find_lr_restarts(s, lr) is None


@settings(max_examples=60, deadline=None)
@given(
    period=st.integers(50, 400),
    mult=st.sampled_from([1.0, 1.5, 2.0]),
    decay=st.sampled_from([1.0, 0.8, 0.5]),
    cycles=st.integers(3, 5),
    every=st.integers(1, 5),
)
def test_sgdr_at_its_configured_periods_never_reads_as_resumes(period, mult, decay, cycles, every):
    sched = CosineRestarts(peak=1e-3, period=period, period_mult=mult, end=0.0, peak_decay=decay)
    end = int(sched._cycle_start(np.float64(cycles))) + period // 2
    s = np.arange(0, end, every)
    assert find_lr_restarts(s, np.asarray(sched(s), dtype=np.float64)) is None


def test_sgdr_logged_every_few_updates_is_still_regular():
    # periods 76, 114, 171 seen at the first logged row after each restart (every 5 updates):
    # 80, 110, 175, whose ratios differ by 16% -- within the logging's own error
    sched = CosineRestarts(peak=1e-3, period=76, period_mult=1.5, end=0.0, peak_decay=1.0)
    s = np.arange(0, 399, 5)
    assert find_lr_restarts(s, np.asarray(sched(s), dtype=np.float64)) is None
