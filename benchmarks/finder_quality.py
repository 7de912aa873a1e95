"""How good are LR range-test suggestions? lrkit vs torch-lr-finder vs fastai's valley.

For each task of ``benchmarks/finder_tasks.py``:

1. grid-search the peak LR of a warm-up (10%) + cosine run of ``task.steps`` updates
   (LRs spaced by 10**0.25, held-out loss averaged over 3 seeds; the grid best is refined by
   a parabola through its neighbours in log LR);
2. run lrkit's range test (``num_steps`` <= 200 updates) on a fresh model, and read two
   suggestions from it: lrkit's rule and a fastai-style ``valley`` (EMA 0.98, first 10% and
   last 5 points trimmed, as fastai's ``lr_find`` does);
3. run torch-lr-finder's ``range_test`` on the same model/data/ramp and take its
   steepest-gradient suggestion (``plot(suggest_lr=True)``: skip 10 first, 5 last);
4. train the full schedule at each suggestion (same 3 seeds) and report
   ``|log10(suggestion / grid_best)|`` and the relative regret
   ``(loss(suggestion) - loss(grid best point)) / loss(grid best point)``.

Targets for lrkit: median |log10| <= 0.301 (within 2x) and mean regret <= 0.15.
Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/finder_quality.py [--suite holdout] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import finder_tasks  # noqa: E402

import lrkit  # noqa: E402
from lrkit.finder.smoothing import ema  # noqa: E402
from lrkit.finder.suggest import valley_lr  # noqa: E402
from lrkit.schedules import warmup_cosine  # noqa: E402

SEEDS = (0, 1, 2)
START_LR, END_LR, RANGE_STEPS = 1e-6, 10.0, 150


def train(task: finder_tasks.BenchTask, peak: float, seed: int) -> float:
    """Held-out loss after a warm-up + cosine run at ``peak`` (inf-safe)."""
    model = task.make_model(seed)
    opt = task.make_optimizer(model, peak)
    sched = lrkit.Scheduler(opt, warmup_cosine(task.steps, max(1, task.steps // 10)))
    batches = task.batches(seed + 100)
    for _ in range(task.steps):
        opt.zero_grad(set_to_none=True)
        loss = task.loss_fn(model, next(batches))
        loss.backward()
        opt.step()
        sched.step()
    return task.evaluate(model)


def final_loss(task: finder_tasks.BenchTask, peak: float, cap: float) -> float:
    vals = [min(train(task, peak, s), cap) for s in SEEDS]
    vals = [cap if not math.isfinite(v) else v for v in vals]
    return float(np.mean(vals))


def grid_search(task: finder_tasks.BenchTask, cap: float) -> tuple[float, float, list[tuple[float, float]]]:
    lo, hi = math.log10(task.grid[0]), math.log10(task.grid[1])
    xs = np.arange(lo, hi + 1e-9, 0.25)
    table = [(float(10**x), final_loss(task, float(10**x), cap)) for x in xs]
    losses = np.array([v for _, v in table])
    i = int(np.argmin(losses))
    best_x = xs[i]
    if 0 < i < len(xs) - 1:  # parabola through the best point and its neighbours
        y0, y1, y2 = losses[i - 1], losses[i], losses[i + 1]
        denom = y0 - 2 * y1 + y2
        if denom > 0:
            best_x = xs[i] + 0.25 * 0.5 * (y0 - y2) / denom
    return float(10**best_x), float(losses[i]), table


class _Batches(torch.utils.data.IterableDataset):
    def __init__(self, gen):
        self.gen = gen

    def __iter__(self):
        return self.gen


def torch_lr_finder_steepest(task: finder_tasks.BenchTask) -> float | None:
    from matplotlib.figure import Figure
    from torch_lr_finder import LRFinder

    model = task.make_model(0)
    opt = task.make_optimizer(model, START_LR)
    loader = torch.utils.data.DataLoader(_Batches(task.batches(7)), batch_size=None)
    if "diabetes" in task.name:
        crit = lambda out, y: torch.nn.functional.mse_loss(out.squeeze(-1), y)  # noqa: E731
    else:
        crit = torch.nn.CrossEntropyLoss()
    finder = LRFinder(model, opt, crit, device="cpu")
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        finder.range_test(loader, start_lr=START_LR, end_lr=END_LR, num_iter=RANGE_STEPS)
        try:
            _, sug = finder.plot(ax=Figure().subplots(), suggest_lr=True)
        except (RuntimeError, ValueError, IndexError):
            sug = None
    finder.reset()
    return None if sug is None else float(sug)


def fastai_valley(lrs: np.ndarray, raw: np.ndarray) -> float | None:
    n = len(raw)
    sm = ema(raw, 0.98)
    lo, hi = n // 10, n - 5
    if hi - lo < 3:
        return None
    return valley_lr(lrs[lo:hi], sm[lo:hi])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", nargs="*", help="subset of task names")
    ap.add_argument(
        "--suite",
        choices=("tuning", "holdout", "all"),
        default="tuning",
        help="tuning: the tasks the rule was designed on (default); holdout: tasks written after it was frozen",
    )
    ap.add_argument("--json", help="write per-task numbers (and the lrkit curves) here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    tasks = {}
    if args.suite in ("tuning", "all") or args.tasks:
        tasks.update(finder_tasks.tasks())
    if args.suite in ("holdout", "all") or (args.tasks and any(n.startswith("h-") for n in args.tasks)):
        tasks.update(finder_tasks.holdout())
    names = args.tasks or list(tasks)
    t0 = time.perf_counter()
    rows = []
    for name in names:
        task = tasks[name]
        cap = task.evaluate(task.make_model(0))  # a diverged run counts as the untrained loss
        best_lr, best_loss, table = grid_search(task, cap)
        model = task.make_model(0)
        opt = task.make_optimizer(model, START_LR)
        res = lrkit.find_lr(
            model, opt, task.batches(7), task.loss_fn, start_lr=START_LR, end_lr=END_LR, num_steps=RANGE_STEPS
        )
        sugg = {
            "lrkit": res.suggestion,
            "torch-lr-finder": torch_lr_finder_steepest(task),
            "fastai-valley": fastai_valley(res.lrs, res.raw_losses),
        }
        row = {
            "task": name,
            "grid_best": best_lr,
            "grid_best_loss": best_loss,
            "grid": table,
            "range": list(res.range),
            "confidence": res.confidence,
            "steps_run": len(res.lrs),
            "lrs": res.lrs.tolist(),
            "raw_losses": res.raw_losses.tolist(),
        }
        for method, s in sugg.items():
            if s is None or not math.isfinite(s) or s <= 0:
                row[method] = {"lr": None, "log10_err": None, "regret": None}
                continue
            loss = final_loss(task, s, cap)
            row[method] = {
                "lr": s,
                "log10_err": abs(math.log10(s / best_lr)),
                "regret": (loss - best_loss) / abs(best_loss),
            }
        rows.append(row)
        print(
            f"{name:26s} grid-best {best_lr:9.3g}  "
            + "  ".join(
                f"{m}: {row[m]['lr'] if row[m]['lr'] is None else format(row[m]['lr'], '.3g')}"
                for m in sugg
            )
            + f"  (range {res.range[0] or float('nan'):.3g}-{res.range[1] or float('nan'):.3g}, {res.confidence},"
            f" {len(res.lrs)} steps)",
            flush=True,
        )
    print()
    print(f"{'method':18s} {'median |log10|':>15s} {'within 2x':>10s} {'mean regret':>12s} {'no answer':>10s}")
    for method in ("lrkit", "torch-lr-finder", "fastai-valley"):
        errs = [r[method]["log10_err"] for r in rows if r[method]["log10_err"] is not None]
        regs = [r[method]["regret"] for r in rows if r[method]["regret"] is not None]
        missing = sum(r[method]["lr"] is None for r in rows)
        # a missing suggestion counts as a miss (error inf, regret of the untrained model)
        med = float(np.median(errs + [math.inf] * missing)) if rows else math.nan
        within = sum(e <= math.log10(2) + 1e-12 for e in errs)
        print(
            f"{method:18s} {med:15.3f} {within:>5d}/{len(rows):<4d} "
            f"{np.mean(regs) if regs else math.nan:12.3f} {missing:10d}"
        )
    covered = sum(r["range"][0] is not None and r["range"][0] <= r["grid_best"] <= r["range"][1] for r in rows)
    print(f"lrkit's range contains the grid-best LR on {covered}/{len(rows)} tasks")
    print(f"\n{len(rows)} tasks, range test {RANGE_STEPS} updates ({START_LR:g} -> {END_LR:g}), "
          f"{time.perf_counter() - t0:.0f} s on CPU, torch threads = 1")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
