"""Which framework a config comes from, judged by its shape.

Each format's module declares how it is recognised (``SIGNATURES``, see
:class:`lrkit.config.signature.Signature`); this module consults them in the order of
:data:`_MODULES`, so adding a format is one module and one line here.

Nested shapes (NeMo RL's ``policy``, lrkit's ``training``, NeMo's ``optim.sched``, Megatron's
``lr_decay_style``) decide first, in their ``precedence`` order. Flat trainer configs --
Hugging Face ``TrainingArguments``, axolotl, LLaMA-Factory v0 and v1 -- share many keys
(``learning_rate``, ``max_steps``, ``warmup_ratio``), so they are told apart only by keys that
some of them accept and others do not (each one's ``flat_keys``): the format is the one that
accepts every such key present. When no format accepts them all, when two still do, or when a
schedule key appears that the chosen format does not read, detection asks for ``--format`` with
the candidates instead of picking. A format with a ``fallback`` is the last resort.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from lrkit.config.signature import FLAT_STEP, Signature
from lrkit.errors import ConfigError, did_you_mean

__all__ = ["FORMATS", "FORMAT_ALIASES", "SIGNATURES", "check_format", "detect_format", "reader"]

#: the modules of :mod:`lrkit.config` that declare formats, in the order formats are listed
_MODULES = ("native", "nemo_rl", "megatron", "hf", "nemo", "axolotl", "llamafactory", "deepspeed")


def _registry() -> dict[Signature, str]:
    """Every format's signature, in listing order, with the module that declares it."""
    out: dict[Signature, str] = {}
    for name in _MODULES:
        module = f"lrkit.config.{name}"
        out.update((sig, module) for sig in importlib.import_module(module).SIGNATURES)
    return out


_MODULE_OF = _registry()

#: every format's signature, in listing order
SIGNATURES: tuple[Signature, ...] = tuple(_MODULE_OF)

#: format name -> one-line description (for ``lrkit list``)
FORMATS: dict[str, str] = {s.name: s.description for s in SIGNATURES}

#: other spellings accepted by ``--format`` / ``format=``
FORMAT_ALIASES: dict[str, str] = {alias: s.name for s in SIGNATURES for alias in s.aliases}

#: the shapes tried before the flat keys, in precedence order
_SHAPES = sorted(
    (s for s in SIGNATURES if s.shape is not None and s.precedence < FLAT_STEP), key=lambda s: s.precedence
)
_FLAT = tuple(s for s in SIGNATURES if s.flat)
_FALLBACKS = tuple(s for s in SIGNATURES if s.fallback is not None)

#: top-level key -> the flat formats whose schema has it
_OWNERS: dict[str, frozenset[str]] = {
    key: frozenset(s.name for s in _FLAT if key in s.flat_keys) for sig in _FLAT for key in sig.flat_keys
}

#: a flat config that trains has at least one of these
_TRAINING_KEYS: frozenset[str] = frozenset().union(*(s.training_keys for s in _FLAT))

#: schedule keys each flat format reads; any other key naming a scheduler is not its
_SCHEDULE_KEYS: dict[str, frozenset[str]] = {s.name: s.schedule_keys for s in _FLAT}


def reader(fmt: str) -> Callable[..., Any]:
    """The function that reads format ``fmt`` (``(data, *, total_steps, source) -> ResolvedConfig``)."""
    fmt = check_format(fmt)
    sig = next(s for s in SIGNATURES if s.name == fmt)
    return getattr(importlib.import_module(_MODULE_OF[sig]), sig.reader)


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
    names = candidates or [s.name for s in _FLAT]
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
    plain = [s.name for s in _FLAT if s.reads_plain and s.name in candidates]
    fmt = plain[0] if plain else (order[0] if len(order) == 1 else None)
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


#: keys only DeepSpeed's own config (``ds_config.json``) has at its top level
_DEEPSPEED_KEYS = ("zero_optimization", "train_micro_batch_size_per_gpu", "steps_per_print", "wall_clock_breakdown")


#: DeepSpeed's own scheduler names (a "scheduler" section naming one is DeepSpeed's, params or not)
_DEEPSPEED_SCHEDULERS = ("WarmupLR", "WarmupDecayLR", "WarmupCosineLR", "OneCycle", "LRRangeTest")


def _deepspeed(data: Mapping[str, Any], source: str) -> str | None:
    """``"deepspeed"`` for a DeepSpeed config with a ``"scheduler"`` section (its curve is read);
    its ``{"type": ..., "params": {...}}`` sections look like lrkit's own ``scheduler: {type: ...}``,
    so a DeepSpeed config is never read as another format, and one without a ``"scheduler"`` sets
    no LR schedule (the trainer that passes it does): that is said, not guessed."""
    sections = {
        k: v
        for k in ("scheduler", "optimizer")
        if isinstance(v := data.get(k), Mapping) and "type" in v and isinstance(v.get("params"), Mapping)
    }
    own = [k for k in _DEEPSPEED_KEYS if k in data]
    named = isinstance(data.get("scheduler"), Mapping) and data["scheduler"].get("type") in _DEEPSPEED_SCHEDULERS
    if not sections and not own and not named:
        return None
    sched = data.get("scheduler")
    if "scheduler" in sections or (isinstance(sched, Mapping) and (own or sched.get("type") in _DEEPSPEED_SCHEDULERS)):
        return "deepspeed"
    keys = ", ".join([*sections, *own])
    raise ConfigError(
        f"{source}: a DeepSpeed config ({keys}): it sets no LR schedule (the trainer that passes it does); "
        "lrkit does not guess another format for it.",
        field="format",
        value="deepspeed",
        fix="read the config of the trainer that passes this file (its learning_rate / lr_scheduler_type / --lr-*).",
    )


def detect_format(data: Any, *, source: str = "<dict>") -> str:
    """The format of parsed config data; a :class:`ConfigError` listing the formats when
    nothing matches, or the candidates when the keys fit more than one."""
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}: a config must be a mapping at the top level, got {type(data).__name__}.",
            field=None,
            value=data,
            fix="write key: value pairs (see docs/configs/).",
        )
    # two shapes whose keys are not names but flags or a module path: Megatron's functional-test
    # YAML (dashed keys) and NeMo 2's optim._target_ under nemo.lightning
    from lrkit.config.megatron_args import looks_like_dashed_megatron
    from lrkit.config.nemo import looks_like_nemo2

    if looks_like_dashed_megatron(data):
        return "megatron"
    if _deepspeed(data, source) is not None:
        return "deepspeed"
    if looks_like_nemo2(data):
        return "nemo"
    for sig in _SHAPES:
        fmt = sig.shape(data) if sig.shape is not None else None
        if fmt is not None:
            return fmt
    flat = _flat_format(data, source)
    if flat is not None:
        return flat
    for sig in _FALLBACKS:
        if sig.fallback is not None and sig.fallback(data):
            unknown = _schedule_keys(data)
            if unknown:
                raise _ask(
                    source,
                    f"it has learning_rate but a schedule key no known format reads ({', '.join(unknown)}).",
                    [],
                )
            return sig.name
    keys = ", ".join(map(str, list(data)[:8]))
    nested = _nested_configs(data)
    if nested:
        # a launcher file holding one config per role (NeMo-Framework-Launcher's rlhf_ppo: critic, actor)
        where = ", ".join(f"{k} ({fmt})" for k, fmt in nested)
        what = f"its config is under {where}" if len(nested) == 1 else f"{len(nested)} configs are under {where}"
        raise ConfigError(
            f"{source}: {what}, not at the top level; lrkit reads the top level of a file and does not pick a section.",
            field="format",
            value=[k for k, _ in nested],
            fix=f"copy the section you want (e.g. {nested[0][0]}) into a file of its own and read that.",
        )
    raise ConfigError(
        f"{source}: cannot tell which framework this config is for (top-level keys: {keys}).",
        field="format",
        fix=f"name the format explicitly (--format / format=): one of {', '.join(FORMATS)}.",
    )


def _nested_configs(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The top-level sections that are each a config of a known format (by detection alone)."""
    out: list[tuple[str, str]] = []
    for key, value in data.items():
        if not isinstance(value, Mapping):
            continue
        try:
            out.append((str(key), detect_format(value, source=str(key))))
        except ConfigError:
            continue
    return out
