"""Benchmark of `lrkit compare`: parallel speed-up and the runner's overhead per trial.

Runs the default comparison (7 schedules x 3 seeds on the embedded task, default steps) twice
from an empty results store -- with 1 worker process and with one per core -- at the same peak
LR (found once by the LR finder beforehand, timed separately), and reports:

- wall time of each and the speed-up (1 worker / N workers) and parallel efficiency, next to
  the machine's own speed-up measured in the same run (N bare training loops at once in
  separate processes against one alone -- on a shared or throttled machine it is well below N);
- per trial, measured in the same run: a bare training loop of the task (same model, data,
  optimizer, steps; no scheduler, no recording, no evaluation) as the peer, interleaved with the
  trial's update loop under lrkit.Scheduler with per-step recording (``train_s``, cosine); the trial's own set-up and
  held-out evaluations (``wall_s - train_s``); and the runner's share (worker pool, IPC,
  SQLite writes, planning and linting: ``(wall with 1 worker - sum of trial wall_s) / trials``).

Usage:  python benchmarks/bench_compare.py [--task digits] [--steps N] [--seeds K] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import torch


def bare_loop(task_ref: str, lr: float, steps: int, seed: int) -> float:
    """Seconds of a plain training loop (the peer): no scheduler, recording or evaluation."""
    from lrkit.compare.runner import seed_everything
    from lrkit.tasks import resolve_task

    task = resolve_task(task_ref)
    seed_everything(seed)
    model = task.make_model(seed)
    opt = task.make_optimizer(model, lr)
    batches = task.batches(seed)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = task.loss_fn(model, next(batches))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def _timed_bare(job: tuple[str, float, int, int]) -> float:
    torch.set_num_threads(1)
    task_ref, lr, steps, seed = job
    bare_loop(task_ref, lr, min(steps, 50), seed)  # imports and data, outside the timing
    return bare_loop(task_ref, lr, steps, seed)


def machine_speedup(task_ref: str, lr: float, steps: int, workers: int) -> float:
    """What this machine gives right now: throughput of ``workers`` bare loops run at once in
    separate processes, relative to one alone (the ceiling for the runner's speed-up)."""
    import multiprocessing as mp

    ctx = mp.get_context("forkserver")
    with ctx.Pool(1) as pool:
        alone = pool.map(_timed_bare, [(task_ref, lr, steps, 0)])[0]
    with ctx.Pool(workers) as pool:
        together = pool.map(_timed_bare, [(task_ref, lr, steps, s) for s in range(workers)])
    return workers * alone / max(together)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="digits")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="2 seeds, 150 steps (a smoke run)")
    ap.add_argument("--json", default=None, help="also write the numbers to this file")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.steps = 2, args.steps or 150

    from lrkit.compare.backends import default_workers
    from lrkit.compare.core import find_peak_lr, run_comparison
    from lrkit.compare.spec import DEFAULT_SCHEDULES
    from lrkit.tasks import resolve_task

    torch.set_num_threads(1)
    task = resolve_task(args.task)
    steps = args.steps or task.default_steps
    cores = default_workers()

    t0 = time.perf_counter()
    finder = find_peak_lr(args.task)
    finder_s = time.perf_counter() - t0
    lr = float(finder["suggestion"])
    print(
        f"task {task.name}: {len(DEFAULT_SCHEDULES)} schedules x {args.seeds} seeds x {steps} updates; "
        f"LR finder {finder_s:.1f} s -> peak LR {lr:.3g}; {cores} core(s)"
    )

    runs = {}
    for workers in sorted({1, cores}):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            outcome = run_comparison(
                task=args.task, lrs=[lr], steps=steps, seeds=args.seeds, workers=workers, out=out, write_report=False
            )
            wall = time.perf_counter() - t0
            t1 = time.perf_counter()
            from lrkit.compare.report import write_report

            write_report(os.path.join(out, "report.html"), outcome.plan, outcome.trials, outcome.summary)
            report_s = time.perf_counter() - t1
        rows = list(outcome.trials.values())
        runs[workers] = {
            "wall_s": wall,
            "report_s": report_s,
            "trials": len(rows),
            "ok": sum(r["status"] == "ok" for r in rows),
            "sum_trial_wall_s": sum(r["wall_s"] for r in rows),
            "mean_train_s": statistics.mean(r["train_s"] for r in rows),
            "mean_in_trial_overhead_s": statistics.mean(r["wall_s"] - r["train_s"] for r in rows),
            "winner": outcome.summary.verdict.winner.id if outcome.summary.verdict.winner else None,
        }
        print(
            f"  {workers} worker(s): {wall:6.1f} s for {len(rows)} trials ({runs[workers]['ok']} ok); "
            f"report {report_s:.1f} s; winner {runs[workers]['winner']}"
        )

    # peer and trial loop interleaved in this process, so load changes hit both alike
    from lrkit.compare.runner import run_trial
    from lrkit.compare.spec import TrialSpec, preset

    spec = preset("cosine", steps)
    bare, loop = [], []
    for seed in range(max(3, args.seeds)):
        bare.append(bare_loop(args.task, lr, steps, seed))
        loop.append(
            run_trial(TrialSpec(args.task, "cosine", spec.schedule, None, lr, seed, steps, eval_every=steps))["train_s"]
        )
    bare_s, loop_s = statistics.median(bare), statistics.median(loop)
    one = runs[1]
    runner_per_trial = (one["wall_s"] - one["sum_trial_wall_s"]) / one["trials"]
    result = {
        "task": task.name,
        "steps": steps,
        "seeds": args.seeds,
        "cores": cores,
        "finder_s": finder_s,
        "runs": runs,
        "bare_loop_s": bare_s,
        "trial_loop_s": loop_s,
        "speedup": one["wall_s"] / runs[cores]["wall_s"] if cores > 1 else None,
        "runner_overhead_per_trial_s": runner_per_trial,
    }
    machine = machine_speedup(args.task, lr, steps, cores) if cores > 1 else 1.0
    result["machine_speedup"] = machine
    print()
    if cores > 1:
        sp = result["speedup"]
        print(
            f"speed-up with {cores} workers: {sp:.2f}x (parallel efficiency {sp / cores:.0%}); this machine gives "
            f"{machine:.2f}x to {cores} bare loops run at once right now, so the runner reaches {sp / machine:.0%} "
            f"of it"
        )
    else:
        print("one core only: no parallel speed-up to measure")
    print(f"per trial ({steps} updates, 1 worker):")
    print(f"  bare training loop (peer)                  {bare_s:7.3f} s   1.00x")
    print(
        f"  update loop under lrkit.Scheduler + record {loop_s:7.3f} s   {loop_s / bare_s:.2f}x  "
        f"(interleaved with the peer; in the 1-worker run: {one['mean_train_s']:.3f} s)"
    )
    print(
        f"  trial set-up + held-out evaluations        {one['mean_in_trial_overhead_s']:7.3f} s   "
        f"{one['mean_in_trial_overhead_s'] / bare_s:.2f}x"
    )
    print(f"  runner (pool, IPC, SQLite, plan, lint)     {runner_per_trial:7.3f} s   {runner_per_trial / bare_s:.2f}x")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
