"""Under torch.distributed (2 gloo processes on CPU) every rank sees the rank-averaged losses
and stops at the same update -- no rank left waiting in a collective."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
from _distributed import run_ranks_once

pytestmark = [pytest.mark.slow, pytest.mark.distributed]

WORLD = 2


SCENARIOS = ("plain", "nan", "exhausted")


def _run(rank: int) -> dict[str, dict]:
    return {scenario: _scenario(rank, scenario) for scenario in SCENARIOS}


def _scenario(rank: int, scenario: str) -> dict:
    import numpy as np
    from torch import nn

    from lrkit.finder import find_lr

    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    before = [p.detach().clone() for p in model.parameters()]
    g = torch.Generator().manual_seed(100 + rank)  # each rank has its own data
    data = [(torch.randn(8, 4, generator=g), torch.randn(8, 1, generator=g) + rank) for _ in range(4)]
    calls = [0]
    local = []

    def loss_fn(m, batch):
        calls[0] += 1
        loss = nn.functional.mse_loss(m(batch[0]), batch[1])
        if scenario == "nan" and rank == 1 and calls[0] == 13:
            loss = loss * float("nan")
        local.append(float(loss.detach()))
        return loss

    if scenario == "exhausted" and rank == 0:
        data_arg = iter(data * 3)  # rank 0 runs out after 12 batches; rank 1 does not
    else:
        data_arg = data
    res = find_lr(model, opt, data_arg, loss_fn, start_lr=1e-4, end_lr=1e-1, num_steps=30, check_every=4)
    # the other rank's local losses, to check the average
    gathered = [None] * WORLD
    dist.all_gather_object(gathered, local)
    n = len(res.raw_losses)
    expected = np.mean([np.asarray(gl[:n]) for gl in gathered], axis=0)
    return {
        "lrs": res.lrs,
        "raw": res.raw_losses,
        "expected": expected,
        "reason": res.stopped_reason,
        "restored": all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True)),
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, list[dict]]:
    """One spawn of 2 ranks runs every scenario (process start-up dominates the cost)."""
    run = run_ranks_once(_run, name="finder", tmp_path_factory=tmp_path_factory, world=WORLD)
    return {scenario: [r[scenario] for r in run.results] for scenario in SCENARIOS}


def test_losses_are_averaged_and_ranks_agree(results):
    import numpy as np

    r0, r1 = results["plain"]
    assert str(r0["reason"]) == str(r1["reason"]) == "completed"
    np.testing.assert_array_equal(r0["raw"], r1["raw"])
    np.testing.assert_array_equal(r0["lrs"], r1["lrs"])
    np.testing.assert_allclose(r0["raw"], r0["expected"], rtol=1e-5)
    assert bool(r0["restored"]) and bool(r1["restored"])


def test_a_nan_on_one_rank_stops_every_rank_at_the_same_update(results):
    import numpy as np

    r0, r1 = results["nan"]
    assert str(r0["reason"]) == str(r1["reason"]) == "nan"
    assert len(r0["raw"]) == len(r1["raw"]) == 12
    np.testing.assert_array_equal(r0["raw"], r1["raw"])
    assert bool(r0["restored"]) and bool(r1["restored"])


def test_data_running_out_on_one_rank_stops_all_without_hanging(results):
    import numpy as np

    r0, r1 = results["exhausted"]
    assert str(r0["reason"]) == str(r1["reason"]) == "data_exhausted"
    assert len(r0["raw"]) == len(r1["raw"]) == 12
    np.testing.assert_array_equal(r0["raw"], r1["raw"])
