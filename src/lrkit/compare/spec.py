"""What a comparison runs: the schedules (``--schedule CONFIG_OR_NAME``) and the trial grid.

A schedule to compare is a *factor* curve (peak 1.0) that multiplies the task optimizer's peak
LR, plus an optional feedback controller. It comes from one of:

- a preset name (:data:`PRESETS`), built for the run length by the schedule algebra;
- a config file (any format :func:`lrkit.config.load_config` reads): its factor schedule and
  controller, its own peak LR, and the reader's findings and context for the linter;
- an inline mapping in YAML/JSON (``'{type: cosine, steps: 500}'``), a factor schedule.

``LABEL=SPEC`` names any of them in the report (``--schedule mine=configs/run.yaml``).

Each (schedule, peak LR, seed) is one :class:`TrialSpec`; its :meth:`~TrialSpec.key` hashes
everything that determines the run (not the label), so a resumed or extended comparison finds
finished trials in the results store by content.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from lrkit.errors import ConfigError, did_you_mean
from lrkit.schedules import (
    Constant,
    Cyclic,
    OneCycle,
    Schedule,
    StepDecay,
    WarmupStableDecay,
    from_dict,
    warmup_constant,
    warmup_cosine,
    warmup_linear,
)

__all__ = [
    "PRESETS",
    "DEFAULT_SCHEDULES",
    "ALIASES",
    "ScheduleSpec",
    "TrialSpec",
    "preset",
    "parse_schedule",
    "parse_schedules",
    "build_trials",
    "warmup_for",
]


def warmup_for(total_steps: int) -> int:
    """Warm-up length of the presets: 5% of the run (the guide's 5-10%), at least one update."""
    return max(1, round(0.05 * total_steps))


def _linear(t: int) -> tuple[Schedule, dict | None]:
    return warmup_linear(t, warmup_for(t)), None


def _cosine(t: int) -> tuple[Schedule, dict | None]:
    return warmup_cosine(t, warmup_for(t)), None


def _step(t: int) -> tuple[Schedule, dict | None]:
    # the guide's step decay (no warm-up): x0.1 at one third and at two thirds of the run
    return StepDecay(start=1.0, step_size=max(1, math.ceil(t / 3)), gamma=0.1), None


def _cyclic(t: int) -> tuple[Schedule, dict | None]:
    # the guide's triangular cycle between peak/10 and peak; two full cycles over the run
    return Cyclic(init=0.1, peak=1.0, step_size_up=max(1, t // 4)), None


def _adaptive(t: int) -> tuple[Schedule, dict | None]:
    # the guide's adaptive LR: the peak after warm-up, scaled down while the loss trend rises
    # and back up (never above the peak) while it falls -- lrkit's AdaptiveController
    return warmup_constant(warmup_for(t)), {"type": "adaptive"}


def _wsd(t: int) -> tuple[Schedule, dict | None]:
    decay = max(1, round(0.2 * t))
    w = min(warmup_for(t), t - decay)  # the phases add up to the run, even for a very short one
    return (
        WarmupStableDecay(
            peak=1.0, warmup_steps=w, stable_steps=t - w - decay, decay_steps=decay, decay_shape="1-sqrt"
        ),
        None,
    )


def _constant(t: int) -> tuple[Schedule, dict | None]:
    return Constant(1.0), None


def _one_cycle(t: int) -> tuple[Schedule, dict | None]:
    return OneCycle(peak=1.0, steps=max(10, t)), None  # its phases need a few steps each


#: preset name -> (builder from the run length, one-line description)
PRESETS: dict[str, tuple[Callable[[int], tuple[Schedule, dict | None]], str]] = {
    "linear": (_linear, "linear warm-up (5%) then linear decay to 0 at the end of the run"),
    "cosine": (_cosine, "linear warm-up (5%) then cosine decay to 0 at the end of the run"),
    "step": (_step, "step decay: x0.1 at 1/3 and 2/3 of the run, no warm-up"),
    "cyclic": (_cyclic, "triangular cyclical LR between peak/10 and peak, two cycles over the run"),
    "adaptive": (_adaptive, "warm-up, then the peak scaled by the loss-trend controller (never above the peak)"),
    "wsd": (_wsd, "warmup-stable-decay: warm-up (5%), stable at the peak, 1-sqrt cool-down over the last 20%"),
    "constant": (_constant, "the peak LR for the whole run"),
    "one_cycle": (_one_cycle, "one-cycle (Smith): up from peak/25 over 30%, cosine down to peak/25e4"),
}

#: the default comparison: the guide's schedules plus warmup-stable-decay and constant
DEFAULT_SCHEDULES = ("linear", "cosine", "step", "cyclic", "adaptive", "wsd", "constant")

ALIASES = {
    "warmup_linear": "linear",
    "linear_warmup_decay": "linear",
    "warmup_cosine": "cosine",
    "cosine_warmup": "cosine",
    "cosine_annealing": "cosine",
    "step_decay": "step",
    "cyclical": "cyclic",
    "clr": "cyclic",
    "warmup_stable_decay": "wsd",
    "onecycle": "one_cycle",
}


@dataclass(frozen=True)
class ScheduleSpec:
    """One schedule of a comparison.

    Attributes:
        label: name in the report.
        schedule: the factor schedule as plain data (``Schedule.to_dict()``).
        controller: feedback controller as plain data, or ``None``.
        peak_lr: the config's own peak LR (config files only), used unless ``--lr`` is given.
        source: ``"preset"``, ``"inline"`` or the config file path.
        description: one line for the report.
        findings: the linter's findings (plain dicts) for this schedule at the comparison's
            run length and peak LR(s), filled in when the comparison is planned.
    """

    label: str
    schedule: dict[str, Any]
    controller: dict[str, Any] | None = None
    peak_lr: float | None = None
    source: str = "preset"
    description: str = ""
    findings: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    #: context for the linter (from a config reader); plain data
    context: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["findings"] = list(self.findings)
        return out

    @classmethod
    def from_plain(cls, data: Mapping[str, Any]) -> ScheduleSpec:
        d = dict(data)
        d["findings"] = tuple(d.get("findings") or ())
        return cls(**d)

    def factor_schedule(self) -> Schedule:
        return from_dict(self.schedule)


def preset(name: str, total_steps: int, *, label: str | None = None) -> ScheduleSpec:
    """The preset ``name`` (or an alias) built for a run of ``total_steps`` updates."""
    key = ALIASES.get(name, name)
    if key not in PRESETS:
        choices = [*PRESETS, *ALIASES]
        raise ConfigError(
            f"unknown schedule {name!r}.{did_you_mean(name, choices)}",
            field="schedule",
            value=name,
            fix=f"use a preset ({', '.join(PRESETS)}), a config file path, or an inline mapping "
            "such as '{type: cosine, steps: 500}'.",
        )
    build, description = PRESETS[key]
    schedule, controller = build(total_steps)
    return ScheduleSpec(
        label=label or key,
        schedule=schedule.to_dict(),
        controller=controller,
        source="preset",
        description=description,
    )


def _looks_like_path(text: str) -> bool:
    return text.endswith((".yaml", ".yml", ".json")) or "/" in text or Path(text).is_file()


def _from_config(path: str, total_steps: int, label: str | None) -> ScheduleSpec:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(
            f"no such config file {path!r}.",
            field="schedule",
            value=path,
            fix=f"check the path, or use a preset name ({', '.join(PRESETS)}).",
        )
    from lrkit.config import load_config

    try:
        resolved = load_config(str(p), total_steps=total_steps)
    except ConfigError as err:
        raise ConfigError(f"{p}: {err}", field="schedule", value=path, fix=None) from None
    controller = resolved.controller
    return ScheduleSpec(
        label=label or p.stem,
        schedule=resolved.schedule.to_dict(),
        controller=dict(controller) if controller else None,
        peak_lr=float(resolved.peak_lr),
        source=str(p),
        description=f"{resolved.format} config {p.name}",
        findings=tuple(f.to_dict() for f in resolved.findings),
        context=_plain(dict(resolved.context or {})),
    )


def _from_inline(text: str, label: str | None) -> ScheduleSpec:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(
            f"cannot parse the inline schedule {text!r}: {str(err).splitlines()[0]}.",
            field="schedule",
            value=text,
            fix="write a mapping such as '{type: cosine, steps: 500}'.",
        ) from None
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"an inline schedule must be a mapping, got {text!r}.",
            field="schedule",
            value=text,
            fix="write a mapping such as '{type: cosine, steps: 500}'.",
        )
    data = dict(data)
    glued = [k for k, v in data.items() if v is None and isinstance(k, str) and ":" in k]
    if glued:  # YAML reads '{type:cosine}' as the key 'type:cosine' with no value
        raise ConfigError(
            f"cannot read {glued[0]!r} in the inline schedule {text!r}.",
            field="schedule",
            value=text,
            fix="put a space after each colon: '{type: cosine, steps: 500}'.",
        )
    controller = data.pop("controller", None)
    if controller is not None:
        from lrkit.feedback import controller_from_dict

        try:
            controller = controller_from_dict(controller).to_dict()
        except ConfigError as err:
            raise err.at("schedule.controller") from None
    try:
        schedule = from_dict(data, path="schedule")
    except ConfigError as err:
        raise ConfigError(f"inline schedule {text!r}: {err}", field="schedule", value=text) from None
    return ScheduleSpec(
        label=label or schedule.type_name,
        schedule=schedule.to_dict(),
        controller=controller,
        source="inline",
        description=f"inline {schedule.type_name} schedule",
    )


def _from_object(obj: Schedule | ScheduleSpec | tuple[str, Schedule]) -> ScheduleSpec:
    """A schedule given as an object: a :class:`Schedule` (labelled by its type), a
    ``(label, Schedule)`` pair, or a ready :class:`ScheduleSpec` (e.g. with a controller)."""
    if isinstance(obj, ScheduleSpec):
        return obj
    label = None
    if isinstance(obj, tuple):
        if len(obj) != 2 or not isinstance(obj[0], str) or not isinstance(obj[1], Schedule):
            raise ConfigError(
                f"a labelled schedule must be a (label, Schedule) pair, got {obj!r}.",
                field="schedules",
                value=obj,
                fix="pass e.g. ('mine', lrkit.schedules.warmup_cosine(1000, 100)).",
            )
        label, obj = obj
    return ScheduleSpec(
        label=label or obj.type_name,
        schedule=obj.to_dict(),
        source="object",
        description=f"{obj.type_name} schedule (a Schedule object)",
    )


def parse_schedule(arg: str | Schedule | ScheduleSpec | tuple[str, Schedule], total_steps: int) -> ScheduleSpec:
    """One schedule of a comparison: a ``--schedule`` argument ``[LABEL=]NAME|CONFIG_PATH|INLINE_MAPPING``,
    or an object: a :class:`~lrkit.schedules.Schedule` in factor units (its values multiply the
    peak LR), a ``(label, Schedule)`` pair or a :class:`ScheduleSpec`."""
    if isinstance(arg, Schedule | ScheduleSpec | tuple):
        return _from_object(arg)
    if not isinstance(arg, str):
        raise ConfigError(
            f"must be a string, a Schedule, a (label, Schedule) pair or a ScheduleSpec, got {type(arg).__name__}.",
            field="schedule",
            value=arg,
            fix=f"use a preset name ({', '.join(PRESETS)}), a config path, an inline mapping or a Schedule.",
        )
    if not arg.strip():
        raise ConfigError(
            "empty --schedule.", field="schedule", value=arg, fix=f"use a preset ({', '.join(PRESETS)}) or a path."
        )
    text = arg.strip()
    label = None
    if not text.startswith("{") and "=" in text:
        label, text = (s.strip() for s in text.split("=", 1))
        if not label or not text:
            raise ConfigError(
                f"cannot read {arg!r} as LABEL=SCHEDULE.",
                field="schedule",
                value=arg,
                fix="write e.g. mine=configs/run.yaml.",
            )
    if text.startswith("{"):
        return _from_inline(text, label)
    if ALIASES.get(text, text) in PRESETS:
        return preset(text, total_steps, label=label)
    if _looks_like_path(text):
        return _from_config(text, total_steps, label)
    return preset(text, total_steps, label=label)  # raises the did-you-mean error


def parse_schedules(
    args: Iterable[str | Schedule | ScheduleSpec | tuple[str, Schedule]] | None, total_steps: int
) -> list[ScheduleSpec]:
    """All schedules (``--schedule`` strings or objects, see :func:`parse_schedule`; the default
    set when none); labels made unique."""
    if isinstance(args, str | Mapping | Schedule):  # a bare string would be read one character at a time
        raise ConfigError(
            f"must be a list of schedules, got {args!r}.",
            field="schedules",
            value=args,
            fix=f"pass a list, e.g. [{args!r}]." if isinstance(args, str) else "pass a list of strings.",
        )
    items = list(args or ())
    specs = (
        [parse_schedule(a, total_steps) for a in items]
        if items
        else [preset(n, total_steps) for n in DEFAULT_SCHEDULES]
    )
    seen: dict[str, int] = {}
    out = []
    for s in specs:
        n = seen.get(s.label, 0)
        seen[s.label] = n + 1
        out.append(s if n == 0 else replace(s, label=f"{s.label}#{n + 1}"))
    return out


@dataclass(frozen=True)
class TrialSpec:
    """One training run: a schedule at a peak LR with a seed, on a task, for ``steps`` updates.

    Attributes:
        task: an embedded task name or ``module:function``.
        label: the schedule's label (report only; not part of :meth:`key`).
        schedule: factor schedule as plain data.
        controller: feedback controller as plain data, or ``None``.
        lr: peak LR given to the task's optimizer factory.
        seed: seeds the model, the batches and torch's global generator.
        steps: optimizer updates.
        diverge_factor: the run is stopped as diverged when a training loss exceeds this many
            times the first one (or is not finite).
        eval_every: updates between held-out evaluations (the last update is always evaluated).
    """

    task: str
    label: str
    schedule: dict[str, Any]
    controller: dict[str, Any] | None
    lr: float
    seed: int
    steps: int
    diverge_factor: float = 4.0
    eval_every: int = 0

    def key(self) -> str:
        """Content hash of what determines the run (everything but the label)."""
        d = asdict(self)
        d.pop("label")
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"), default=repr)
        return hashlib.sha1(blob.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_plain(cls, data: Mapping[str, Any]) -> TrialSpec:
        return cls(**dict(data))


def build_trials(
    task: str,
    specs: Iterable[ScheduleSpec],
    lrs: Mapping[str, list[float]],
    seeds: Iterable[int],
    steps: int,
    *,
    diverge_factor: float = 4.0,
    eval_every: int | None = None,
) -> list[TrialSpec]:
    """The grid: for each schedule, each of its peak LRs (``lrs[label]``), each seed.

    Ordered seed-major so the first results cover every schedule (a partial comparison is
    already informative)."""
    every = eval_every if eval_every is not None else max(1, steps // 10)
    specs = list(specs)
    out = []
    for seed in seeds:
        for s in specs:
            for lr in lrs[s.label]:
                out.append(
                    TrialSpec(
                        task=task,
                        label=s.label,
                        schedule=s.schedule,
                        controller=s.controller,
                        lr=float(lr),
                        seed=int(seed),
                        steps=int(steps),
                        diverge_factor=float(diverge_factor),
                        eval_every=int(every),
                    )
                )
    return out


def _plain(value: Any) -> Any:
    """JSON-safe copy of reader context (tuples to lists, unknown objects to their repr)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)
