"""Per-step overhead of ``lrkit.Scheduler.step()`` against the schedulers people use today.

All contenders run the same curve (linear warm-up, then cosine) on the same kind of optimizer
(SGD with 1 or 8 parameter groups), measured side by side in one process: each timing is the
best of several interleaved rounds of a tight ``step()`` loop, so the ratios are stable even
on a busy machine. Only the scheduler step is timed (no optimizer math).

Run: ``.venv/bin/python benchmarks/bench_scheduler_step.py`` (about a minute on 2 cores).
Targets (issue 2): lrkit <= 0.4x LambdaLR with 1 group and <= 0.3x with 8 groups.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import platform
import sys
import time
import types
import warnings

import torch

from lrkit import Scheduler
from lrkit.schedules import warmup_cosine

WARMUP = 1_000
TOTAL = 100_000_000  # long enough that no contender reaches its end while being timed


def make_optimizer(groups: int) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(groups)]
    opt = torch.optim.SGD([{"params": [p], "lr": 1e-3 * (i + 1)} for i, p in enumerate(params)], lr=1e-3)
    return opt


def load_timm_cosine():
    """timm's CosineLRScheduler; falls back to loading timm/scheduler alone when ``import timm``
    fails (it imports torchvision, which breaks when built for another torch)."""
    try:
        from timm.scheduler.cosine_lr import CosineLRScheduler

        return CosineLRScheduler
    except Exception:
        pass
    spec = importlib.util.find_spec("timm")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = next(iter(spec.submodule_search_locations))
    for k in [k for k in sys.modules if k == "timm" or k.startswith("timm.")]:
        del sys.modules[k]
    pkg, sub = types.ModuleType("timm"), types.ModuleType("timm.scheduler")
    pkg.__path__, sub.__path__ = [root], [os.path.join(root, "scheduler")]
    sys.modules["timm"], sys.modules["timm.scheduler"] = pkg, sub
    return importlib.import_module("timm.scheduler.cosine_lr").CosineLRScheduler


def contenders(groups: int) -> dict[str, callable]:
    """name -> function(n) that performs n scheduler steps."""
    out = {}

    opt = make_optimizer(groups)
    lk = Scheduler(opt, warmup_cosine(TOTAL, WARMUP))

    def run_lrkit(n, step=lk.step):
        for _ in range(n):
            step()

    out["lrkit.Scheduler"] = run_lrkit

    def lam(k, w=WARMUP, t=TOTAL):
        if k < w:
            return (k + 1) / w
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (k - w) / (t - w))))

    opt = make_optimizer(groups)
    opt.step()  # torch warns on every scheduler step until the optimizer has stepped once
    lam_sched = torch.optim.lr_scheduler.LambdaLR(opt, lam)

    def run_lambda(n, step=lam_sched.step):
        for _ in range(n):
            step()

    out["torch LambdaLR"] = run_lambda

    opt = make_optimizer(groups)
    opt.step()
    seq = torch.optim.lr_scheduler.SequentialLR(
        opt,
        [
            torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0 / WARMUP, total_iters=WARMUP),
            torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=TOTAL - WARMUP),
        ],
        milestones=[WARMUP],
    )

    def run_seq(n, step=seq.step):
        for _ in range(n):
            step()

    out["torch SequentialLR(Linear,Cosine)"] = run_seq

    try:
        from transformers import get_cosine_schedule_with_warmup
    except Exception:
        get_cosine_schedule_with_warmup = None
    if get_cosine_schedule_with_warmup is not None:
        opt = make_optimizer(groups)
        opt.step()
        hf = get_cosine_schedule_with_warmup(opt, WARMUP, TOTAL)

        def run_hf(n, step=hf.step):
            for _ in range(n):
                step()

        out["transformers cosine_with_warmup"] = run_hf

    timm_cls = load_timm_cosine()
    if timm_cls is not None:
        opt = make_optimizer(groups)
        tm = timm_cls(opt, t_initial=TOTAL - WARMUP, warmup_t=WARMUP, warmup_prefix=True, t_in_epochs=False)
        counter = [0]

        def run_timm(n, step=tm.step_update, c=counter):
            k = c[0]
            for i in range(k, k + n):
                step(i)
            c[0] = k + n

        out["timm CosineLRScheduler.step_update"] = run_timm
    return out


def measure(groups: int, steps: int, rounds: int) -> dict[str, float]:
    runs = contenders(groups)
    for fn in runs.values():  # past the warm-up phase, tables and caches primed
        fn(WARMUP + 10)
    best = {name: math.inf for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            t0 = time.perf_counter()
            fn(steps)
            best[name] = min(best[name], (time.perf_counter() - t0) / steps)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=50_000, help="steps per timed round")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    print(
        f"torch {torch.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs; CPU only (no GPU in this run); best of {args.rounds} x {args.steps} steps"
    )
    results = {}
    for groups in (1, 8):
        best = measure(groups, args.steps, args.rounds)
        results[groups] = best
        base = best["torch LambdaLR"]
        print(f"\n{groups} param group{'s' if groups > 1 else ''}:")
        print(f"  {'scheduler':38s} {'us/step':>8s} {'vs LambdaLR':>12s}")
        for name, t in sorted(best.items(), key=lambda kv: kv[1]):
            print(f"  {name:38s} {t * 1e6:8.3f} {t / base:11.2f}x")
    r1 = results[1]["lrkit.Scheduler"] / results[1]["torch LambdaLR"]
    r8 = results[8]["lrkit.Scheduler"] / results[8]["torch LambdaLR"]
    print(
        f"\nlrkit / LambdaLR: {r1:.2f}x with 1 group (target <= 0.40x: {'met' if r1 <= 0.4 else 'NOT met'}), "
        f"{r8:.2f}x with 8 groups (target <= 0.30x: {'met' if r8 <= 0.3 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
