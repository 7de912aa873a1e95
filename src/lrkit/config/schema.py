"""pydantic v2 models of lrkit's own config, and the conversion of their errors.

The shape is the guide's::

    training:
      optimizer: {type: adamw, lr: 1.0e-4, weight_decay: 0.01}
      scheduler: {type: cosine_annealing, warmup_steps: 1000, total_steps: 100000, min_lr: 1.0e-6}
      controller: {type: plateau, patience: 10}      # optional, passed through as data

Every validation error becomes a :class:`~lrkit.ConfigError` naming the dotted path
(``training.scheduler.warmup_steps``), the value and the fix; unknown keys get a
did-you-mean. Cross-field rules (warm-up shorter than the run, floor below the peak...) live in
:mod:`lrkit.config.native`, which knows the run length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from lrkit.config import fields as F
from lrkit.errors import ConfigError, did_you_mean

__all__ = [
    "OptimizerSpec",
    "ParamGroupSpec",
    "SchedulerSpec",
    "TrainingSpec",
    "validate",
    "SCHEDULER_TYPES",
    "SCHEDULER_ALIASES",
    "OPTIMIZER_TYPES",
]


def _real(v: Any) -> float:
    return F.number(v, "value")


def _steps(v: Any) -> int:
    return F.steps(v, "value")


def _ratio(v: Any) -> float:
    return F.number(v, "value", low=0.0, high=1.0)


Real = Annotated[float, BeforeValidator(_real)]
Steps = Annotated[int, BeforeValidator(_steps)]
Ratio = Annotated[float, BeforeValidator(_ratio)]

#: native scheduler types -> the keys each one takes besides the common ones
SCHEDULER_TYPES: dict[str, tuple[str, ...]] = {
    "constant": (),
    "linear": (),
    "cosine_annealing": (),
    "step": ("step_size", "gamma"),
    "multistep": ("milestones", "gamma"),
    "exponential": ("gamma", "decay_steps"),
    "polynomial": ("power",),
    "inverse_sqrt": ("timescale",),
    "wsd": ("decay_steps", "decay_ratio", "decay_shape", "stable_steps"),
    "one_cycle": ("max_lr", "pct_start", "anneal_strategy", "div_factor", "final_div_factor", "three_phase"),
    "cyclical": ("base_lr", "max_lr", "step_size", "step_size_up", "step_size_down", "mode", "gamma"),
    "cosine_restarts": ("period", "period_mult", "peak_decay", "max_cycles"),
    "piecewise": ("boundaries", "values"),
    "sequence": ("pieces", "boundaries"),
    "schedule": ("schedule",),
}
SCHEDULER_ALIASES = {
    "cosine": "cosine_annealing",
    "cosine_with_warmup": "cosine_annealing",
    "linear_warmup_decay": "linear",
    "multi_step": "multistep",
    "step_decay": "step",
    "cyclic": "cyclical",
    "onecycle": "one_cycle",
    "piecewise_constant": "piecewise",
    "warmup_stable_decay": "wsd",
    "sgdr": "cosine_restarts",
    "inverse_square_root": "inverse_sqrt",
}

#: optimizer types lrkit knows -> their keyword arguments (besides lr and param_groups)
OPTIMIZER_TYPES: dict[str, tuple[str, ...]] = {
    "adamw": (
        "betas",
        "eps",
        "weight_decay",
        "amsgrad",
        "foreach",
        "fused",
        "maximize",
        "capturable",
        "differentiable",
    ),
    "adam": ("betas", "eps", "weight_decay", "amsgrad", "foreach", "fused", "maximize", "capturable", "differentiable"),
    "sgd": ("momentum", "dampening", "weight_decay", "nesterov", "maximize", "foreach", "fused", "differentiable"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class ParamGroupSpec(_Strict):
    """Parameters whose names match any of ``match`` (fnmatch patterns, or substrings when no
    wildcard) get this group's ``lr`` (absolute) or ``lr_mult`` (times the optimizer's ``lr``)
    and ``weight_decay``. The first group that matches a parameter takes it; unmatched
    parameters stay in the default group."""

    model_config = ConfigDict(extra="allow", frozen=True)

    match: list[str] = Field(min_length=1)
    name: str | None = None
    lr: Real | None = Field(default=None, gt=0)
    lr_mult: Real | None = Field(default=None, ge=0)
    weight_decay: Real | None = Field(default=None, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _one_pattern(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = dict(data)
            for alias in ("params", "names", "patterns"):
                if alias in data and "match" not in data:
                    data["match"] = data.pop(alias)
            if isinstance(data.get("match"), str):
                data["match"] = [data["match"]]
        return data

    @model_validator(mode="after")
    def _lr_or_mult(self) -> ParamGroupSpec:
        if self.lr is not None and self.lr_mult is not None:
            raise ValueError("give lr (absolute) or lr_mult (times the optimizer's lr), not both")
        return self


class OptimizerSpec(_Strict):
    """``type`` is adamw, adam, sgd or a dotted ``torch.optim`` class (imported only by
    :func:`lrkit.build`); ``lr`` is the peak LR the schedule multiplies."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = "adamw"
    lr: Real = Field(gt=0)
    param_groups: list[ParamGroupSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_kwargs(self) -> OptimizerSpec:
        kind = self.type.lower()
        extra = dict(self.model_extra or {})
        if kind in OPTIMIZER_TYPES:
            allowed = OPTIMIZER_TYPES[kind]
            for key, value in extra.items():
                if key not in allowed:
                    raise ConfigError(
                        f"unknown key {key!r} for optimizer "
                        f"{kind!r}.{did_you_mean(key, (*allowed, 'lr', 'param_groups'))}",
                        field=key,
                        value=value,
                        fix=f"{kind} takes: lr, param_groups, {', '.join(allowed)}.",
                    )
            for i, group in enumerate(self.param_groups):
                for key, value in (group.model_extra or {}).items():
                    if key not in allowed:
                        options = (*allowed, "match", "name", "lr", "lr_mult")
                        raise ConfigError(
                            f"unknown key {key!r} for a parameter group of {kind!r}.{did_you_mean(key, options)}",
                            field=f"param_groups[{i}].{key}",
                            value=value,
                            fix=f"a group takes: {', '.join(options)}.",
                        )
            if "weight_decay" in extra:
                F.number(extra["weight_decay"], "weight_decay", low=0.0)
            if "eps" in extra:
                F.number(extra["eps"], "eps", low=0.0, low_open=True)
            if "betas" in extra:
                betas = F.sequence(extra["betas"], "betas")
                if len(betas) != 2:
                    raise ConfigError(
                        f"needs two values, got {list(betas)!r}.",
                        field="betas",
                        value=betas,
                        fix="write betas: [0.9, 0.999].",
                    )
                for i, b in enumerate(betas):
                    F.number(b, f"betas[{i}]", low=0.0, high=1.0, high_open=True)
            if kind == "sgd":
                momentum = F.number(extra.get("momentum", 0.0), "momentum", low=0.0)
                dampening = F.number(extra.get("dampening", 0.0), "dampening", low=0.0)
                if F.boolean(extra.get("nesterov", False), "nesterov") and (momentum <= 0 or dampening != 0):
                    raise ConfigError(
                        "Nesterov momentum needs momentum > 0 and dampening 0.",
                        field="nesterov",
                        value=True,
                        fix="set momentum: 0.9 (and no dampening), or nesterov: false.",
                    )
        elif "." not in self.type:
            raise ConfigError(
                f"unknown optimizer type {self.type!r}.{did_you_mean(kind, OPTIMIZER_TYPES)}",
                field="type",
                value=self.type,
                fix="use adamw, adam, sgd, or a dotted class name such as torch.optim.RMSprop.",
            )
        return self

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class SchedulerSpec(_Strict):
    """One scheduler. ``type`` selects the family; the common keys are ``warmup_steps`` or
    ``warmup_ratio``, ``total_steps``, ``min_lr`` (absolute) or ``min_lr_ratio``.
    Family keys are listed in :data:`SCHEDULER_TYPES`; a registered schedule name takes its
    own fields."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: str
    warmup_steps: Steps | None = None
    warmup_ratio: Ratio | None = None
    total_steps: Steps | None = Field(default=None, ge=1)
    min_lr: Real | None = Field(default=None, ge=0)
    min_lr_ratio: Ratio | None = None
    warmup_init_ratio: Ratio | None = None

    @model_validator(mode="before")
    @classmethod
    def _type_first(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "type" not in data:
            if "schedule" in data:
                return {"type": "schedule", **dict(data)}
            raise ConfigError(
                "missing 'type'.",
                field="type",
                fix=f"add type: one of {', '.join(SCHEDULER_TYPES)}.",
            )
        return data

    @model_validator(mode="after")
    def _exclusive(self) -> SchedulerSpec:
        if self.warmup_steps is not None and self.warmup_ratio is not None:
            raise ConfigError(
                "give warmup_steps or warmup_ratio, not both.",
                field="warmup_ratio",
                value=self.warmup_ratio,
                fix="drop one of them.",
            )
        if self.min_lr is not None and self.min_lr_ratio is not None:
            raise ConfigError(
                "give min_lr (absolute) or min_lr_ratio (of the peak), not both.",
                field="min_lr_ratio",
                value=self.min_lr_ratio,
                fix="drop one of them.",
            )
        return self

    @property
    def kind(self) -> str:
        return SCHEDULER_ALIASES.get(self.type, self.type)

    @property
    def extra(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class TrainingSpec(_Strict):
    optimizer: OptimizerSpec | None = None
    scheduler: SchedulerSpec | None = None
    schedule: dict[str, Any] | None = None
    controller: dict[str, Any] | None = None
    total_steps: Steps | None = Field(default=None, ge=1)
    max_steps: Steps | None = Field(default=None, ge=1)


# -- error conversion -----------------------------------------------------------------------

_FIXES = {
    "greater_than": "use a larger value.",
    "greater_than_equal": "use a larger value.",
    "missing": "add it.",
    "too_short": "add at least one entry.",
    "list_type": "write a YAML list.",
    "string_type": "write a string.",
    "dict_type": "write key: value pairs.",
    "model_type": "write key: value pairs.",
    "model_attributes_type": "write key: value pairs.",
}


def _loc_path(prefix: str, loc: tuple[Any, ...]) -> str:
    path = prefix
    for part in loc:
        path = F.join(path, part)
    return path


def convert(err: ValidationError, prefix: str, model: type[BaseModel]) -> ConfigError:
    """The first pydantic error as a :class:`ConfigError` on ``prefix.<loc>``."""
    e = err.errors(include_url=False)[0]
    loc = tuple(x for x in e.get("loc", ()) if not (isinstance(x, str) and x.startswith("function-")))
    value = e.get("input")
    inner = (e.get("ctx") or {}).get("error")
    if isinstance(inner, ConfigError):
        # raised by our own validators: its field is relative to the location pydantic reports
        sub = inner.field if inner.field not in (None, "value") else None
        path = _loc_path(prefix, loc)
        if sub:
            path = F.join(path, sub) if not sub.startswith("[") else path + sub
        return F.refield(inner, path)
    path = _loc_path(prefix, loc)
    kind = e.get("type", "")
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        known = list(parent.model_fields) if parent is not None else []
        key = str(loc[-1]) if loc else "?"
        return ConfigError(
            f"unknown key {key!r}.{did_you_mean(key, known)}",
            field=path,
            value=value,
            fix=f"use one of: {', '.join(known)}." if known else "remove it.",
        )
    msg = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
    if kind == "missing":
        return ConfigError("is required.", field=path, fix=f"add {loc[-1] if loc else 'it'}: <value>.")
    return ConfigError(f"{msg} (got {value!r}).", field=path, value=value, fix=_FIXES.get(kind, "fix the value."))


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    import typing

    cur: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(cur, type) and issubclass(cur, BaseModel)) or part not in cur.model_fields:
            return None
        ann = cur.model_fields[part].annotation
        for _ in range(3):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                break
            ann = args[0] if args else ann
        cur = ann
    return cur if isinstance(cur, type) and issubclass(cur, BaseModel) else None


def validate(model: type[BaseModel], data: Any, prefix: str) -> Any:
    """``model.model_validate(data)`` with every error as a :class:`ConfigError`."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise convert(err, prefix, model) from None
    except ConfigError as err:
        raise F.refield(err, err.at(prefix).field) from None
