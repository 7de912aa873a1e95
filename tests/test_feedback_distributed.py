"""Two gloo ranks on CPU, fed different losses, keep identical LRs; a NaN on one rank neither
hangs nor splits them. One spawn runs every scenario; the tests read its results."""

from __future__ import annotations

import math

import pytest
from _distributed import run_ranks_once

WORLD = 2
STEPS = 120
NAN_STEPS = {30, 31, 75}  # rank 1 reports NaN/inf there


def local_losses(rank: int) -> list[float]:
    """Different on every rank: rank 0 keeps improving, rank 1 stalls then rises."""
    import numpy as np

    rng = np.random.default_rng(100 + rank)
    k = np.arange(STEPS, dtype=np.float64)
    if rank == 0:
        curve = 2.0 * np.exp(-k / 40) + 0.3
    else:
        curve = np.where(k < 40, 2.0 - 0.02 * k, 1.2 + 0.004 * (k - 40))
    return [float(v) for v in curve + 0.01 * rng.standard_normal(STEPS)]


def _scenarios(rank: int) -> dict:
    import torch

    import lrkit
    from lrkit.feedback import AdaptiveController, AdaptiveLearningRate, PlateauController
    from lrkit.schedules import Constant, warmup_cosine

    def optimizer():
        return torch.optim.SGD(
            [
                {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1},
                {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.01},
            ]
        )

    losses = local_losses(rank)
    out: dict = {"losses": losses}
    for name, make in {
        "plateau": lambda sync: PlateauController(patience=3, factor=0.5, min_lr=[1e-4, 1e-5], sync=sync),
        "adaptive": lambda sync: AdaptiveController(window=5, patience=0, sync=sync),
    }.items():
        for sync in (True, False):
            schedule = Constant(1.0) if name == "plateau" else warmup_cosine(STEPS, 10)
            sched = lrkit.Scheduler(optimizer(), schedule, controller=make(sync))
            lrs, metrics = [], []
            for loss in losses:
                sched.step(torch.tensor(loss))
                lrs.append(sched.get_last_lr())
                metrics.append(sched.controller.last_metric)
            out[f"{name}_sync" if sync else f"{name}_local"] = {"lrs": lrs, "metrics": metrics}

    # one rank reports NaN / inf: every rank still joins every collective and agrees
    nan_losses = [math.nan if rank == 1 and k in NAN_STEPS else v for k, v in enumerate(losses)]
    nan_losses = [math.inf if rank == 1 and k == 75 else v for k, v in enumerate(nan_losses)]
    sched = lrkit.Scheduler(optimizer(), Constant(1.0), controller=AdaptiveController(window=5, patience=0))
    lrs = []
    for loss in nan_losses:
        sched.step(loss)
        lrs.append(sched.get_last_lr())
    out["nan"] = {"lrs": lrs, "scale": sched.controller.scale}

    opt = optimizer()
    alr = AdaptiveLearningRate(opt, initial_lr=0.1, min_lr=1e-3)
    out["guide"] = [[alr.update_lr(v)] + [g["lr"] for g in opt.param_groups] for v in nan_losses]
    return out


def _run(rank: int) -> dict:
    from lrkit.feedback import collective_device

    result = _scenarios(rank)
    result["device"] = str(collective_device())
    return result


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return run_ranks_once(_run, name="feedback", tmp_path_factory=tmp_path_factory, world=WORLD).results


pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["plateau", "adaptive"])
def test_ranks_with_different_losses_keep_identical_lrs(ranks, name):
    r0, r1 = ranks
    assert r0["losses"] != r1["losses"]
    assert r0[f"{name}_sync"]["lrs"] == r1[f"{name}_sync"]["lrs"]
    # not vacuous: deciding on each rank's own loss would have split the ranks
    assert r0[f"{name}_local"]["lrs"] != r1[f"{name}_local"]["lrs"]
    # and the synced run did act
    assert len({tuple(row) for row in r0[f"{name}_sync"]["lrs"]}) > 1


def test_decisions_use_the_mean_over_ranks(ranks):
    r0, r1 = ranks
    import numpy as np

    # the workers pass float32 tensors (as a training loop's loss is): average those values
    f32 = [np.asarray(r["losses"], dtype=np.float32).astype(np.float64) for r in (r0, r1)]
    mean = ((f32[0] + f32[1]) / 2).tolist()
    for name in ("plateau_sync", "adaptive_sync"):
        assert r0[name]["metrics"] == pytest.approx(mean, rel=1e-15)
        assert r0[name]["metrics"] == r1[name]["metrics"]


def test_nan_on_one_rank_neither_hangs_nor_splits(ranks):
    r0, r1 = ranks
    assert r0["nan"] == r1["nan"]
    assert all(math.isfinite(lr) and lr > 0 for row in r0["nan"]["lrs"] for lr in row)
    # the NaN steps counted as rises on both ranks: the LR fell right after the first one
    first = min(NAN_STEPS)
    assert r0["nan"]["lrs"][first][0] < r0["nan"]["lrs"][first - 1][0]
    assert r0["guide"] == r1["guide"]
    assert all(math.isfinite(v) for row in r0["guide"] for v in row)


def test_gloo_reduces_on_the_cpu(ranks):
    assert ranks[0]["device"] == "cpu"
