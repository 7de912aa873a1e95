"""Which framework a config comes from, judged by its shape.

Nested shapes (NeMo RL's ``policy``, lrkit's ``training``, NeMo's ``optim.sched``, Megatron's
``lr_decay_style``) decide first. Flat trainer configs -- Hugging Face ``TrainingArguments``,
axolotl, LLaMA-Factory v0 and v1 -- share many keys (``learning_rate``, ``max_steps``,
``warmup_ratio``), so they are told apart only by keys that some of them accept and others do
not (:data:`_OWNERS`): the format is the one that accepts every such key present. When no
format accepts them all, when two still do, or when a schedule key appears that the chosen
format does not read, detection asks for ``--format`` with the candidates instead of picking.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrkit.config import fields as F
from lrkit.errors import ConfigError, did_you_mean

__all__ = ["FORMATS", "FORMAT_ALIASES", "check_format", "detect_format"]

#: format name -> one-line description (for ``lrkit list``)
FORMATS: dict[str, str] = {
    "lrkit": "lrkit's own YAML: training.optimizer / training.scheduler {type: cosine_annealing, ...}",
    "nemo_rl": "NeMo RL, DTensor path: policy.optimizer and policy.scheduler (torch schedulers + milestones)",
    "nemo_rl_megatron": "NeMo RL, Megatron path: policy.megatron_cfg.optimizer / .scheduler (lr_decay_style, ...)",
    "megatron": "Megatron-LM / Megatron-core arguments: lr, min_lr, lr_decay_style, lr_warmup_*, lr_decay_*",
    "hf": "Hugging Face TrainingArguments: lr_scheduler_type, learning_rate, warmup_steps, max_steps",
    "nemo": "NeMo optim.sched blocks: CosineAnnealing, WarmupHoldPolicy, NoamAnnealing, ...",
    "axolotl": "axolotl YAML: lr_scheduler, learning_rate, num_epochs, warmup_ratio, cosine_min_lr_ratio, ...",
    "llamafactory": "LLaMA-Factory (v0) YAML: stage, finetuning_type + TrainingArguments (lr_scheduler_type, ...)",
    "llamafactory_v1": "LLaMA-Factory v1 trainer YAML: model_class, train_dataset, dist_config, lr_scheduler_config",
}

#: other spellings accepted by ``--format`` / ``format=``
FORMAT_ALIASES: dict[str, str] = {
    "native": "lrkit",
    "huggingface": "hf",
    "transformers": "hf",
    "megatron_lm": "megatron",
    "nemorl": "nemo_rl",
    "llama_factory": "llamafactory",
    "llama-factory": "llamafactory",
    "lf": "llamafactory",
    "llamafactory_v0": "llamafactory",
    "llamafactory-v1": "llamafactory_v1",
    "llama_factory_v1": "llamafactory_v1",
    "lf_v1": "llamafactory_v1",
    "axolotl-ai": "axolotl",
}

_MEGATRON_KEYS = (
    "lr_decay_style",
    "lr_warmup_iters",
    "lr_decay_iters",
    "lr_warmup_fraction",
    "lr_warmup_samples",
    "train_iters",
    "train_samples",
)
_HF_KEYS = ("lr_scheduler_type", "learning_rate", "num_train_epochs", "lr_scheduler_kwargs")

_HF, _AX, _LF, _LF1 = "hf", "axolotl", "llamafactory", "llamafactory_v1"


def _owners(table: Mapping[tuple[str, ...], tuple[str, ...]]) -> dict[str, frozenset[str]]:
    return {key: frozenset(fmts) for keys, fmts in table.items() for key in keys}


#: top-level key -> the flat formats whose schema has it (keys every one of them has are left out)
_OWNERS: dict[str, frozenset[str]] = _owners(
    {
        # TrainingArguments' own names; LLaMA-Factory v0 parses TrainingArguments itself; axolotl
        # has the warm-up keys (LLaMA-Factory v1 has no warm-up)
        ("lr_scheduler_type", "per_device_train_batch_size"): (_HF, _LF),
        ("warmup_steps", "warmup_ratio"): (_HF, _LF, _AX),
        ("num_train_epochs",): (_HF, _LF, _LF1),
        ("lr_scheduler_kwargs",): (_HF, _LF, _AX),
        # axolotl's schema (axolotl/utils/schemas): names no other trainer uses
        (
            "lr_scheduler",
            "num_epochs",
            "base_model",
            "datasets",
            "sequence_len",
            "sample_packing",
            "pad_to_sequence_len",
            "cosine_min_lr_ratio",
            "cosine_constant_lr_ratio",
            "lr_quadratic_warmup",
            "adapter",
            "val_set_size",
            "evals_per_epoch",
            "saves_per_epoch",
            "jagged_restart_steps",
        ): (_AX,),
        ("micro_batch_size",): (_AX, _LF1),
        # LLaMA-Factory v0 (hparams/finetuning_args.py, data_args.py)
        ("stage", "finetuning_type", "template", "dataset", "dataset_dir", "lora_target", "lora_rank"): (_LF,),
        ("cutoff_len",): (_LF, _LF1),
        # LLaMA-Factory v1 (v1/config/*.py)
        (
            "model_class",
            "train_dataset",
            "dist_config",
            "peft_config",
            "kernel_config",
            "quant_config",
            "optim_config",
            "lr_scheduler_config",
            "sample_backend",
            "batching_strategy",
        ): (_LF1,),
    }
)

#: a flat config that trains has at least one of these
_TRAINING_KEYS = (
    "learning_rate",
    "lr_scheduler",
    "lr_scheduler_type",
    "lr_scheduler_config",
    "max_steps",
    "num_epochs",
    "num_train_epochs",
    "warmup_steps",
    "warmup_ratio",
)

#: schedule keys each flat format reads; any other key naming a scheduler is not its
_SCHEDULE_KEYS: dict[str, frozenset[str]] = {
    _HF: frozenset(("lr_scheduler_type", "lr_scheduler_kwargs")),
    _LF: frozenset(("lr_scheduler_type", "lr_scheduler_kwargs")),
    _AX: frozenset(("lr_scheduler", "lr_scheduler_kwargs")),
    _LF1: frozenset(("lr_scheduler_config",)),
}


def check_format(name: Any) -> str:
    if isinstance(name, str) and name in FORMATS:
        return name
    if isinstance(name, str) and name.lower() in FORMAT_ALIASES:
        return FORMAT_ALIASES[name.lower()]
    raise ConfigError(
        f"unknown config format {name!r}.{did_you_mean(str(name), [*FORMATS, *FORMAT_ALIASES])}",
        field="format",
        value=name,
        fix=f"use one of: {', '.join(FORMATS)}.",
    )


def _ask(source: str, why: str, candidates: list[str]) -> ConfigError:
    names = candidates or [_HF, _AX, _LF, _LF1]
    return ConfigError(
        f"{source}: {why} lrkit does not guess which framework reads it.",
        field="format",
        value=names,
        fix=f"name the format: --format {names[0]} (format='{names[0]}' in Python); candidates: {', '.join(names)}.",
    )


def _schedule_keys(data: Mapping[str, Any]) -> list[str]:
    return [k for k in data if isinstance(k, str) and "sched" in k.lower()]


def _flat_format(data: Mapping[str, Any], source: str) -> str | None:
    """The flat trainer format (hf / axolotl / llamafactory / llamafactory_v1), ``None`` when no
    key tells them apart, or a :class:`ConfigError` asking for ``--format``."""
    sched = data.get("lr_scheduler")
    if "lr_scheduler" in data and not (sched is None or isinstance(sched, str)):
        raise _ask(
            source,
            f"lr_scheduler is a {type(sched).__name__} (axolotl's lr_scheduler is a name such as cosine): "
            "a schedule key of a framework lrkit does not read.",
            [],
        )
    present = [k for k in data if k in _OWNERS]
    v1_trainer = "model_class" in data and "train_dataset" in data  # v1 trains with every key at its default
    if not present or not (v1_trainer or any(k in data for k in _TRAINING_KEYS)):
        return None  # no trainer config (inference, data or export files share the names)
    candidates = frozenset.intersection(*(_OWNERS[k] for k in present))
    order = [f for f in FORMATS if f in candidates]
    if not order:
        by_format: dict[str, list[str]] = {}
        for k in present:
            for f in _OWNERS[k]:
                by_format.setdefault(f, []).append(k)
        # the formats with a key of their own are the real candidates; else every format named
        own = sorted({next(iter(_OWNERS[k])) for k in present if len(_OWNERS[k]) == 1})
        names = own if len(own) >= 2 else sorted(by_format)
        mixed = "; ".join(f"{f}: {', '.join(by_format[f])}" for f in names)
        raise _ask(source, f"its keys belong to different frameworks ({mixed}).", names)
    # plain TrainingArguments keys: the trainers built on them read them as transformers does
    fmt = _HF if _HF in candidates else (order[0] if len(order) == 1 else None)
    if fmt is None:
        raise _ask(source, f"keys {', '.join(present)} fit {' and '.join(order)} alike.", order)
    unknown = [k for k in _schedule_keys(data) if k not in _SCHEDULE_KEYS[fmt]]
    if unknown:
        readers = sorted(f for f, ks in _SCHEDULE_KEYS.items() if any(k in ks for k in unknown))
        raise _ask(
            source,
            f"it looks like {fmt}, but {fmt} has no schedule key {', '.join(unknown)}"
            + (f" ({' / '.join(readers)} {'has' if len(readers) == 1 else 'have'} it)." if readers else "."),
            sorted({fmt, *readers}),
        )
    return fmt


def detect_format(data: Any, *, source: str = "<dict>") -> str:
    """The format of parsed config data; a :class:`ConfigError` listing the formats when
    nothing matches, or the candidates when the keys fit more than one."""
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
        if (
            isinstance(root, Mapping)
            and isinstance(F.dig(root, "optim.sched"), Mapping | type(None))
            and isinstance(root.get("optim"), Mapping)
            and ("sched" in root["optim"] or "name" in root["optim"])
        ):
            return "nemo"
    if any(k in data for k in _MEGATRON_KEYS) or any(
        isinstance(data.get(s), Mapping) and "lr_decay_style" in data[s] for s in ("scheduler", "optimizer")
    ):
        return "megatron"
    flat = _flat_format(data, source)
    if flat is not None:
        return flat
    if any(k in data for k in _HF_KEYS) or ("warmup_steps" in data and "max_steps" in data):
        unknown = _schedule_keys(data)
        if unknown:
            raise _ask(
                source, f"it has learning_rate but a schedule key no known format reads ({', '.join(unknown)}).", []
            )
        return "hf"
    keys = ", ".join(map(str, list(data)[:8]))
    raise ConfigError(
        f"{source}: cannot tell which framework this config is for (top-level keys: {keys}).",
        field="format",
        fix=f"name the format explicitly (--format / format=): one of {', '.join(FORMATS)}.",
    )
