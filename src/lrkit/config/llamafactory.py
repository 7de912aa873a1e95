"""LLaMA-Factory YAML, both trainers, read into the curve each really runs.

**v0** (``llamafactory-cli train``; ``stage``, ``finetuning_type``, ``template``, ...) parses
``transformers.TrainingArguments`` itself and hands them to the Trainer, so the schedule keys
read exactly as :mod:`lrkit.config.hf` reads them (``lr_scheduler_type`` default ``linear``,
``learning_rate`` default 5e-5, ``warmup_steps`` / ``warmup_ratio`` with ``ceil``, ``max_steps``
or epochs). One addition, from ``train/trainer_utils.py:create_custom_scheduler``:
``warmup_stable_decay`` without ``num_stable_steps`` / ``num_decay_steps`` splits the steps
after the warm-up one third stable (``(N - W) // 3``), the rest decay. Configs for its Megatron
backends (``tensor_model_parallel_size`` and friends; the backend is chosen by the environment
variable ``USE_MCA`` or ``USE_MEGATRON_BRIDGE``, not by the file) run Megatron's scheduler:
lrkit asks which backend runs them. ``--format llamafactory_mbridge`` reads the Megatron Bridge
curve (``train/megatron_bridge/config_builder.py``): Megatron's ``OptimizerParamScheduler`` with
``lr_decay_style`` from ``lr_scheduler_type`` (``cosine``, ``linear``, ``constant``;
``constant_with_warmup`` is ``constant``; any other name is ``cosine``, with a warning there),
``lr_warmup_iters`` = ``warmup_steps`` or ``int(N * warmup_ratio)``, ``lr_decay_iters`` =
``max(N, W + 1)`` (``N`` without a warm-up), ``min_lr`` 0 and a warm-up from 0, where ``N`` is
``max_steps`` or the run length given. mcore_adapter's scheduler (``USE_MCA=1``) lives outside
LLaMA-Factory, so lrkit does not read it.

**v1** (``USE_V1=1``; ``model_class``, ``train_dataset``, ``dist_config``, ...) has no warm-up
and no decay: without ``lr_scheduler_config`` its trainer builds
``LambdaLR(optimizer, lambda step: 1.0)`` (``v1/core/base_trainer.py``), a constant
``learning_rate`` (default 1e-4) for ``max_steps`` updates (or ``num_train_epochs`` x batches).
It registers no scheduler plugin, so any ``lr_scheduler_config`` fails there and here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from lrkit.config import fields as F
from lrkit.config.hf import HF_FLAT_KEYS, HF_SCHEDULE_KEYS, HF_TRAINING_KEYS, _run_length, _warmup, read_hf
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.signature import Signature, keys
from lrkit.errors import ConfigError
from lrkit.schedules import Constant

__all__ = [
    "MEGATRON_BACKEND_KEYS",
    "read_llamafactory",
    "read_llamafactory_mbridge",
    "read_llamafactory_v1",
    "SIGNATURES",
]

#: keys that only LLaMA-Factory's Megatron backends (mcore_adapter, Megatron-Bridge) accept
MEGATRON_BACKEND_KEYS = (
    "tensor_model_parallel_size",
    "pipeline_model_parallel_size",
    "expert_model_parallel_size",
    "context_parallel_size",
    "use_distributed_optimizer",
    "use_mca",
    "use_megatron_bridge",
)


SIGNATURES = (
    Signature(
        "llamafactory",
        "LLaMA-Factory (v0) YAML: stage, finetuning_type + TrainingArguments (lr_scheduler_type, ...)",
        ("llama_factory", "llama-factory", "lf", "llamafactory_v0"),
        "read_llamafactory",
        # TrainingArguments, which v0 parses itself, and hparams/finetuning_args.py, data_args.py
        flat_keys=HF_FLAT_KEYS
        | keys("stage finetuning_type template dataset dataset_dir lora_target lora_rank cutoff_len"),
        schedule_keys=HF_SCHEDULE_KEYS,
        training_keys=HF_TRAINING_KEYS,
    ),
    Signature(
        "llamafactory_v1",
        "LLaMA-Factory v1 trainer YAML: model_class, train_dataset, dist_config, lr_scheduler_config",
        ("llamafactory-v1", "llama_factory_v1", "lf_v1"),
        "read_llamafactory_v1",
        # v1/config/*.py (no warm-up keys)
        flat_keys=keys(
            "num_train_epochs micro_batch_size cutoff_len model_class train_dataset dist_config peft_config "
            "kernel_config quant_config optim_config lr_scheduler_config sample_backend batching_strategy"
        ),
        schedule_keys=keys("lr_scheduler_config"),
        training_keys=keys("learning_rate lr_scheduler_config max_steps num_train_epochs"),
    ),
    # only by name: the backend is an environment variable (USE_MEGATRON_BRIDGE=1), not in the file
    Signature(
        "llamafactory_mbridge",
        "LLaMA-Factory v0 YAML run with USE_MEGATRON_BRIDGE=1 (Megatron's scheduler; choose it with --format)",
        ("llamafactory_megatron_bridge", "lf_mbridge"),
        "read_llamafactory_mbridge",
    ),
)


def read_llamafactory(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    megatron = [k for k in MEGATRON_BACKEND_KEYS if k in data]
    if megatron:
        raise ConfigError(
            f"{megatron[0]} makes this a config for LLaMA-Factory's Megatron backends, chosen by an environment "
            "variable, not by the file: USE_MEGATRON_BRIDGE=1 runs Megatron Bridge (Megatron's scheduler); "
            "USE_MCA=1 runs mcore_adapter, whose scheduler is outside LLaMA-Factory and not read by lrkit; with "
            "neither, LLaMA-Factory's argument parser does not accept the Megatron keys.",
            field=megatron[0],
            value=data[megatron[0]],
            fix="for USE_MEGATRON_BRIDGE=1 pass --format llamafactory_mbridge (format='llamafactory_mbridge' in "
            "Python).",
        )
    hf_data = dict(data)
    if data.get("lr_scheduler_type") == "warmup_stable_decay":
        hf_data["lr_scheduler_kwargs"] = _wsd_defaults(data, total_steps)
    res = read_hf(hf_data, total_steps=total_steps, source=source)
    return dataclasses.replace(res, format="llamafactory", raw=dict(data))


def _wsd_defaults(data: Mapping[str, Any], total_steps: int | None) -> dict[str, Any]:
    kw = dict(F.mapping(data.get("lr_scheduler_kwargs") or {}, "lr_scheduler_kwargs"))
    if "num_stable_steps" in kw and "num_decay_steps" in kw:
        return kw
    n, _ = _run_length(data, total_steps)
    if n is None:
        raise ConfigError(
            "warmup_stable_decay without num_stable_steps / num_decay_steps: LLaMA-Factory splits the run length "
            "after the warm-up (1/3 stable, the rest decay), which needs the run length.",
            field="max_steps",
            fix="set max_steps, give both in lr_scheduler_kwargs, or pass --total-steps.",
        )
    w = _warmup(data, n)
    remaining = n - w
    stable = remaining // 3
    kw.setdefault("num_stable_steps", stable)
    kw.setdefault("num_decay_steps", remaining - stable)
    return kw


def read_llamafactory_v1(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    lr = F.number(data.get("learning_rate", 1e-4), "learning_rate", low=0.0, low_open=True)
    sched = data.get("lr_scheduler_config")
    if sched is not None:
        name = F.mapping(sched, "lr_scheduler_config").get("name") if isinstance(sched, Mapping) else sched
        raise ConfigError(
            f"LLaMA-Factory v1 registers no LR scheduler plugin: lr_scheduler_config {name!r} fails there "
            "('Plugin ... is not registered under LRSchedulerPlugin').",
            field="lr_scheduler_config",
            value=sched,
            fix="remove lr_scheduler_config (the v1 trainer then keeps learning_rate constant).",
        )
    raw = data.get("max_steps")
    max_steps = F.steps(raw, "max_steps", minimum=1) if raw is not None and F.number(raw, "max_steps") > 0 else None
    run = total_steps if total_steps is not None else max_steps
    context: dict[str, Any] = {"warmup_steps": 0}
    if max_steps is not None:
        context["num_training_steps"] = max_steps
    optim = data.get("optim_config")
    kind = str(optim.get("name", "adamw")) if isinstance(optim, Mapping) else "adamw"
    optimizer = {"type": "adamw" if kind == "adamw" else kind, "lr": lr}
    return ResolvedConfig(Constant(1.0), lr, run, "llamafactory_v1", source, (), context, optimizer, dict(data), None)


#: lr_scheduler_type -> Megatron Bridge's lr_decay_style (config_builder.py; other names: cosine)
_MBRIDGE_STYLES = {"cosine": "cosine", "linear": "linear", "constant": "constant", "constant_with_warmup": "constant"}


def _mbridge_warmup(data: Mapping[str, Any], train_iters: int) -> int:
    """``_resolve_warmup_steps``: ``warmup_steps`` as given when > 0, else ``int(N * warmup_ratio)``
    (at most N), else 0."""
    steps = data.get("warmup_steps") or 0
    if F.number(steps, "warmup_steps", low=0.0) > 0:
        return F.steps(steps, "warmup_steps", minimum=1)
    ratio = F.number(data.get("warmup_ratio") or 0.0, "warmup_ratio", low=0.0)
    return min(int(train_iters * ratio), train_iters) if ratio > 0 else 0


def read_llamafactory_mbridge(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    """LLaMA-Factory v0 keys as its Megatron Bridge backend turns them into Megatron's scheduler
    (``train/megatron_bridge/config_builder.py``), one counter step per iteration."""
    from lrkit.config.megatron import resolve_megatron
    from lrkit.findings import Finding

    stage, ftype = data.get("stage", "sft"), data.get("finetuning_type", "lora")
    if stage not in ("pt", "sft"):
        raise ConfigError(
            "Megatron Bridge only supports the pt and sft stages; LLaMA-Factory raises.",
            field="stage",
            value=stage,
            fix="use stage: sft or pt, or run another backend.",
        )
    if ftype not in ("full", "lora"):
        raise ConfigError(
            "Megatron Bridge only supports full and lora finetuning; LLaMA-Factory raises.",
            field="finetuning_type",
            value=ftype,
            fix="use finetuning_type: full or lora.",
        )
    lr = F.number(data.get("learning_rate", 5e-5), "learning_rate", low=0.0, low_open=True)
    raw = data.get("max_steps")
    if raw is not None and F.number(raw, "max_steps") > 0:
        train_iters = F.steps(raw, "max_steps", minimum=1)
    elif total_steps is not None:
        train_iters = total_steps
    else:
        raise ConfigError(
            "the run length is unknown: without max_steps Megatron Bridge runs ceil(samples / global batch x "
            "num_train_epochs) iterations, which needs the dataset size.",
            field="max_steps",
            fix="set max_steps, or pass the run length in iterations (CLI: --total-steps N).",
        )
    name = data.get("lr_scheduler_type", "linear")
    findings: list[Finding] = []
    style = _MBRIDGE_STYLES.get(str(name))
    if style is None:
        style = "cosine"
        findings.append(
            Finding(
                rule="mbridge-scheduler-replaced",
                severity="warning",
                message=f"Megatron Bridge does not support lr_scheduler_type {name!r}: LLaMA-Factory uses cosine.",
                fix="set lr_scheduler_type: cosine, linear, constant or constant_with_warmup.",
                evidence={"lr_scheduler_type": name},
                source="lr_scheduler_type",
            )
        )
    warmup = _mbridge_warmup(data, train_iters)
    decay = train_iters if warmup <= 0 else max(train_iters, warmup + 1)
    args = {
        "lr": lr,
        "min_lr": 0.0,
        "lr_warmup_init": 0.0,
        "lr_decay_style": style,
        "lr_warmup_iters": warmup,
        "lr_decay_iters": decay,
        "train_iters": train_iters,
    }
    paths = {"lr": "learning_rate", "lr_decay_style": "lr_scheduler_type", "lr_warmup_iters": "warmup_steps"}
    res = resolve_megatron(
        args, run_length=train_iters, source=source, fmt="llamafactory_mbridge", paths=paths, increment=1.0
    )
    optimizer = {"type": "adamw", "lr": lr}
    for key in ("weight_decay", "adam_beta1", "adam_beta2"):
        if key in data:
            optimizer[key] = data[key]
    return dataclasses.replace(
        res, findings=(*res.findings, *findings), optimizer=optimizer, raw=dict(data), total_steps=train_iters
    )
