"""How good are LR range-test suggestions? lrkit vs torch-lr-finder vs fastai's valley (issue 16).

For each task of ``benchmarks/finder_tasks.py`` (271 CPU-sized tasks in twenty-seven parts fixed by name
before any result: ``tuning``, the seen held-out ``h-`` part, the ``x-`` and ``y-`` parts (each
seen since its one blind run), the ``z-``, ``w-``, ``v-``, ``u-``, ``t-``, ``s-``, ``r-`` and ``q-``
parts and the blind ``p-``, ``o-``, ``n-``, ``m-``, ``l-``, ``k-``, ``j-``, ``i-``, ``g-``, ``f-``, ``e-``,
``d-``, ``c-``, ``b-`` and ``a-`` parts, reported apart; see ``finder_tasks.part``):

1. **Reference grid.** The peak LR of a warm-up (10%) + cosine run of ``task.steps`` updates is
   searched on the lattice ``10**(k/8)``: every 1/2 decade over the task's bounds (extended
   while the best sits on an edge), then 1/4 and 1/8 decade around the best. Each point is
   the test loss averaged over the full-run seeds (:data:`SEEDS`: init and data order); a
   run that ends non-finite or above the untrained model's loss counts as the untrained loss.
2. **Suggestions.** Each finder runs its range test with its *default settings* on
   ``range_seeds`` seeds (seed ``s``: ``make_model(s)``, training batches of seed ``7 + s``):
   lrkit's ``find_lr`` (and ``lrkit+val``: the same with ``val_data=task.val_batches()``, a
   validation split that is neither the training data nor the test set that scores),
   torch-lr-finder's ``range_test`` + steepest-gradient suggestion, and fastai's ``valley``
   (reimplemented from fastai's documented rule: 100 updates 1e-7 -> 10, EMA 0.98, stop when
   the smoothed loss exceeds 4x its best, valley on the points past the first 10% and before
   the last 5), and ``lrkit-0.1``: lrkit's range test and rule before issue 16 (its engine
   read from git history, commit :data:`BEFORE_COMMIT`).
3. **Score.** A suggestion is snapped to the lattice (at most 1/16 decade, 7.5% away) and a
   full run is trained there on the same seeds (cached). ``regret = (loss - best) /
   max(|best|, 0.05)`` capped at 10; ``|log10(suggested / best LR)|``. **Catastrophic**: no
   suggestion (regret 10), or a full run at the suggestion that diverges (any seed non-finite
   or above the untrained loss) or never learns (mean loss keeps less than 10% of the best
   run's improvement over the untrained model).

Every training run is cached in ``benchmarks/.cache/finder_quality/<task>.json`` (keyed by the
task's settings); peers' suggestions are cached too, lrkit's are keyed by a hash of the finder's
source, so a rerun after a finder change re-runs only lrkit's range tests and the few new
lattice points. ``--refresh`` recomputes everything.

Run (about 30 minutes of one core from an empty cache):
``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/finder_quality.py [--tasks ...] [--seeds 3]
[--quick] [--grid-only] [--methods ...] [--json out.json]``
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
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

import finder_tasks

import lrkit
from lrkit.finder.smoothing import ema
from lrkit.finder.suggest import valley_lr
from lrkit.schedules import warmup_cosine

SEEDS = (0, 1, 2)  # full-run seeds of every grid point
LATTICE = 8  # points per decade of the LR lattice
COARSE = 4  # lattice steps between coarse grid points (1/2 decade)
MAX_EXTEND = 4  # coarse points added beyond a bound while the best sits on it
REGRET_CAP = 10.0
CACHE_DIR = Path(__file__).resolve().parent / ".cache" / "finder_quality"
CACHE_VERSION = 3
METHODS = ("lrkit", "lrkit+val", "torch-lr-finder", "fastai-valley", "lrkit-0.1")
#: the finder before issue 16 (range test + curve rule only): its engine read from git history
BEFORE_COMMIT = "9e6579a"
FINDER_SRC = Path(lrkit.__file__).resolve().parent / "finder"


def _finder_hash() -> str:
    h = hashlib.sha256()
    for p in sorted(FINDER_SRC.glob("*.py")):
        h.update(p.read_bytes())
    return h.hexdigest()[:12]


FINDER_HASH = _finder_hash()  # the code this process imported (read once: edits during a run do not count)


def finder_hash() -> str:
    return FINDER_HASH


# -- full runs --------------------------------------------------------------------------------
def train(task: finder_tasks.BenchTask, peak: float, seed: int) -> float:
    """Test loss after a warm-up + cosine run at ``peak`` (inf when it blew up)."""
    model = task.make_model(seed)
    opt = task.make_optimizer(model, peak)
    sched = lrkit.Scheduler(opt, warmup_cosine(task.steps, max(1, task.steps // 10)))
    batches = task.batches(seed + 100)
    for _ in range(task.steps):
        opt.zero_grad(set_to_none=True)
        loss = task.loss_fn(model, next(batches))
        if not torch.isfinite(loss):
            return math.inf
        loss.backward()
        opt.step()
        sched.step()
    return task.evaluate(model)


class Cache:
    """Per-task JSON cache: full runs (lattice index -> per-seed test losses) and suggestions."""

    def __init__(self, task: finder_tasks.BenchTask, refresh: bool = False) -> None:
        self.path = CACHE_DIR / f"{task.name}.json"
        key = {"version": CACHE_VERSION, "steps": task.steps, "grid": list(task.grid), "seeds": list(SEEDS)}
        self.data: dict[str, Any] = {"key": key, "runs": {}, "suggestions": {}}
        if not refresh and self.path.exists():
            stored = json.loads(self.path.read_text())
            if stored.get("key") == key:
                self.data = stored

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data))
        tmp.replace(self.path)


class Reference:
    """A task's full runs on the lattice, its untrained loss and its grid-best point."""

    def __init__(self, task: finder_tasks.BenchTask, cache: Cache) -> None:
        self.task, self.cache = task, cache
        if "cap" not in cache.data:
            cache.data["cap"] = task.evaluate(task.make_model(0))
        self.cap = float(cache.data["cap"])

    def seeds_at(self, k: int) -> list[float]:
        runs = self.cache.data["runs"]
        if str(k) not in runs:
            vals = [train(self.task, 10 ** (k / LATTICE), s) for s in SEEDS]
            runs[str(k)] = [v if math.isfinite(v) else None for v in vals]
            self.cache.save()
        return [math.inf if v is None else v for v in runs[str(k)]]

    def loss_at(self, k: int) -> float:
        return float(np.mean([min(v, self.cap) for v in self.seeds_at(k)]))

    def grid(self) -> tuple[int, float]:
        """(lattice index of the best point, its loss)."""
        lo, hi = (round(math.log10(b) * LATTICE) for b in self.task.grid)
        ks = list(range(lo, hi + 1, COARSE))
        loss = {k: self.loss_at(k) for k in ks}
        for _ in range(MAX_EXTEND):
            best = min(loss, key=loss.get)
            if best == min(loss):
                k = best - COARSE
            elif best == max(loss):
                k = best + COARSE
            else:
                break
            loss[k] = self.loss_at(k)
        for step in (COARSE // 2, COARSE // 4):
            best = min(loss, key=loss.get)
            for k in (best - step, best + step):
                loss[k] = self.loss_at(k)
        best = min(loss, key=loss.get)
        self.cache.data["grid_best"] = [best, loss[best]]
        self.cache.save()
        return best, loss[best]

    def score(self, lr: float | None, best_k: int, best_loss: float) -> dict[str, Any]:
        if lr is None or not math.isfinite(lr) or lr <= 0:
            return {"lr": None, "regret": REGRET_CAP, "log10_err": None, "catastrophic": "no suggestion"}
        k = round(math.log10(lr) * LATTICE)
        seeds = self.seeds_at(k)
        loss = self.loss_at(k)
        regret = min(REGRET_CAP, (loss - best_loss) / max(abs(best_loss), 0.05))
        bad = None
        if any(not math.isfinite(v) or v > self.cap for v in seeds):
            bad = "diverged"
        elif self.cap - loss < 0.1 * (self.cap - best_loss):
            bad = "never learned"
        return {
            "lr": lr,
            "regret": regret,
            "log10_err": abs(math.log10(lr) - best_k / LATTICE),
            "catastrophic": bad,
        }


# -- the finders ------------------------------------------------------------------------------
class _Batches(torch.utils.data.IterableDataset):
    def __init__(self, gen):
        self.gen = gen

    def __iter__(self):
        return self.gen


def lrkit_suggestion(task: finder_tasks.BenchTask, seed: int, val: bool) -> dict[str, Any]:
    model = task.make_model(seed)
    opt = task.make_optimizer(model, 1e-3)
    res = lrkit.find_lr(model, opt, task.batches(7 + seed), task.loss_fn, val_data=task.val_batches() if val else None)
    return {
        "lr": res.suggestion,
        "confidence": res.confidence,
        "evaluations": res.loss_evaluations,
        "stopped_reason": res.stopped_reason,
        "notes": list(res.notes),
    }


def _before_engine() -> Any:
    """lrkit 0.1's ``find_lr`` (engine.py at :data:`BEFORE_COMMIT`, run against today's helpers,
    which it calls with the same signatures)."""
    import importlib.util
    import subprocess

    path = CACHE_DIR / f"engine_{BEFORE_COMMIT}.py"
    if not path.exists():
        src = subprocess.run(
            ["git", "show", f"{BEFORE_COMMIT}:src/lrkit/finder/engine.py"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(src)
    spec = importlib.util.spec_from_file_location("lrkit_engine_before", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def lrkit_before_suggestion(task: finder_tasks.BenchTask, seed: int) -> dict[str, Any]:
    model = task.make_model(seed)
    opt = task.make_optimizer(model, 1e-3)
    res = _before_engine().find_lr(model, opt, task.batches(7 + seed), task.loss_fn)
    return {
        "lr": res.suggestion,
        "confidence": res.confidence,
        "evaluations": len(res.raw_losses),
        "stopped_reason": res.stopped_reason,
    }


def torch_lr_finder_suggestion(task: finder_tasks.BenchTask, seed: int) -> dict[str, Any]:
    from matplotlib.figure import Figure
    from torch_lr_finder import LRFinder

    model = task.make_model(seed)
    opt = task.make_optimizer(model, 1e-7)
    loader = torch.utils.data.DataLoader(_Batches(task.batches(7 + seed)), batch_size=None)
    finder = LRFinder(model, opt, task.criterion, device="cpu")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        finder.range_test(loader, start_lr=1e-7, end_lr=10, num_iter=100)
        try:
            _, sug = finder.plot(ax=Figure().subplots(), suggest_lr=True)
        except (RuntimeError, ValueError, IndexError, TypeError):
            sug = None
    n = len(finder.history["lr"])
    finder.reset()
    return {"lr": None if sug is None else float(sug), "evaluations": n}


def fastai_valley_suggestion(task: finder_tasks.BenchTask, seed: int) -> dict[str, Any]:
    """fastai's ``lr_find`` + ``valley`` from its documented behaviour (not its code)."""
    model = task.make_model(seed)
    opt = task.make_optimizer(model, 1e-7)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    batches = task.batches(7 + seed)
    num_it, start, end = 100, 1e-7, 10.0
    lrs, raw = [], []
    best = math.inf
    for i in range(num_it):
        lr = start * (end / start) ** (i / (num_it - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss = task.loss_fn(model, next(batches))
        v = float(loss)
        if not math.isfinite(v):
            break
        loss.backward()
        opt.step()
        lrs.append(lr)
        raw.append(v)
        smooth = float(ema(np.asarray(raw), 0.98)[-1])
        best = min(best, smooth)
        if smooth > 4 * best:
            break
    model.load_state_dict(state)
    return {"lr": fastai_valley(np.asarray(lrs), np.asarray(raw), num_it), "evaluations": len(raw)}


def fastai_valley(lrs: np.ndarray, raw: np.ndarray, num_it: int = 100) -> float | None:
    sm = ema(raw, 0.98) if len(raw) else raw
    lo, hi = num_it // 10, len(raw) - 5
    if hi - lo < 2:
        return None
    return valley_lr(lrs[lo:hi], sm[lo:hi])


def _suggest(method: str, task: finder_tasks.BenchTask, seed: int) -> dict[str, Any]:
    if method == "lrkit":
        return lrkit_suggestion(task, seed, val=False)
    if method == "lrkit+val":
        return lrkit_suggestion(task, seed, val=True)
    if method == "lrkit-0.1":
        return lrkit_before_suggestion(task, seed)
    if method == "torch-lr-finder":
        return torch_lr_finder_suggestion(task, seed)
    return fastai_valley_suggestion(task, seed)


def suggestions(task: finder_tasks.BenchTask, cache: Cache, seeds: int, methods: tuple[str, ...]) -> dict:
    store = cache.data.setdefault("suggestions", {})
    h = finder_hash()
    out: dict[str, list[dict[str, Any]]] = {}
    for m in methods:
        key = f"{m}@{h}" if m.startswith("lrkit") else m
        got = store.setdefault(key, {})
        for s in range(seeds):
            if str(s) not in got:
                t0 = time.perf_counter()
                try:
                    got[str(s)] = _suggest(m, task, s)
                except Exception as e:  # what a user gets from a finder that raises: no suggestion
                    got[str(s)] = {"lr": None, "evaluations": 0, "error": f"{type(e).__name__}: {e}"[:300]}
                got[str(s)]["seconds"] = time.perf_counter() - t0
                cache.save()
        out[m] = [got[str(s)] for s in range(seeds)]
    return out


# -- the report -------------------------------------------------------------------------------
def table(rows: list[dict[str, Any]], methods: tuple[str, ...], title: str) -> None:
    print(f"\n{title}")
    print(
        "| finder | mean capped regret | median regret | regret <= 0.5 | median abs log10(suggested / best)"
        " | catastrophic | loss evaluations (median / max) |"
    )
    print("|---|---|---|---|---|---|---|")
    for m in methods:
        sc = [s for r in rows for s in r[m]]
        if not sc:
            continue
        reg = [s["regret"] for s in sc]
        err = [math.inf if s["log10_err"] is None else s["log10_err"] for s in sc]
        none = sum(s["catastrophic"] == "no suggestion" for s in sc)
        ruined = sum(s["catastrophic"] in ("diverged", "never learned") for s in sc)
        ev = [s.get("evaluations", 0) for s in sc]
        print(
            f"| {m} | {np.mean(reg):.2f} | {np.median(reg):.2f} | {100 * np.mean([r <= 0.5 for r in reg]):.0f}% |"
            f" {np.median(err):.2f} | {none + ruined} of {len(sc)} ({none} no suggestion, {ruined} runs ruined) |"
            f" {np.median(ev):.0f} / {max(ev)} |"
        )


def calibration(rows: list[dict[str, Any]], method: str, title: str) -> None:
    sc = [s for r in rows for s in r.get(method, [])]
    if not sc:
        return
    print(f"\n{title} ({method})")
    print("| confidence | suggestions | regret <= 0.5 | catastrophic | median regret |")
    print("|---|---|---|---|---|")
    for level in ("high", "medium", "low", "none"):
        got = [s for s in sc if s.get("confidence") == level]
        if got:
            reg = [s["regret"] for s in got]
            print(
                f"| {level} | {len(got)} | {100 * np.mean([r <= 0.5 for r in reg]):.0f}% |"
                f" {sum(s['catastrophic'] is not None for s in got)} | {np.median(reg):.2f} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", nargs="*", help="subset of task names (default: all)")
    ap.add_argument("--part", choices=("all", *finder_tasks.PARTS), default="all")
    ap.add_argument("--seeds", type=int, default=3, help="range-test seeds per task (default 3)")
    ap.add_argument("--quick", action="store_true", help="1 range-test seed, lrkit only")
    ap.add_argument("--grid-only", action="store_true", help="only compute (and cache) the reference grids")
    ap.add_argument("--methods", nargs="*", choices=METHODS, help="finders to run (default: all)")
    ap.add_argument("--json", help="write the per-task rows here")
    ap.add_argument("--extra-methods", nargs="*", choices=METHODS, help=argparse.SUPPRESS)
    ap.add_argument("--refresh", action="store_true", help="ignore the cache")
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    all_tasks = finder_tasks.tasks()
    names = args.tasks or list(all_tasks)
    unknown = [n for n in names if n not in all_tasks]
    if unknown:
        ap.error(f"unknown task(s) {unknown}; the tasks are {', '.join(all_tasks)}")
    if args.part != "all":
        names = [n for n in names if finder_tasks.part(n) == args.part]
    seeds = 1 if args.quick else args.seeds
    methods = tuple(args.methods or (("lrkit",) if args.quick else METHODS))
    if args.extra_methods:
        methods += tuple(m for m in args.extra_methods if m not in methods)
    t0 = time.perf_counter()
    rows = []
    for name in names:
        task = all_tasks[name]
        cache = Cache(task, args.refresh)
        ref = Reference(task, cache)
        best_k, best_loss = ref.grid()
        if args.grid_only:
            print(
                f"{name:34s} best lr {10 ** (best_k / LATTICE):9.3g}  loss {best_loss:.4f}  untrained {ref.cap:.4f}"
                f"  ({len(cache.data['runs'])} points, {time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
            continue
        found = suggestions(task, cache, seeds, methods)
        row: dict[str, Any] = {
            "task": name,
            "holdout": finder_tasks.is_holdout(name),
            "part": finder_tasks.part(name),
            "kind": task.kind,
            "best_lr": 10 ** (best_k / LATTICE),
            "best_loss": best_loss,
            "untrained": ref.cap,
        }
        for m in methods:
            row[m] = [
                {**ref.score(s["lr"], best_k, best_loss), **{k: v for k, v in s.items() if k != "lr"}} for s in found[m]
            ]
        rows.append(row)
        cells = []
        for m in methods:
            cells.append(
                m
                + " "
                + ",".join(
                    "-"
                    if s["lr"] is None
                    else f"{s['lr']:.2g}({s['regret']:.2f}{'!' if s['catastrophic'] else ''}"
                    + (f",{s['confidence'][0]}" if "confidence" in s else "")
                    + ")"
                    for s in row[m]
                )
            )
        print(f"{name:32s} best {row['best_lr']:8.2g} | " + " | ".join(cells), flush=True)
    if args.grid_only:
        return
    parts = (
        ("tuning part", [r for r in rows if r["part"] == "tuning"]),
        ("held-out part (h-, seen)", [r for r in rows if r["part"] == "holdout"]),
        ("fresh part (x-, seen since its one blind run)", [r for r in rows if r["part"] == "fresh"]),
        ("held-out (h-, seen) + fresh (x-)", [r for r in rows if r["part"] in ("holdout", "fresh")]),
        ("blind part (y-, seen since its one run)", [r for r in rows if r["part"] == "blind"]),
        ("second blind part (z-)", [r for r in rows if r["part"] == "blind2"]),
        ("third blind part (w-)", [r for r in rows if r["part"] == "blind3"]),
        ("fourth blind part (v-)", [r for r in rows if r["part"] == "blind4"]),
        ("fifth blind part (u-)", [r for r in rows if r["part"] == "blind5"]),
        ("sixth blind part (t-)", [r for r in rows if r["part"] == "blind6"]),
        ("seventh blind part (s-)", [r for r in rows if r["part"] == "blind7"]),
        ("eighth blind part (r-)", [r for r in rows if r["part"] == "blind8"]),
        ("ninth blind part (q-)", [r for r in rows if r["part"] == "blind9"]),
        ("tenth blind part (p-)", [r for r in rows if r["part"] == "blind10"]),
        ("eleventh blind part (o-)", [r for r in rows if r["part"] == "blind11"]),
        ("twelfth blind part (n-)", [r for r in rows if r["part"] == "blind12"]),
        ("thirteenth blind part (m-)", [r for r in rows if r["part"] == "blind13"]),
        ("fourteenth blind part (l-)", [r for r in rows if r["part"] == "blind14"]),
        ("fifteenth blind part (k-)", [r for r in rows if r["part"] == "blind15"]),
        ("sixteenth blind part (j-)", [r for r in rows if r["part"] == "blind16"]),
        ("seventeenth blind part (i-)", [r for r in rows if r["part"] == "blind17"]),
        ("eighteenth blind part (g-)", [r for r in rows if r["part"] == "blind18"]),
        ("nineteenth blind part (f-)", [r for r in rows if r["part"] == "blind19"]),
        ("twentieth blind part (e-)", [r for r in rows if r["part"] == "blind20"]),
        ("twenty-first blind part (d-)", [r for r in rows if r["part"] == "blind21"]),
        ("twenty-second blind part (c-)", [r for r in rows if r["part"] == "blind22"]),
        ("twenty-third blind part (b-)", [r for r in rows if r["part"] == "blind23"]),
        ("twenty-fourth blind part (a-)", [r for r in rows if r["part"] == "blind24"]),
        ("all tasks", rows),
    )
    for title, rs in parts:
        if rs:
            table(rs, methods, f"{title}: {len(rs)} tasks x {seeds} range-test seeds")
    for m in ("lrkit", "lrkit+val"):
        for title, rs in parts:
            calibration(rs, m, f"calibration, {title}")
    print(f"\n{len(SEEDS)} seeds per full run, {time.perf_counter() - t0:.0f} s (cached runs are free), 1 torch thread")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
