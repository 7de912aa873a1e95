"""axolotl YAML read into the curve axolotl's trainer really runs.

axolotl turns its config into ``transformers.TrainingArguments`` and, for a few cosine
variants, builds its own scheduler (``axolotl/core/builders/base.py``,
``axolotl/core/trainers/mixins/scheduler.py``, ``axolotl/utils/schedulers.py``):

- ``learning_rate`` (required) is the peak; ``lr_scheduler`` (default ``cosine``) is a
  transformers ``SchedulerType`` handed on as ``lr_scheduler_type``, or ``one_cycle`` / ``rex``
  (axolotl's own, on top of ``lr_scheduler_type: cosine``); ``lr_scheduler_kwargs`` goes along.
- The run length (transformers' ``max_steps``) is ``max_steps`` when set, else axolotl's
  ``total_num_steps``: ``num_epochs`` times the updates per epoch, which axolotl counts from the
  tokenized dataset. It is not in the file: pass ``total_steps`` (``--total-steps``).
- Warm-up: ``warmup_steps`` as given; else ``int(warmup_ratio * total_num_steps)`` (truncated,
  unlike transformers' ``ceil``); else ``min(int(0.03 * total_num_steps), 100)``; a warm-up of
  exactly 1 becomes 2. For supervised runs ``total_num_steps`` is ``min(dataset steps,
  max_steps)``; for preference RL (dpo, kto, orpo, ...) it is the dataset's steps, even with
  ``max_steps``; for ``grpo`` / ``ebft`` there is none, and the ratio (default 0.03) goes to
  transformers as a ratio of ``max_steps`` (``ceil``).
- With ``lr_scheduler: cosine``: ``lr_quadratic_warmup: true`` (supervised runs only) gives
  :class:`~lrkit.schedules.compat.AxolotlLambda` ``cosine_with_quadratic_warmup``; else
  ``cosine_min_lr_ratio`` with ``cosine_constant_lr_ratio`` gives
  ``cosine_with_warmup_decay_constant``; else ``cosine_min_lr_ratio`` gives
  ``cosine_with_min_lr``; otherwise transformers' curve (:class:`~lrkit.schedules.compat.HFLambda`).

The trainer steps the scheduler after every optimizer update, so step ``k`` is update ``k``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lrkit.config import fields as F
from lrkit.config.deepspeed import TrainerFill, has_scheduler
from lrkit.config.hf import _optimizer, deepspeed_config, get_warmup_steps, read_deepspeed_scheduler, read_hf
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.signature import Signature, keys
from lrkit.config.torch_schedulers import one_cycle_from_torch
from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.schedules import OneCycle, Schedule, Shift
from lrkit.schedules.compat import HF_TYPES, AxolotlLambda, HFLambda, JaggedRestarts

__all__ = ["AXOLOTL_SCHEDULERS", "RL_TYPES", "read_axolotl", "SIGNATURES"]

SIGNATURES = (
    Signature(
        "axolotl",
        "axolotl YAML: lr_scheduler, learning_rate, num_epochs, warmup_ratio, cosine_min_lr_ratio, ...",
        ("axolotl-ai",),
        "read_axolotl",
        # axolotl's schema (axolotl/utils/schemas): the TrainingArguments keys it has, then
        # names no other trainer uses
        flat_keys=keys(
            "warmup_steps warmup_ratio lr_scheduler_kwargs micro_batch_size lr_scheduler num_epochs base_model "
            "datasets sequence_len sample_packing pad_to_sequence_len cosine_min_lr_ratio cosine_constant_lr_ratio "
            "lr_quadratic_warmup adapter val_set_size evals_per_epoch saves_per_epoch jagged_restart_steps"
        ),
        schedule_keys=keys("lr_scheduler lr_scheduler_kwargs"),
        training_keys=keys("learning_rate lr_scheduler max_steps num_epochs warmup_steps warmup_ratio"),
    ),
)

#: lr_scheduler values axolotl runs (transformers' SchedulerType plus its own two)
AXOLOTL_SCHEDULERS = (*HF_TYPES, "reduce_lr_on_plateau", "one_cycle", "rex")
#: axolotl's RLType values
RL_TYPES = ("dpo", "gdpo", "grpo", "ipo", "orpo", "kto", "simpo", "ebft")
_NO_TOTAL_RL = ("grpo", "ebft")  # axolotl computes no total_num_steps for these
_ONE_CYCLE_KWARGS = (
    "pct_start",
    "anneal_strategy",
    "div_factor",
    "final_div_factor",
    "three_phase",
    "cycle_momentum",
    "base_momentum",
    "max_momentum",
)


@dataclasses.dataclass(frozen=True)
class _Run:
    """The step counts axolotl derives: ``estimate`` is its ``total_num_steps`` (None: none),
    ``horizon`` transformers' ``max_steps`` (None: not known without ``total_steps``)."""

    estimate: int | None
    horizon: int | None
    assumed: bool  # estimate taken as max_steps, the dataset's own count unknown


def _ask_total(why: str, field: str = "num_epochs") -> ConfigError:
    return ConfigError(
        f"{why} axolotl counts it from the tokenized dataset (num_epochs x updates per epoch), which is not in the "
        f"file.",
        field=field,
        fix="pass the number of optimizer updates of the run: --total-steps N (total_steps=N in Python), "
        "or set max_steps.",
    )


def _run(data: Mapping[str, Any], rl: str | None, total_steps: int | None) -> _Run:
    raw = data.get("max_steps")
    max_steps = None
    if raw is not None and F.number(raw, "max_steps") > 0:
        max_steps = F.steps(raw, "max_steps", minimum=1)
    if data.get("streaming") or data.get("pretraining_dataset"):
        if max_steps is None:
            raise ConfigError(
                "a streamed or pretraining dataset needs max_steps (axolotl refuses it without).",
                field="max_steps",
                fix="set max_steps: N.",
            )
        return _Run(max_steps, max_steps, False)
    horizon = max_steps if max_steps is not None else total_steps
    if rl in _NO_TOTAL_RL:
        return _Run(None, horizon, False)
    if rl is not None or max_steps is None:
        return _Run(total_steps, horizon, False)
    if total_steps is None:
        return _Run(max_steps, horizon, True)
    return _Run(min(total_steps, max_steps), horizon, False)


def _warmup(data: Mapping[str, Any], run: _Run, rl: str | None) -> tuple[int, str, list[Finding]]:
    """``(warm-up updates, how, findings)`` as ``_configure_warmup_and_logging`` then
    ``TrainingArguments.get_warmup_steps`` compute them; the findings are the warnings for a
    ratio that axolotl runs other than as a fraction of the run."""
    ws, wr = data.get("warmup_steps"), data.get("warmup_ratio")
    if ws and wr:
        raise ConfigError(
            "warmup_steps and warmup_ratio are mutually exclusive (axolotl refuses both).",
            field="warmup_ratio",
            value=wr,
            fix="keep one of them.",
        )
    if rl == "simpo" and wr:
        raise ConfigError(
            "axolotl refuses warmup_ratio with the simpo trainer.",
            field="warmup_ratio",
            value=wr,
            fix="use warmup_steps: N instead.",
        )
    if isinstance(ws, float) and not ws.is_integer():
        raise ConfigError(
            f"axolotl's schema takes warmup_steps as a whole number; it refuses {ws!r}.",
            field="warmup_steps",
            value=ws,
            fix=f"for a fraction of the run write warmup_ratio: {ws!r} instead.",
        )
    count: float
    odd_ratio: float | None = None  # a ratio axolotl runs other than as a fraction of the run
    if ws is not None:
        count, how = F.steps(ws, "warmup_steps"), "warmup_steps"
    else:
        # axolotl's schema takes any float: it does not refuse a ratio above 1 (a warm-up longer than the
        # data's steps) or below 0 (clamped to no warm-up below), so lrkit reads both as axolotl runs them
        ratio = 0.03 if wr is None else F.number(wr, "warmup_ratio")
        key = "warmup_ratio" if wr is not None else "the default warm-up (3%)"
        if rl not in _NO_TOTAL_RL and run.estimate is None:
            where = "the dataset's step count" if rl else "the run length"
            raise _ask_total(f"{key} is taken of {where}.", "warmup_ratio" if wr is not None else "num_epochs")
        if run.estimate:
            count = max(int(ratio * run.estimate), 0) if wr is not None else min(int(0.03 * run.estimate), 100)
            how = f"int({ratio:g} x {run.estimate})" if wr is not None else f"min(int(0.03 x {run.estimate}), 100)"
        else:
            # handed to transformers as warmup_steps, and only when above 0
            count, how = max(ratio, 0.0), f"ratio {ratio:g} of max_steps"
            odd_ratio = ratio if ratio >= 1 else None
        odd_ratio = ratio if ratio < 0 else odd_ratio
    if count == 1:
        count = 2  # axolotl: "warmup_steps == 1 -> 2"
    # then transformers reads the warmup_steps axolotl gives it: a count, or a ratio of max_steps below 1
    needs_run = _ask_total("a warm-up ratio needs the run length.", "max_steps")
    w = get_warmup_steps(count, run.horizon, field="warmup_ratio", needs_run=needs_run)
    return w, how, [] if odd_ratio is None else [_ratio_finding(odd_ratio, w)]


def _ratio_finding(ratio: float, warmup: int) -> Finding:
    """A warm-up ratio axolotl runs other than as a fraction of the run: below 0 (no warm-up), or
    1 or more handed to transformers as ``warmup_steps`` (a count of ``warmup`` updates)."""
    if ratio < 0:
        message = f"warmup_ratio {ratio:g} is below 0: axolotl runs it as no warm-up."
        fix = "write warmup_ratio: 0 (or drop it for axolotl's default of 3%, at most 100 updates)."
    else:
        message = (
            f"warmup_ratio {ratio:g} reaches transformers as warmup_steps {ratio:g} (axolotl has no step count for "
            f"this trainer), which it reads as a count: {warmup} update{'s' if warmup != 1 else ''} of warm-up."
        )
        fix = "for a fraction of the run write warmup_ratio below 1; for a count, warmup_steps: N."
    return Finding(
        rule="ignored-key",
        severity="warning",
        message=message,
        fix=fix,
        evidence={"warmup_ratio": ratio, "warmup_steps": warmup},
        source="warmup_ratio",
    )


def _rl(data: Mapping[str, Any]) -> str | None:
    rl = data.get("rl")
    if rl is None or rl is False:
        return None
    return F.choice(str(rl).lower() if isinstance(rl, str) else rl, "rl", RL_TYPES)


def _ratio(data: Mapping[str, Any], key: str) -> float | None:
    v = data.get(key)
    if v is None:
        return None
    # the mixin asserts 0 <= ratio <= 1 before it builds the scheduler
    return F.number(v, key, low=0.0, high=1.0)


def _assumed_run(run: _Run) -> Finding:
    return Finding(
        rule="assumed-run-length",
        severity="warning",
        message=f"axolotl takes the warm-up of min(dataset steps, max_steps); read as max_steps={run.horizon}, "
        "which holds when the data covers the run.",
        fix="pass --total-steps with the updates the data gives (num_epochs x updates per epoch) if it is fewer.",
        evidence={"max_steps": run.horizon},
        source="max_steps",
    )


def _axolotl_optimizer(data: Mapping[str, Any], lr: float) -> dict[str, Any]:
    """axolotl's ``optimizer`` (default adamw_torch_fused) read as TrainingArguments' ``optim``."""
    names = ("weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon")
    optim = {"optim": str(data.get("optimizer") or "adamw_torch_fused")}
    return _optimizer({**optim, **{k: data[k] for k in names if data.get(k) is not None}}, lr)


def _one_cycle(kw: Mapping[str, Any], w: int, n: int) -> OneCycle:
    """``one_cycle``: torch's OneCycleLR with axolotl's defaults (pct_start = warm-up / run)."""
    F.check_keys(kw, _ONE_CYCLE_KWARGS, "lr_scheduler_kwargs", what="lr_scheduler 'one_cycle' (torch OneCycleLR)")
    return one_cycle_from_torch(kw, n, pct_start=w / n, path="lr_scheduler_kwargs")


def _special(
    name: str,
    kw: Mapping[str, Any],
    w: int,
    n: int,
    *,
    quadratic: bool,
    min_ratio: float | None,
    const_ratio: float | None,
) -> OneCycle | AxolotlLambda | HFLambda:
    """axolotl's own schedulers (one_cycle, rex, the quadratic warm-up, the min-lr and constant-lr cosines)."""
    if name == "one_cycle":
        return _one_cycle(kw, w, n)
    if name == "rex":
        return AxolotlLambda("rex", w, n, min_ratio or 0.0)
    if quadratic:
        return AxolotlLambda("cosine_with_quadratic_warmup", w, n)
    if const_ratio:
        return AxolotlLambda("cosine_with_warmup_decay_constant", w, n, min_ratio or 0.0, const_ratio)
    # axolotl's cosine-with-min-lr lambda is transformers' cosine_with_min_lr at num_cycles 0.5, bit for bit
    # ((1 - m) * c + m either way); HFLambda keeps it exportable to hf
    return HFLambda("cosine_with_min_lr", warmup_steps=w, training_steps=n, min_lr_rate=min_ratio or 0.0)


def read_axolotl(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    """axolotl YAML as its trainer builds the scheduler: transformers' types through
    :func:`read_hf` with axolotl's warm-up and run length, or one of axolotl's own schedulers."""
    if data.get("learning_rate") is None:
        raise ConfigError(
            "axolotl needs learning_rate (its schema has no default).",
            field="learning_rate",
            fix="add learning_rate: 2.0e-5 (the peak LR).",
        )
    lr = F.number(data["learning_rate"], "learning_rate", low=0.0, low_open=True)
    name = data.get("lr_scheduler") or "cosine"
    name = F.choice(name, "lr_scheduler", AXOLOTL_SCHEDULERS)
    rl = _rl(data)
    kw = dict(F.mapping(data.get("lr_scheduler_kwargs") or {}, "lr_scheduler_kwargs"))
    run = _run(data, rl, total_steps)
    ds_config, ds_where, ds_note = deepspeed_config(data, source)
    if has_scheduler(ds_config):
        assert ds_config is not None
        # axolotl hands the Trainer its warm-up as a count (warmup_steps), which get_warmup_steps keeps
        fill = TrainerFill(lr, run.horizon, lambda _steps: _warmup(data, run, rl)[0])
        res = read_deepspeed_scheduler(
            data,
            ds_config,
            ds_where,
            fill,
            total_steps=total_steps,
            source=source,
            fmt="axolotl",
            replaces=f"lr_scheduler {name!r}",
            optimizer=_axolotl_optimizer(data, lr),
        )
        return res
    findings: list[Finding] = [ds_note] if ds_note is not None else []
    hf_name = "cosine" if name in ("one_cycle", "rex") else name
    min_ratio = _ratio(data, "cosine_min_lr_ratio") if hf_name == "cosine" else None
    const_ratio = _ratio(data, "cosine_constant_lr_ratio") if hf_name == "cosine" else None
    quadratic = hf_name == "cosine" and data.get("lr_quadratic_warmup") is True and rl is None
    _notes(data, name, hf_name, rl, quadratic, min_ratio, const_ratio, findings)
    if run.assumed:
        findings.append(_assumed_run(run))
    optimizer = _axolotl_optimizer(data, lr)
    shown = total_steps if total_steps is not None else run.horizon
    if name == "constant" or name == "reduce_lr_on_plateau":
        hf_data = {"learning_rate": lr, "lr_scheduler_type": name, "lr_scheduler_kwargs": kw}
        return _as_axolotl(read_hf(hf_data, total_steps=shown, source=source), data, findings, optimizer, {})
    w, how, ratio_findings = _warmup(data, run, rl)
    findings.extend(ratio_findings)
    context: dict[str, Any] = {"lr_scheduler": name, "warmup_steps": w, "warmup_from": how}
    special = name in ("one_cycle", "rex") or quadratic or bool(min_ratio)
    if run.horizon is None and (special or name not in ("constant_with_warmup", "inverse_sqrt", "warmup_stable_decay")):
        raise _ask_total(f"lr_scheduler {name!r} needs the run length.")
    if not special:
        hf_args: dict[str, Any] = {"learning_rate": lr, "lr_scheduler_type": hf_name, "lr_scheduler_kwargs": kw}
        hf_args["warmup_steps"] = w
        if run.horizon is not None:
            hf_args["max_steps"] = run.horizon
        res = read_hf(hf_args, total_steps=shown, source=source)
        return _as_axolotl(res, data, findings, optimizer, context)
    n = run.horizon
    assert n is not None
    if name == "one_cycle" and "pct_start" not in kw and w > n:
        key = "warmup_steps" if data.get("warmup_steps") is not None else "warmup_ratio"
        raise ConfigError(
            f"one_cycle starts its decay at pct_start = warm-up / run = {w}/{n}, above 1: "
            "torch's OneCycleLR refuses it.",
            field=key,
            value=data.get(key),
            fix="make the warm-up at most the run (warmup_ratio <= 1), or set lr_scheduler_kwargs.pct_start.",
        )
    schedule = _special(name, kw, w, n, quadratic=quadratic, min_ratio=min_ratio, const_ratio=const_ratio)
    context.update(declared_horizon=n, num_training_steps=n, decay_steps=n - w)
    if min_ratio and name != "one_cycle" and not quadratic:
        context["min_lr"] = min_ratio * lr
    if not isinstance(schedule, OneCycle):
        _lambda_quirks(schedule, w, n, shown if shown is not None else n, lr, findings)
    res = ResolvedConfig(schedule, lr, shown, "axolotl", source, (), {}, optimizer, dict(data), None)
    return _as_axolotl(res, data, findings, optimizer, context)


def _as_axolotl(
    res: ResolvedConfig,
    data: Mapping[str, Any],
    findings: list[Finding],
    optimizer: dict[str, Any],
    context: dict[str, Any],
) -> ResolvedConfig:
    ctx = {**res.context, **context}
    ctx.pop("lr_scheduler_type", None)
    schedule = _jagged(res, data, ctx, findings)
    return dataclasses.replace(
        res,
        schedule=schedule,
        format="axolotl",
        findings=(*res.findings, *findings),
        context=ctx,
        optimizer=optimizer,
        raw=dict(data),
    )


def _jagged(res: ResolvedConfig, data: Mapping[str, Any], ctx: dict[str, Any], findings: list[Finding]) -> Schedule:
    """ReLoRA's ``JaggedLRRestartScheduler`` around the curve, when ``jagged_restart_steps`` is set
    (only axolotl's supervised trainer gets it)."""
    restart = data.get("jagged_restart_steps")
    if not restart:
        return res.schedule
    if data.get("rl"):
        findings.append(
            Finding(
                rule="ignored-key",
                severity="warning",
                source="jagged_restart_steps",
                message="jagged_restart_steps is not passed to axolotl's RL trainers: no restarts.",
            )
        )
        return res.schedule
    if data.get("lr_scheduler") in ("rex", "one_cycle"):
        raise ConfigError(
            f"lrkit does not reproduce jagged restarts around lr_scheduler {data['lr_scheduler']!r} (RexLR keeps its "
            "own step count; torch's OneCycleLR raises one step before the end).",
            field="jagged_restart_steps",
            value=restart,
            fix="preview it without jagged_restart_steps, or with lr_scheduler: cosine.",
        )
    if res.controller is not None:
        raise ConfigError(
            "jagged restarts wrap a scheduler with a curve; reduce_lr_on_plateau has none.",
            field="jagged_restart_steps",
            value=restart,
            fix="use a curve (cosine, linear, ...) with jagged restarts.",
        )
    floor = data.get("cosine_min_lr_ratio") or 0.001
    restart_steps = F.steps(restart, "jagged_restart_steps", minimum=1)
    warmup = F.steps(data.get("jagged_restart_warmup_steps") or 10, "jagged_restart_warmup_steps", minimum=1)
    anneal = F.steps(data.get("jagged_restart_anneal_steps") or 1, "jagged_restart_anneal_steps", minimum=1)
    min_scale = F.number(floor, "cosine_min_lr_ratio", low=0.0, high=1.0)
    with F.at_path("jagged_restart_steps"):
        wrapped = JaggedRestarts(
            res.schedule, restart_steps=restart_steps, warmup_steps=warmup, anneal_steps=anneal, min_scale=min_scale
        )
    ctx["restart_steps"] = wrapped.restart_steps
    # the wrapper steps once when it is built: update t runs at the wrapper's (and the inner scheduler's) step t + 1
    return Shift(wrapped, 1)


def _notes(
    data: Mapping[str, Any],
    name: str,
    hf_name: str,
    rl: str | None,
    quadratic: bool,
    min_ratio: float | None,
    const_ratio: float | None,
    findings: list[Finding],
) -> None:
    """Keys axolotl does not read in this config, each an ``ignored-key`` warning at the key."""

    def ignored(message: str, key: str, fix: str = "") -> None:
        findings.append(Finding(rule="ignored-key", severity="warning", message=message, fix=fix, source=key))

    for key, own in (("lr_scheduler_type", "lr_scheduler"), ("num_train_epochs", "num_epochs")):
        if key in data:
            ignored(
                f"axolotl has no key {key} (transformers' name); it reads {own}.", key, f"write {own}: ... instead."
            )
    for key in ("cosine_min_lr_ratio", "cosine_constant_lr_ratio", "lr_quadratic_warmup"):
        if data.get(key) not in (None, False) and hf_name != "cosine":
            ignored(
                f"{key} acts only with lr_scheduler: cosine; axolotl ignores it with {name!r}.",
                key,
                "remove it or use lr_scheduler: cosine.",
            )
    if hf_name != "cosine":
        return
    if data.get("lr_quadratic_warmup") is True and rl is not None:
        ignored(
            f"lr_quadratic_warmup is not passed to axolotl's {rl} trainer: the warm-up is linear.",
            "lr_quadratic_warmup",
        )
    if quadratic and min_ratio is not None and name == "cosine":
        ignored(
            "with lr_quadratic_warmup axolotl ignores cosine_min_lr_ratio (it logs the same): the cosine decays to 0.",
            "cosine_min_lr_ratio",
            "drop one of the two.",
        )
    if const_ratio and not min_ratio:
        ignored(
            "cosine_constant_lr_ratio acts only together with a non-zero cosine_min_lr_ratio; axolotl ignores it here.",
            "cosine_constant_lr_ratio",
            "set cosine_min_lr_ratio too.",
        )
    if name == "one_cycle" and (min_ratio or const_ratio or data.get("lr_quadratic_warmup")):
        ignored("lr_scheduler: one_cycle ignores the cosine_* and lr_quadratic_warmup keys.", "lr_scheduler")


def _lambda_quirks(s: AxolotlLambda | HFLambda, w: int, n: int, run: int, lr: float, findings: list[Finding]) -> None:
    if w > 0 and s.name != "rex":
        findings.append(
            Finding(
                rule="first-update-at-zero",
                severity="warning",
                message=f"axolotl's warm-up is step / warmup_steps{' squared' if 'quadratic' in s.name else ''}: "
                f"the first "
                f"update trains at LR 0 and the peak {lr:g} comes only at update {w}.",
                fix="accept it (one wasted update) or use lrkit's warm-up, which starts at peak / warmup_steps.",
                evidence={"step": 0, "lr": 0.0, "warmup_steps": w},
                source="warmup_steps",
            )
        )
    if s.name in ("cosine_with_min_lr", "cosine_with_quadratic_warmup") and run - 1 > n:
        findings.append(
            Finding(
                rule="lr-rises-again",
                severity="warning",
                message=f"the cosine reaches its lowest value at update {n} and then climbs back "
                f"({run} updates): axolotl's lambda does not clamp it.",
                fix="keep max_steps equal to the run length.",
                evidence={"lowest_at": n, "run": run},
                source="max_steps",
            )
        )
