"""LLaMA-Factory YAML, both trainers, read into the curve each really runs.

**v0** (``llamafactory-cli train``; ``stage``, ``finetuning_type``, ``template``, ...) parses
``transformers.TrainingArguments`` itself and hands them to the Trainer, so the schedule keys
read exactly as :mod:`lrkit.config.hf` reads them (``lr_scheduler_type`` default ``linear``,
``learning_rate`` default 5e-5, ``warmup_steps`` / ``warmup_ratio`` with ``ceil``, ``max_steps``
or epochs). One addition, from ``train/trainer_utils.py:create_custom_scheduler``:
``warmup_stable_decay`` without ``num_stable_steps`` / ``num_decay_steps`` splits the steps
after the warm-up one third stable (``(N - W) // 3``), the rest decay. Configs for its Megatron
backends (``tensor_model_parallel_size`` and friends; the backend is chosen by the environment
variable ``USE_MCA`` or ``USE_MEGATRON_BRIDGE``, not by the file) run a different scheduler
and are refused with that reason.

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

__all__ = ["MEGATRON_BACKEND_KEYS", "read_llamafactory", "read_llamafactory_v1", "SIGNATURES"]

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
)


def read_llamafactory(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    megatron = [k for k in MEGATRON_BACKEND_KEYS if k in data]
    if megatron:
        raise ConfigError(
            f"{megatron[0]} makes this a config for LLaMA-Factory's Megatron backends, whose scheduler is "
            f"Megatron's and "
            "whose choice (USE_MCA=1 or USE_MEGATRON_BRIDGE=1) is not in the file; lrkit does not read them.",
            field=megatron[0],
            value=data[megatron[0]],
            fix="preview the equivalent Megatron arguments with --format megatron (lr, min_lr, lr_decay_style, "
            "lr_warmup_iters, train_iters).",
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
