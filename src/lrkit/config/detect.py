"""Which framework a config comes from, judged by its shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrkit.config import fields as F
from lrkit.errors import ConfigError, did_you_mean

__all__ = ["FORMATS", "detect_format", "check_format"]

#: format name -> one-line description (for ``lrkit list``)
FORMATS: dict[str, str] = {
    "lrkit": "lrkit's own YAML: training.optimizer / training.scheduler {type: cosine_annealing, ...}",
    "nemo_rl": "NeMo RL, DTensor path: policy.optimizer and policy.scheduler (torch schedulers + milestones)",
    "nemo_rl_megatron": "NeMo RL, Megatron path: policy.megatron_cfg.optimizer / .scheduler (lr_decay_style, ...)",
    "megatron": "Megatron-LM / Megatron-core arguments: lr, min_lr, lr_decay_style, lr_warmup_*, lr_decay_*",
    "hf": "Hugging Face TrainingArguments: lr_scheduler_type, learning_rate, warmup_steps, max_steps",
    "nemo": "NeMo optim.sched blocks: CosineAnnealing, WarmupHoldPolicy, NoamAnnealing, ...",
}

_MEGATRON_KEYS = ("lr_decay_style", "lr_warmup_iters", "lr_decay_iters", "lr_warmup_fraction", "lr_warmup_samples", "train_iters", "train_samples")
_HF_KEYS = ("lr_scheduler_type", "learning_rate", "num_train_epochs", "lr_scheduler_kwargs")


def check_format(name: Any) -> str:
    if not isinstance(name, str) or name not in FORMATS:
        aliases = {"native": "lrkit", "huggingface": "hf", "transformers": "hf", "megatron_lm": "megatron", "nemorl": "nemo_rl"}
        if isinstance(name, str) and name in aliases:
            return aliases[name]
        raise ConfigError(
            f"unknown config format {name!r}.{did_you_mean(str(name), FORMATS)}",
            field="format",
            value=name,
            fix=f"use one of: {', '.join(FORMATS)}.",
        )
    return name


def detect_format(data: Any, *, source: str = "<dict>") -> str:
    """The format of parsed config data; a :class:`ConfigError` listing the formats when
    nothing matches."""
    from lrkit.config.native import looks_native

    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}: a config must be a mapping at the top level, got {type(data).__name__}.",
            field=None,
            value=data,
            fix="write key: value pairs (see docs/configs/).",
        )
    policy = data.get("policy")
    if isinstance(policy, Mapping):
        mcfg = policy.get("megatron_cfg")
        if isinstance(mcfg, Mapping) and mcfg.get("enabled") is True:
            return "nemo_rl_megatron"
        if "optimizer" in policy or "scheduler" in policy:
            return "nemo_rl"
        if isinstance(mcfg, Mapping) and ("scheduler" in mcfg or "optimizer" in mcfg):
            return "nemo_rl_megatron"
    if looks_native(data):
        return "lrkit"
    for root in (data, data.get("model")):
        if isinstance(root, Mapping) and isinstance(F.dig(root, "optim.sched"), Mapping | type(None)) and isinstance(root.get("optim"), Mapping):
            if "sched" in root["optim"] or "name" in root["optim"]:
                return "nemo"
    if any(k in data for k in _MEGATRON_KEYS) or any(
        isinstance(data.get(s), Mapping) and "lr_decay_style" in data[s] for s in ("scheduler", "optimizer")
    ):
        return "megatron"
    if any(k in data for k in _HF_KEYS) or ("warmup_steps" in data and "max_steps" in data):
        return "hf"
    keys = ", ".join(map(str, list(data)[:8]))
    raise ConfigError(
        f"{source}: cannot tell which framework this config is for (top-level keys: {keys}).",
        field="format",
        fix=f"name the format explicitly (--format / format=): one of {', '.join(FORMATS)}.",
    )
