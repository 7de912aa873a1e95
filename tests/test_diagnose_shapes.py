"""The diagnosis on small logs written to mirror real runs of the corpus in
benchmarks/data/diagnose (each test names the shape it mirrors)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrkit.diagnosis import diagnose
from lrkit.diagnosis.curve import read_curve
from lrkit.linter import lint
from lrkit.schedules import warmup_cosine

WARMUP_RULES = ("warmup-too-long", "warmup-too-short", "warmup-longer-than-run", "no-warmup")


def _warmup_findings(total: int, warmup: int) -> list[str]:
    return [f.rule for f in lint(warmup_cosine(total, warmup, peak=1e-4), total_steps=total) if f.rule in WARMUP_RULES]


# -- divergence visible anywhere --------------------------------------------------------------------


def test_blow_up_to_ln_vocab_in_a_ten_row_log_is_diverging():
    # QLoRA at LR 5: 1.64 -> 11.8, then it sits at 10.37 = ln(32,000): uniform over the vocabulary
    steps = np.arange(10, 110, 10)
    y = np.array([1.64, 1.52, 11.8, 10.9, 10.4, 10.37, 10.37, 10.38, 10.37, 10.37])
    d = diagnose(steps, y, np.full(10, 5.0))
    assert d.verdict == "diverging", str(d)
    f = d.of("diverging")[0]
    assert "ln" in f.message and f.evidence["onset_step"] <= 30
    assert d.suggested_lr is not None and d.suggested_lr < 5.0


# -- stuck: frozen or never learned ------------------------------------------------------------------


def test_a_loss_frozen_at_exactly_one_value_is_stuck_never_healthy():
    # flat at exactly 0.25000 for 90% of the run
    y = np.concatenate([np.linspace(0.7, 0.25, 20), np.full(180, 0.25)])
    d = diagnose(np.arange(200), y)
    assert d.verdict == "stuck" and not d.ok
    (f,) = d.of("stuck")
    assert f.rule == "frozen-loss" and "bug" in f.fix and d.suggested_lr is None


def test_an_mse_creeping_at_the_fifth_digit_near_0_25_is_stuck():
    # a dead LSTM: full-batch MSE falls to 0.25 (a constant 0.5 for 0/1 targets) and creeps
    # 0.250008 -> 0.250006 for 3/4 of the run ("flat at exactly 0.25000")
    steps = np.arange(49, 12_000, 50)
    y = (0.25 + 1.5 * np.exp(-steps / 150) + 8e-6 * np.exp(-steps / 20_000)).astype(np.float32)
    d = diagnose(steps, y.astype(np.float64))
    assert d.verdict == "stuck" and not d.ok, str(d)


def test_a_classifier_pinned_at_ln_4_is_stuck_with_bug_first_advice():
    rng = np.random.default_rng(1)
    y = np.log(4) * np.exp(rng.normal(0, 0.002, 300))
    d = diagnose(np.arange(300), y, np.full(300, 1e-3))
    assert d.verdict == "stuck"
    f = d.of("stuck")[0]
    assert "ln 4" in f.message and "bug" in f.fix
    assert "raise" not in f.fix.lower() and d.suggested_lr is None


def _noisy_flat_batches(seed: int, fall: float = 1.0):
    """75 single-batch losses scattered 30% (log-normal) around 0.52, optionally falling ``fall``x
    over the run (the blind3 flat probe run's shape), and an eval loss every ~790 steps."""
    rng = np.random.default_rng(seed)
    steps = np.arange(49, 3750, 50)
    level = 0.52 * fall ** (-np.linspace(0.0, 1.0, steps.size))
    return steps, level * np.exp(rng.normal(0.0, 0.3, steps.size)), np.array([787, 1575, 2363, 3151])


def test_noisy_batch_losses_with_a_flat_eval_loss_never_learned():
    for seed in range(6):
        steps, y, es = _noisy_flat_batches(seed)
        flat_eval = np.array([0.5105, 0.5101, 0.5128, 0.5171])
        d = diagnose(steps, y, eval_steps=es, eval_losses=flat_eval)
        assert d.verdict == "stuck", str(d)
        # an eval loss that improved says the model learned, whatever the noisy batches show
        assert diagnose(steps, y, eval_steps=es, eval_losses=np.array([0.6, 0.5, 0.45, 0.42])).verdict != "stuck"


def test_a_clear_fall_in_noisy_batch_losses_is_learning_whatever_the_eval_says():
    for seed in range(6):
        steps, y, es = _noisy_flat_batches(seed, fall=3.0)
        d = diagnose(steps, y, eval_steps=es, eval_losses=np.array([0.5105, 0.5101, 0.5128, 0.5171]))
        assert d.verdict != "stuck", str(d)


def _creeps_to_chance(k: int = 2, epochs: int = 38):
    """Cross-entropy over ``k`` balanced classes that falls from 14% above ``ln k`` and creeps to
    it (the blind4 AES-bit run's shape: 0.793 -> 0.6933, one row per epoch)."""
    e = np.arange(epochs)
    return e, math.log(k) * (1 + 0.14 * np.exp(-e) + 0.004 * np.exp(-e / 8))


def test_a_loss_that_settles_at_ln_k_learned_only_the_prior_and_is_stuck():
    for k in (2, 10):
        e, y = _creeps_to_chance(k)
        ey = math.log(k) * (1 + np.where(e < 3, 0.05, 0.0002))
        d = diagnose(e, y, eval_steps=e, eval_losses=ey, step_unit="epoch")
        assert d.verdict == "stuck", str(d)
        (f,) = d.of("stuck")
        assert f.evidence["uniform_over"] == k and f.evidence["since_step"] <= 5
        assert "class prior" in f.message
        # without the eval loss, a loss converging to a floor that happens to be ln k looks the same
        assert diagnose(e, y, step_unit="epoch").verdict != "stuck"


def test_passing_through_ln_k_or_an_eval_loss_away_from_it_is_not_at_chance():
    e, y = _creeps_to_chance(2)
    for ev in (0.55, 0.66, 0.75):  # the eval loss away from ln 2 (0.6931): a model, not the prior
        held_out = np.full(e.size, ev)
        assert diagnose(e, y, eval_steps=e, eval_losses=held_out, step_unit="epoch").verdict != "stuck"
    falls = 0.9 * np.exp(-np.arange(60) / 25) + 0.05  # crosses ln 2 on its way down
    assert diagnose(np.arange(60), falls).verdict != "stuck"


def test_an_lm_stuck_at_7_6_for_11k_steps_is_stuck_not_slow():
    rng = np.random.default_rng(2)
    steps = np.arange(49, 11_000, 50)
    y = 7.65 * np.exp(rng.normal(0, 0.006, steps.size)) - 0.0001 * np.arange(steps.size)
    d = diagnose(steps, y)
    assert d.verdict == "stuck", str(d)
    assert not d.of("slow")
    assert "= ln" not in d.of("stuck")[0].message  # 7.6 is ln of some number; only meaningful ones are named


# -- overfitting from the eval loss ------------------------------------------------------------------


def _whisper_like() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    steps = np.arange(25, 5001, 25)
    y = np.round(np.maximum(0.9 * np.exp(-steps / 300), 0.0002), 4)  # logged to 4 decimals
    lrs = np.where(steps < 500, 1e-5 * steps / 500, 1e-5 * (5000 - steps) / 4500)
    es = np.array([1000, 2000, 3000, 4000, 5000])
    ey = np.array([0.3075, 0.3558, 0.4214, 0.4519, 0.4679])
    return steps, y, lrs, es, ey


def test_eval_loss_rising_while_train_falls_is_overfitting_with_the_best_step():
    steps, y, lrs, es, ey = _whisper_like()
    d = diagnose(steps, y, lrs, eval_steps=es, eval_losses=ey)
    assert d.verdict == "overfitting", str(d)
    (f,) = d.of("overfitting")
    assert f.evidence["best_step"] == 1000
    assert "restore" in f.fix and "regularisation" in f.fix and "decay earlier" in f.fix
    assert not re.search(r"(raise|increase) the (peak )?LR", f.fix) and d.suggested_lr is None
    assert d.summary["best_eval_step"] == 1000
    assert diagnose(steps, y, lrs).verdict != "overfitting"  # the training loss alone cannot show it


def test_an_eval_loss_flat_within_noise_is_not_overfitting():
    steps, y, lrs, es, _ = _whisper_like()
    d = diagnose(steps, y, lrs, eval_steps=es, eval_losses=np.array([0.66, 0.52, 0.4853, 0.4906, 0.4917]))
    assert d.verdict != "overfitting", str(d)


def test_an_accelerating_eval_rise_logged_every_step_is_overfitting():
    # eval logged at every update (an LRMonitor record per step), rising ever faster from step 80
    k = np.arange(200)
    train = 2.0 * np.exp(-k / 40) + 0.05
    ev = 1.0 + 0.3 * ((k - 80) / 60) ** 2
    d = diagnose(k, train, None, eval_steps=k, eval_losses=ev)
    assert d.verdict == "overfitting", str(d)
    assert d.of("overfitting")[0].evidence["best_step"] == 80


def test_one_late_eval_jump_is_not_overfitting():
    k = np.arange(0, 1000, 50)
    train = 2.0 * np.exp(-k / 300) + 0.05
    ev = np.full(k.size, 1.0)
    ev[:4] = [1.6, 1.3, 1.1, 1.02]
    ev[-1] = 1.3
    d = diagnose(k, train, None, eval_steps=k, eval_losses=ev)
    assert d.verdict != "overfitting", str(d)


# -- a climb the eval loss shows did lasting harm ------------------------------------------------------


def _climb_during_warmup(seed: int = 0):
    """A fine-tune that learns in 100 steps, then climbs 2.6x while a long warm-up raises the LR,
    sits there, and falls part of the way back at an epoch boundary (the blind2 whisper warm-up
    run's shape); noise 3%."""
    rng = np.random.default_rng(seed)
    steps = np.arange(25, 1525, 25)
    base = np.interp(steps, [25, 125, 225, 500, 1100, 1125, 1500], [0.83, 0.118, 0.13, 0.31, 0.28, 0.175, 0.178])
    y = base * np.exp(rng.normal(0.0, 0.03, steps.size))
    lrs = np.where(steps < 525, 1e-4 * steps / 525, 1e-4)
    es = np.array([250, 500, 750, 1000, 1250, 1500])
    return steps, y, lrs, es


def test_a_climb_after_which_the_eval_loss_never_comes_back_is_diverging():
    for seed in range(5):
        steps, y, lrs, es = _climb_during_warmup(seed)
        ey = np.array([0.219, 0.416, 0.423, 0.41, 0.438, 0.40])
        d = diagnose(steps, y, lrs, eval_steps=es, eval_losses=ey)
        assert d.verdict == "diverging", str(d)
        (f,) = d.of("diverging")
        assert "eval loss never came back" in f.message and f.evidence["best_eval_loss"] == 0.219
        assert 125 <= f.evidence["onset_step"] <= 400
        assert d.suggested_lr is not None and d.suggested_lr < 1e-4


def test_the_same_climb_is_not_diverging_when_the_eval_loss_recovers_or_is_absent():
    steps, y, lrs, es = _climb_during_warmup()
    recovered = np.array([0.219, 0.416, 0.30, 0.26, 0.24, 0.23])  # back within 1.25x of 0.219
    for ey in (recovered, None):
        kw = {} if ey is None else {"eval_steps": es, "eval_losses": ey}
        d = diagnose(steps, y, lrs, **kw)
        assert d.verdict != "diverging", str(d)


def test_eval_rising_while_the_training_loss_falls_stays_overfitting_not_diverging():
    # the rule needs the training loss to have climbed: a falling one with a rising eval is overfitting
    steps, y, lrs, es, ey = _whisper_like()
    assert diagnose(steps, y, lrs, eval_steps=es, eval_losses=ey).verdict == "overfitting"
    k = np.arange(0, 2000, 20)
    train = 2.0 * np.exp(-k / 200) + 0.1
    ek = np.arange(200, 2000, 200)
    ev = np.concatenate([[0.5], np.full(ek.size - 1, 0.9)])  # 1.8x its early best for the rest of the run
    assert diagnose(k, train, None, eval_steps=ek, eval_losses=ev).verdict != "diverging"


# -- spikes against the log's resolution and the run's outcome ----------------------------------------


def test_four_decimal_rounding_near_3e_4_is_never_a_spike():
    rng = np.random.default_rng(3)
    steps = np.arange(0, 2000, 10)
    y = np.concatenate([0.9 * np.exp(-np.arange(60) / 8), np.full(140, 0.0003)])
    y[60:] += rng.choice([0.0, 0.0, 0.0, 0.0001, 0.0005], 140)  # 0.0003 -> 0.0008 jumps
    y = np.round(y, 4)
    d = diagnose(steps, y, np.full(steps.size, 2e-5))
    assert not d.of("spikes") and not d.of("oscillating"), str(d)
    assert d.suggested_lr is None


def test_a_brief_excursion_in_a_run_that_converged_by_six_orders_is_not_spikes():
    # physics-informed: 230 -> 2e-4, one excursion to 0.05 on the way
    rng = np.random.default_rng(4)
    steps = np.arange(0, 320_000, 800)
    y = 230 * np.exp(-steps / 20_000) + 2e-4
    y *= np.exp(rng.normal(0, 0.05, steps.size))
    y[200:203] = [0.05, 0.02, 0.004]
    d = diagnose(steps, y)
    assert d.verdict == "converged", str(d)
    assert not d.of("spikes")


def test_one_bad_batch_is_a_spike_only_when_it_undoes_the_run():
    # near-converged classifier: 0.26 -> 0.0014, one two-step jump 0.002 -> 0.0465 undone at once
    steps = np.arange(10, 640, 10)
    y = np.maximum(0.26 * np.exp(-steps / 60), 0.0014)
    y[40:42] = [0.0193, 0.0465]
    d = diagnose(steps, np.round(y, 4), np.linspace(2e-4, 1e-6, steps.size))
    assert not d.of("spikes"), str(d)
    # a PINN otherwise steady 0.15 -> 0.044 where one step jumps 0.05 -> 126: a real blow-up
    rng = np.random.default_rng(5)
    steps = np.arange(49, 63_000, 50)
    y = (0.1 * np.exp(-steps / 5000) + 0.044) * np.exp(rng.normal(0, 0.05, steps.size))
    y[320] = 126.0
    assert diagnose(steps, y).verdict == "spikes"


# -- slow convergence on a short log ------------------------------------------------------------------


def test_a_short_log_still_falling_in_a_straight_line_is_slow():
    # a 5-epoch smoke run logging only val_loss: 1.481 -> 1.389, about the same fall every epoch
    steps = np.arange(1, 10, 2)
    y = np.array([1.4806, 1.4574, 1.4344, 1.4115, 1.3889])
    d = diagnose(steps, y)
    assert d.verdict == "slow", str(d)
    (f,) = d.of("slow")
    assert f.severity == "warning" and "first half" in f.message
    # ten epochs of an image classifier: 2.27 -> 1.88, falling 0.03-0.05 at each epoch
    y10 = 2.274 - 0.044 * np.arange(10) + 0.002 * np.sin(np.arange(10))
    assert diagnose(np.arange(1, 20, 2), y10).verdict == "slow"


def test_a_short_log_that_bends_or_scatters_is_not_slow():
    steps = np.arange(1, 11)
    # most of the fall in the first half, as a healthy short run does
    bent = 0.35 + 0.9 * np.exp(-steps / 2.0)
    assert not diagnose(steps, bent).of("slow")
    # a fall within scatter (up, down): not a steady fall
    scatter = np.array([1.10, 1.02, 1.06, 0.99, 1.03, 0.97, 1.01, 0.95, 0.99, 0.94])
    assert not diagnose(steps, scatter).of("slow")
    # a straight fall at a known fine-tune LR is only a note
    d = diagnose(steps, 2.0 - 0.05 * steps, np.full(steps.size, 2e-5))
    assert d.verdict == "healthy" and all(f.severity == "info" for f in d.of("slow")), str(d)


# -- converged -----------------------------------------------------------------------------------------


def test_a_loss_of_exactly_zero_is_converged_not_a_plateau():
    # trivial or leaked labels: exactly 0 from step ~900
    steps = np.arange(10, 1510, 10)
    y = np.round(np.where(steps < 900, 0.85 * np.exp(-steps / 40), 0.0), 4)
    d = diagnose(steps, y, np.linspace(5e-5, 2.5e-5, steps.size))
    assert d.verdict == "converged" and d.ok, str(d)
    assert not d.of("plateau")
    assert "leak" in d.findings[0].fix and d.suggested_lr is None


def test_a_run_fitted_to_a_few_ten_thousandths_of_its_start_is_converged():
    # a classifier fine-tune that fitted its set: 0.35 -> ~9e-4 (about 390x) and flat there
    steps = np.arange(250, 7250, 250)
    y = 0.35 * np.exp(-steps / 400) + 9e-4
    d = diagnose(steps, np.round(y, 4), np.linspace(1e-5, 0.0, steps.size))
    assert d.verdict == "converged" and d.ok, str(d)
    (f,) = d.of("converged")
    assert f.evidence["end_loss"] < f.evidence["start_loss"] / 200


def test_a_run_still_learning_after_a_hundredfold_fall_is_healthy_not_converged():
    # 0.15 -> 0.0014 (about 105x) and still falling on a log scale: learning, not fitted to 0
    steps = np.arange(0, 2000, 20)
    y = 0.15 * np.exp(-steps / 430)
    d = diagnose(steps, y, np.full(steps.size, 3e-4))
    assert d.verdict == "healthy" and not d.of("converged"), str(d)


# -- schedule findings from the logged LR --------------------------------------------------------------


def test_a_warmup_longer_than_the_run_is_a_schedule_finding_with_lint_clean_advice():
    # a warm-up of 421 steps in a 420-step run: the LR rises the whole run
    steps = np.arange(0, 420, 5)
    lrs = 1e-4 * (steps + 1) / 421
    y = 2.0 * np.exp(-steps / 150) + 0.5
    d = diagnose(steps, y, lrs)
    assert d.verdict == "schedule", str(d)
    (f,) = d.of("schedule")
    assert f.rule == "warmup-never-ends"
    warm = f.evidence["suggested_warmup_steps"]
    assert f"{warm:,} steps" in f.fix
    assert _warmup_findings(420, warm) == []


def test_lr_at_zero_for_updates_is_a_schedule_finding():
    steps = np.arange(0, 1000, 10)
    lrs = np.where(steps < 700, 1e-3 * (1 - steps / 700), 0.0)
    y = 2.0 * np.exp(-steps / 200) + 0.5
    d = diagnose(steps, y, lrs)
    assert [f.rule for f in d.of("schedule")] == ["lr-zero"]
    # Hugging Face logs LR 0 at the very last step: that is no finding
    steps = np.arange(10, 260, 10)
    assert diagnose(steps, 2.3 * np.exp(-steps / 60) + 1.2, 2e-4 * (1 - steps / 250)).verdict == "healthy"


def test_a_decay_that_ends_long_before_the_run_is_a_schedule_finding():
    steps = np.arange(0, 1000, 10)
    lrs = np.where(steps < 400, 1e-3 * np.cos(np.pi / 2 * steps / 400) + 1e-9, 1e-9)
    y = 2.0 * np.exp(-steps / 200) + 0.5
    d = diagnose(steps, y, lrs)
    (f,) = d.of("schedule")
    assert f.rule == "decay-ends-early" and f.evidence["start_step"] <= 410


# -- advice is a config lrkit check accepts -------------------------------------------------------------


@pytest.mark.parametrize(("total", "warmup"), [(2_000, 200), (10_000, 1_000)])
def test_warmup_advice_lints_clean(total, warmup):
    # divergence just after warm-up (the docs' example): the advice must be a config check accepts
    for t, w in ((total, warmup), (total, total // 100)):  # and from a 1% warm-up, one to lengthen
        _check_warmup_advice(t, w)


def _check_warmup_advice(total: int, warmup: int) -> None:
    sched = warmup_cosine(total, warmup, peak=4e-4)
    steps = np.arange(0, min(total, 4 * warmup + 200))
    rng = np.random.default_rng(6)
    y = (2.0 * np.exp(-steps / 100) + 1.0) * np.exp(rng.normal(0, 0.02, steps.size))
    onset = warmup + 10
    y[onset:] *= np.exp((steps[onset:] - onset) / 15.0)
    d = diagnose(steps, y, schedule=sched)
    assert d.verdict == "diverging"
    fix = d.of("diverging")[0].fix
    m = re.search(r"warm-up (?:to|of about) ([\d,]+) steps", fix)
    if warmup >= 0.05 * total:
        assert m is None, fix  # already 5-10% of the run: lengthening it is what check refuses
    else:
        assert m is not None, fix
        advised = int(m.group(1).replace(",", ""))
        assert advised > warmup and _warmup_findings(total, advised) == []


# -- one start and end loss -------------------------------------------------------------------------------


def test_findings_quote_the_summary_start_and_end_loss():
    rng = np.random.default_rng(7)
    y = 7.65 * np.exp(rng.normal(0, 0.006, 200))
    d = diagnose(np.arange(200), y)
    f = d.of("stuck")[0]
    assert f"{d.summary['start_loss']:.4g}" in f.message and f"{d.summary['end_loss']:.4g}" in f.message


def test_one_noisy_eval_point_does_not_hide_a_plateau():
    # flat for the last half under a constant 3e-4; the eval loss (a noisy sample) is flat too
    rng = np.random.default_rng(8)
    t = np.arange(20_000)
    y = (3 * np.exp(-t / 2000) + 1) * np.exp(rng.normal(0, 0.05, t.size))
    d = diagnose(t, y, np.full(t.size, 3e-4), eval_steps=t[::100], eval_losses=y[::100])
    assert d.verdict == "plateau", str(d)


@settings(max_examples=60, deadline=None)
@given(run=st.integers(20, 2_000_000), share=st.floats(0.0, 0.2))
def test_advised_warmups_always_lint_clean(run, share):
    from lrkit.diagnosis.advice import advised_warmup

    current = int(share * run)
    for wanted in (None, 0.02 * run, 3 * current + 7):
        w = advised_warmup(run, current, wanted)
        if w is not None:
            assert w > current and _warmup_findings(run, w) == [], (run, current, w)


# -- the noise the thresholds are measured in ---------------------------------------------------------


def test_noise_is_read_at_its_size_on_flat_and_on_falling_logs():
    # 1.4826 x MAD around a 5-point running median read independent noise 0.72x its size and a
    # monotone noisy decay (a sparse log of a falling loss) as no noise at all (the 0.005 floor)
    flat, decay = [], []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        k = np.arange(100)
        flat.append(read_curve(k, np.exp(rng.normal(0.0, 0.1, k.size))).sigma / 0.1)
        k = np.arange(20)
        z = np.log(2.0 * np.exp(-k / 4) + 0.1) + rng.normal(0.0, 0.05, k.size)
        decay.append(read_curve(k, np.exp(z)).sigma / 0.05)
    assert 0.85 < np.median(flat) < 1.2, flat
    assert 0.6 < np.median(decay) < 1.5, decay
