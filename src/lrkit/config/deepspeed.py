"""DeepSpeed configs (``ds_config.json``): the curve of their ``"scheduler"`` section.

DeepSpeed's engine builds the scheduler the config names (``_scheduler_from_config``:
``scheduler(optimizer, **params)``) and steps it after every optimizer update; lrkit draws its
``WarmupLR``, ``WarmupDecayLR`` and ``WarmupCosineLR`` exactly
(:class:`lrkit.schedules.compat.DeepSpeedLR`). ``WarmupCosineLR`` and a ``WarmupLR`` without
``warmup_max_lr`` read the optimizer's ``lr``: ``optimizer.params.lr`` of the same config, or the
trainer's learning rate.

``"auto"`` values are filled by the trainer that passes the file. A Hugging Face Trainer (and
axolotl and LLaMA-Factory, which train with it) fills them from its arguments
(transformers' ``HfTrainerDeepSpeedConfig``): ``warmup_min_lr`` 0, ``warmup_max_lr`` and
``optimizer.params.lr`` its ``learning_rate``, ``total_num_steps`` its training steps and
``warmup_num_steps`` its ``get_warmup_steps``; a concrete value that differs from the Trainer's
is refused, as the Trainer refuses it (:class:`TrainerFill`). A DeepSpeed config read on its own
has no trainer: each ``"auto"`` is asked for by name (``--total-steps`` fills
``total_num_steps``; ``--set scheduler.params.NAME=VALUE`` any of them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from lrkit.config import fields as F
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.signature import Signature
from lrkit.config.torch_schedulers import KNOWN as TORCH_KNOWN
from lrkit.config.torch_schedulers import translate
from lrkit.config.writing import cannot, describe
from lrkit.errors import ConfigError, did_you_mean
from lrkit.findings import Finding
from lrkit.schedules.base import Schedule
from lrkit.schedules.checks import check_steps
from lrkit.schedules.compat import (
    DEEPSPEED_TYPES,
    DEEPSPEED_WARMUP_TYPES,
    DeepSpeedLR,
    DeepSpeedOneCycle,
    DeepSpeedRangeTest,
)

__all__ = [
    "SIGNATURES",
    "TrainerFill",
    "read_deepspeed",
    "read_scheduler",
    "read_launch_scheduler",
    "has_scheduler",
    "write_deepspeed",
]

SIGNATURES = (
    Signature(
        "deepspeed",
        'DeepSpeed config (ds_config.json): its "scheduler" section (WarmupLR, WarmupDecayLR, WarmupCosineLR)',
        ("ds_config",),
        "read_deepspeed",
    ),
)

#: the keyword arguments of each scheduler's constructor (DeepSpeed passes ``params`` as keywords)
_PARAMS: dict[str, tuple[str, ...]] = {
    "WarmupLR": ("warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "warmup_type", "last_batch_iteration"),
    "WarmupDecayLR": (
        "total_num_steps",
        "warmup_min_lr",
        "warmup_max_lr",
        "warmup_num_steps",
        "warmup_type",
        "last_batch_iteration",
    ),
    "WarmupCosineLR": (
        "total_num_steps",
        "warmup_min_ratio",
        "warmup_num_steps",
        "cos_min_ratio",
        "warmup_type",
        "last_batch_iteration",
    ),
}

_PARAMS["OneCycle"] = (
    "cycle_min_lr",
    "cycle_max_lr",
    "decay_lr_rate",
    "cycle_first_step_size",
    "cycle_second_step_size",
    "cycle_first_stair_count",
    "cycle_second_stair_count",
    "decay_step_size",
    "cycle_momentum",
    "cycle_min_mom",
    "cycle_max_mom",
    "decay_mom_rate",
    "last_batch_iteration",
)
_PARAMS["LRRangeTest"] = (
    "lr_range_test_min_lr",
    "lr_range_test_step_size",
    "lr_range_test_step_rate",
    "lr_range_test_staircase",
    "last_batch_iteration",
)
#: torch.optim.lr_scheduler classes DeepSpeed builds by name when it has no scheduler of that name
_TORCH = tuple(k for k in TORCH_KNOWN if k != "lrkit.Scheduler")
#: the arguments of OneCycle / LRRangeTest that set the LR (momentum cycling does not)
_LR_PARAMS = {
    "OneCycle": _PARAMS["OneCycle"][:8],
    "LRRangeTest": _PARAMS["LRRangeTest"][:4],
}


@dataclass(frozen=True)
class TrainerFill:
    """What a Hugging Face Trainer writes into a DeepSpeed config's ``"auto"`` values, and checks
    concrete ones against (transformers' ``trainer_config_process`` / ``trainer_config_finalize``).

    Attributes:
        learning_rate: ``TrainingArguments.learning_rate`` (fills ``warmup_max_lr`` and
            ``optimizer.params.lr``).
        training_steps: the Trainer's ``num_training_steps`` (fills ``total_num_steps``), when known.
        warmup_steps: ``get_warmup_steps(num_training_steps)`` as a function of the training steps
            (fills ``warmup_num_steps``); it may ask for the run length itself.
        trainer: the trainer's name in messages.
    """

    learning_rate: float
    training_steps: int | None
    warmup_steps: Callable[[int | None], int]
    trainer: str = "the Hugging Face Trainer"


def has_scheduler(config: Any) -> bool:
    """Whether a DeepSpeed config has a ``"scheduler"`` section (the Trainer checks the key alone)."""
    return isinstance(config, Mapping) and "scheduler" in config


def read_deepspeed(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    """A DeepSpeed config read on its own: the curve of its ``"scheduler"`` section, every
    ``"auto"`` asked for (``total_steps`` fills ``total_num_steps``)."""
    if not has_scheduler(data):
        raise ConfigError(
            f'{source}: a DeepSpeed config without a "scheduler" section sets no LR schedule: the trainer that '
            "passes it does.",
            field="scheduler",
            value=None,
            fix="read the config of the trainer that passes this file "
            "(its learning_rate / lr_scheduler_type / --lr-*).",
        )
    return read_scheduler(data, where="", fill=None, total_steps=total_steps, source=source, fmt="deepspeed")


def read_scheduler(
    config: Mapping[str, Any],
    *,
    where: str,
    fill: TrainerFill | None,
    total_steps: int | None,
    source: str,
    fmt: str,
    raw: Mapping[str, Any] | None = None,
    optimizer_lr: float | None = None,
    legacy: bool = False,
) -> ResolvedConfig:
    """The DeepSpeed scheduler of ``config`` as a :class:`ResolvedConfig` of format ``fmt``:
    ``where`` prefixes field names in messages (``deepspeed.`` inside a trainer config), ``fill``
    the trainer's values for ``"auto"`` (``None``: ask), ``total_steps`` the run shown.
    ``optimizer_lr``: the LR in the optimizer's groups when the scheduler is built, when the
    training code passes its own optimizer (the config's ``optimizer`` section is then unused);
    ``legacy``: DeepSpeed before 0.17.2, whose ``WarmupLR`` defaults ``warmup_max_lr`` to 0.001."""
    sched = config["scheduler"]
    prefix = f"{where}." if where else ""
    name = _type(sched, prefix)
    if not isinstance(sched.get("params"), Mapping):
        raise ConfigError(
            f'a DeepSpeed "scheduler" section without "params": DeepSpeed builds {name} with **params and fails '
            "(TypeError) without them.",
            field=f"{prefix}scheduler.params",
            value=sched.get("params"),
            fix='add "params": {} (DeepSpeed\'s defaults) or the arguments you mean.',
        )
    params = dict(sched["params"])
    if name in _TORCH:
        return _read_torch(name, params, prefix, config, fill, total_steps, source, fmt, raw, optimizer_lr)
    for key in params:
        if key not in _PARAMS[name]:
            raise ConfigError(
                f"DeepSpeed's {name} takes no argument {key!r}: its constructor raises TypeError."
                f"{did_you_mean(key, _PARAMS[name])}",
                field=f"{prefix}scheduler.params.{key}",
                value=params[key],
                fix=f"use {name}'s arguments: {', '.join(_PARAMS[name][:-1])}.",
            )
    last = _last_batch_iteration(params, prefix)
    if name in _LR_PARAMS:
        return _read_cycle(name, params, prefix, config, total_steps, source, fmt, raw, last, fill, optimizer_lr)
    filled = _Filled(config, params, prefix, fill, total_steps, optimizer_lr, legacy)
    values = filled.values(name)
    findings = list(filled.findings)
    if last != -1:
        values["last_batch_iteration"] = last
        if name != "WarmupCosineLR":
            values["optimizer_lr"] = filled.resumed_lr(last)
    wtype = values.get("warmup_type", "log")
    if wtype not in DEEPSPEED_WARMUP_TYPES:
        findings.append(
            Finding(
                rule="deepspeed-warmup-type",
                severity="warning",
                message=f"warmup_type {wtype!r} is neither 'log' nor 'linear': DeepSpeed warns and warms up "
                "with 'log'.",
                fix="write warmup_type: 'log' or 'linear'.",
                evidence={"warmup_type": wtype},
                source=f"{prefix}scheduler.params.warmup_type",
            )
        )
        values["warmup_type"] = "log"
    with F.at_path(f"{prefix}scheduler.params"):
        absolute = DeepSpeedLR(name=name, **values)
    peak = absolute.lr if name == "WarmupCosineLR" else max(absolute.warmup_max_lr, absolute.warmup_min_lr)
    if absolute.optimizer_lr is not None:
        peak = max(peak, absolute.optimizer_lr)  # a resumed run's first update trains at it
    schedule = _as_factor(absolute, peak)
    n = max(2, absolute.warmup_num_steps)
    shift = last + 1  # updates of a fresh run that a resumed one skips
    context: dict[str, Any] = {
        "deepspeed_scheduler": name,
        "warmup_steps": max(0, n - shift),
        "warmup_type": absolute.warmup_type,
    }
    total = absolute.total_num_steps
    if total is not None:
        context.update(declared_horizon=max(0, total - shift), num_training_steps=total, decay_steps=max(0, total - n))
        if name == "WarmupDecayLR":
            context["min_lr"] = absolute.warmup_min_lr
        else:
            context["min_lr"] = absolute.lr * absolute.cos_min_ratio
    run: int | None
    if total_steps is not None:
        run = total_steps
    elif fill is not None:
        run = fill.training_steps or total  # the Trainer runs its own count, from 0, whatever the offset
    else:
        # read alone: the updates the scheduler has left before total_num_steps
        run = None if total is None else max(1, total - shift)
    if last != -1:
        findings.append(_resumed_note(name, last, absolute(0.0), prefix))
    if name == "WarmupCosineLR" and run is not None and total is not None:
        findings.extend(_cosine_past_total(absolute, run, prefix))
    first = absolute(0.0)
    if first == 0.0 and last == -1:
        findings.append(
            Finding(
                rule="first-update-at-zero",
                severity="warning",
                message=f"DeepSpeed's {name} writes its iteration -1 value, {first:g}, before the first update"
                + (" and warmup_min_lr again for the second" if name != "WarmupCosineLR" else "")
                + ": the first update trains at LR 0.",
                fix="accept it, or set a warmup_min_lr above 0."
                if name != "WarmupCosineLR"
                else "accept it (WarmupCosineLR always starts at 0).",
                evidence={"step": 0, "lr": 0.0},
                source=f"{prefix}scheduler",
            )
        )
    optimizer = filled.optimizer()
    return ResolvedConfig(
        schedule, peak, run, fmt, source, tuple(findings), context, optimizer, dict(raw if raw is not None else config)
    )


def _type(sched: Any, prefix: str) -> str:
    field = f"{prefix}scheduler.type"
    if not isinstance(sched, Mapping) or sched.get("type") is None:
        raise ConfigError(
            'a DeepSpeed "scheduler" section without a type: DeepSpeed builds no scheduler from it, yet the trainer '
            "no longer builds its own.",
            field=field,
            value=sched.get("type") if isinstance(sched, Mapping) else sched,
            fix=f'name one: "type": "{DEEPSPEED_TYPES[1]}" with its "params", or remove the section.',
        )
    name = sched["type"]
    if name not in _PARAMS and name not in _TORCH:
        raise ConfigError(
            f"{name!r} is not one of DeepSpeed's schedulers ({', '.join(_PARAMS)}); DeepSpeed "
            "otherwise looks the name up in torch.optim.lr_scheduler and fails when it is not there."
            f"{did_you_mean(str(name), [*_PARAMS, *_TORCH])}",
            field=field,
            value=name,
            fix=f"use one of {', '.join(_PARAMS)} or a torch.optim.lr_scheduler class lrkit draws "
            f"({', '.join(_TORCH)}).",
        )
    return str(name)


class _Filled:
    """The scheduler's arguments after the trainer's fill: ``"auto"`` replaced, mismatches refused."""

    def __init__(
        self,
        config: Mapping[str, Any],
        params: dict[str, Any],
        prefix: str,
        fill: TrainerFill | None,
        total_steps: int | None,
        given_lr: float | None = None,
        legacy: bool = False,
    ) -> None:
        self.config, self.params, self.prefix, self.fill, self.total_steps = config, params, prefix, fill, total_steps
        self.given_lr, self.legacy = given_lr, legacy
        self.findings: list[Finding] = []
        self.mismatches: list[str] = []
        optim = config.get("optimizer")
        self.optim_params = optim.get("params") if isinstance(optim, Mapping) else None
        if self.optim_params is not None:
            F.mapping(self.optim_params, f"{prefix}optimizer.params")

    def _field(self, key: str) -> str:
        return f"{self.prefix}scheduler.params.{key}"

    def _ask(self, field: str, what: str, fix: str) -> ConfigError:
        return ConfigError(
            f'"auto" stands for {what}, which the trainer that passes this DeepSpeed config fills; read on its own, '
            "lrkit does not guess it.",
            field=field,
            value="auto",
            fix=fix,
        )

    def _check(self, field: str, value: Any, trainer_value: Any, trainer_key: str) -> None:
        # transformers' fill_match: a concrete value must equal the Trainer's (Python equality)
        if value != trainer_value:
            self.mismatches.append(f"{field}={value!r} vs {trainer_key}={trainer_value!r}")

    def optimizer_lr(self) -> float:
        """The optimizer's ``lr``: the Trainer's learning rate, or ``optimizer.params.lr``."""
        if self.given_lr is not None:
            return self.given_lr
        field = f"{self.prefix}optimizer.params.lr"
        raw = self.optim_params.get("lr") if self.optim_params is not None else None
        if self.fill is not None:
            if raw is not None and raw != "auto":
                self._check(field, raw, self.fill.learning_rate, "learning_rate")
            return self.fill.learning_rate
        if raw == "auto":
            raise self._ask(
                field, "the optimizer's learning rate", f"--set {field}=3e-4 (the trainer's learning rate)."
            )
        if raw is None:
            raise ConfigError(
                "this DeepSpeed scheduler reads the optimizer's lr, and the config has no optimizer.params.lr (the "
                "training code passes its own optimizer).",
                field=field,
                value=None,
                fix='add "optimizer": {"type": "AdamW", "params": {"lr": 3e-4}} with the lr the training code uses.',
            )
        return F.number(raw, field, low=0.0)

    def resumed_lr(self, last: int) -> float:
        """The optimizer's ``lr``, which trains the first update of a scheduler built with
        ``last_batch_iteration`` ``last`` (DeepSpeed writes no LR then)."""
        try:
            return self.optimizer_lr()
        except ConfigError as err:
            if err.value is not None:
                raise
            raise ConfigError(
                f"last_batch_iteration {last}: DeepSpeed's scheduler writes no LR when built, so the first update "
                "trains at the optimizer's lr, and the config has no optimizer.params.lr (the training code passes "
                "its own optimizer).",
                field=err.field,
                value=None,
                fix='add "optimizer": {"type": "AdamW", "params": {"lr": 3e-4}} with the lr the training code gives '
                "its optimizer.",
            ) from None

    def _number(self, key: str, default: float, *, fill_with: float | None, trainer_key: str = "") -> float:
        field = self._field(key)
        raw = self.params.get(key, default)
        if raw == "auto":
            if fill_with is None:
                raise self._ask(field, key.replace("_", " "), f"--set {field}=<value>.")
            return fill_with
        value = F.number(_first_group(raw, field, self.findings), field, low=0.0)
        if trainer_key and self.fill is not None and key in self.params:
            self._check(field, raw, fill_with, trainer_key)
        return value

    def _steps(self, key: str, default: int | None, *, fill_with: Callable[[], int | None], trainer_key: str) -> Any:
        field = self._field(key)
        raw = self.params.get(key, default)
        if raw == "auto":
            value = fill_with()
            if value is None and self.fill is not None:
                raise ConfigError(
                    f'"auto": {self.fill.trainer} fills it with its number of training steps (max_steps, or '
                    "epochs x updates per epoch), which this config does not give.",
                    field=field,
                    value="auto",
                    fix="set max_steps, or pass --total-steps N (the run's optimizer updates).",
                )
            if value is None:
                fix = (
                    "pass --total-steps N (the run's optimizer updates), or --set " + f"{field}=N."
                    if key == "total_num_steps"
                    else f"--set {field}=N."
                )
                raise self._ask(field, "a number of optimizer updates", fix)
            return value
        if raw is None:
            return None
        if key == "warmup_num_steps" and (isinstance(raw, bool) or not isinstance(raw, int) or raw < 0):
            raise ConfigError(
                f"DeepSpeed requires warmup_num_steps to be a positive integer, got {raw!r} (its constructor raises).",
                field=field,
                value=raw,
                fix=f"write a whole number: {field}: {max(1, int(raw)) if isinstance(raw, int | float) else 1000}.",
            )
        value = F.steps(raw, field)
        if self.fill is not None and key in self.params:
            try:
                trainer_value = fill_with()
            except ConfigError:
                trainer_value = None  # the Trainer's own value is unknown here: one that runs equals this one
            if trainer_value is not None:
                self._check(field, raw, trainer_value, trainer_key)
        return value

    def _training_steps(self) -> int | None:
        if self.fill is not None:
            if self.fill.training_steps is not None:
                return self.fill.training_steps
            concrete = self.params.get("total_num_steps")
            # the Trainer refuses a total_num_steps other than its own: one that runs is the Trainer's
            return concrete if isinstance(concrete, int) and not isinstance(concrete, bool) else self.total_steps
        return self.total_steps

    def values(self, name: str) -> dict[str, Any]:
        """``DeepSpeedLR`` fields (absolute LRs) of scheduler ``name``, DeepSpeed's defaults where unset."""
        fill = self.fill
        autos = [k for k in _PARAMS[name] if self.params.get(k) == "auto"]
        autos = [k for k in autos if not (k == "total_num_steps" and self.total_steps)]
        if fill is None and len(autos) > 1:
            # read on its own: every "auto" at once, each with its --set
            sets = " ".join(f"--set {self._field(k)}=..." for k in autos if k != "total_num_steps")
            total = "--total-steps N (the run's optimizer updates) and " if "total_num_steps" in autos else ""
            raise ConfigError(
                f'{", ".join(autos)} are "auto": the trainer that passes this DeepSpeed config fills them; read on '
                "its own, lrkit does not guess them.",
                field=self._field(autos[0]),
                value="auto",
                fix=f"pass {total}{sets}.",
            )
        out: dict[str, Any] = {"warmup_type": self.params.get("warmup_type", "log")}
        if out["warmup_type"] == "auto":
            raise self._ask(self._field("warmup_type"), "the warm-up shape", f"--set {self._field('warmup_type')}=log.")
        if name != "WarmupLR":
            out["total_num_steps"] = self._steps(
                "total_num_steps", None, fill_with=self._training_steps, trainer_key="num_training_steps (calculated)"
            )
            if out["total_num_steps"] is None:
                raise ConfigError(
                    f"DeepSpeed's {name} needs total_num_steps (its constructor has no default).",
                    field=self._field("total_num_steps"),
                    value=None,
                    fix=f'set {self._field("total_num_steps")} ("auto" under a Hugging Face Trainer).',
                )

        def warmup() -> int | None:
            if fill is None:
                return None
            n = out.get("total_num_steps") or self._training_steps()
            return fill.warmup_steps(n)

        out["warmup_num_steps"] = self._steps("warmup_num_steps", 1000, fill_with=warmup, trainer_key="warmup_steps")
        if out["warmup_num_steps"] == 0:
            # a Trainer without warm-up fills 0: DeepSpeed floors it at 2 (max(2, n)) up to 0.19.2; 0.19.3 and
            # later raise in the constructor. The run that works is drawn, the newer refusal said.
            self.findings.append(
                Finding(
                    rule="deepspeed-warmup-zero",
                    severity="warning",
                    message="warmup_num_steps is 0: DeepSpeed up to 0.19.2 warms up over 2 steps (max(2, n)), "
                    "the curve drawn; DeepSpeed 0.19.3 and later refuse it ('warmup_num_steps must be a positive "
                    "integer').",
                    fix='give a warm-up: warmup_steps or warmup_ratio for a Trainer\'s "auto", or '
                    "warmup_num_steps >= 1.",
                    evidence={"warmup_num_steps": 0},
                    source=self._field("warmup_num_steps"),
                )
            )
        if name == "WarmupCosineLR":
            out["lr"] = self.optimizer_lr()
            out["warmup_min_ratio"] = self._number("warmup_min_ratio", 0.0, fill_with=None)
            out["cos_min_ratio"] = self._number("cos_min_ratio", 0.0001, fill_with=None)
        else:
            # transformers fills warmup_min_lr with 0 and never checks a concrete one
            out["warmup_min_lr"] = self._number("warmup_min_lr", 0.0, fill_with=0.0 if fill is not None else None)
            lr = fill.learning_rate if fill is not None else None
            if "warmup_max_lr" in self.params:
                out["warmup_max_lr"] = self._number("warmup_max_lr", 0.001, fill_with=lr, trainer_key="learning_rate")
            elif name == "WarmupLR" and not self.legacy:
                out["warmup_max_lr"] = self.optimizer_lr()  # DeepSpeed 0.17.2+: the optimizer's lr (0.001 before)
            else:
                out["warmup_max_lr"] = 0.001  # WarmupDecayLR's own default
        if self.optim_params is not None and fill is not None and name != "WarmupCosineLR":
            self.optimizer_lr()  # checked against learning_rate as the Trainer checks it
        if self.mismatches:
            raise ConfigError(
                "values of the DeepSpeed config differ from the Trainer's arguments, and the Trainer refuses to start "
                f"(transformers' trainer_config_finalize): {'; '.join(self.mismatches)}.",
                field=self.mismatches[0].split("=", 1)[0],
                value=self.mismatches[0].split("=", 1)[1].split(" vs ", 1)[0],
                fix='set those DeepSpeed values to "auto" (the Trainer fills them), or make them equal.',
            )
        return out

    def optimizer(self) -> dict[str, Any] | None:
        optim = self.config.get("optimizer")
        if not isinstance(optim, Mapping) or "type" not in optim:
            return None
        out: dict[str, Any] = {"type": str(optim["type"]).lower()}
        lr = self.optim_params.get("lr") if self.optim_params is not None else None
        if self.fill is not None:
            out["lr"] = self.fill.learning_rate
        elif lr is not None and lr != "auto":
            out["lr"] = F.number(lr, f"{self.prefix}optimizer.params.lr", low=0.0)
        return out


def _as_factor(schedule: DeepSpeedLR, peak: float) -> DeepSpeedLR:
    """The same curve as factors of ``peak`` (a peak of 0 leaves the absolute curve, all zeros)."""
    if peak == 0.0:
        return schedule
    if schedule.name == "WarmupCosineLR":
        return replace(schedule, lr=schedule.lr / peak)
    first = None if schedule.optimizer_lr is None else schedule.optimizer_lr / peak
    return replace(
        schedule,
        warmup_min_lr=schedule.warmup_min_lr / peak,
        warmup_max_lr=schedule.warmup_max_lr / peak,
        optimizer_lr=first,
    )


def write_deepspeed(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    """A DeepSpeed config (``optimizer`` lr and ``scheduler``) for a curve read from DeepSpeed;
    anything else cannot be said with DeepSpeed's schedulers (they start at iteration -1's value)."""
    if isinstance(sched, DeepSpeedOneCycle | DeepSpeedRangeTest):
        kind = "OneCycle" if isinstance(sched, DeepSpeedOneCycle) else "LRRangeTest"
        fields = sched.to_dict()
        del fields["type"]
        first = fields.pop("optimizer_lr")
        if fields["last_batch_iteration"] == -1:
            del fields["last_batch_iteration"]
        for key in ("cycle_min_lr", "cycle_max_lr", "lr_range_test_min_lr"):
            if key in fields:
                fields[key] *= peak
        out: dict[str, Any] = {}
        if first is not None and sched.last_batch_iteration != -1:
            # a resumed scheduler's first update trains at the optimizer's lr
            out["optimizer"] = {"type": "AdamW", "params": {"lr": first * peak}}
        out["scheduler"] = {"type": kind, "params": {k: v for k, v in fields.items() if v is not None}}
        return out
    if not isinstance(sched, DeepSpeedLR):
        raise cannot(
            describe(sched),
            "deepspeed",
            "DeepSpeed's schedulers are fixed shapes (log or linear warm-up, linear or cosine decay); export to "
            "lrkit, or pass lrkit.Scheduler to deepspeed.initialize(lr_scheduler=...).",
        )
    params: dict[str, Any] = {"warmup_num_steps": sched.warmup_num_steps, "warmup_type": sched.warmup_type}
    if sched.name == "WarmupCosineLR":
        lr = sched.lr * peak
        params.update(warmup_min_ratio=sched.warmup_min_ratio, cos_min_ratio=sched.cos_min_ratio)
    else:
        lr = peak if sched.optimizer_lr is None else sched.optimizer_lr * peak
        params.update(warmup_min_lr=sched.warmup_min_lr * peak, warmup_max_lr=sched.warmup_max_lr * peak)
    if sched.total_num_steps is not None:
        params["total_num_steps"] = sched.total_num_steps
    if sched.last_batch_iteration != -1:
        params["last_batch_iteration"] = sched.last_batch_iteration
    return {"optimizer": {"type": "AdamW", "params": {"lr": lr}}, "scheduler": {"type": sched.name, "params": params}}


def _read_cycle(
    name: str,
    params: Mapping[str, Any],
    prefix: str,
    config: Mapping[str, Any],
    total_steps: int | None,
    source: str,
    fmt: str,
    raw: Mapping[str, Any] | None,
    last: int = -1,
    fill: TrainerFill | None = None,
    optimizer_lr: float | None = None,
) -> ResolvedConfig:
    """``OneCycle`` / ``LRRangeTest``: absolute LRs of their own (the optimizer's lr is read only
    for the first update of a resumed scheduler, ``last`` other than -1); no trainer fills their
    values, so an ``"auto"`` is asked for (DeepSpeed fails on the string)."""
    where = f"{prefix}scheduler.params"
    values: dict[str, Any] = {}
    for key in _LR_PARAMS[name]:
        if key not in params:
            continue
        if params[key] == "auto":
            raise ConfigError(
                f'"auto" in {name}\'s arguments: no trainer fills it, and DeepSpeed fails on the string.',
                field=f"{where}.{key}",
                value="auto",
                fix=f"--set {where}.{key}=<value>.",
            )
        values[key] = params[key]
    group_notes: list[Finding] = []
    for key in ("cycle_min_lr", "cycle_max_lr", "lr_range_test_min_lr"):
        if key in values:
            values[key] = _first_group(values[key], f"{where}.{key}", group_notes)
    step_size = values.get("lr_range_test_step_size")
    if step_size is not None and (isinstance(step_size, bool) or not isinstance(step_size, int)):
        raise ConfigError(
            f"DeepSpeed requires lr_range_test_step_size to be a positive integer, got {step_size!r}.",
            field=f"{where}.lr_range_test_step_size",
            value=step_size,
            fix="write a whole number of updates.",
        )
    if "lr_range_test_staircase" in values:
        values["lr_range_test_staircase"] = F.boolean(
            values["lr_range_test_staircase"], f"{where}.lr_range_test_staircase"
        )
    if name == "OneCycle":
        for key in ("cycle_min_lr", "cycle_max_lr"):
            if key not in values:
                raise ConfigError(
                    f"DeepSpeed's OneCycle needs {key} (its constructor has no default; it raises TypeError).",
                    field=f"{where}.{key}",
                    value=None,
                    fix=f"add {key} to the scheduler's params.",
                )
    if last != -1:
        values.update(last_batch_iteration=last)
        values["optimizer_lr"] = _Filled(config, {}, prefix, fill, total_steps, optimizer_lr).resumed_lr(last)
    schedule: DeepSpeedOneCycle | DeepSpeedRangeTest
    with F.at_path(where):
        if name == "OneCycle":
            cycle = DeepSpeedOneCycle(**values)
            peak = max(cycle.cycle_max_lr, cycle.cycle_min_lr, cycle.optimizer_lr or 0.0)
            lo, hi = (cycle.cycle_min_lr / peak, cycle.cycle_max_lr / peak) if peak > 0 else (0.0, 0.0)
            first = cycle.optimizer_lr / peak if cycle.optimizer_lr is not None and peak > 0 else cycle.optimizer_lr
            schedule = replace(cycle, cycle_min_lr=lo, cycle_max_lr=hi, optimizer_lr=first)
        else:
            ramp = DeepSpeedRangeTest(**values)
            peak = ramp.lr_range_test_min_lr
            first = ramp.optimizer_lr / peak if ramp.optimizer_lr is not None and peak > 0 else ramp.optimizer_lr
            schedule = replace(ramp, lr_range_test_min_lr=1.0, optimizer_lr=first) if peak > 0 else ramp
    findings: tuple[Finding, ...] = tuple(group_notes)
    if last != -1:
        findings += (_resumed_note(name, last, schedule(0.0) * (peak if peak > 0 else 1.0), prefix),)
    if name == "LRRangeTest":
        findings += (
            Finding(
                rule="deepspeed-range-test",
                severity="info",
                message="DeepSpeed's LRRangeTest raises the LR without end: the base LR shown is its start, "
                "lr_range_test_min_lr.",
                fix="use it to find an LR, then train with a schedule that peaks there.",
                source=f"{prefix}scheduler",
            ),
        )
    context = {"deepspeed_scheduler": name}
    optimizer = _Filled(config, {}, prefix, None, total_steps).optimizer()
    return ResolvedConfig(
        schedule, peak, total_steps, fmt, source, findings, context, optimizer, dict(raw if raw is not None else config)
    )


def read_launch_scheduler(
    section: str,
    *,
    where: str,
    optimizer_lr: float,
    total_steps: int | None,
    source: str,
    raw: Mapping[str, Any],
) -> ResolvedConfig:
    """The ``"scheduler"`` section a launch script writes into its DeepSpeed config (its text), as
    DeepSpeed before 0.14.5 runs it beside Megatron-DeepSpeed's own optimizer: that optimizer's LR
    when the scheduler is built is ``optimizer_lr``, and ``WarmupLR`` defaults to 0.001."""
    try:
        sched = json.loads(section)
    except ValueError:
        raise ConfigError(
            f'the "scheduler" section the script writes into {where} is not plain JSON (a shell variable in it?): '
            "lrkit reads its values only as written.",
            field=f"{where}.scheduler",
            value=section[:80],
            fix="write the values in the here-document, or read the written DeepSpeed config with "
            "lrkit show FILE --set scheduler.params.NAME=VALUE.",
        ) from None
    return read_scheduler(
        {"scheduler": sched},
        where=where,
        fill=None,
        total_steps=total_steps,
        source=source,
        fmt="megatron",
        raw=raw,
        optimizer_lr=optimizer_lr,
        legacy=True,
    )


def _read_torch(
    name: str,
    params: Mapping[str, Any],
    prefix: str,
    config: Mapping[str, Any],
    fill: TrainerFill | None,
    total_steps: int | None,
    source: str,
    fmt: str,
    raw: Mapping[str, Any] | None,
    optimizer_lr: float | None,
) -> ResolvedConfig:
    """A ``torch.optim.lr_scheduler`` class named in the section: DeepSpeed builds it on the optimizer
    with ``params`` and steps it after every update, as a torch scheduler stepped per update."""
    filled = _Filled(config, dict(params), prefix, fill, total_steps, optimizer_lr)
    peak = filled.optimizer_lr()
    where = f"{prefix}scheduler"
    try:
        schedule, facts = translate(name, params, where, peak=peak)
    except ConfigError as err:
        # translate names the arguments kwargs; DeepSpeed's section calls them params
        field = err.field.replace(f"{where}.kwargs", f"{where}.params") if err.field else err.field
        raise ConfigError(err.message, field=field, value=err.value, fix=err.fix) from None
    run = total_steps if total_steps is not None else (fill.training_steps if fill is not None else None)
    context = {"deepspeed_scheduler": name, "torch_scheduler": facts}
    return ResolvedConfig(
        schedule, peak, run, fmt, source, (), context, filled.optimizer(), dict(raw if raw is not None else config)
    )


def _first_group(value: Any, field: str, findings: list[Finding]) -> Any:
    """A per-parameter-group list (DeepSpeed takes one value per group): the first group's value,
    the one lrkit draws, with an info finding; anything else as it is."""
    if not isinstance(value, list | tuple) or not value:
        return value
    if not any(f.rule == "deepspeed-group-lr" for f in findings):
        findings.append(
            Finding(
                rule="deepspeed-group-lr",
                severity="info",
                message=f"{field} gives one value per parameter group ({list(value)}): the curve shown is the "
                "first group's.",
                fix="read the other groups' curves by giving their values alone (--set).",
                evidence={"values": list(value)},
                source=field,
            )
        )
    return value[0]


def _last_batch_iteration(params: Mapping[str, Any], prefix: str) -> int:
    """``last_batch_iteration``: the iteration the scheduler starts from (-1, the default: from the
    start). DeepSpeed adds 1 to it at every step, so a string fails there."""
    field = f"{prefix}scheduler.params.last_batch_iteration"
    raw = params.get("last_batch_iteration", -1)
    fix = (
        "write the index of the last batch taken (an integer >= 0), or -1 (DeepSpeed's default) to start the schedule."
    )
    if raw == "auto":
        raise ConfigError(
            '"auto" for last_batch_iteration: no trainer fills it, and DeepSpeed fails on the string.',
            field=field,
            value=raw,
            fix=fix,
        )
    return check_steps(field, raw, minimum=-1, fix=fix)


def _resumed_note(name: str, last: int, first_lr: float, prefix: str) -> Finding:
    return Finding(
        rule="deepspeed-resumed",
        severity="info",
        message=f"last_batch_iteration is {last}: DeepSpeed's {name} starts mid-run, update k >= 1 at iteration "
        f"k + {last} (a fresh scheduler: k - 1), {last + 1} iteration(s) ahead of a fresh run; it writes no LR when "
        f"built, so the first update trains at the optimizer's lr, {first_lr:g}.",
        fix="keep it to continue a run; remove it (DeepSpeed's default -1) to draw the run from its start.",
        evidence={"last_batch_iteration": last, "offset": last + 1, "first_update_lr": first_lr},
        source=f"{prefix}scheduler.params.last_batch_iteration",
    )


def _cosine_past_total(schedule: DeepSpeedLR, run: int, prefix: str) -> list[Finding]:
    """WarmupCosineLR past its end: DeepSpeed 0.19.3 and later hold ``lr * cos_min_ratio`` from
    iteration ``max(T, n)`` on (drawn); earlier releases run the cosine on unclamped (climbing back
    after ``T``) and divide by zero when ``T == n``. Before that iteration both are the same curve, so
    this is said only for a run that gets there (a run longer than the updates the scheduler has left)."""
    n, total, last = schedule.warmup_iterations, schedule.total_num_steps or 0, schedule.last_batch_iteration
    end = run - 1 + last  # the iteration of the run's last update
    since = max(total, n)  # the first iteration where the two releases differ
    if end < since:
        return []
    first_past = since - last  # the update that runs at that iteration
    c = schedule.cos_min_ratio
    if total == n:
        older = f"stop with ZeroDivisionError at update {first_past}"
    else:
        value = schedule.lr * float(schedule.cosine_ratio(end, clamped=False))
        older = f"run the cosine on unclamped, climbing back ({value:g} at the run's last update)"
    return [
        Finding(
            rule="deepspeed-cosine-past-total",
            severity="warning",
            message=f"the run reaches iteration {end}, past WarmupCosineLR's end (total_num_steps {total}): from "
            f"update {first_past} DeepSpeed 0.19.3 and later hold lr * cos_min_ratio ({schedule.lr * c:g}), the "
            f"curve drawn; earlier releases {older}.",
            fix='set total_num_steps to the run\'s length ("auto" under a Trainer), or end the run there.',
            evidence={"total_num_steps": total, "last_iteration": end, "first_update_past": first_past},
            source=f"{prefix}scheduler.params.total_num_steps",
        )
    ]
