"""``lint()``: run every rule on a schedule and its run, and merge the reader's own findings.

Step ``k`` is the number of optimizer updates already taken; a run of ``N`` updates uses the
LRs ``schedule(0) .. schedule(N - 1)``; a decay whose horizon is ``N`` reaches its floor right
after the last update, which is exactly on time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.linter.catalog import SEVERITY_ORDER
from lrkit.linter.config_rules import (
    rule_cosine_tmax,
    rule_megatron_decay_iters,
    rule_milestones,
    rule_milestones_structural_only,
    rule_min_lr,
    rule_wsd,
)
from lrkit.linter.curve import evaluate_curve, warmup_from_curve
from lrkit.linter.run import Run, int_or_none
from lrkit.linter.shape_rules import (
    rule_first_update,
    rule_horizon,
    rule_never_decays,
    rule_rises,
    rule_warmup,
    rule_zero,
)
from lrkit.linter.structure import warmup_steps_of
from lrkit.schedules import Schedule

__all__ = ["lint"]


#: documented context keys (docs/lint.md) that hold a step count, or a floor
_STEP_KEYS = (
    "warmup_steps",
    "lr_warmup_iters",
    "declared_horizon",
    "lr_decay_iters",
    "wsd_decay_steps",
    "lr_wsd_decay_iters",
)
_FLOOR_KEYS = ("min_lr", "min_lr_ratio")


def _check_context(context: Any) -> dict[str, Any]:
    """The caller's ``context``: the rules skip a fact they cannot read, so a mistyped one would
    silently change the findings; refuse it instead."""
    from lrkit.schedules.base import check_steps

    if context is None:
        return {}
    if not isinstance(context, Mapping):
        raise ConfigError(
            f"must be a mapping, got {type(context).__name__}.",
            field="context",
            value=context,
            fix="pass a dict such as {'warmup_steps': 500} (keys in docs/lint.md).",
        )
    for key in _STEP_KEYS:
        if context.get(key) is not None:
            check_steps(f"context.{key}", context[key])
    for key in _FLOOR_KEYS:
        v = context.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0 or math.isinf(v)):
            raise ConfigError(
                f"must be a finite number >= 0, got {v!r}.",
                field=f"context.{key}",
                value=v,
                fix="give the floor as a number.",
            )
    ms = context.get("milestones")
    if ms is not None:
        if not isinstance(ms, list | tuple):
            raise ConfigError(
                f"must be a list of steps, got {ms!r}.",
                field="context.milestones",
                value=ms,
                fix="write milestones: [500].",
            )
        for i, m in enumerate(ms):
            check_steps(f"context.milestones[{i}]", m)
    pieces = context.get("pieces")
    if pieces is not None and (not isinstance(pieces, list | tuple) or not all(isinstance(p, Mapping) for p in pieces)):
        raise ConfigError(
            f"must be a list of mappings, got {pieces!r}.",
            field="context.pieces",
            value=pieces,
            fix="write pieces: [{name: CosineAnnealingLR, kwargs: {T_max: 450}}, ...].",
        )
    return dict(context)


def _is_resolved(target: Any) -> bool:
    return all(hasattr(target, a) for a in ("schedule", "peak_lr", "total_steps", "context", "findings"))


def _merge(own: list[Finding], reader: Iterable[Finding]) -> list[Finding]:
    """The linter's findings plus the reader's; one finding per rule id: the linter's message and
    evidence (the run's numbers), with the reader's fix and source where it has them -- the reader
    knows which setting its format has (HF has no ``lr_warmup_init``; DeepSpeed's is
    ``warmup_min_lr``), where the linter's fix is the same for every format."""
    by_rule = {f.rule: i for i, f in enumerate(own)}
    out = list(own)
    for f in reader:
        i = by_rule.get(f.rule)
        if i is None:
            out.append(f)
            by_rule[f.rule] = len(out) - 1
            continue
        mine = out[i]
        out[i] = replace(mine, fix=f.fix or mine.fix, source=mine.source if f.source is None else f.source)
    return sorted(out, key=lambda f: SEVERITY_ORDER.get(f.severity, 3))


def lint(
    target: Any,
    *,
    total_steps: int | None = None,
    context: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Findings about a schedule and its run, errors first.

    Args:
        target: a resolved config (:class:`lrkit.config.ResolvedConfig`: its factor schedule
            scaled by ``peak_lr``, its ``total_steps``, ``context`` and the reader's
            ``findings``), a :class:`~lrkit.Schedule` (taken as absolute LRs), or a config path
            or dict (read with :func:`lrkit.config.load_config`).
        total_steps: run length in optimizer updates; overrides the config's. When neither is
            known the schedule's own end (``horizon``) is taken as the run, with an info finding.
        context: structural facts that override or add to the config's (see ``docs/lint.md``).

    Returns:
        a list of :class:`~lrkit.Finding` (rule id, severity, message with the numbers, fix,
        evidence with the steps and values).
    """
    if isinstance(target, str | Path | Mapping):
        from lrkit.config import load_config

        target = load_config(target, total_steps=total_steps)
    schedule, scale, n, ctx, reader = _unpack_target(target, total_steps, _check_context(context))
    if n is not None:
        from lrkit.schedules.base import check_steps

        n = check_steps("total_steps", n, minimum=1)
    run = Run(schedule=schedule, scale=scale, total=n, context=ctx)
    declared = int_or_none(ctx.get("declared_horizon"))
    run.horizon = declared if declared is not None else schedule.horizon
    if not _settle_run_length(run):
        rule_milestones_structural_only(run)
        return _merge(run.findings, reader)
    warmup_values = _evaluate(run)
    if rule_zero(run):
        return _merge(run.findings, reader)
    w = warmup_steps_of(schedule, ctx)
    run.warmup = w if w is not None else warmup_from_curve(warmup_values, run.peak)
    _run_rules(run)
    return _merge(run.findings, reader)


def _unpack_target(
    target: Any, total_steps: int | None, given: dict[str, Any]
) -> tuple[Schedule, float, int | None, dict[str, Any], tuple[Finding, ...]]:
    """``(schedule, scale, total_steps, context, reader findings)`` of a Schedule or a resolved config."""
    if isinstance(target, Schedule):
        return target, 1.0, total_steps, given, ()
    if _is_resolved(target):
        n = total_steps if total_steps is not None else target.total_steps
        ctx = {**dict(target.context or {}), **given}
        return target.schedule, float(target.peak_lr), n, ctx, tuple(target.findings or ())
    raise ConfigError(
        f"cannot lint a {type(target).__name__}.",
        field="target",
        value=target,
        fix="pass a ResolvedConfig (lrkit.load_config(...)), a Schedule, a config path or a config dict.",
    )


def _settle_run_length(run: Run) -> bool:
    """Fill in ``run.total`` from the schedule's end when it is not given (with an info finding);
    False when neither is known, so the rules that compare the schedule with the run cannot run."""
    if run.total is not None:
        return True
    if run.horizon is None or run.horizon < 1:
        run.add(
            "total-steps-unknown",
            "the config does not say how long the run is and the schedule has no end, so the rules that "
            "compare the schedule with the run were skipped.",
            "pass the run length: lrkit check --total-steps N (or total_steps= in the API).",
        )
        return False
    run.total = math.ceil(run.horizon)
    run.add(
        "total-steps-unknown",
        f"the run length is not given; assuming the run ends where the schedule does (step {run.total}).",
        "pass the run length to check the decay against it: --total-steps N.",
        total_steps=run.total,
    )
    return True


def _evaluate(run: Run) -> np.ndarray:
    """Tabulate the curve over twice the longer of the run and the schedule's end, and its peak;
    returns the run's LRs to read a warm-up from (none when the curve was not tabulated in full)."""
    n = run.total
    assert n is not None  # settled by _settle_run_length
    ends = [math.ceil(run.horizon)] if run.horizon is not None else []
    length = 2 * max(n, *(ends or [0]))
    run.curve = evaluate_curve(run.schedule, total=n, scale=run.scale, length=length, extra=[*ends, n])
    run_values = run.curve.run_values()
    run.peak = float(run_values.max()) if run_values.size else 0.0
    return run_values if run.curve.full else np.array([])


def _run_rules(run: Run) -> None:
    """The rules after the curve and the warm-up are known, in order: a more specific finding
    suppresses a generic one."""
    rule_first_update(run)
    rule_warmup(run)
    rule_min_lr(run)
    rule_milestones(run)
    before = len(run.findings)
    rule_cosine_tmax(run)
    specific = len(run.findings) > before
    specific = rule_megatron_decay_iters(run) or specific
    rule_rises(run)
    rises_inside = any(f.rule == "lr-rises-again" and f.severity == "error" for f in run.findings)
    if not specific and not rises_inside:
        rule_horizon(run)  # a curve that climbs back does not "sit at the floor"
    rule_wsd(run)
    if not any(f.rule == "decay-horizon-too-long" for f in run.findings):
        rule_never_decays(run)  # a decay that ends too late is the finding, not "never decays"
