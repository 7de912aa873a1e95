"""Previewing a whole run: a 1,000,000-step schedule evaluated at once against stepping the
equivalent torch scheduler a million times and reading its LR after each step.

Curve: 2,000 warm-up steps then cosine to 10% of the peak (lrkit ``warmup_cosine`` against
torch ``SequentialLR(LinearLR, CosineAnnealingLR)`` and ``LambdaLR``). The two curves are
checked to agree before anything is timed. Measured side by side in one process.

Run: ``.venv/bin/python benchmarks/bench_vectorized.py`` (about a minute on 2 cores).
Target (issue 2): the vectorized evaluation >= 100x faster than stepping torch.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
import warnings

import numpy as np
import torch
from torch.optim import lr_scheduler as L

from lrkit import Scheduler
from lrkit.schedules import Cosine, Linear, Sequence, warmup_cosine

WARMUP = 2_000
FLOOR = 0.1
PEAK = 3e-4


def torch_curve(make, n: int) -> np.ndarray:
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=PEAK)
    opt.step()
    sched = make(opt)
    group = opt.param_groups[0]
    out = np.empty(n)
    for k in range(n):
        out[k] = group["lr"]
        sched.step()
    return out


def best_of(fn, repeat: int) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.steps
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    print(
        f"torch {torch.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; CPU only (no GPU in this run); {n:,} steps"
    )

    schedule = warmup_cosine(n, WARMUP, peak=PEAK, min_ratio=FLOOR)
    # torch's own composition: its warm-up starts at start_factor and peaks at the milestone
    torch_equivalent = Sequence([Linear(PEAK / WARMUP, PEAK, WARMUP), Cosine(PEAK, n - WARMUP, FLOOR * PEAK)], [WARMUP])

    def seq(opt):
        return L.SequentialLR(
            opt,
            [
                L.LinearLR(opt, start_factor=1.0 / WARMUP, total_iters=WARMUP),
                L.CosineAnnealingLR(opt, T_max=n - WARMUP, eta_min=FLOOR * PEAK),
            ],
            milestones=[WARMUP],
        )

    def lam_fn(k: int) -> float:
        if k < WARMUP:
            return (k + 1) / WARMUP
        p = min(1.0, (k - WARMUP) / (n - WARMUP))
        return FLOOR + (1 - FLOOR) * 0.5 * (1 + math.cos(math.pi * p))

    steps = np.arange(n)
    t_vec, ours = best_of(lambda: schedule(steps), 5)
    t_vec_eq, ours_eq = best_of(lambda: torch_equivalent(steps), 5)
    t_seq, seq_curve = best_of(lambda: torch_curve(seq, n), 1)
    t_lam, lam_curve = best_of(lambda: torch_curve(lambda o: L.LambdaLR(o, lam_fn), n), 1)

    def lrkit_stepped() -> np.ndarray:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=1.0)  # base LR 1: the schedule holds absolute LRs
        sched = Scheduler(opt, schedule)
        group = opt.param_groups[0]
        out = np.empty(n)
        for k in range(n):
            out[k] = group["lr"]
            sched.step()
        return out

    t_step, stepped = best_of(lrkit_stepped, 1)

    rel = lambda a, b: float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))  # noqa: E731
    print(
        f"curves agree: lrkit Sequence vs torch SequentialLR max rel diff {rel(ours_eq, seq_curve):.1e}; "
        f"lrkit warmup_cosine vs LambdaLR {rel(ours, lam_curve):.1e}; Scheduler steps vs vectorized "
        f"{rel(stepped, ours):.1e}"
    )
    print(f"\n  {'method':56s} {'seconds':>8s} {'ns/step':>8s} {'speed-up':>9s}")
    rows = [
        ("lrkit schedule(np.arange(n)), warmup_cosine", t_vec),
        ("lrkit schedule(np.arange(n)), torch-shaped Sequence", t_vec_eq),
        ("lrkit.Scheduler stepped n times", t_step),
        ("torch LambdaLR stepped n times", t_lam),
        ("torch SequentialLR(LinearLR, CosineAnnealingLR) stepped", t_seq),
    ]
    for name, t in rows:
        print(f"  {name:56s} {t:8.3f} {t / n * 1e9:8.1f} {t_seq / t:8.0f}x")
    speedup = min(t_seq, t_lam) / max(t_vec, t_vec_eq)
    print(
        f"\nvectorized vs stepping torch (the faster torch, the slower lrkit): {speedup:.0f}x "
        f"(target >= 100x: {'met' if speedup >= 100 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
