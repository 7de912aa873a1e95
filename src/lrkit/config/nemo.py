"""NeMo ``optim.sched`` blocks read into NeMo's own policies.

Read: ``optim`` (``lr`` is the peak; ``name`` the optimizer) and ``optim.sched`` (``name`` and
the policy's keys: ``warmup_steps|warmup_ratio``, ``hold_steps|hold_ratio``,
``constant_steps|constant_ratio``, ``min_lr``, ``max_steps``, ``power``, ``cycle``,
``d_model``, ``decay_rate``), under ``model.optim`` or at the top level. ``max_steps`` falls
back on ``trainer.max_steps`` and then on the run length given by the caller.

The curve is :class:`lrkit.schedules.compat.NemoLR`, a transcription of
``nemo/core/optim/lr_scheduler.py``; PyTorch Lightning steps it after every optimizer update.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrkit.config import fields as F
from lrkit.config.resolved import ResolvedConfig
from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.schedules.compat import NEMO_POLICIES, NemoLR

__all__ = ["read_nemo"]

_COMMON = ("name", "warmup_steps", "warmup_ratio", "min_lr", "max_steps", "last_epoch", "monitor", "reduce_on_plateau",
           "interval", "frequency", "iters_per_batch", "t_max_epochs", "t_accumulate_grad_batches",
           "t_limit_train_batches", "t_num_workers")
_POLICY_KEYS: dict[str, tuple[str, ...]] = {
    "WarmupPolicy": (),
    "WarmupHoldPolicy": ("hold_steps", "hold_ratio"),
    "WarmupAnnealing": (),
    "CosineAnnealing": ("constant_steps", "constant_ratio"),
    "InverseSquareRootAnnealing": (),
    "NoamAnnealing": ("d_model",),
    "NoamHoldAnnealing": ("hold_steps", "hold_ratio", "decay_rate"),
    "PolynomialDecayAnnealing": ("power", "cycle"),
    "PolynomialHoldDecayAnnealing": ("hold_steps", "hold_ratio", "power", "cycle"),
    "SquareAnnealing": (),
    "SquareRootAnnealing": (),
}
#: NeMo's default min_lr differs by policy (constructor defaults)
_MIN_LR_DEFAULT = {"SquareAnnealing": 1e-5}


def _find_optim(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    model = data.get("model")
    if isinstance(model, Mapping) and isinstance(model.get("optim"), Mapping):
        return model["optim"], "model.optim"
    if isinstance(data.get("optim"), Mapping):
        return data["optim"], "optim"
    raise ConfigError("no optim section found.", field="model.optim", fix="add model.optim: {name, lr, sched: {...}}.")


def _count(sched: Mapping[str, Any], steps_key: str, ratio_key: str, max_steps: int, path: str) -> int:
    if sched.get(steps_key) is not None and sched.get(ratio_key) is not None:
        raise ConfigError(
            f"both {steps_key} and {ratio_key} are set (NeMo asserts one).",
            field=F.join(path, ratio_key),
            fix="keep one of them.",
        )
    if sched.get(steps_key) is not None:
        return F.steps(sched[steps_key], F.join(path, steps_key))
    if sched.get(ratio_key) is not None:
        r = F.number(sched[ratio_key], F.join(path, ratio_key), low=0.0, high=1.0)
        return int(r * max_steps)
    return 0


def read_nemo(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    optim, opath = _find_optim(data)
    lr = F.number(optim.get("lr"), F.join(opath, "lr"), low=0.0, low_open=True) if "lr" in optim else None
    if lr is None:
        raise ConfigError("optim has no lr (the peak the policy multiplies).", field=F.join(opath, "lr"), fix="add lr: 1.0e-4.")
    spath = F.join(opath, "sched")
    sched = F.mapping(optim.get("sched"), spath) if optim.get("sched") is not None else None
    optimizer = {"type": str(optim.get("name", "adam")), "lr": lr}
    for key in ("weight_decay", "betas", "eps", "momentum"):
        if key in optim:
            optimizer[key] = optim[key]
    trainer_max = F.dig(data, "trainer.max_steps")
    trainer_max = F.steps(trainer_max, "trainer.max_steps", minimum=1) if trainer_max not in (None, -1) else None
    if sched is None:
        from lrkit.schedules import Constant

        return ResolvedConfig(Constant(1.0), lr, total_steps or trainer_max, "nemo", source, (), {}, optimizer, dict(data), None)
    name = F.choice(sched.get("name"), F.join(spath, "name"), NEMO_POLICIES)
    F.check_keys(sched, (*_COMMON, *_POLICY_KEYS[name]), spath, what=name)
    if sched.get("max_steps") not in (None, -1):
        max_steps = F.steps(sched["max_steps"], F.join(spath, "max_steps"), minimum=1)
    elif trainer_max is not None:
        max_steps = trainer_max
    elif total_steps is not None:
        max_steps = total_steps
    else:
        raise ConfigError(
            "max_steps is unknown (NeMo takes it from trainer.max_steps).",
            field=F.join(spath, "max_steps"),
            fix="set trainer.max_steps or sched.max_steps, or pass total_steps.",
        )
    run = total_steps if total_steps is not None else (trainer_max or max_steps)
    w = _count(sched, "warmup_steps", "warmup_ratio", max_steps, spath)
    hold = _count(sched, "hold_steps", "hold_ratio", max_steps, spath)
    const = _count(sched, "constant_steps", "constant_ratio", max_steps, spath)
    has_hold = sched.get("hold_steps") is not None or sched.get("hold_ratio") is not None
    min_lr_abs = F.number(sched.get("min_lr", _MIN_LR_DEFAULT.get(name, 0.0)), F.join(spath, "min_lr"), low=0.0)
    fields: dict[str, Any] = {
        "policy": name,
        "max_steps": max_steps,
        "warmup_steps": w,
        "hold_steps": hold + w if has_hold else 0,
        "constant_steps": const,
        "min_lr": min_lr_abs / lr,
    }
    if "power" in sched:
        fields["power"] = F.number(sched["power"], F.join(spath, "power"), low=0.0, low_open=True)
    if "cycle" in sched:
        fields["cycle"] = F.boolean(sched["cycle"], F.join(spath, "cycle"))
    if name == "NoamAnnealing":
        if sched.get("d_model") is None:
            raise ConfigError("NoamAnnealing needs d_model.", field=F.join(spath, "d_model"), fix="add d_model: <model width>.")
        fields["d_model"] = F.number(sched["d_model"], F.join(spath, "d_model"), low=0.0, low_open=True)
    if "decay_rate" in sched:
        fields["decay_rate"] = F.number(sched["decay_rate"], F.join(spath, "decay_rate"), low=0.0, low_open=True)
    with F.at_path(spath):
        schedule = NemoLR(**fields)
    context: dict[str, Any] = {
        "warmup_steps": w + 1 if w else 0,
        "max_steps": max_steps,
        "declared_horizon": max_steps if name != "NoamAnnealing" else None,
        "min_lr": min_lr_abs,
        "policy": name,
    }
    if const:
        context["constant_steps"] = const
        context["decay_steps"] = max_steps - w - const
    elif name != "NoamAnnealing":
        context["decay_steps"] = max_steps - max(w, fields["hold_steps"])
    findings = _quirks(name, fields, lr, run, spath, schedule)
    return ResolvedConfig(schedule, lr, run, "nemo", source, tuple(findings), context, optimizer, dict(data), None)


def _quirks(
    name: str, f: Mapping[str, Any], lr: float, run: int | None, spath: str, schedule: NemoLR
) -> list[Finding]:
    out: list[Finding] = []
    w, m = f["warmup_steps"], f["max_steps"]
    if name == "CosineAnnealing" and f["constant_steps"] > 0:
        c = f["constant_steps"]
        out.append(
            Finding(
                rule="nemo-constant-steps-floor",
                severity="info",
                message=f"constant_steps={c} is a floor tail: the cosine reaches min_lr at step {m - c} and the last {c} "
                "updates run at min_lr (not a hold at the peak).",
                fix="to hold the peak first, use WarmupHoldPolicy-style hold_steps instead.",
                evidence={"constant_steps": c, "floor_from": m - c},
                source=F.join(spath, "constant_steps"),
            )
        )
        if w > 0:
            out.append(
                Finding(
                    rule="first-update-at-zero",
                    severity="warning",
                    message="with constant_steps NeMo uses Megatron's warm-up (step / warmup_steps): the first update "
                    "trains at LR 0.",
                    fix="accept one wasted update, or drop constant_steps to get NeMo's (step + 1) / (warmup + 1) warm-up.",
                    evidence={"step": 0, "lr": 0.0},
                    source=F.join(spath, "warmup_steps"),
                )
            )
    if name == "SquareRootAnnealing" and w > 0:
        out.append(
            Finding(
                rule="nemo-sqrt-not-shifted",
                severity="warning",
                message="SquareRootAnnealing decays from step 0, not from the end of the warm-up: the LR drops "
                "at once when the warm-up ends.",
                fix="use SquareAnnealing or CosineAnnealing, which decay from the end of the warm-up.",
                source=F.join(spath, "name"),
            )
        )
    if name == "NoamAnnealing":
        top = lr * float(schedule(max(w, 1)))  # Noam peaks where its warm-up ends
        out.append(
            Finding(
                rule="noam-peak-scaled",
                severity="info",
                message=f"NoamAnnealing scales optim.lr by d_model^-0.5 * warmup^-0.5: the LR peaks at {top:g}, not at "
                f"optim.lr={lr:g}.",
                fix="set optim.lr so that the scaled peak is the LR you want.",
                evidence={"peak": top},
                source=F.join(spath, "d_model"),
            )
        )
    if run is not None and run > m + 1 and name != "NoamAnnealing" and f["min_lr"] < 1.0:
        out.append(
            Finding(
                rule="decay-horizon-too-short",
                severity="warning",
                message=f"the run has {run} updates but the policy ends at max_steps={m}: the last {run - m - 1} run at min_lr.",
                fix="set max_steps to the run length.",
                evidence={"max_steps": m, "total_steps": run},
                source=F.join(spath, "max_steps"),
            )
        )
    return out
