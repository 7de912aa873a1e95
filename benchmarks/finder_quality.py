"""How good are LR range-test suggestions? lrkit vs torch-lr-finder vs fastai's valley.

For each task of ``benchmarks/finder_tasks.py``:

1. grid-search the peak LR of a warm-up (10%) + cosine run of ``task.steps`` updates, scored
   by the held-out loss averaged over 5 seeds (the seed sets the init and the data order):
   LRs spaced by 10**0.25 over the task's bounds, the grid extended while its best point
   sits on an edge, then the two points 10**+-0.125 around the best added. The grid-best LR
   is the best point evaluated (resolution 1/8 decade; no curve fit, which a cliff on one
   side of the optimum would drag far off);
2. run lrkit's range test (``num_steps`` <= 200 updates, seed-0 init, its own data order) and
   read two suggestions from it: lrkit's rule and a fastai-style ``valley`` (EMA 0.98, first
   10% and last 5 points trimmed, as fastai's ``lr_find`` does);
3. run torch-lr-finder's ``range_test`` on the same model/data/ramp and take its
   steepest-gradient suggestion (``plot(suggest_lr=True)``: skip 10 first, 5 last);
4. train the full schedule at each suggestion (same 5 seeds, same optimizer) and report
   ``|log10(suggestion / grid_best)|`` and the relative regret
   ``(loss(suggestion) - loss(grid best)) / |loss(grid best)|`` -- both losses the same
   5-seed mean of the held-out loss the grid was scored on.

A diverged run counts as the untrained model's held-out loss. Every training run and range
test is cached in ``benchmarks/.cache/finder_quality/<task>.json`` (keyed by the task's
settings), so re-reading the curves with another rule costs seconds; ``--refresh``
recomputes. Rule selection (see ``docs/finder.md``): ``--cv`` scores candidate rules by
leave-one-task-out cross-validation with regrets read off the grid, ``--cv-real`` the same
with every candidate LR trained, ``--range-seeds 3`` repeats the range test with two other
seeds (init and data order) and ``--cv-seeds`` refits the shipped offset on all of them.

Targets for lrkit: median |log10| <= 0.301 (within 2x) and mean regret <= 0.15.
Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/finder_quality.py [--suite holdout|all]
[--tasks ...] [--json out.json] [--range-seeds 3] [--cv | --cv-real | --cv-seeds]``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import finder_tasks  # noqa: E402

import lrkit  # noqa: E402
from lrkit.finder.smoothing import ema  # noqa: E402
from lrkit.finder.suggest import suggest, valley_lr  # noqa: E402
from lrkit.schedules import warmup_cosine  # noqa: E402

SEEDS = (0, 1, 2, 3, 4)
START_LR, END_LR, RANGE_STEPS = 1e-6, 10.0, 150
GRID_STEP = 0.25  # decades between coarse grid points
MAX_EXTEND = 4  # coarse points added beyond a bound while the best sits on it
CACHE_DIR = Path(__file__).resolve().parent / ".cache" / "finder_quality"
CACHE_VERSION = 2
METHODS = ("lrkit", "torch-lr-finder", "fastai-valley")


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


class Cache:
    """Per-task JSON cache of training runs (LR -> per-seed held-out losses) and range tests."""

    def __init__(self, task: finder_tasks.BenchTask, refresh: bool = False) -> None:
        self.path = CACHE_DIR / f"{task.name}.json"
        self.key = {
            "version": CACHE_VERSION,
            "steps": task.steps,
            "grid": list(task.grid),
            "seeds": list(SEEDS),
            "range_test": [START_LR, END_LR, RANGE_STEPS],
        }
        self.data: dict[str, Any] = {"key": self.key, "runs": {}}
        if not refresh and self.path.exists():
            stored = json.loads(self.path.read_text())
            if stored.get("key") == self.key:
                self.data = stored

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data))

    def runs(self) -> dict[str, list[float]]:
        return self.data["runs"]


def _lr_key(x: float) -> str:
    return f"{x:.4f}"  # log10 LR, 1e-4 decade resolution


def mean_loss(task: finder_tasks.BenchTask, x: float, cap: float, cache: Cache) -> float:
    """5-seed mean held-out loss of a full run at peak LR ``10**x`` (cached); a diverged run
    (non-finite, or worse than the untrained model) counts as the untrained model."""
    k = _lr_key(x)
    if k not in cache.runs():
        vals = [train(task, float(10**x), s) for s in SEEDS]
        cache.runs()[k] = [v if math.isfinite(v) else None for v in vals]
        cache.save()
    return float(np.mean([cap if v is None else min(v, cap) for v in cache.runs()[k]]))


def grid_search(task: finder_tasks.BenchTask, cap: float, cache: Cache) -> tuple[float, float, list[list[float]]]:
    """Best peak LR on the grid (coarse, extended at an edge while it holds the best, then
    refined by 1/8 decade on both sides of the best) -> (lr, loss, [[lr, loss], ...])."""
    lo, hi = math.log10(task.grid[0]), math.log10(task.grid[1])
    xs = [round(x, 4) for x in np.arange(lo, hi + 1e-9, GRID_STEP)]
    loss = {x: mean_loss(task, x, cap, cache) for x in xs}
    for _ in range(MAX_EXTEND):
        best = min(loss, key=loss.get)
        if best == min(loss):
            x = round(best - GRID_STEP, 4)
        elif best == max(loss):
            x = round(best + GRID_STEP, 4)
        else:
            break
        loss[x] = mean_loss(task, x, cap, cache)
    best = min(loss, key=loss.get)
    for x in (round(best - GRID_STEP / 2, 4), round(best + GRID_STEP / 2, 4)):
        loss[x] = mean_loss(task, x, cap, cache)
    best = min(loss, key=loss.get)
    table = [[float(10**x), loss[x]] for x in sorted(loss)]
    return float(10**best), loss[best], table


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


def measure(task: finder_tasks.BenchTask, cache: Cache) -> dict[str, Any]:
    """Grid, range-test curve and the peers' suggestions of one task (cached)."""
    d = cache.data
    cap = task.evaluate(task.make_model(0))  # a diverged run counts as the untrained loss
    d["cap"] = cap
    best_lr, best_loss, table = grid_search(task, cap, cache)
    d.update(grid_best=best_lr, grid_best_loss=best_loss, grid=table)
    if "lrs" not in d:
        model = task.make_model(0)
        opt = task.make_optimizer(model, START_LR)
        res = lrkit.find_lr(
            model, opt, task.batches(7), task.loss_fn, start_lr=START_LR, end_lr=END_LR, num_steps=RANGE_STEPS
        )
        d["lrs"], d["raw_losses"] = res.lrs.tolist(), res.raw_losses.tolist()
        d["stopped_reason"] = res.stopped_reason
        d["torch-lr-finder"] = torch_lr_finder_steepest(task)
    cache.save()
    return d


def other_curve(
    task: finder_tasks.BenchTask, cache: Cache, seed: int, ramp: tuple[float, float, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Range test with another init (``make_model(seed)``) and data order, optionally with
    another ramp ``(start_lr, end_lr, num_steps)`` (cached)."""
    start, end, steps = ramp or (START_LR, END_LR, RANGE_STEPS)
    key = str(seed) if ramp is None else f"{seed}@{start:g}-{end:g}-{steps}"
    curves = cache.data.setdefault("other_curves", {})
    if key not in curves:
        model = task.make_model(seed)
        opt = task.make_optimizer(model, start)
        res = lrkit.find_lr(
            model, opt, task.batches(7 + seed), task.loss_fn, start_lr=start, end_lr=end, num_steps=steps
        )
        curves[key] = {"lrs": res.lrs.tolist(), "raw_losses": res.raw_losses.tolist()}
        cache.save()
    c = curves[key]
    return np.asarray(c["lrs"]), np.asarray(c["raw_losses"])


def seed_check(
    tasks: dict[str, finder_tasks.BenchTask],
    names: list[str],
    k: int,
    refresh: bool,
    ramp: tuple[float, float, int] | None = None,
) -> None:
    """lrkit's and the valley's suggestions read from range tests with seeds 1..k-1 (other
    init and data order), scored against the same grids: how much the answer depends on
    the one curve the rule was chosen on."""
    first = 1 if ramp is None else 0
    what = "" if ramp is None else f", ramp {ramp[0]:g} -> {ramp[1]:g} in {ramp[2]} updates"
    print(f"\nrange tests repeated with seeds {first}..{k - 1} (other init and data order{what}), same grids:")
    for method in ("lrkit", "fastai-valley"):
        errs, regs, per_task = [], [], []
        for n in names:
            cache = Cache(tasks[n], refresh)
            d = measure(tasks[n], cache)
            xs = []
            for seed in range(first, k):
                lrs, raw = other_curve(tasks[n], cache, seed, ramp)
                lr = suggest(lrs, raw).lr if method == "lrkit" else fastai_valley(lrs, raw)
                if lr is None:
                    errs.append(math.inf)
                    continue
                x = math.log10(lr)
                xs.append(x)
                errs.append(abs(x - math.log10(d["grid_best"])))
                loss = mean_loss(tasks[n], x, d["cap"], cache)
                regs.append((loss - d["grid_best_loss"]) / abs(d["grid_best_loss"]))
            x0 = math.log10(suggest(np.asarray(d["lrs"]), np.asarray(d["raw_losses"])).lr or math.nan)
            if method == "lrkit" and xs:
                per_task.append(max(abs(x - x0) for x in xs))
        print(
            f"  {method:14s} median |log10| {np.median(errs):.3f},"
            f" within 2x {sum(e <= 0.30103 for e in errs)}/{len(errs)},"
            f" mean regret {np.mean(regs):.3f}"
            + (f"; largest move from the seed-0 suggestion: median {np.median(per_task):.2f},"
               f" max {np.max(per_task):.2f} decades" if per_task else "")
        )


def cross_validate_seeds(
    tasks: dict[str, finder_tasks.BenchTask],
    names: list[str],
    k: int,
    ramp: tuple[float, float, int] | None = None,
) -> None:
    """Leave-one-task-out fit of the shipped anchor's offset on the range tests of seeds
    0..k-1 of every task (each trained at every candidate LR): the offset and its
    cross-validated error when the curve noise is part of the data, not one draw of it.
    With ``ramp`` (``(start_lr, end_lr, num_steps)``) every curve, seed 0 included, is a
    range test with that ramp; the fixed shipped rule and the seed-to-seed spread of its
    suggestion are printed first (they need only one trained LR per curve)."""
    rule = importlib.import_module("lrkit.finder.suggest")
    pts: dict[str, list[tuple[float, float]]] = {}  # task -> [(anchor, x_div)] per seed
    for n in names:
        cache = Cache(tasks[n])
        d = measure(tasks[n], cache)
        if ramp is None:
            curves = [(np.asarray(d["lrs"]), np.asarray(d["raw_losses"]))]
            curves += [other_curve(tasks[n], cache, s) for s in range(1, k)]
        else:
            curves = [other_curve(tasks[n], cache, s, ramp) for s in range(k)]
        pts[n] = []
        for lrs, raw in curves:
            r = rule.read_curve(lrs, raw)
            pts[n].append((rule.anchor_points(r)[rule.ANCHOR], float(r.x[r.i_div])))
    caches = {n: Cache(tasks[n]) for n in names}

    def regret(n: str, x: float) -> float:
        d = caches[n].data
        loss = mean_loss(tasks[n], x, d["cap"], caches[n])
        return (loss - d["grid_best_loss"]) / abs(d["grid_best_loss"])

    memo: dict[tuple[str, int, float], float] = {}

    def task_regrets(n: str, c: float) -> list[float]:
        out = []
        for i, (a, xd) in enumerate(pts[n]):
            key = (n, i, c)
            if key not in memo:
                memo[key] = regret(n, min(a + c, xd))
            out.append(memo[key])
        return out

    what = "" if ramp is None else f", ramp {ramp[0]:g} -> {ramp[1]:g} in {ramp[2]} updates"
    c0 = rule.OFFSET_DECADES
    errs0 = [abs(min(a + c0, xd) - math.log10(caches[n].data["grid_best"])) for n in names for a, xd in pts[n]]
    regs0 = [v for n in names for v in task_regrets(n, c0)]
    spread = [max(min(a + c0, xd) for a, xd in pts[n]) - min(min(a + c0, xd) for a, xd in pts[n]) for n in names]
    move = [max(abs(min(a + c0, xd) - min(pts[n][0][0] + c0, pts[n][0][1])) for a, xd in pts[n]) for n in names]
    print(
        f"{k} range tests per task{what}; fixed rule {rule.ANCHOR} {c0:+.2f}: {len(errs0)} curves: median |log10|"
        f" {np.median(errs0):.3f}, within 2x {sum(e <= 0.30103 for e in errs0)}/{len(errs0)},"
        f" mean regret {np.mean(regs0):.3f}, median regret {np.median(regs0):.3f}\n"
        f"  seed spread of the suggestion (max - min over the {k} seeds): median {np.median(spread):.2f},"
        f" max {np.max(spread):.2f} decades; largest move from seed 0: median {np.median(move):.2f},"
        f" max {np.max(move):.2f}",
        flush=True,
    )
    errs, regs, cs, per_task = [], [], [], {}
    for n in names:
        rest = [m for m in names if m != n]
        c = min(REAL_OFFSETS, key=lambda c: float(np.mean([v for m in rest for v in task_regrets(m, c)])))
        cs.append(c)
        regs += task_regrets(n, c)
        per_task[n] = float(np.mean(task_regrets(n, c)))
        bx = math.log10(caches[n].data["grid_best"])
        errs += [abs(min(a + c, xd) - bx) for a, xd in pts[n]]
    full = min(REAL_OFFSETS, key=lambda c: float(np.mean([v for m in names for v in task_regrets(m, c)])))
    print(
        f"{rule.ANCHOR} + c fitted on {k} range tests per task, leave-one-task-out: c {min(cs):+.2f}..{max(cs):+.2f}"
        f" (all tasks {full:+.2f}); {len(errs)} curves: median |log10| {np.median(errs):.3f},"
        f" within 2x {sum(e <= 0.30103 for e in errs)}/{len(errs)}, mean regret {np.mean(regs):.3f},"
        f" |log10| 68% quantile {np.quantile(errs, 0.68):.2f}"
    )
    worst = max(per_task, key=per_task.get)
    print(
        f"  median regret {np.median(regs):.3f}; worst task {worst} (mean regret {per_task[worst]:.2f} over its"
        f" curves); mean regret without it {np.mean([v for n, v in per_task.items() if n != worst]):.3f}"
    )


def evaluate_suggestions(task: finder_tasks.BenchTask, cache: Cache) -> dict[str, Any]:
    d = measure(task, cache)
    lrs, raw = np.asarray(d["lrs"]), np.asarray(d["raw_losses"])
    sug = suggest(lrs, raw)
    found = {"lrkit": sug.lr, "torch-lr-finder": d["torch-lr-finder"], "fastai-valley": fastai_valley(lrs, raw)}
    row: dict[str, Any] = {
        "task": task.name,
        "grid_best": d["grid_best"],
        "grid_best_loss": d["grid_best_loss"],
        "grid": d["grid"],
        "range": [sug.low, sug.high],
        "confidence": sug.confidence,
        "steps_run": len(lrs),
        "lrs": d["lrs"],
        "raw_losses": d["raw_losses"],
    }
    for method, s in found.items():
        if s is None or not math.isfinite(s) or s <= 0:
            row[method] = {"lr": None, "log10_err": None, "regret": None}
            continue
        loss = mean_loss(task, math.log10(s), d["cap"], cache)
        row[method] = {
            "lr": s,
            "log10_err": abs(math.log10(s / d["grid_best"])),
            "regret": (loss - d["grid_best_loss"]) / abs(d["grid_best_loss"]),
        }
    return row


def summary(rows: list[dict[str, Any]], title: str) -> None:
    print(f"\n{title}")
    print(f"{'method':18s} {'median |log10|':>15s} {'within 2x':>10s} {'mean regret':>12s} {'no answer':>10s}")
    for method in METHODS:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", nargs="*", help="subset of task names")
    ap.add_argument(
        "--suite",
        choices=("tuning", "holdout", "all"),
        default="tuning",
        help="tuning: the tasks the rule was first designed on (default); holdout: tasks written after it",
    )
    ap.add_argument("--json", help="write per-task numbers (and the lrkit curves) here")
    ap.add_argument("--range-seeds", type=int, default=1, help="also score range tests run with seeds 1..N-1")
    ap.add_argument(
        "--ramp", nargs=3, type=float, metavar=("START", "END", "STEPS"),
        help="with --range-seeds or --cv-seeds: range tests with this ramp (seeds 0..N-1), e.g. find_lr's defaults 1e-7 10 100",
    )
    ap.add_argument("--cv-seeds", action="store_true", help="refit the shipped anchor's offset on all range seeds")
    ap.add_argument("--refresh", action="store_true", help="ignore the cache and recompute every run")
    ap.add_argument("--cv", action="store_true", help="leave-one-task-out cross-validation of candidate rules")
    ap.add_argument("--cv-real", action="store_true", help="--cv, training at every candidate LR (slow once, cached)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    tasks: dict[str, finder_tasks.BenchTask] = {}
    if args.suite in ("tuning", "all") or args.tasks:
        tasks.update(finder_tasks.tasks())
    if args.suite in ("holdout", "all") or (args.tasks and any(n.startswith("h-") for n in args.tasks)):
        tasks.update(finder_tasks.holdout())
    names = args.tasks or list(tasks)
    if args.cv_seeds:
        ramp = None if args.ramp is None else (args.ramp[0], args.ramp[1], int(args.ramp[2]))
        cross_validate_seeds(tasks, names, args.range_seeds if args.range_seeds > 1 else 3, ramp)
        return
    if args.cv or args.cv_real:
        caches = {n: Cache(tasks[n], args.refresh) for n in names}
        data = {n: measure(tasks[n], caches[n]) for n in names}
        cross_validate(data, lambda n, x: mean_loss(tasks[n], x, data[n]["cap"], caches[n]), real=args.cv_real)
        return
    t0 = time.perf_counter()
    rows = []
    for name in names:
        row = evaluate_suggestions(tasks[name], Cache(tasks[name], args.refresh))
        rows.append(row)
        print(
            f"{name:28s} grid-best {row['grid_best']:9.3g}  "
            + "  ".join(
                f"{m}: {row[m]['lr'] if row[m]['lr'] is None else format(row[m]['lr'], '.3g')}"
                f" ({'-' if row[m]['regret'] is None else format(row[m]['regret'], '+.2f')})"
                for m in METHODS
            )
            + f"  range {row['range'][0] or float('nan'):.3g}-{row['range'][1] or float('nan'):.3g},"
            f" {row['confidence']}, {row['steps_run']} steps",
            flush=True,
        )
    summary(rows, f"{len(rows)} tasks (suite: {args.suite if not args.tasks else 'selected'})")
    print(
        f"\nrange test {RANGE_STEPS} updates ({START_LR:g} -> {END_LR:g}), {len(SEEDS)} seeds per full run, "
        f"{time.perf_counter() - t0:.0f} s on CPU (cached runs are free), torch threads = 1"
    )
    if args.range_seeds > 1:
        ramp = None if args.ramp is None else (args.ramp[0], args.ramp[1], int(args.ramp[2]))
        seed_check(tasks, names, args.range_seeds, False, ramp)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


#: anchors and offsets scored with real training runs under ``--cv-real`` (a coarser search:
#: each (anchor, offset) costs one 5-seed run per task)
REAL_ANCHORS = ("divergence", "descent75", "descent90", "mid75")
REAL_OFFSETS = (-0.6, -0.5, -0.4, -0.3, -0.2, -0.1, 0.0, 0.1)


def cross_validate(data: dict[str, dict[str, Any]], train_at: Any = None, real: bool = False) -> None:
    """Leave-one-task-out cross-validation of ``anchor + offset`` rules on cached curves.

    For each anchor of :func:`lrkit.finder.suggest.anchor_points`, the offset (decades, on a
    0.05 grid) is fitted on all tasks but one and applied to the one left out; the nested
    line also chooses the anchor inside each fold. A rule's loss at an LR between grid points
    is read off the grid by linear interpolation in log LR (an estimate: the benchmark proper
    trains at the suggestion; with ``real``, every candidate LR is trained instead, for
    :data:`REAL_ANCHORS` x :data:`REAL_OFFSETS` -- linear interpolation across the cliff above
    the best LR is badly wrong, so this is the one to trust). Fitting objective: mean relative regret, or the median
    |log10 error|; both are shown, each scored on the left-out tasks only. With ``train_at``
    (``(task, log10 lr) -> loss``), the rule lrkit ships (its anchor, the offset refitted in
    each fold) is then trained at each left-out prediction: the cross-validated numbers with
    real regrets, and the error quantile that sizes the range.
    """
    rule = importlib.import_module("lrkit.finder.suggest")  # the package re-exports suggest()

    names = sorted(data)
    anchors, x_div, best_x, grid_x, grid_y, best_y = {}, {}, {}, {}, {}, {}
    for n in names:
        d = data[n]
        r = rule.read_curve(np.asarray(d["lrs"]), np.asarray(d["raw_losses"]))
        anchors[n], x_div[n] = rule.anchor_points(r), float(r.x[r.i_div])
        g = np.asarray(d["grid"])
        grid_x[n], grid_y[n] = np.log10(g[:, 0]), g[:, 1]
        best_x[n], best_y[n] = math.log10(d["grid_best"]), d["grid_best_loss"]

    def predict(n: str, anchor: str, c: float) -> float:
        return min(anchors[n][anchor] + c, x_div[n])

    def regret(n: str, x: float) -> float:
        loss = train_at(n, x) if real else float(np.interp(x, grid_x[n], grid_y[n]))
        return (loss - best_y[n]) / abs(best_y[n])

    def objective(kind: str, ns: list[str], anchor: str, c: float) -> float:
        if kind == "regret":
            return float(np.mean([regret(n, predict(n, anchor, c)) for n in ns]))
        return float(np.median([abs(predict(n, anchor, c) - best_x[n]) for n in ns]))

    offsets = np.round(np.arange(-1.5, 0.501, 0.05), 2)
    anchor_names = list(anchors[names[0]])
    if real:
        offsets, anchor_names = np.asarray(REAL_OFFSETS), list(REAL_ANCHORS)

    def report(label: str, xs: dict[str, float], extra: str = "") -> None:
        errs = [abs(xs[n] - best_x[n]) for n in names]
        regs = [regret(n, xs[n]) for n in names]
        hold = [n for n in names if n.startswith("h-")]
        tune = [n for n in names if not n.startswith("h-")]

        def part(ns: list[str]) -> str:
            e = [abs(xs[n] - best_x[n]) for n in ns]
            return f"{np.median(e):.2f}/{np.mean([regret(n, xs[n]) for n in ns]):.2f}" if ns else "-"

        print(
            f"{label:34s} {np.median(errs):6.3f} {sum(e <= 0.30103 for e in errs):3d}/{len(names):<3d}"
            f" {np.mean(regs):7.3f} {np.median(regs):7.3f}   {part(tune):>10s} {part(hold):>10s} {extra}"
        )

    how = "trained at every candidate LR" if real else "regret read off the grid by interpolation"
    print(f"leave-one-task-out over {len(names)} tasks ({how})")
    print(f"{'rule':34s} {'med|e|':>6s} {'2x':>7s} {'mean r':>7s} {'med r':>7s}   "
          f"{'design':>10s} {'holdout':>10s}  (med|e|/mean r)")
    report("fastai/Smith: minimum / 10", {n: predict(n, "divergence", -1.0) for n in names})
    report("first rule: mid75 + 0 (not fitted)", {n: predict(n, "mid75", 0.0) for n in names})
    for kind in ("regret", "error"):
        print(f"-- offset fitted on the other tasks to the {kind} objective")
        for a in anchor_names:
            xs, cs = {}, []
            for n in names:
                rest = [m for m in names if m != n]
                c = min(offsets, key=lambda c: objective(kind, rest, a, c))
                xs[n] = predict(n, a, c)
                cs.append(c)
            full = min(offsets, key=lambda c: objective(kind, names, a, c))
            report(f"{a} + c", xs, f"c all-tasks {full:+.2f}, folds {min(cs):+.2f}..{max(cs):+.2f}")
        xs, picked = {}, []
        for n in names:
            rest = [m for m in names if m != n]
            a, c = min(
                ((a, c) for a in anchor_names for c in offsets), key=lambda ac: objective(kind, rest, *ac)
            )
            xs[n] = predict(n, a, c)
            picked.append(f"{a}{c:+.2f}")
        report("nested (anchor and c per fold)", xs, "picked: " + ", ".join(sorted(set(picked))))
    if train_at is None or real:
        return
    a = rule.ANCHOR
    xs, cs = {}, []
    for n in names:
        rest = [m for m in names if m != n]
        c = min(offsets, key=lambda c: objective("regret", rest, a, c))
        xs[n], cs = predict(n, a, c), cs + [c]
    print(f"\nshipped rule {a} + c (c refitted per fold: {min(cs):+.2f}..{max(cs):+.2f}), trained at each "
          f"left-out prediction ({len(SEEDS)} seeds):")
    errs, regs = {}, {}
    for n in names:
        errs[n] = abs(xs[n] - best_x[n])
        regs[n] = (train_at(n, xs[n]) - best_y[n]) / abs(best_y[n])
        print(f"  {n:28s} lr {10 ** xs[n]:9.3g}  grid-best {10 ** best_x[n]:9.3g}  |log10| {errs[n]:.2f}"
              f"  regret {regs[n]:+.3f}")
    for label, ns in (("design", [n for n in names if not n.startswith("h-")]),
                      ("holdout", [n for n in names if n.startswith("h-")]), ("all", names)):
        if ns:
            e = [errs[n] for n in ns]
            print(f"  {label:8s} median |log10| {np.median(e):.3f}, within 2x {sum(v <= 0.30103 for v in e)}/{len(ns)},"
                  f" mean regret {np.mean([regs[n] for n in ns]):.3f}")
    e = list(errs.values())
    print(f"  |log10 error| quantiles: 50% {np.quantile(e, 0.5):.2f}, 68% {np.quantile(e, 0.68):.2f},"
          f" 80% {np.quantile(e, 0.8):.2f} decades")


if __name__ == "__main__":
    main()
