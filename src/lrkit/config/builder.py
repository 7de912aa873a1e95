"""Build the real torch optimizer and :class:`lrkit.Scheduler` of a config.

This is the only place where a config's dotted class names are imported, and only the
optimizer's (``torch.optim.X`` or any importable ``torch.optim.Optimizer`` subclass);
scheduler classes are never imported -- the schedule comes from the algebra.

Parameter groups: ``param_groups`` entries match parameter *names* (``model.named_parameters()``)
with fnmatch patterns (``*.bias``, ``*norm*``) or plain substrings; the first entry that
matches takes the parameter; the rest stay in the default group with the optimizer's
settings. A group's LR is ``lr`` (absolute) or ``lr_mult * optimizer lr``; the schedule's
factor multiplies every group's LR.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch

from lrkit.config import fields as F
from lrkit.config.resolved import ResolvedConfig
from lrkit.errors import ConfigError, did_you_mean
from lrkit.scheduler import Scheduler

__all__ = ["build", "build_optimizer", "optimizer_class"]

_KNOWN = {
    "adamw": "torch.optim.AdamW",
    "adam": "torch.optim.Adam",
    "sgd": "torch.optim.SGD",
    "adamw_torch": "torch.optim.AdamW",
    "adamw_torch_fused": "torch.optim.AdamW",
    "fused_adam": "torch.optim.AdamW",
    "rmsprop": "torch.optim.RMSprop",
    "adagrad": "torch.optim.Adagrad",
}
# Megatron / HF spellings of Adam's arguments
_RENAMES = {"adam_eps": "eps", "adam_epsilon": "eps"}


def optimizer_class(name: Any, field: str = "optimizer.type") -> type[torch.optim.Optimizer]:
    """The optimizer class a config names: a short name or a dotted path (imported here)."""
    name = F.string(name, field)
    dotted = _KNOWN.get(name.lower(), name)
    if "." not in dotted:
        if hasattr(torch.optim, dotted):
            dotted = f"torch.optim.{dotted}"
        else:
            raise ConfigError(
                f"unknown optimizer {name!r}.{did_you_mean(name.lower(), _KNOWN)}",
                field=field,
                value=name,
                fix="use adamw, adam, sgd or a dotted class name such as torch.optim.RMSprop.",
            )
    module, _, attr = dotted.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ConfigError(
            f"cannot import optimizer {dotted!r} ({err}).",
            field=field,
            value=name,
            fix="check the dotted class name and that its package is installed.",
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ConfigError(
            f"{dotted!r} is not a torch.optim.Optimizer.", field=field, value=name, fix="name an optimizer class."
        )
    return cls


def _matches(name: str, pattern: str) -> bool:
    if any(c in pattern for c in "*?["):
        # "*.bias" also takes a top-level "bias" (a bare nn.Linear names it without a dot)
        return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase("." + name, pattern)
    return pattern in name


def _named(model_or_params: Any) -> list[tuple[str, torch.Tensor]] | list[dict[str, Any]]:
    if isinstance(model_or_params, torch.nn.Module):
        trainable: list[tuple[str, torch.Tensor]] = [
            (n, p) for n, p in model_or_params.named_parameters() if p.requires_grad
        ]
        return trainable
    if isinstance(model_or_params, torch.Tensor):
        return [("0", model_or_params)]
    if isinstance(model_or_params, Iterable):
        items = list(model_or_params)
        if items and all(isinstance(x, Mapping) for x in items):
            return [dict(x) for x in items]
        if items and all(isinstance(x, tuple) and len(x) == 2 for x in items):
            return [(str(n), p) for n, p in items]
        if all(isinstance(x, torch.Tensor) for x in items):
            return [(str(i), p) for i, p in enumerate(items)]
    raise ConfigError(
        f"expected a torch.nn.Module or parameters, got {type(model_or_params).__name__}.",
        field="model_or_params",
        fix="pass the model (its parameter names are needed for param_groups) or model.parameters().",
    )


def build_optimizer(model_or_params: Any, spec: Mapping[str, Any]) -> torch.optim.Optimizer:
    """``spec`` is ``ResolvedConfig.optimizer`` (``{"type", "lr", **kwargs, "param_groups"?}``)."""
    spec = dict(F.mapping(spec, "optimizer"))
    cls = optimizer_class(spec.pop("type", "adamw"))
    lr = F.number(spec.pop("lr"), "optimizer.lr", low=0.0, low_open=True) if "lr" in spec else None
    if lr is None:
        raise ConfigError("the optimizer needs lr.", field="optimizer.lr", fix="add lr: <peak LR>.")
    groups_spec = spec.pop("param_groups", None) or []
    kwargs = {_RENAMES.get(k, k): v for k, v in spec.items()}
    if "adam_beta1" in kwargs or "adam_beta2" in kwargs:
        kwargs["betas"] = (kwargs.pop("adam_beta1", 0.9), kwargs.pop("adam_beta2", 0.999))
    if isinstance(kwargs.get("betas"), list):
        kwargs["betas"] = tuple(kwargs["betas"])
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        for key in kwargs:
            if key not in params:
                raise ConfigError(
                    f"{cls.__name__} has no argument "
                    f"{key!r}.{did_you_mean(key, [p for p in params if p not in ('self', 'params')])}",
                    field=f"optimizer.{key}",
                    value=kwargs[key],
                    fix=f"{cls.__name__} takes: {', '.join(p for p in params if p not in ('self', 'params'))}.",
                )
    named = _named(model_or_params)
    if named and isinstance(named[0], dict):
        if groups_spec:
            raise ConfigError(
                "param_groups need parameter names.",
                field="optimizer.param_groups",
                fix="pass the model itself (or named_parameters()) instead of ready-made groups.",
            )
        groups = named
    else:
        groups = _groups(named, groups_spec, lr)  # type: ignore[arg-type]
    # a concrete optimizer's own signature (checked above), not the base class's (params, defaults)
    make: Callable[..., torch.optim.Optimizer] = cls
    try:
        return make(groups, lr=lr, **kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"{cls.__name__} refused its arguments: {err}.",
            field="optimizer",
            value=spec,
            fix="check the optimizer's keyword arguments.",
        ) from None


def _groups(named: list[tuple[str, torch.Tensor]], specs: list[Mapping[str, Any]], lr: float) -> list[dict[str, Any]]:
    taken: set[int] = set()
    groups: list[dict[str, Any]] = []
    for i, g in enumerate(specs):
        path = f"optimizer.param_groups[{i}]"
        g = dict(F.mapping(g, path))
        patterns = g.pop("match", None) or g.pop("params", None)
        if isinstance(patterns, str):
            patterns = [patterns]
        patterns = [
            F.string(p, f"{path}.match[{j}]") for j, p in enumerate(F.sequence(patterns or [], f"{path}.match"))
        ]
        if not patterns:
            raise ConfigError(
                "a parameter group needs match patterns.", field=f"{path}.match", fix="add match: ['*.bias']."
            )
        members = [p for n, p in named if id(p) not in taken and any(_matches(n, pat) for pat in patterns)]
        if not members:
            sample = ", ".join(n for n, _ in named[:6])
            raise ConfigError(
                f"no parameter name matches {patterns} (names look like: {sample}).",
                field=f"{path}.match",
                value=patterns,
                fix="fix the pattern (fnmatch such as '*.bias', or a substring such as 'norm').",
            )
        taken.update(id(p) for p in members)
        g.pop("name", None)
        mult = g.pop("lr_mult", None)
        if mult is not None:
            g["lr"] = lr * F.number(mult, f"{path}.lr_mult", low=0.0)
        groups.append({"params": members, **g})
    rest = [p for _, p in named if id(p) not in taken]
    if rest or not groups:
        groups.insert(0, {"params": rest})
    return groups


def build(
    model_or_params: Any, config: Any, *, total_steps: int | None = None
) -> tuple[torch.optim.Optimizer, Scheduler]:
    """``(optimizer, lrkit.Scheduler)`` for a config (path, dict or :class:`ResolvedConfig`).

    The optimizer is built from the config's optimizer spec (AdamW at the config's peak LR
    when it has none); the Scheduler applies the config's factor schedule to every parameter
    group and carries its feedback controller, if any.
    """
    from lrkit.config import load_config

    resolved = (
        config
        if isinstance(config, ResolvedConfig) and total_steps is None
        else load_config(
            config.raw if isinstance(config, ResolvedConfig) else config,
            total_steps=total_steps,
            format=config.format if isinstance(config, ResolvedConfig) else None,
        )
    )
    spec = dict(resolved.optimizer) if resolved.optimizer else {"type": "adamw", "lr": resolved.peak_lr}
    spec["lr"] = resolved.peak_lr
    optimizer = build_optimizer(model_or_params, spec)
    scheduler = Scheduler(optimizer, resolved.schedule, controller=resolved.controller)
    return optimizer, scheduler
