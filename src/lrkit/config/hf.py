"""Hugging Face ``TrainingArguments`` (YAML or JSON) read into transformers' own curves.

Read: ``learning_rate`` (default 5e-5), ``lr_scheduler_type`` (default ``linear``),
``warmup_steps`` (a count, or a ratio when below 1 as in transformers 5), ``warmup_ratio``
(transformers 4), ``max_steps``, or ``num_train_epochs`` with ``steps_per_epoch`` (an lrkit
key: optimizer updates per epoch, which the Trainer computes from the dataloader and
``gradient_accumulation_steps``), ``lr_scheduler_kwargs``, and the optimizer keys.

The Trainer steps the scheduler after every optimizer update, so step ``k`` is update ``k``.
The curve is :class:`lrkit.schedules.compat.HFLambda`, the ``transformers/optimization.py``
lambda of each ``SchedulerType``; warm-up steps follow ``TrainingArguments.get_warmup_steps``
(``ceil(ratio * max_steps)`` for a ratio).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from lrkit.config import fields as F
from lrkit.config.deepspeed import TrainerFill, has_scheduler, read_scheduler
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.signature import Signature, keys
from lrkit.config.writing import cannot, describe
from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.schedules import Constant, Schedule
from lrkit.schedules.compat import HF_TYPES, HFLambda

__all__ = [
    "read_hf",
    "write_hf",
    "deepspeed_config",
    "read_deepspeed_scheduler",
    "get_warmup_steps",
    "ratio_warmup_steps",
    "HF_KWARGS",
    "SIGNATURES",
]

#: lr_scheduler_kwargs each type accepts (transformers passes them as keyword arguments)
HF_KWARGS: dict[str, tuple[str, ...]] = {
    "linear": (),
    "cosine": ("num_cycles",),
    "cosine_with_restarts": ("num_cycles",),
    "polynomial": ("lr_end", "power"),
    "constant": (),
    "constant_with_warmup": (),
    "inverse_sqrt": ("timescale",),
    "cosine_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate"),
    "cosine_warmup_with_min_lr": ("num_cycles", "min_lr", "min_lr_rate", "warmup_lr_rate"),
    "warmup_stable_decay": (
        "num_stable_steps",
        "num_decay_steps",
        "warmup_type",
        "decay_type",
        "min_lr_ratio",
        "num_cycles",
    ),
    "reduce_lr_on_plateau": ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps"),
}


def looks_like_hf(data: Mapping[str, Any]) -> bool:
    """The last resort of detection: TrainingArguments' own names, or a warm-up and a run length."""
    return any(
        k in data for k in ("lr_scheduler_type", "learning_rate", "num_train_epochs", "lr_scheduler_kwargs")
    ) or ("warmup_steps" in data and "max_steps" in data)


#: TrainingArguments' names that tell the flat trainer formats apart (the trainers built on it,
#: LLaMA-Factory v0 and axolotl, share some), its schedule keys, and keys a training config has
HF_FLAT_KEYS = keys(
    "lr_scheduler_type per_device_train_batch_size warmup_steps warmup_ratio num_train_epochs lr_scheduler_kwargs"
)
HF_SCHEDULE_KEYS = keys("lr_scheduler_type lr_scheduler_kwargs")
HF_TRAINING_KEYS = keys("learning_rate lr_scheduler_type max_steps num_train_epochs warmup_steps warmup_ratio")

SIGNATURES = (
    Signature(
        "hf",
        "Hugging Face TrainingArguments: lr_scheduler_type, learning_rate, warmup_steps, max_steps",
        ("huggingface", "transformers"),
        "read_hf",
        flat_keys=HF_FLAT_KEYS,
        schedule_keys=HF_SCHEDULE_KEYS,
        training_keys=HF_TRAINING_KEYS,
        # plain TrainingArguments keys: the trainers built on them read them as transformers does
        reads_plain=True,
        fallback=looks_like_hf,
    ),
)


def _run_length(data: Mapping[str, Any], total_steps: int | None) -> tuple[int | None, str]:
    max_steps = data.get("max_steps")
    if max_steps is not None and F.number(max_steps, "max_steps") > 0:
        return F.steps(max_steps, "max_steps", minimum=1), "max_steps"
    if total_steps is not None:
        return total_steps, "total_steps"
    spe_key = next((k for k in ("steps_per_epoch", "num_update_steps_per_epoch") if data.get(k) is not None), None)
    if spe_key is not None:
        spe = F.steps(data[spe_key], spe_key, minimum=1)
        epochs = F.number(data.get("num_train_epochs", 3.0), "num_train_epochs", low=0.0, low_open=True)
        return math.ceil(epochs * spe), "num_train_epochs * steps_per_epoch"
    return None, ""


def _scheduler_type(data: Mapping[str, Any]) -> str:
    name = data.get("lr_scheduler_type", "linear")
    if isinstance(name, str) and name.startswith("SchedulerType."):
        name = name.split(".", 1)[1].lower()  # an enum's repr, as some dumped configs hold it
    return F.choice(name, "lr_scheduler_type", (*HF_TYPES, "reduce_lr_on_plateau", "greedy"))


def _scheduler_kwargs(data: Mapping[str, Any]) -> dict[str, Any]:
    """``lr_scheduler_kwargs``: a mapping, or JSON text as the command line passes it."""
    kw_raw = data.get("lr_scheduler_kwargs") or {}
    if isinstance(kw_raw, str):
        try:
            kw_raw = json.loads(kw_raw)
        except ValueError:
            raise ConfigError(
                "lr_scheduler_kwargs is a string but not JSON.",
                field="lr_scheduler_kwargs",
                value=kw_raw,
                fix="write it as a mapping or as JSON: '{\"num_cycles\": 0.5}'.",
            ) from None
    return dict(F.mapping(kw_raw, "lr_scheduler_kwargs"))


def _read_plateau(
    data: Mapping[str, Any], kw: Mapping[str, Any], lr: float, run: int | None, source: str, context: dict[str, Any]
) -> ResolvedConfig:
    """``reduce_lr_on_plateau``: the constant starting LR, the plateau controller passed through."""
    controller: dict[str, Any] = {"type": "plateau", **{k: kw[k] for k in HF_KWARGS["reduce_lr_on_plateau"] if k in kw}}
    controller.setdefault("factor", 0.1)
    controller.setdefault("patience", 10)
    finding = Finding(
        rule="feedback-schedule",
        severity="info",
        message="reduce_lr_on_plateau follows the evaluation metric: the preview is the constant starting LR; "
        "the plateau controller is passed through.",
        source="lr_scheduler_type",
    )
    optimizer = _optimizer(data, lr)
    return ResolvedConfig(Constant(1.0), lr, run, "hf", source, (finding,), context, optimizer, dict(data), controller)


def _wsd_fields(kw: Mapping[str, Any], fields: dict[str, Any], context: dict[str, Any]) -> None:
    """``warmup_stable_decay``'s kwargs (``num_decay_steps`` required, as transformers requires it)."""
    if "num_decay_steps" not in kw:
        raise ConfigError(
            "warmup_stable_decay needs num_decay_steps.",
            field="lr_scheduler_kwargs.num_decay_steps",
            fix="add num_decay_steps: <cool-down updates> to lr_scheduler_kwargs.",
        )
    fields["num_decay_steps"] = F.steps(kw["num_decay_steps"], "lr_scheduler_kwargs.num_decay_steps")
    if kw.get("num_stable_steps") is not None:
        fields["num_stable_steps"] = F.steps(kw["num_stable_steps"], "lr_scheduler_kwargs.num_stable_steps")
    for key in ("warmup_type", "decay_type"):
        if key in kw:
            fields[key] = F.choice(kw[key], f"lr_scheduler_kwargs.{key}", ("linear", "cosine", "1-sqrt"))
    fields["min_lr_rate"] = F.number(kw.get("min_lr_ratio", 0.0), "lr_scheduler_kwargs.min_lr_ratio", low=0.0, high=1.0)
    context["cooldown_steps"] = fields["num_decay_steps"]


def _type_fields(name: str, kw: Mapping[str, Any], lr: float, fields: dict[str, Any], context: dict[str, Any]) -> None:
    """The ``lr_scheduler_kwargs`` of each type as :class:`HFLambda` fields, with transformers' defaults."""
    if "num_cycles" in kw:
        fields["num_cycles"] = F.number(kw["num_cycles"], "lr_scheduler_kwargs.num_cycles", low=0.0)
    elif name == "cosine_with_restarts":
        fields["num_cycles"] = 1.0  # get_cosine_with_hard_restarts_schedule_with_warmup's default (0.5 elsewhere)
    if name == "polynomial":
        fields["lr_init"] = lr
        fields["lr_end"] = F.number(kw.get("lr_end", 1e-7), "lr_scheduler_kwargs.lr_end", low=0.0)
        fields["power"] = F.number(kw.get("power", 1.0), "lr_scheduler_kwargs.power", low=0.0, low_open=True)
        context["min_lr"] = fields["lr_end"]
    if name == "inverse_sqrt" and kw.get("timescale") is not None:
        fields["timescale"] = F.number(kw["timescale"], "lr_scheduler_kwargs.timescale", low=0.0, low_open=True)
    if name in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        fields["min_lr_rate"] = _min_rate(kw, lr)
        context["min_lr"] = fields["min_lr_rate"] * lr
        if kw.get("warmup_lr_rate") is not None:
            fields["warmup_lr_rate"] = F.number(
                kw["warmup_lr_rate"], "lr_scheduler_kwargs.warmup_lr_rate", low=0.0, high=1.0
            )
    if name == "warmup_stable_decay":
        _wsd_fields(kw, fields, context)


def _need_length(name: str, n: int | None, fields: Mapping[str, Any]) -> None:
    """Every type but the constant ones, inverse_sqrt and a WSD with its stable length needs the run length."""
    if (
        n is None
        and name not in ("constant", "constant_with_warmup", "inverse_sqrt")
        and not (name == "warmup_stable_decay" and "num_stable_steps" in fields)
    ):
        raise ConfigError(
            f"lr_scheduler_type {name!r} needs the number of training steps.",
            field="max_steps",
            fix="set max_steps, or num_train_epochs with steps_per_epoch (optimizer updates per epoch), "
            "or pass total_steps.",
        )


def _deepspeed_file(name: str, source: str) -> Path | None:
    """The DeepSpeed config ``deepspeed: name`` opens: the Trainer opens it from the directory it is
    launched in, which lrkit does not know; the file's own directory and its parents (a repository's
    root, where recipes are launched from) stand for it, then the current directory."""
    path = Path(name)
    if path.is_absolute():
        return path if path.is_file() else None
    here = Path(source).parent
    for base in (here, *here.parents, Path.cwd()):
        if (base / path).is_file():
            return base / path
    return None


def deepspeed_config(data: Mapping[str, Any], source: str) -> tuple[Mapping[str, Any] | None, str, Finding | None]:
    """``deepspeed:`` (a path or the config itself): the DeepSpeed config it names, where it was
    found (for messages), and an ``info`` finding when a path is not found (not a silent
    assumption). When that config has a ``"scheduler"`` section the Trainer steps DeepSpeed's
    scheduler instead of the one its own keys choose (transformers' ``deepspeed_optim_sched``)."""
    ds = data.get("deepspeed")
    if ds is None or ds is False or ds == "":
        return None, "", None
    if isinstance(ds, Mapping):
        return ds, "deepspeed", None
    if not isinstance(ds, str):
        return None, "", None
    found = _deepspeed_file(ds, source)
    if found is None:
        return (
            None,
            "",
            Finding(
                rule="deepspeed-config-not-read",
                severity="info",
                message=f"deepspeed names {ds!r}, which lrkit did not find next to the file or above it: if that "
                'DeepSpeed config has a "scheduler" section, the Trainer runs DeepSpeed\'s scheduler, not this curve.',
                fix="run lrkit from the directory the training is launched in, or check that the DeepSpeed config "
                'has no "scheduler" section.',
                evidence={"deepspeed": ds},
                source="deepspeed",
            ),
        )
    try:
        import yaml

        config = yaml.safe_load(found.read_text(encoding="utf-8", errors="replace"))  # JSON is YAML
    except yaml.YAMLError:
        return None, "", None  # not a config the Trainer could open either; its own error says so at launch
    return (config if isinstance(config, Mapping) else None), f"deepspeed ({found})", None


def read_deepspeed_scheduler(
    data: Mapping[str, Any],
    config: Mapping[str, Any],
    where: str,
    fill: TrainerFill,
    *,
    total_steps: int | None,
    source: str,
    fmt: str,
    replaces: str,
    optimizer: dict[str, Any] | None,
) -> ResolvedConfig:
    """The curve of the DeepSpeed config's scheduler, which the Trainer steps instead of
    ``replaces`` (its own scheduler), with ``"auto"`` filled as the Trainer fills it."""
    res = read_scheduler(
        config, where="deepspeed", fill=fill, total_steps=total_steps, source=source, fmt=fmt, raw=data
    )
    note = Finding(
        rule="deepspeed-scheduler",
        severity="info",
        message=f'{where} has a "scheduler" section ({res.context["deepspeed_scheduler"]}): the Trainer steps '
        f"DeepSpeed's scheduler instead of {replaces}; this is DeepSpeed's curve.",
        fix=f'remove the "scheduler" section from the DeepSpeed config to train with {replaces}.',
        evidence={"deepspeed": where, "scheduler": res.context["deepspeed_scheduler"]},
        source="deepspeed",
    )
    return replace(res, findings=(note, *res.findings), optimizer=res.optimizer or optimizer, context={**res.context})


def read_hf(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    """``TrainingArguments`` as the Trainer builds its scheduler: ``HFLambda`` of the type, the
    warm-up of ``get_warmup_steps``, the run of ``max_steps`` (or epochs x updates per epoch)."""
    lr = F.number(data.get("learning_rate", 5e-5), "learning_rate", low=0.0, low_open=True)
    name = _scheduler_type(data)
    kw = _scheduler_kwargs(data)
    ds_config, ds_where, ds_note = deepspeed_config(data, source)
    n, _ = _run_length(data, total_steps)
    if has_scheduler(ds_config):
        assert ds_config is not None
        fill = TrainerFill(lr, n, lambda steps: _warmup(data, steps))
        return read_deepspeed_scheduler(
            data,
            ds_config,
            ds_where,
            fill,
            total_steps=total_steps,
            source=source,
            fmt="hf",
            replaces=f"lr_scheduler_type {name!r}",
            optimizer=_optimizer(data, lr),
        )
    if name == "greedy":
        raise ConfigError(
            "lrkit cannot preview 'greedy': its LR follows the loss during training.",
            field="lr_scheduler_type",
            value=name,
            fix="use a curve (cosine, linear, ...) or lrkit's controller: {type: adaptive}.",
        )
    F.check_keys(kw, HF_KWARGS[name], "lr_scheduler_kwargs", what=f"lr_scheduler_type {name!r}")
    run = total_steps if total_steps is not None else n
    context: dict[str, Any] = {"lr_scheduler_type": name}
    if name == "reduce_lr_on_plateau":
        return _read_plateau(data, kw, lr, run, source, context)
    optimizer = _optimizer(data, lr)
    w = _warmup(data, n)
    context["warmup_steps"] = w
    fields: dict[str, Any] = {"name": name, "warmup_steps": w, "training_steps": n}
    _type_fields(name, kw, lr, fields, context)
    _need_length(name, n, fields)
    with F.at_path("lr_scheduler_kwargs"):
        schedule: Schedule = HFLambda(**fields)
    if n is not None:
        context["declared_horizon"] = n
        context["num_training_steps"] = n
        context["decay_steps"] = n - w
    findings: list[Finding] = [ds_note] if ds_note is not None else []
    _quirks(name, fields, w, n, run, lr, findings)
    return ResolvedConfig(schedule, lr, run, "hf", source, tuple(findings), context, optimizer, dict(data), None)


def _warmup(data: Mapping[str, Any], n: int | None) -> int:
    """The warm-up updates of ``warmup_steps`` (transformers 5: a count, or a ratio below 1) or,
    when that is 0, ``warmup_ratio`` (transformers 4, which refuses one outside [0, 1])."""
    ws = data.get("warmup_steps", 0)
    ws = 0 if ws is None else F.number(ws, "warmup_steps", low=0.0)
    if ws > 0:
        return get_warmup_steps(ws, n, field="warmup_steps")
    ratio = data.get("warmup_ratio")
    r = F.number(ratio, "warmup_ratio", low=0.0, high=1.0) if ratio is not None else 0.0
    return ratio_warmup_steps(r, n, field="warmup_ratio")


def get_warmup_steps(warmup_steps: float, n: int | None, *, field: str, needs_run: ConfigError | None = None) -> int:
    """``TrainingArguments.get_warmup_steps`` (transformers 5): ``warmup_steps >= 1`` is a count
    (``int`` truncates a float), one below 1 a ratio of the ``n`` training steps
    (:func:`ratio_warmup_steps`). The one rule every reader of a transformers Trainer (this one,
    axolotl's) turns its warm-up value into updates with; ``needs_run`` is the reader's own error
    for a ratio without a run length (default: set max_steps)."""
    if warmup_steps >= 1:
        return int(warmup_steps)
    return ratio_warmup_steps(warmup_steps, n, field=field, needs_run=needs_run)


def ratio_warmup_steps(ratio: float, n: int | None, *, field: str, needs_run: ConfigError | None = None) -> int:
    """``ceil(ratio * n)`` updates (transformers' rounding), 0 for a ratio of 0 (no run length
    needed); ``field`` and ``needs_run`` name the key and the fix when ``n`` is unknown."""
    if ratio == 0:
        return 0
    if n is None:
        raise needs_run or ConfigError(
            "a warm-up ratio needs the number of training steps.",
            field=field,
            value=ratio,
            fix="set max_steps (or pass total_steps), or give warmup_steps as a count.",
        )
    return math.ceil(n * ratio)


def _min_rate(kw: Mapping[str, Any], lr: float) -> float:
    if kw.get("min_lr") is not None and kw.get("min_lr_rate") is not None:
        raise ConfigError(
            "only one of min_lr and min_lr_rate may be set (transformers raises).",
            field="lr_scheduler_kwargs.min_lr_rate",
            fix="keep one of them.",
        )
    if kw.get("min_lr") is not None:
        m = F.number(kw["min_lr"], "lr_scheduler_kwargs.min_lr", low=0.0)
        if m > lr:
            raise ConfigError(
                f"min_lr {m:g} is above learning_rate {lr:g}.",
                field="lr_scheduler_kwargs.min_lr",
                value=m,
                fix="use a min_lr below learning_rate.",
            )
        return m / lr
    if kw.get("min_lr_rate") is None:
        raise ConfigError(
            "cosine_with_min_lr needs min_lr or min_lr_rate (transformers raises without one).",
            field="lr_scheduler_kwargs.min_lr_rate",
            fix="add min_lr_rate: 0.1 to lr_scheduler_kwargs.",
        )
    return F.number(kw["min_lr_rate"], "lr_scheduler_kwargs.min_lr_rate", low=0.0, high=1.0)


def _optimizer(data: Mapping[str, Any], lr: float) -> dict[str, Any]:
    optim = str(data.get("optim", "adamw_torch"))
    kind = "sgd" if optim.startswith("sgd") else ("adamw" if "adam" in optim else optim)
    out: dict[str, Any] = {"type": kind, "lr": lr}
    if data.get("weight_decay") is not None:
        out["weight_decay"] = F.number(data["weight_decay"], "weight_decay", low=0.0)
    if kind == "adamw":
        b1, b2 = data.get("adam_beta1"), data.get("adam_beta2")
        if b1 is not None or b2 is not None:
            out["betas"] = [
                F.number(b1 if b1 is not None else 0.9, "adam_beta1", low=0.0, high=1.0),
                F.number(b2 if b2 is not None else 0.999, "adam_beta2", low=0.0, high=1.0),
            ]
        if data.get("adam_epsilon") is not None:
            out["eps"] = F.number(data["adam_epsilon"], "adam_epsilon", low=0.0, low_open=True)
    return out


def _quirks(
    name: str, fields: Mapping[str, Any], w: int, n: int | None, run: int | None, lr: float, findings: list[Finding]
) -> None:
    zero_start = w > 0 and (
        name
        in (
            "linear",
            "cosine",
            "cosine_with_restarts",
            "polynomial",
            "constant_with_warmup",
            "inverse_sqrt",
            "cosine_with_min_lr",
        )
        or (name == "warmup_stable_decay" and fields.get("min_lr_rate", 0.0) == 0.0)
    )
    if zero_start:
        findings.append(
            Finding(
                rule="first-update-at-zero",
                severity="warning",
                message=f"transformers' warm-up is step / warmup_steps: the first update trains at LR 0 and the peak "
                f"{lr:g} comes only at update {w}.",
                fix="accept it (one wasted update) or use lrkit's warm-up, which starts at peak / warmup_steps.",
                evidence={"step": 0, "lr": 0.0, "warmup_steps": w},
                source="warmup_steps",
            )
        )
    if name in ("cosine", "cosine_with_min_lr", "cosine_warmup_with_min_lr") and n is not None:
        cycles = float(fields.get("num_cycles", 0.5))
        span = max(1, n - w)
        lowest = w + span / (2 * cycles) if cycles > 0 else None
        end = run if run is not None else n
        if lowest is not None and end - 1 > lowest:
            findings.append(
                Finding(
                    rule="lr-rises-again",
                    severity="warning",
                    message=f"the cosine reaches its lowest value at update {lowest:g} and then climbs back "
                    f"(num_cycles={cycles:g}, {end} updates): transformers does not clamp it.",
                    fix="keep num_cycles at 0.5 and max_steps equal to the run length.",
                    evidence={"lowest_at": lowest, "num_cycles": cycles, "num_training_steps": n, "run": end},
                    source="lr_scheduler_kwargs.num_cycles",
                )
            )


# -- writing (to_config(..., 'hf')) ------------------------------------------------------------

#: transformers' curves that take num_cycles (written only when it is not the default 0.5)
_CYCLED = ("cosine", "cosine_with_restarts", "cosine_with_min_lr", "cosine_warmup_with_min_lr", "warmup_stable_decay")


def _hf_kwargs(sched: HFLambda) -> dict[str, Any]:
    """``lr_scheduler_kwargs`` of a transformers curve: only what its type reads."""
    kw: dict[str, Any] = {}
    if sched.name in _CYCLED and sched.num_cycles != 0.5:
        kw["num_cycles"] = sched.num_cycles
    if sched.name == "polynomial":
        kw.update(lr_end=sched.lr_end, power=sched.power)
    if sched.name == "inverse_sqrt" and sched.timescale is not None:
        kw["timescale"] = sched.timescale
    if sched.name in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        kw["min_lr_rate"] = sched.min_lr_rate
        if sched.warmup_lr_rate is not None:
            kw["warmup_lr_rate"] = sched.warmup_lr_rate
    if sched.name == "warmup_stable_decay":
        kw.update(
            num_decay_steps=sched.num_decay_steps,
            num_stable_steps=sched.num_stable_steps,
            warmup_type=sched.warmup_type,
            decay_type=sched.decay_type,
            min_lr_ratio=sched.min_lr_rate,
        )
    return kw


def write_hf(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    """Hugging Face TrainingArguments keys (``learning_rate``, ``lr_scheduler_type``,
    ``warmup_steps``, ``max_steps``, ``lr_scheduler_kwargs``) for a curve read from transformers,
    or a constant; anything else cannot be said exactly (transformers' curves warm up from 0)."""
    if isinstance(sched, Constant) and sched.value == 1.0:
        out: dict[str, Any] = {"learning_rate": peak, "lr_scheduler_type": "constant"}
        if total is not None:
            out["max_steps"] = total
        return out
    if not isinstance(sched, HFLambda):
        raise cannot(
            describe(sched),
            "hf",
            "transformers' curves warm up from 0; export to lrkit, or use lrkit.Scheduler in the Trainer.",
        )
    out = {
        "learning_rate": peak if sched.name != "polynomial" else sched.lr_init,
        "lr_scheduler_type": sched.name,
        "warmup_steps": sched.warmup_steps,
    }
    if sched.training_steps is not None:
        out["max_steps"] = sched.training_steps
    kw = _hf_kwargs(sched)
    if kw:
        out["lr_scheduler_kwargs"] = kw
    return out
