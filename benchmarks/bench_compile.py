"""A ``torch.compile``d optimizer step under a schedule that changes every step.

PyTorch's "compiling the optimizer" recipe: compile ``opt.step()``; keep the LR in a tensor
so a new LR value is new data, not a new constant baked into the graph. lrkit.Scheduler
fills tensor LRs in place; with a float LR, dynamo guards on the value, so each new LR can
mean a recompile. Reported per row: graphs compiled (``torch._dynamo`` counters), whether the
recompile limit was hit (dynamo then runs the step eagerly for good), time spent in the first
steps (compilation) and the steady-state time of one optimizer step plus scheduler step.

Model: a tiny MLP with Adam (the point is graph count and per-step overhead, not FLOPs).
Run: ``.venv/bin/python benchmarks/bench_compile.py`` (1-2 minutes on 2 cores, most of it
inductor compiling on CPU). There is no GPU here; on a GPU run it with ``--device cuda``.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
import warnings

import torch
import torch._dynamo
from torch._dynamo.utils import counters

from lrkit import Scheduler
from lrkit.schedules import warmup_cosine

WARMUP, TOTAL = 100, 10_000


def lr_factor(k: int) -> float:
    """The same curve as lrkit's warmup_cosine(TOTAL, WARMUP), for LambdaLR."""
    if k < WARMUP:
        return (k + 1) / WARMUP
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (k - WARMUP) / (TOTAL - WARMUP))))


def make(device: str, tensor_lr: bool):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(32, 32), torch.nn.ReLU(), torch.nn.Linear(32, 32)).to(device)
    lr = torch.tensor(1e-3, device=device) if tensor_lr else 1e-3
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for p in model.parameters():
        p.grad = torch.randn_like(p)
    return opt


def run_case(
    name: str,
    device: str,
    *,
    tensor_lr: bool,
    lrkit: bool,
    compiled: bool,
    specialize_float: bool | None,
    first: int,
    steps: int,
    rounds: int,
) -> dict:
    torch._dynamo.reset()
    counters.clear()
    saved = getattr(torch._dynamo.config, "specialize_float", None)
    if specialize_float is not None and saved is not None:
        torch._dynamo.config.specialize_float = specialize_float
    try:
        opt = make(device, tensor_lr)
        sched = (
            Scheduler(opt, warmup_cosine(TOTAL, WARMUP)) if lrkit else torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
        )

        def opt_step():
            opt.step()

        step = torch.compile(opt_step) if compiled else opt_step

        def one():
            step()
            sched.step()

        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        t0 = time.perf_counter()
        for _ in range(first):  # compilation and every recompile it triggers happen here
            one()
        sync()
        t_first = time.perf_counter() - t0
        best = math.inf
        for _ in range(rounds):
            t0 = time.perf_counter()
            for _ in range(steps):
                one()
            sync()
            best = min(best, (time.perf_counter() - t0) / steps)
        limit_hit = any("recompile" in k.lower() and "limit" in k.lower() for k in counters["unimplemented"])
        graphs = counters["stats"].get("unique_graphs", 0)
        lr_now = float(opt.param_groups[0]["lr"])
        assert math.isclose(lr_now, 1e-3 * lr_factor(first + rounds * steps), rel_tol=1e-6), (name, lr_now)
        return {"name": name, "graphs": graphs, "limit": limit_hit, "first": t_first, "step": best}
    finally:
        if saved is not None:
            torch._dynamo.config.specialize_float = saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--first", type=int, default=12, help="steps in which compilation happens")
    # many short rounds, best kept: robust to other processes on a shared machine
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    import torch._inductor.config as inductor_config

    inductor_config.compile_threads = 1  # no worker pool: on 2 cores it only costs start-up time
    gpu = torch.cuda.get_device_name() if args.device == "cuda" else "none: no GPU in this run, CPU only"
    print(
        f"torch {torch.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, device "
        f"{args.device} (GPU: {gpu}); recompile limit {torch._dynamo.config.recompile_limit}"
    )
    common = dict(first=args.first, steps=args.steps, rounds=args.rounds)
    cases = [
        (
            "lrkit.Scheduler, tensor LR, compiled",
            dict(tensor_lr=True, lrkit=True, compiled=True, specialize_float=None),
        ),
        (
            "torch LambdaLR, float LR, compiled",
            dict(tensor_lr=False, lrkit=False, compiled=True, specialize_float=None),
        ),
        (
            "torch LambdaLR, float LR, compiled, floats specialized",
            dict(tensor_lr=False, lrkit=False, compiled=True, specialize_float=True),
        ),
        (
            "torch LambdaLR, tensor LR, compiled",
            dict(tensor_lr=True, lrkit=False, compiled=True, specialize_float=None),
        ),
        ("lrkit.Scheduler, float LR, eager", dict(tensor_lr=False, lrkit=True, compiled=False, specialize_float=None)),
        ("torch LambdaLR, float LR, eager", dict(tensor_lr=False, lrkit=False, compiled=False, specialize_float=None)),
    ]
    results = [run_case(name, args.device, **kw, **common) for name, kw in cases]
    ref = results[0]["step"]
    print(
        f"\n  {'case':56s} {'graphs':>6s} {'limit hit':>9s} {'first ' + str(args.first) + ' steps':>15s} "
        f"{'us/step':>8s} {'vs lrkit':>8s}"
    )
    for r in results:
        print(
            f"  {r['name']:56s} {r['graphs']:6d} {'yes' if r['limit'] else 'no':>9s} {r['first']:14.2f}s "
            f"{r['step'] * 1e6:8.1f} {r['step'] / ref:7.2f}x"
        )
    print("\n'floats specialized' sets torch._dynamo.config.specialize_float=True: dynamo then bakes each float LR")
    print("into the graph, recompiles for every new value and, at the limit, runs the step eagerly from then on.")
    print("Compile times of the first compiled row include inductor's one-time start-up in this process.")
    ok = results[0]["graphs"] == 1
    print(
        f"\nlrkit with a tensor LR: {results[0]['graphs']} graph for the whole run "
        f"(target: one graph: {'met' if ok else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
