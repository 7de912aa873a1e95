"""A long, steady rise of the eval loss while the training loss does not fall
(lrkit.diagnosis.overfit's steady-rise rule): small logs written to mirror a Lightning density
net whose val loss rose steadily over the last 40% of 700 epochs while its noisy training loss
sat flat (benchmarks/data/diagnose, blind6), and the near misses that must stay healthy."""

from __future__ import annotations

import numpy as np
import pytest

from lrkit.diagnosis import diagnose

#: 700 epochs of 10 steps; the training loss logged every 50 steps, the val loss every 30
TRAIN_STEPS = np.arange(49, 7000, 50)
EVAL_STEPS = np.arange(9, 7000, 30)


def _train_flat(seed: int, noise: float = 0.4) -> np.ndarray:
    """0.0027 falling to ~0.001 by mid-run, then flat and noisy (single-batch losses)."""
    rng = np.random.default_rng(seed)
    level = 0.001 + 0.0017 * np.exp(-TRAIN_STEPS / 600)
    return level * np.exp(rng.normal(0, noise, TRAIN_STEPS.size))


def _eval(seed: int, late: np.ndarray, noise: float = 0.05) -> np.ndarray:
    """0.0034 falling to ~3.5e-4 by step 3,800, then ``late`` (a factor over that level, per eval
    after it)."""
    rng = np.random.default_rng(seed + 100)
    fall = 3.5e-4 + 3.05e-3 * np.exp(-EVAL_STEPS / 900)
    level = np.where(EVAL_STEPS <= 3800, fall, 3.5e-4 * late)
    return level * np.exp(rng.normal(0, noise, EVAL_STEPS.size))


def _rise(top: float) -> np.ndarray:
    """1 up to step 3,800, then a straight climb to ``top`` at the last eval."""
    return 1.0 + (top - 1.0) * np.clip((EVAL_STEPS - 3800) / (EVAL_STEPS[-1] - 3800), 0, None)


def test_a_steady_eval_rise_over_the_last_40_percent_with_a_flat_train_loss_is_overfitting():
    d = diagnose(TRAIN_STEPS, _train_flat(0), eval_steps=EVAL_STEPS, eval_losses=_eval(0, _rise(1.55)))
    assert d.verdict == "overfitting", str(d)
    (f,) = d.of("overfitting")
    assert f.evidence["train_fell"] is False
    assert 3500 <= f.evidence["best_step"] <= 4100
    assert f.evidence["end_eval_loss"] >= 1.3 * f.evidence["best_eval_loss"]
    assert "did not fall" in f.message and "drift" in f.message
    assert "stop or restore the checkpoint" in f.fix
    assert d.suggested_lr is None


def test_a_steady_eval_rise_while_the_train_loss_falls_is_still_the_usual_overfitting():
    y = _train_flat(0, noise=0.05) * np.linspace(1.0, 0.5, TRAIN_STEPS.size)
    d = diagnose(TRAIN_STEPS, y, eval_steps=EVAL_STEPS, eval_losses=_eval(0, _rise(1.55)))
    assert d.verdict == "overfitting" and d.of("overfitting")[0].evidence["train_fell"] is True, str(d)


# -- near misses: what must stay healthy ---------------------------------------------------------------
# (a training loss flat within 3%: a noisier one can "fall" 3% by chance and meet the usual rule)


@pytest.mark.parametrize("seed", range(6))
def test_noisy_evals_around_their_level_with_a_flat_train_loss_stay_healthy(seed):
    # 20% eval noise puts the best (a lucky low) well below the level the evals return to: the
    # end is 1.3x+ the best, but nothing rises
    flat = np.ones(EVAL_STEPS.size)
    d = diagnose(TRAIN_STEPS, _train_flat(seed, 0.03), eval_steps=EVAL_STEPS, eval_losses=_eval(seed, flat, 0.2))
    assert d.verdict == "healthy", str(d)


def test_an_eval_rise_that_comes_back_near_its_best_stays_healthy():
    bump = 1.0 + 0.6 * np.sin(np.pi * np.clip((EVAL_STEPS - 3800) / (EVAL_STEPS[-1] - 3800), 0, 1))
    d = diagnose(TRAIN_STEPS, _train_flat(1, 0.03), eval_steps=EVAL_STEPS, eval_losses=_eval(1, bump))
    assert d.verdict == "healthy", str(d)


def test_a_steady_rise_under_1_3x_stays_healthy():
    d = diagnose(TRAIN_STEPS, _train_flat(2, 0.03), eval_steps=EVAL_STEPS, eval_losses=_eval(2, _rise(1.2)))
    assert d.verdict == "healthy", str(d)


def test_a_steady_rise_with_the_train_loss_rising_too_is_not_this_overfitting():
    # both losses climbing together is no gap between train and eval data
    y = _train_flat(3, noise=0.05) * np.where(TRAIN_STEPS > 3800, _rise_at(TRAIN_STEPS, 1.3), 1.0)
    d = diagnose(TRAIN_STEPS, y, eval_steps=EVAL_STEPS, eval_losses=_eval(3, _rise(1.55)))
    assert not any(f.evidence.get("train_fell") is False for f in d.of("overfitting")), str(d)


def _rise_at(steps: np.ndarray, top: float) -> np.ndarray:
    return 1.0 + (top - 1.0) * np.clip((steps - 3800) / (steps[-1] - 3800), 0, None)
