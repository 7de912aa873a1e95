"""NeMo RL recipes: the DTensor path (torch schedulers) and the Megatron path.

**DTensor path.** ``policy.optimizer: {name, kwargs}``; ``policy.scheduler`` is one
``{name, kwargs}`` (that scheduler alone), a list of them plus one ``{milestones: [...]}``
entry (combined with ``torch.optim.lr_scheduler.SequentialLR``), or absent (a constant LR).
The policy worker steps the scheduler once per training step of the algorithm (a GRPO / SFT
/ DPO step, after all its micro-batches and optimizer updates), so the step unit here is the
algorithm step; the run length is ``<algo>.max_num_steps``.

What ``SequentialLR`` does, reproduced: the first scheduler runs from step 0; at milestone
``m_i`` scheduler ``i`` restarts from its own step 0 in closed form (``_update_lr(0)``) and
continues from there; every scheduler's base is the optimizer's ``initial_lr``. torch's
``CosineAnnealingLR`` is periodic: run past ``T_max`` it climbs back (a finding).

**Megatron path** (``policy.megatron_cfg.enabled: true``): ``megatron_cfg.optimizer`` (``lr``,
``min_lr``) and ``megatron_cfg.scheduler`` (``lr_decay_style``, ``lr_warmup_iters``,
``lr_warmup_init``, ``lr_decay_iters``, WSD keys) drive Megatron's
``OptimizerParamScheduler`` stepped by 1 per algorithm step: see :mod:`lrkit.config.megatron`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrkit.config import fields as F
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.signature import Signature
from lrkit.config.torch_schedulers import ALONE_ONLY, short_name, to_torch, torch_entry, translate
from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.schedules import Constant, Cyclic, OneCycle, Schedule, Sequence
from lrkit.schedules.compat import PeriodicCosine

__all__ = [
    "read_nemo_rl",
    "read_nemo_rl_megatron",
    "write_nemo_rl",
    "write_nemo_rl_megatron",
    "ALGORITHMS",
    "run_length",
    "looks_like_nemo_rl",
    "SIGNATURES",
]

#: algorithm sections whose max_num_steps is the run length, in the order they are looked for
ALGORITHMS = ("grpo", "sft", "dpo", "rm", "distillation", "ppo", "async_grpo")


def looks_like_nemo_rl(data: Mapping[str, Any]) -> str | None:
    """NeMo RL's shape: a ``policy`` with an optimizer or scheduler (the DTensor path), or with a
    ``megatron_cfg`` that is enabled or holds them (the Megatron path)."""
    policy = data.get("policy")
    if isinstance(policy, Mapping):
        mcfg = policy.get("megatron_cfg")
        if isinstance(mcfg, Mapping) and mcfg.get("enabled") is True:
            return "nemo_rl_megatron"
        if "optimizer" in policy or "scheduler" in policy:
            return "nemo_rl"
        if isinstance(mcfg, Mapping) and ("scheduler" in mcfg or "optimizer" in mcfg):
            return "nemo_rl_megatron"
    return None


_DTENSOR = "NeMo RL, DTensor path: policy.optimizer and policy.scheduler (torch schedulers + milestones)"
_MEGATRON = "NeMo RL, Megatron path: policy.megatron_cfg.optimizer / .scheduler (lr_decay_style, ...)"
SIGNATURES = (
    Signature("nemo_rl", _DTENSOR, ("nemorl",), "read_nemo_rl", looks_like_nemo_rl, precedence=10),
    Signature("nemo_rl_megatron", _MEGATRON, reader="read_nemo_rl_megatron"),  # told by the same shape
)


def run_length(data: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """``(<algo>.max_num_steps, "<algo>.max_num_steps")`` of the first algorithm section.

    ``max_num_steps: -1`` means no step limit: NeMo RL then stops after ``max_num_epochs``
    passes over the data, a length the file does not hold: ``(None, path)``."""
    for algo in ALGORITHMS:
        section = data.get(algo)
        if isinstance(section, Mapping) and section.get("max_num_steps") is not None:
            path = f"{algo}.max_num_steps"
            if section["max_num_steps"] == -1:
                return None, path
            return F.steps(section["max_num_steps"], path, minimum=1), path
    return None, None


def _optimizer(policy: Mapping[str, Any]) -> tuple[float, dict[str, Any] | None]:
    opt = policy.get("optimizer")
    if opt is None:
        raise ConfigError(
            "no optimizer: NeMo RL's DTensor worker needs policy.optimizer to train.",
            field="policy.optimizer",
            fix="add policy.optimizer: {name: torch.optim.AdamW, kwargs: {lr: 5.0e-6}}.",
        )
    opt = F.mapping(opt, "policy.optimizer")
    F.check_keys(opt, ("name", "kwargs"), "policy.optimizer", what="the optimizer")
    name = F.string(opt.get("name"), "policy.optimizer.name")
    kwargs = dict(F.mapping(opt.get("kwargs") or {}, "policy.optimizer.kwargs"))
    if "lr" not in kwargs:
        raise ConfigError(
            "the optimizer has no lr; lrkit needs it as the peak the schedulers multiply.",
            field="policy.optimizer.kwargs.lr",
            fix="add lr: 5.0e-6 (or your peak LR).",
        )
    lr = F.number(kwargs["lr"], "policy.optimizer.kwargs.lr", low=0.0, low_open=True)
    kwargs["lr"] = lr
    return lr, {"type": name, **kwargs}


def _split_list(items: Any, path: str) -> tuple[list[tuple[int, Any]], list[int] | None, int | None]:
    entries = F.sequence(items, path)
    scheds: list[tuple[int, Any]] = []
    milestones: list[int] | None = None
    where = None
    for i, entry in enumerate(entries):
        e = F.mapping(entry, F.join(path, i))
        if "name" in e:
            scheds.append((i, e))
        elif "milestones" in e:
            if milestones is not None:
                raise ConfigError(
                    "two milestones entries; NeMo RL keeps only the last one.",
                    field=F.join(F.join(path, i), "milestones"),
                    value=e["milestones"],
                    fix="keep one {milestones: [...]} entry.",
                )
            F.check_keys(e, ("milestones",), F.join(path, i))
            mp = F.join(F.join(path, i), "milestones")
            milestones = [F.steps(m, F.join(mp, j)) for j, m in enumerate(F.sequence(e["milestones"], mp))]
            where = i
        else:
            raise ConfigError(
                "an entry of policy.scheduler must be {name, kwargs} or {milestones: [...]}.",
                field=F.join(path, i),
                value=dict(e),
                fix="give each scheduler a name (torch.optim.lr_scheduler.LinearLR ...) and kwargs.",
            )
    return scheds, milestones, where


def _no_scheduler(peak: float, path: str) -> Finding:
    return Finding(
        rule="no-scheduler",
        severity="info",
        message=f"policy.scheduler is absent: NeMo RL keeps the optimizer's LR constant ({peak:g}) for the whole run.",
        fix="add a LinearLR warm-up (and a decay) if the run needs one.",
        source=path,
    )


def _check_milestones(
    scheds: list[tuple[int, Any]], milestones: list[int] | None, mpos: int | None, path: str
) -> tuple[list[int], str]:
    """What NeMo RL's worker and torch's SequentialLR need of the milestones; they and their path."""
    if milestones is None:
        if len(scheds) == 1:
            raise ConfigError(
                "a list with one scheduler and no {milestones: [...]} entry: NeMo RL's worker then builds "
                "SequentialLR(optimizer, schedulers, milestones) with milestones never set and fails "
                "(UnboundLocalError).",
                field=path,
                fix="write the one scheduler as a mapping (policy.scheduler: {name: ..., kwargs: ...}, no '-'), "
                "or add '- milestones: []' to the list.",
            )
        raise ConfigError(
            f"a list of {len(scheds)} schedulers without a {{milestones: [...]}} entry: NeMo RL's worker fails "
            "building the SequentialLR (milestones is never set).",
            field=path,
            fix=f"add '- milestones: [...]' with {len(scheds) - 1} step(s), each where the next scheduler starts.",
        )
    mpath = F.join(F.join(path, mpos), "milestones")
    if len(milestones) != len(scheds) - 1:
        raise ConfigError(
            f"{len(scheds)} schedulers need {len(scheds) - 1} milestone(s), got {len(milestones)}: torch's "
            "SequentialLR raises.",
            field=mpath,
            value=milestones,
            fix="give one milestone (the step where the next scheduler starts) between each two schedulers.",
        )
    for j, m in enumerate(milestones):
        if m == 0 or (j and m <= milestones[j - 1]):
            raise ConfigError(
                f"milestones must be strictly increasing and > 0 (each scheduler runs at least one step), got "
                f"{milestones}.",
                field=F.join(mpath, j),
                value=m,
                fix="sort the milestones and drop schedulers that never run.",
            )
    return milestones, mpath


def _pieces(
    scheds: list[tuple[int, Any]], milestones: list[int], path: str, peak: float
) -> tuple[list[Schedule], list[dict[str, Any]]]:
    """Each scheduler of the list as an lrkit piece, with what it was (and the step it starts at)."""
    pieces: list[Schedule] = []
    infos = []
    starts = [0, *milestones]
    for k, (i, e) in enumerate(scheds):
        ipath = F.join(path, i)
        if short_name(str(e.get("name"))) in ALONE_ONLY and len(scheds) > 1:
            raise ConfigError(
                f"lrkit cannot preview {e.get('name')} inside a SequentialLR: it sets the optimizer's LR "
                "(and initial_lr) itself, so the other schedulers' base LR changes.",
                field=F.join(ipath, "name"),
                value=e.get("name"),
                fix="use it alone as policy.scheduler, or express the whole curve with lrkit.Scheduler.",
            )
        F.check_keys(e, ("name", "kwargs"), ipath)
        piece, info = translate(e.get("name"), e.get("kwargs"), ipath, peak=peak)
        pieces.append(piece)
        infos.append({**info, "start": starts[k]})
    return pieces, infos


def _read_list(
    raw: Any, path: str, peak: float, run: int | None, context: dict[str, Any], findings: list[Finding]
) -> Schedule:
    """A list of schedulers and one ``{milestones}`` entry: torch's ``SequentialLR``."""
    scheds, milestones, mpos = _split_list(raw, path)
    if not scheds:
        raise ConfigError(
            "the scheduler list has no scheduler.", field=path, fix="add {name: ..., kwargs: ...} entries."
        )
    # NeMo RL imports and builds every scheduler before the SequentialLR: a bad class or
    # kwargs is the first thing that fails, so it is reported first
    for i, e in scheds:
        F.check_keys(e, ("name", "kwargs"), F.join(path, i))
        translate(e.get("name"), e.get("kwargs"), F.join(path, i), peak=peak)
    milestones, mpath = _check_milestones(scheds, milestones, mpos, path)
    pieces, infos = _pieces(scheds, milestones, path, peak)
    context["pieces"] = infos
    context["milestones"] = milestones
    if run is not None:
        for k, m in enumerate(milestones):
            if m >= run:
                findings.append(
                    Finding(
                        rule="piece-never-runs",
                        severity="warning",
                        message=f"milestone {m} is at or after the end of the run ({run} steps): "
                        f"{infos[k + 1]['name']} never runs.",
                        fix="move the milestone inside the run or drop the scheduler.",
                        evidence={"milestone": m, "total_steps": run},
                        source=mpath,
                    )
                )
    return Sequence(tuple(pieces), tuple(milestones))


def _run_unknown(total_key: str | None) -> Finding:
    return Finding(
        rule="total-steps-unknown",
        severity="info",
        message=f"{total_key} is -1: NeMo RL runs for max_num_epochs passes over the data, so the run length "
        "depends on the data set and is unknown."
        if total_key is not None
        else "no <algorithm>.max_num_steps in the config: the run length is unknown.",
        fix="pass total_steps (CLI: --total-steps) to check the schedule against the run.",
        source=total_key or "grpo.max_num_steps",
    )


def read_nemo_rl(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    """The DTensor path: ``policy.scheduler`` absent (constant), one scheduler, or a list with
    milestones (``SequentialLR``), relative to ``policy.optimizer.kwargs.lr``, per algorithm step."""
    policy = F.mapping(data.get("policy"), "policy")
    peak, optimizer = _optimizer(policy)
    file_total, total_key = run_length(data)
    run = total_steps if total_steps is not None else file_total
    findings: list[Finding] = []
    context: dict[str, Any] = {"step_unit": "algorithm step"}
    if file_total is not None:
        context["max_num_steps"] = file_total
    raw = policy.get("scheduler")
    path = "policy.scheduler"
    if raw is None:
        schedule: Schedule = Constant(1.0)
        findings.append(_no_scheduler(peak, path))
        context["pieces"] = []
    elif isinstance(raw, Mapping):
        schedule, info = translate(raw.get("name"), raw.get("kwargs"), path, peak=peak)
        F.check_keys(raw, ("name", "kwargs"), path)
        context["pieces"] = [{**info, "start": 0}]
    else:
        schedule = _read_list(raw, path, peak, run, context, findings)
    _facts_and_quirks(schedule, context, findings, run)
    if run is None:
        findings.append(_run_unknown(total_key))
    return ResolvedConfig(
        schedule=schedule,
        peak_lr=peak,
        total_steps=run,
        format="nemo_rl",
        source=source,
        findings=tuple(findings),
        context=context,
        optimizer=optimizer,
        raw=dict(data),
        controller=_controller(context),
    )


def _controller(context: Mapping[str, Any]) -> dict[str, Any] | None:
    for p in context.get("pieces", []):
        if p.get("name") in ("lrkit.Scheduler", "lrkit.scheduler.Scheduler"):
            c = p.get("kwargs", {}).get("controller")
            if isinstance(c, Mapping):
                return dict(c)
    return None


def _facts_and_quirks(schedule: Schedule, context: dict[str, Any], findings: list[Finding], run: int | None) -> None:
    pieces = context.get("pieces") or []
    if pieces:
        first = pieces[0]
        kw = first.get("kwargs", {})
        if short_name(first["name"]) == "LinearLR" and float(kw.get("start_factor", 1 / 3)) < float(
            kw.get("end_factor", 1.0)
        ):
            n = int(kw.get("total_iters", 5))
            ms = context.get("milestones") or []
            context["warmup_steps"] = min(n, ms[0]) if ms else n
    # the cosine pieces that run past T_max within the run climb back up
    if run is None:
        return
    ms = context.get("milestones") or []
    ends = [*ms, None]
    inner = schedule.pieces if isinstance(schedule, Sequence) else (schedule,)
    for info, piece, end in zip(pieces, inner, ends, strict=False):
        if not isinstance(piece, PeriodicCosine):
            continue
        start = info["start"]
        stop = run if end is None else min(end, run)
        t_max = int(piece.steps)
        if stop - start > t_max + 1:
            context.setdefault("declared_horizon", start + t_max)
            findings.append(
                Finding(
                    rule="lr-rises-again",
                    severity="warning",
                    message=f"{short_name(info['name'])} (T_max={t_max}) runs {stop - start} steps: torch's cosine "
                    f"reaches "
                    f"eta_min at step {start + t_max} and then climbs back towards the peak.",
                    fix=f"set T_max to {stop - start - 1} (the steps this scheduler runs, minus one), or add a "
                    f"ConstantLR "
                    "piece after it.",
                    evidence={"T_max": t_max, "start": start, "steps_run": stop - start, "lowest_at": start + t_max},
                    source="policy.scheduler",
                )
            )
        else:
            context.setdefault("declared_horizon", start + t_max)


# -- Megatron path ----------------------------------------------------------------------------


def read_nemo_rl_megatron(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    from lrkit.config.megatron import resolve_megatron

    policy = F.mapping(data.get("policy"), "policy")
    mcfg = F.mapping(policy.get("megatron_cfg"), "policy.megatron_cfg")
    file_total, _ = run_length(data)
    opt = F.mapping(mcfg.get("optimizer") or {}, "policy.megatron_cfg.optimizer")
    sch = F.mapping(mcfg.get("scheduler") or {}, "policy.megatron_cfg.scheduler")
    args = {**{k: v for k, v in opt.items() if k in ("lr", "min_lr")}, **dict(sch)}
    run = total_steps if total_steps is not None else file_total
    resolved = resolve_megatron(
        args,
        run_length=run if run is not None else file_total,
        source=source,
        fmt="nemo_rl_megatron",
        paths={
            "lr": "policy.megatron_cfg.optimizer.lr",
            "min_lr": "policy.megatron_cfg.optimizer.min_lr",
            "": "policy.megatron_cfg.scheduler",
        },
        iteration_unit="algorithm step",
        increment=1.0,
    )
    kind = str(opt.get("optimizer", "adam")).lower()
    # Megatron's "adam" decouples weight decay (AdamW); its other keys configure Megatron itself
    optimizer = {
        "type": "adamw" if kind == "adam" else kind,
        "lr": resolved.peak_lr,
        **{k: opt[k] for k in ("weight_decay", "adam_beta1", "adam_beta2", "adam_eps", "sgd_momentum") if k in opt},
    }
    if "sgd_momentum" in optimizer:
        optimizer["momentum"] = optimizer.pop("sgd_momentum")
    return ResolvedConfig(
        schedule=resolved.schedule,
        peak_lr=resolved.peak_lr,
        total_steps=run,
        format="nemo_rl_megatron",
        source=source,
        findings=resolved.findings,
        context={**resolved.context, "step_unit": "algorithm step"},
        optimizer=optimizer,
        raw=dict(data),
        controller=None,
    )


# -- writing (to_config(..., 'nemo_rl' | 'nemo_rl_megatron')) --------------------------------------


def _alone(sched: Schedule, peak: float) -> dict[str, Any] | None:
    """OneCycleLR / CyclicLR: they overwrite the optimizer's initial_lr, so only as the one scheduler."""
    if isinstance(sched, OneCycle) and sched.peak > 0:
        return torch_entry(
            "OneCycleLR",
            max_lr=sched.peak * peak,
            total_steps=sched.steps,
            pct_start=sched.pct_start,
            anneal_strategy=sched.anneal,
            div_factor=sched.div_factor,
            final_div_factor=sched.final_div_factor,
            three_phase=sched.three_phase,
            cycle_momentum=False,
        )
    if isinstance(sched, Cyclic):
        return torch_entry(
            "CyclicLR",
            base_lr=sched.init * peak,
            max_lr=sched.peak * peak,
            step_size_up=sched.step_size_up,
            step_size_down=sched.step_size_down,
            mode=sched.mode,
            gamma=sched.gamma,
            cycle_momentum=False,
        )
    return None


def write_nemo_rl(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    """A NeMo RL config (DTensor path) whose ``policy.scheduler`` -- one torch scheduler, or a list
    and its ``{milestones: [...]}`` for SequentialLR (:func:`~lrkit.config.torch_schedulers.to_torch`)
    -- gives ``peak * sched`` on every update of a run of ``total`` (``grpo.max_num_steps``)."""
    out: dict[str, Any] = {"policy": {"optimizer": {"name": "torch.optim.AdamW", "kwargs": {"lr": peak}}}}
    if total is not None:
        out["grpo"] = {"max_num_steps": total}
    alone = _alone(sched, peak)
    if alone is not None:
        out["policy"]["scheduler"] = alone
        return out
    # over the run's updates the curve matches; pieces that would start after the last update
    # (a floor after a cosine that ends with the run) are left out: the run never reaches them
    pieces = to_torch(sched, peak, total)
    # a piece that never runs (its start at or after the next start) is dropped
    kept: list[tuple[int, dict[str, Any]]] = []
    for start, entry in pieces:
        while kept and kept[-1][0] >= start:
            kept.pop()
        kept.append((start, entry))
    if len(kept) == 1:
        out["policy"]["scheduler"] = kept[0][1]
    else:
        out["policy"]["scheduler"] = [e for _, e in kept] + [{"milestones": [s for s, _ in kept[1:]]}]
    return out


def write_nemo_rl_megatron(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    """A NeMo RL config (Megatron path): :func:`lrkit.config.megatron.megatron_args_of` under
    ``policy.megatron_cfg`` (``lr``/``min_lr`` in its optimizer, the rest in its scheduler)."""
    from lrkit.config.megatron import megatron_args_of

    args = megatron_args_of(sched, peak, total)
    opt = {"optimizer": "adam", "lr": args.pop("lr"), "min_lr": args.pop("min_lr")}
    out: dict[str, Any] = {"policy": {"megatron_cfg": {"enabled": True, "optimizer": opt, "scheduler": args}}}
    if total is not None:
        out["grpo"] = {"max_num_steps": total}
    return out
