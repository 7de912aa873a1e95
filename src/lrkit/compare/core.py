"""Plan, run, resume and report a comparison (the engine behind ``lrkit compare``).

:func:`run_comparison` resolves the task and the schedules, picks the peak LR(s) (given, or the
LR finder's suggestion on the task), lints every schedule, writes the plan to the results
store, runs the trials the store does not hold yet on the chosen backend, then writes the HTML
report. :func:`report_comparison` re-reads a finished (or interrupted) comparison and reports it
again without training.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lrkit.compare.backends import Backend, make_backend
from lrkit.compare.spec import ScheduleSpec, TrialSpec, build_trials, parse_schedules
from lrkit.compare.stats import Summary, summarize
from lrkit.compare.store import ResultStore
from lrkit.errors import ConfigError
from lrkit.schedules.base import Schedule

__all__ = [
    "run_comparison",
    "report_comparison",
    "ComparisonOutcome",
    "find_peak_lr",
    "DEFAULT_TASK",
    "DEFAULT_SEEDS",
    "REPORT_NAME",
    "planned_results",
]

DEFAULT_TASK = "digits"
DEFAULT_SEEDS = 3
REPORT_NAME = "report.html"
#: the finder's ramp on a task: from 1e-6 to 10 over 100 updates (stops early on divergence)
FINDER_SETTINGS: dict[str, Any] = {"start_lr": 1e-6, "end_lr": 10.0, "num_steps": 100, "seed": 0}


@dataclass
class ComparisonOutcome:
    """What a comparison produced."""

    folder: Path
    report: Path
    summary: Summary
    plan: dict[str, Any]
    ran: int = 0
    reused: int = 0
    wall_s: float = 0.0
    interrupted: bool = False
    trials: dict[str, dict[str, Any]] = field(default_factory=dict)


class Events:
    """What a comparison tells a display as it goes. This base class shows nothing (the API's
    default); :class:`lrkit.compare.display.RichEvents` draws the live progress."""

    def planned(self, plan: Mapping[str, Any], todo: Sequence[TrialSpec], reused: int) -> None:
        """The plan is stored; ``todo`` trials will run, ``reused`` were found in the store."""

    def finder(self, message: str) -> None:
        """A line about the LR finder (running, suggestion, reused)."""

    def started(self, spec: TrialSpec) -> None:
        """A worker started ``spec`` (local backends only)."""

    def progress(self, spec: TrialSpec, step: int, loss: float) -> None:
        """``spec`` has taken ``step`` updates; ``loss`` is the latest training loss."""

    def finished(self, spec: TrialSpec, result: Mapping[str, Any]) -> None:
        """``spec`` ended (ok, diverged or failed) and its result is stored."""

    def done(self) -> None:
        """No more trials will run (all finished, or interrupted)."""


def _check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"must be an integer >= {minimum}, got {value!r}.", field=name, value=value, fix=f"e.g. {name}=3."
        )
    return value


def _check_lrs(lrs: Iterable[Any]) -> list[float]:
    if isinstance(lrs, str) or not isinstance(lrs, Iterable):
        raise ConfigError(
            f"must be a list of peak LRs, got {lrs!r}.", field="lrs", value=lrs, fix=f"pass a list, e.g. lrs=[{lrs!r}]."
        )
    out = []
    for v in lrs:
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        if not math.isfinite(f) or f <= 0:
            raise ConfigError(f"a peak LR must be a number > 0, got {v!r}.", field="lr", value=v, fix="e.g. --lr 3e-3.")
        out.append(f)
    return sorted(set(out))


def _task_ref(task: str | None, entry: str | None) -> str:
    if task and ":" in task and not entry:  # --task module:function works like --entry
        task, entry = None, task
    if task and entry:
        raise ConfigError(
            "both --task and --entry are given.", field="task", value=task, fix="keep one: an embedded task or yours."
        )
    if entry:
        if ":" not in entry:
            raise ConfigError(
                f"an entry point is written module:function, got {entry!r}.",
                field="entry",
                value=entry,
                fix="e.g. --entry mytasks:make_task.",
            )
        if os.getcwd() not in sys.path:  # `lrkit` is a console script: the current folder is not on the path
            sys.path.insert(0, os.getcwd())
        return entry
    return task or DEFAULT_TASK


def find_peak_lr(task_ref: str, store: ResultStore | None = None, notify: Callable[[str], None] | None = None) -> dict:
    """The LR finder's suggestion on a task (seed 0), cached in the store.

    Returns :meth:`lrkit.finder.FinderResult.to_dict` plus ``task``; raises
    :class:`ConfigError` when the range test finds no usable LR."""
    import hashlib
    import json

    cache_key = "finder:" + hashlib.sha1(json.dumps([task_ref, FINDER_SETTINGS]).encode()).hexdigest()[:12]
    if store is not None:
        cached = store.get_meta(cache_key)
        if cached is not None:
            if notify:
                notify(f"LR finder: reusing the stored suggestion {cached['suggestion']:.3g}")
            return cached
    import torch

    from lrkit.compare.runner import seed_everything
    from lrkit.finder import find_lr
    from lrkit.tasks import resolve_task

    task = resolve_task(task_ref)
    seed = FINDER_SETTINGS["seed"]
    if notify:
        notify(
            f"LR finder on {task.name}: a range test of {FINDER_SETTINGS['num_steps']} updates, then short "
            "confirmation trials (at most 300 loss evaluations) ..."
        )
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        seed_everything(seed)
        model = task.make_model(seed)
        optimizer = task.make_optimizer(model, FINDER_SETTINGS["start_lr"])
        result = find_lr(
            model,
            optimizer,
            task.batches(seed),
            task.loss_fn,
            start_lr=FINDER_SETTINGS["start_lr"],
            end_lr=FINDER_SETTINGS["end_lr"],
            num_steps=FINDER_SETTINGS["num_steps"],
            device=None,
        )
    finally:
        torch.set_num_threads(old)
    if result.suggestion is None:
        why = "; ".join(result.notes) or result.stopped_reason
        raise ConfigError(
            f"the LR finder found no usable peak LR on task {task.name!r} ({why}).",
            field="lr",
            fix="give the peak LR yourself: --lr 1e-3 (several --lr compare several).",
        )
    out = {**result.to_dict(), "task": task_ref}
    if store is not None:
        store.set_meta(cache_key, out)
    if notify:
        notify(f"LR finder: suggested peak LR {result.suggestion:.3g} (confidence {result.confidence})")
    return out


def _lint_spec(spec: ScheduleSpec, lr: float, steps: int) -> list[dict[str, Any]]:
    """The linter's findings for a schedule at peak ``lr`` over ``steps`` updates (plain dicts),
    with the config reader's own findings kept."""
    from lrkit.linter import lint
    from lrkit.schedules import Scale

    try:
        found = lint(Scale(spec.factor_schedule(), lr), total_steps=steps, context=spec.context or None)
    except ConfigError as err:
        return [{"rule": "lint-failed", "severity": "warning", "message": str(err), "fix": "", "evidence": {}}]
    own = [f.to_dict() for f in found]
    rules = {f["rule"] for f in own}
    return own + [f for f in spec.findings if f.get("rule") not in rules]


def _trial_dicts(trials: Sequence[TrialSpec]) -> list[dict[str, Any]]:
    return [{"key": t.key(), "label": t.label, "lr": t.lr, "seed": t.seed} for t in trials]


def planned_results(plan: Mapping[str, Any], rows: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Finished results of the plan's trials, each under its planned label (two labels for the
    same schedule share one stored trial)."""
    out = []
    for t in plan["trials"]:
        row = rows.get(t["key"])
        if row is None:
            continue
        spec = {**row["spec"], "label": t["label"], "lr": t["lr"], "seed": t["seed"]}
        out.append({**row, "spec": spec})
    return out


def _summary(plan: Mapping[str, Any], rows: Mapping[str, Mapping[str, Any]]) -> Summary:
    order = []
    for t in plan["trials"]:
        k = (t["label"], t["lr"])
        if k not in order:
            order.append(k)
    return summarize(
        planned_results(plan, rows), order=order, seeds=plan["seeds"], metric=plan.get("metric", "held-out loss")
    )


def _peak_lrs(
    specs: Sequence[ScheduleSpec], given: list[float] | None, find_lr: bool, finder: dict[str, Any] | None
) -> dict[str, list[float]]:
    """Each schedule's peak LRs: the given ones; else a config file's own (unless ``find_lr``);
    else the finder's suggestion."""
    out: dict[str, list[float]] = {}
    for s in specs:
        if given:
            out[s.label] = given
        elif s.peak_lr is not None and not find_lr:
            out[s.label] = [s.peak_lr]
        else:
            out[s.label] = [float(finder["suggestion"])]  # type: ignore[index]  # the finder ran for these
    return out


def _version() -> str:
    from lrkit import __version__

    return __version__


def _pending(trials: Sequence[TrialSpec], store: ResultStore, retry_failed: bool) -> tuple[list[TrialSpec], int]:
    """The trials still to run (each key once, in plan order) and how many are reused from the store."""
    skip = store.finished_keys(statuses=("ok", "diverged") if retry_failed else ("ok", "diverged", "failed"))
    todo: list[TrialSpec] = []
    seen: set[str] = set()
    for t in trials:
        k = t.key()
        if k not in skip and k not in seen:
            seen.add(k)
            todo.append(t)
    return todo, len({t.key() for t in trials}) - len(todo)


def _run_trials(runner: Backend, todo: list[TrialSpec], store: ResultStore, events: Events) -> tuple[int, bool]:
    """Run ``todo`` on the backend, saving each result as it comes; returns (trials run,
    interrupted by Ctrl-C)."""
    by_key = {t.key(): t for t in todo}
    ran = 0
    interrupted = False

    def on_result(result: dict[str, Any]) -> None:
        nonlocal ran
        store.save(result)
        ran += 1
        events.finished(by_key[result["key"]], result)

    try:
        runner.run(
            todo,
            on_result=on_result,
            on_start=lambda k: events.started(by_key[k]) if k in by_key else None,
            on_progress=lambda k, s, v: events.progress(by_key[k], s, v) if k in by_key else None,
        )
    except KeyboardInterrupt:
        interrupted = True
    finally:
        events.done()
    return ran, interrupted


@dataclass(frozen=True)
class _Settings:
    """A comparison's checked inputs."""

    ref: str  # the task as given (a name or module:function)
    task: Any  # the resolved task
    steps: int
    seeds: int
    specs: list[ScheduleSpec]
    given: list[float] | None  # peak LRs given with --lr


def _checked_settings(
    task: str | None,
    entry: str | None,
    schedules: Any,
    lrs: Sequence[float] | None,
    find_lr: bool | None,
    steps: int | None,
    seeds: int,
    diverge_factor: float,
) -> _Settings:
    from lrkit.tasks import resolve_task

    ref = _task_ref(task, entry)
    task_obj = resolve_task(ref)
    steps = _check_positive_int("steps", task_obj.default_steps if steps is None else steps)
    seeds = _check_positive_int("seeds", seeds)
    if not (isinstance(diverge_factor, int | float) and diverge_factor > 1):
        raise ConfigError(
            f"must be a number > 1, got {diverge_factor!r}.",
            field="diverge_factor",
            value=diverge_factor,
            fix="e.g. --diverge-factor 4 (a loss above 4x the first one is divergence).",
        )
    specs = parse_schedules(schedules, steps)
    given = _check_lrs(lrs) if lrs else None
    if find_lr and given:
        raise ConfigError("both --lr and --find-lr are given.", field="lr", value=given, fix="keep one of them.")
    return _Settings(ref=ref, task=task_obj, steps=steps, seeds=seeds, specs=specs, given=given)


def _plan(
    cfg: _Settings, find_lr: bool, diverge_factor: float, runner: Backend, store: ResultStore, events: Events
) -> tuple[dict[str, Any], list[TrialSpec]]:
    """The peak LRs (given, a config's own, or the finder's), the linted schedules and the trials,
    as the plan the store keeps."""
    finder = None
    if not cfg.given and (find_lr or any(s.peak_lr is None for s in cfg.specs)):
        finder = find_peak_lr(cfg.ref, store, events.finder)
    lr_map = _peak_lrs(cfg.specs, cfg.given, find_lr, finder)
    linted = [replace(s, findings=tuple(_lint_spec(s, lr_map[s.label][0], cfg.steps))) for s in cfg.specs]
    trials = build_trials(cfg.ref, linted, lr_map, range(cfg.seeds), cfg.steps, diverge_factor=diverge_factor)
    plan: dict[str, Any] = {
        "task": cfg.ref,
        "task_name": cfg.task.name,
        "task_description": cfg.task.description,
        "metric": "held-out loss",
        "steps": cfg.steps,
        "seeds": list(range(cfg.seeds)),
        "lrs": dict(lr_map),
        "lr_source": "given (--lr)" if cfg.given else ("LR finder" if finder else "config files"),
        "finder": finder,
        "schedules": [s.to_dict() for s in linted],
        "trials": _trial_dicts(trials),
        "backend": runner.describe(),
        "lrkit_version": _version(),
        "planned_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    return plan, trials


def _outcome(
    out: str | Path,
    plan: dict[str, Any],
    rows: dict[str, dict[str, Any]],
    *,
    write_report: bool,
    **counts: Any,
) -> ComparisonOutcome:
    """Summarize the plan's stored trials, write the report (when asked) and say what was done
    (``counts``: ``ran``, ``reused``, ``wall_s``, ``interrupted``)."""
    summary = _summary(plan, rows)
    report = Path(out) / REPORT_NAME
    if write_report:
        from lrkit.compare.report import write_report as _write

        _write(report, plan, rows, summary)
    return ComparisonOutcome(folder=Path(out), report=report, summary=summary, plan=plan, trials=rows, **counts)


def run_comparison(
    *,
    task: str | None = None,
    entry: str | None = None,
    schedules: Sequence[str | Schedule | ScheduleSpec | tuple[str, Schedule]] | None = None,
    lrs: Sequence[float] | None = None,
    find_lr: bool | None = None,
    steps: int | None = None,
    seeds: int = DEFAULT_SEEDS,
    backend: str | Backend = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    ray_runtime_env: dict[str, Any] | None = None,
    out: str | Path = "lrkit-out",
    retry_failed: bool = False,
    diverge_factor: float = 4.0,
    events: Events | None = None,
    write_report: bool = True,
) -> ComparisonOutcome:
    """Train the task under every schedule, peak LR and seed not already in ``out``'s store,
    then summarize and write ``out/report.html``.

    ``schedules``: ``--schedule`` strings (preset names, config paths, inline mappings) and/or
    objects: a :class:`~lrkit.schedules.Schedule` in factor units (its values multiply the peak
    LR), a ``(label, Schedule)`` pair, or a :class:`~lrkit.compare.spec.ScheduleSpec` (to add a
    controller); the default set when ``None``. A :class:`~lrkit.schedules.SchedulerInterface`
    subclass must be importable where the trials run (worker processes rebuild it by name).

    Peak LRs: ``lrs`` for every schedule when given; otherwise the finder's suggestion for
    presets, inline schedules and schedule objects, and each config file's own peak LR
    (``find_lr=True`` uses the finder for config files too).
    """
    events = events or Events()
    t_start = time.perf_counter()
    cfg = _checked_settings(task, entry, schedules, lrs, find_lr, steps, seeds, diverge_factor)
    runner = (
        backend
        if isinstance(backend, Backend)
        else make_backend(backend, workers=workers, ray_address=ray_address, runtime_env=ray_runtime_env)
    )
    store = ResultStore(out)
    try:
        plan, trials = _plan(cfg, bool(find_lr), diverge_factor, runner, store, events)
        store.set_meta("plan", plan)
        todo, reused = _pending(trials, store, retry_failed)
        events.planned(plan, todo, reused)
        ran, interrupted = _run_trials(runner, todo, store, events)
        rows = store.trials({t["key"] for t in plan["trials"]})
        wall_s = time.perf_counter() - t_start
        store.set_meta("last_run", {"wall_s": wall_s, "ran": ran, "reused": reused, "interrupted": interrupted})
        return _outcome(
            out,
            {**plan, "wall_s": wall_s},
            rows,
            write_report=write_report,
            ran=ran,
            reused=reused,
            wall_s=wall_s,
            interrupted=interrupted,
        )
    finally:
        store.close()


def report_comparison(out: str | Path = "lrkit-out", *, write_report: bool = True) -> ComparisonOutcome:
    """Summarize and re-write the report of the comparison stored in ``out`` (no training)."""
    with ResultStore(out, create=False) as store:
        plan = store.get_meta("plan")
        if plan is None:
            raise ConfigError(
                f"{store.path} holds no comparison plan.",
                field="output",
                value=str(out),
                fix="run `lrkit compare -o DIR` first.",
            )
        last = store.get_meta("last_run", {}) or {}
        rows = store.trials({t["key"] for t in plan["trials"]})
    return _outcome(out, {**plan, "wall_s": last.get("wall_s")}, rows, write_report=write_report, reused=len(rows))
