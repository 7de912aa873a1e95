"""The Ray backend: a tiny comparison on a local Ray instance (2 CPUs, no dashboard)."""

from __future__ import annotations

import pytest
import torch
from _extras import require

from lrkit.compare.core import run_comparison
from lrkit.compare.runner import run_trial
from lrkit.compare.spec import TrialSpec

ray = require("ray", "the Ray backend")


@pytest.mark.slow
def test_tiny_comparison_on_local_ray_matches_in_process_runs(tmp_path):
    assert not ray.is_initialized()
    settings = {
        "task": "digits",
        "schedules": ["cosine", "constant"],
        "lrs": [0.05],
        "steps": 8,
        "seeds": 2,
        "backend": "ray",
        "workers": 2,
        "out": tmp_path,
        "write_report": False,
    }
    out = run_comparison(**settings)
    assert not ray.is_initialized()  # the instance it started is shut down again
    assert out.ran == 4 and not out.interrupted
    assert out.plan["backend"] == "ray (local Ray instance, 2 CPUs)"
    assert all(r["status"] == "ok" for r in out.trials.values())
    assert out.summary.verdict.winner is not None
    # a Ray task is the same run as in this process: same seed, same curve, bit for bit
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        row = next(iter(out.trials.values()))
        inline = run_trial(TrialSpec.from_plain(row["spec"]))
    finally:
        torch.set_num_threads(old)
    assert inline["losses"] == row["losses"] and inline["lrs"] == row["lrs"]
    # the same store resumes: nothing is trained again
    again = run_comparison(**settings)
    assert again.ran == 0 and again.reused == 4


def test_unreachable_cluster_is_one_clear_error_not_a_hang():
    import socket

    from lrkit.compare.backends import make_backend
    from lrkit.errors import ConfigError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConfigError, match="nothing answers"):
        make_backend("ray", ray_address=f"ray://127.0.0.1:{port}")
    with pytest.raises(ConfigError, match="Ray address"):
        make_backend("ray", ray_address="not-an-address")
