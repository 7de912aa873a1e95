"""NeMo ``optim.sched`` blocks read into NeMo's own policies.

Read: ``optim`` (``lr`` is the peak; ``name`` the optimizer) and ``optim.sched`` (``name`` and
the policy's keys: ``warmup_steps|warmup_ratio``, ``hold_steps|hold_ratio``,
``constant_steps|constant_ratio``, ``min_lr``, ``max_steps``, ``power``, ``cycle``,
``d_model``, ``decay_rate``), under ``model.optim`` or at the top level. ``max_steps`` falls
back on ``trainer.max_steps`` and then on the run length given by the caller.

The curve is :class:`lrkit.schedules.compat.NemoLR`, a transcription of
``nemo/core/optim/lr_scheduler.py``; PyTorch Lightning steps it after every optimizer update.
``T5InverseSquareRootAnnealing`` (``constant_steps``, ``max_steps``, ``min_lr``) sets absolute LRs
that do not use ``optim.lr``: :class:`lrkit.schedules.compat.nemo.NemoT5InverseSqrt`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from lrkit.config import fields as F
from lrkit.config.nemo_models import own_optimizer_keys, read_nemo_model
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.signature import Signature
from lrkit.config.writing import cannot, describe
from lrkit.errors import ConfigError, did_you_mean
from lrkit.findings import Finding
from lrkit.schedules import Schedule
from lrkit.schedules.compat import NEMO_POLICIES, NemoLR
from lrkit.schedules.compat.nemo import NemoT5InverseSqrt

__all__ = ["read_nemo", "read_nemo2", "looks_like_nemo", "looks_like_nemo2", "write_nemo", "SIGNATURES"]

#: the keys of ``optim.sched`` every policy takes; those in ``_POLICY_ARGS`` are the policies'
#: keyword arguments, the others are read by NeMo's ``prepare_lr_scheduler`` itself
_COMMON = (
    "name",
    "warmup_steps",
    "warmup_ratio",
    "min_lr",
    "max_steps",
    "last_epoch",
    "monitor",
    "reduce_on_plateau",
    "interval",
    "frequency",
    "iters_per_batch",
    "t_max_epochs",
    "t_accumulate_grad_batches",
    "t_limit_train_batches",
    "t_num_workers",
)
_POLICY_ARGS = ("warmup_steps", "warmup_ratio", "min_lr", "last_epoch")
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
    "WarmupHoldAnnealLinear": ("hold_steps", "hold_ratio"),
    "WarmupHoldAnnealOneMinusSquareRoot": ("hold_steps", "hold_ratio"),
}
#: NeMo's default min_lr differs by policy (constructor defaults)
_MIN_LR_DEFAULT = {"SquareAnnealing": 1e-5}


def looks_like_nemo(data: Mapping[str, Any]) -> str | None:
    """NeMo's shape: an ``optim`` mapping with ``sched`` or ``name``, at the top or under ``model``
    (NeMo 2's ``optim: {_target_, config, lr_scheduler}`` is read by the same reader)."""
    for root in (data, data.get("model")):
        if (
            isinstance(root, Mapping)
            and isinstance(F.dig(root, "optim.sched"), Mapping | type(None))
            and isinstance(root.get("optim"), Mapping)
            and ("sched" in root["optim"] or "name" in root["optim"])
        ):
            return "nemo"
    model = data.get("model")
    if isinstance(model, Mapping) and isinstance(data.get("trainer"), Mapping):
        # a model that instantiates its optimizer (optim._target_: torch.optim.X) or builds its own
        # (generator_opt / discriminator_opt, optim_backbone / optim_downstream)
        optim = model.get("optim")
        if (isinstance(optim, Mapping) and "_target_" in optim and "lr" in optim) or own_optimizer_keys(model):
            return "nemo"
    return None


_ABOUT = "NeMo optim.sched blocks: CosineAnnealing, WarmupHoldPolicy, NoamAnnealing, ..."
SIGNATURES = (Signature("nemo", _ABOUT, reader="read_nemo", shape=looks_like_nemo, precedence=30),)


def _find_optim(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], str]:
    model = data.get("model")
    if isinstance(model, Mapping) and isinstance(model.get("optim"), Mapping):
        return model["optim"], "model.optim"
    if isinstance(data.get("optim"), Mapping):
        return data["optim"], "optim"
    raise ConfigError("no optim section found.", field="model.optim", fix="add model.optim: {name, lr, sched: {...}}.")


def _trainer_max_steps(data: Mapping[str, Any], total_steps: int | None) -> int | None:
    """The run length as ModelPT sees it: ``--total-steps`` stands for ``trainer.max_steps``
    (and so also wins over a ``???`` there); -1, absent or unresolved and no total: None."""
    if total_steps is not None:
        return total_steps
    trainer = data.get("trainer")
    value = trainer.get("max_steps") if isinstance(trainer, Mapping) else None
    if value is None or value == -1:
        return None
    return F.steps(value, "trainer.max_steps", minimum=0) or None


def _sched_args(sched: Mapping[str, Any], spath: str) -> tuple[dict[str, Any], str]:
    """``prepare_lr_scheduler``'s ``args`` form: ``sched.args`` replaces the keys beside it; its
    ``params`` are the scheduler's keyword arguments (``args.name: auto`` names the policy's own
    parameter class, whose defaults are the policy's)."""
    sched = dict(sched)
    if "args" not in sched:
        return sched, spath
    args = F.mapping(sched.pop("args"), F.join(spath, "args"))
    apath = F.join(spath, "args")
    out = {
        k: v for k, v in sched.items() if k in ("name", "max_steps", "monitor", "reduce_on_plateau", "iters_per_batch")
    }
    if "name" in args:
        # prepare_lr_scheduler reads only args.params here: keys beside it are ignored
        params = F.mapping(args.get("params") or {}, F.join(apath, "params"))
        out.update({k: v for k, v in params.items()})
        ignored = [k for k in args if k not in ("name", "params")]
        if ignored:
            out["__ignored__"] = [F.join(apath, k) for k in ignored]
        return out, F.join(apath, "params")
    out.update({k: v for k, v in args.items()})
    return out, apath


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


def _nemo_optimizer(optim: Mapping[str, Any], opath: str) -> tuple[float, dict[str, Any]]:
    """The peak ``optim.lr`` and the optimizer (``optim.name`` and its keys)."""
    lr = F.number(optim.get("lr"), F.join(opath, "lr"), low=0.0, low_open=True) if "lr" in optim else None
    if lr is None:
        raise ConfigError(
            "optim has no lr (the peak the policy multiplies).", field=F.join(opath, "lr"), fix="add lr: 1.0e-4."
        )
    optimizer = {"type": str(optim.get("name", "adam")), "lr": lr}
    for key in ("weight_decay", "betas", "eps", "momentum"):
        if key in optim:
            optimizer[key] = optim[key]
    return lr, optimizer


def _ignored_args(ignored: list[str]) -> Finding:
    return Finding(
        rule="nemo-args-ignored",
        severity="warning",
        message=f"{', '.join(ignored)} {'is' if len(ignored) == 1 else 'are'} not used: with sched.args.name "
        "NeMo takes the scheduler's arguments from sched.args.params only (the policy's defaults otherwise).",
        fix="move them under sched.args.params.",
        evidence={"ignored": ignored},
        source=ignored[0],
    )


def _policy_max_steps(sched: Mapping[str, Any], spath: str, trainer_max: int | None, findings: list[Finding]) -> int:
    """The policy's ``max_steps`` as ModelPT.setup_optimization sets it: a trainer with
    ``max_steps >= 0`` overwrites ``sched.max_steps``; only when the run length comes from epochs
    (``trainer.max_steps: -1``) does ``sched.max_steps`` count."""
    sched_max = F.need(sched.get("max_steps"), F.join(spath, "max_steps"))
    if trainer_max is not None:
        if sched_max not in (None, -1) and F.steps(sched_max, F.join(spath, "max_steps"), minimum=0) != trainer_max:
            findings.append(
                Finding(
                    rule="nemo-max-steps-replaced",
                    severity="info",
                    message=f"sched.max_steps={sched_max} is not used: NeMo's ModelPT replaces it with the trainer's "
                    f"max_steps ({trainer_max}).",
                    fix="drop sched.max_steps (or make it equal trainer.max_steps) so the file says what runs.",
                    evidence={"sched.max_steps": sched_max, "trainer.max_steps": trainer_max},
                    source=F.join(spath, "max_steps"),
                )
            )
        return trainer_max
    if sched_max not in (None, -1):
        return F.steps(sched_max, F.join(spath, "max_steps"), minimum=1)
    raise ConfigError(
        "the run length is unknown: trainer.max_steps is not set (NeMo then counts max_epochs passes over the "
        "data) and sched.max_steps is not either.",
        field="trainer.max_steps",
        fix="pass the run length in optimizer updates (CLI: --total-steps N).",
    )


def _policy_fields(
    sched: Mapping[str, Any], spath: str, name: str, lr: float, max_steps: int
) -> tuple[dict[str, Any], float]:
    """The policy's arguments as :class:`NemoLR` fields (counts from steps or ratios, ``min_lr``
    relative to the peak, the policy's own defaults), and the absolute ``min_lr``."""
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
            raise ConfigError(
                "NoamAnnealing needs d_model.", field=F.join(spath, "d_model"), fix="add d_model: <model width>."
            )
        fields["d_model"] = F.number(sched["d_model"], F.join(spath, "d_model"), low=0.0, low_open=True)
    if "decay_rate" in sched:
        fields["decay_rate"] = F.number(sched["decay_rate"], F.join(spath, "decay_rate"), low=0.0, low_open=True)
    return fields, min_lr_abs


def _policy_context(fields: Mapping[str, Any], min_lr_abs: float) -> dict[str, Any]:
    name, max_steps, w, const = fields["policy"], fields["max_steps"], fields["warmup_steps"], fields["constant_steps"]
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
    return context


def read_nemo(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    """NeMo 1.x ``optim`` with ``sched``: one of NeMo's policies (:class:`NemoLR`) or a torch
    scheduler NeMo registers by name, relative to ``optim.lr``, stepped per update; NeMo 2
    shapes go to :func:`read_nemo2`."""
    if looks_like_nemo2(data):
        return read_nemo2(data, total_steps=total_steps, source=source)
    own = read_nemo_model(data, total_steps=total_steps, source=source)
    if own is not None:
        return own
    optim, opath = _find_optim(data)
    lr, optimizer = _nemo_optimizer(optim, opath)
    spath = F.join(opath, "sched")
    sched = F.mapping(optim.get("sched"), spath) if optim.get("sched") is not None else None
    trainer_max = _trainer_max_steps(data, total_steps)
    if sched is None:
        from lrkit.schedules import Constant

        return ResolvedConfig(
            Constant(1.0), lr, total_steps or trainer_max, "nemo", source, (), {}, optimizer, dict(data), None
        )
    _t5_args_auto(sched, spath)
    sched, spath = _sched_args(sched, spath)
    name = _sched_name(sched, spath)
    if name == _T5:
        return _read_t5(data, sched, spath, lr, optimizer, trainer_max, total_steps, source)
    if name in _TORCH_IN_NEMO:
        return _read_torch_in_nemo(data, sched, spath, name, lr, optimizer, trainer_max, total_steps, source)
    findings: list[Finding] = []
    ignored = sched.pop("__ignored__", None)
    if ignored:
        findings.append(_ignored_args(ignored))
    F.check_keys(sched, (*_COMMON, *_POLICY_KEYS[name]), spath, what=name)
    max_steps = _policy_max_steps(sched, spath, trainer_max, findings)
    run = total_steps if total_steps is not None else max_steps
    fields, min_lr_abs = _policy_fields(sched, spath, name, lr, max_steps)
    with F.at_path(spath):
        schedule = NemoLR(**fields)
    findings += _quirks(name, fields, lr, run, spath, schedule)
    context = _policy_context(fields, min_lr_abs)
    return ResolvedConfig(schedule, lr, run, "nemo", source, tuple(findings), context, optimizer, dict(data), None)


def _cosine_quirks(f: Mapping[str, Any], spath: str) -> list[Finding]:
    """CosineAnnealing's constant_steps (a floor tail with Megatron's warm-up) and a decay of no length."""
    out: list[Finding] = []
    w, m = f["warmup_steps"], f["max_steps"]
    if f["constant_steps"] > 0:
        c = f["constant_steps"]
        out.append(
            Finding(
                rule="nemo-constant-steps-floor",
                severity="info",
                message=f"constant_steps={c} is a floor tail: the cosine reaches min_lr at step {m - c} and the "
                f"last {c} updates run at min_lr (not a hold at the peak).",
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
                    fix="accept one wasted update, or drop constant_steps to get NeMo's (step + 1) / (warmup + 1) "
                    "warm-up.",
                    evidence={"step": 0, "lr": 0.0},
                    source=F.join(spath, "warmup_steps"),
                )
            )
    if m - w - f["constant_steps"] <= 0:
        c = f["constant_steps"]
        what = f"the warm-up ({w}) plus constant_steps ({c})" if c else f"the warm-up ({w})"
        out.append(
            Finding(
                rule="nemo-no-decay",
                severity="error",
                message=f"{what} reach max_steps ({m}): there is no decay; NeMo runs the warm-up and then drops "
                "straight to min_lr.",
                fix="shorten the warm-up or constant_steps, or set max_steps to the run length.",
                evidence={"warmup_steps": w, "constant_steps": c, "max_steps": m},
                source=F.join(spath, "constant_steps" if c else "warmup_steps"),
            )
        )
    return out


def _quirks(name: str, f: Mapping[str, Any], lr: float, run: int | None, spath: str, schedule: NemoLR) -> list[Finding]:
    """What the policy does that a user may not expect, each with what to change."""
    out = _cosine_quirks(f, spath) if name == "CosineAnnealing" else []
    w, m = f["warmup_steps"], f["max_steps"]
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
    if name in ("WarmupHoldAnnealLinear", "WarmupHoldAnnealOneMinusSquareRoot") and w > 0 and not f["hold_steps"]:
        drop = float(schedule(w + 1))
        out.append(
            Finding(
                rule="nemo-anneal-not-shifted",
                severity="warning",
                message=f"without hold_steps {name} anneals from step 0, not from the end of the warm-up: the LR "
                f"drops at once to {drop:.3g}x the peak when the warm-up ends.",
                fix="set hold_steps: 0 (NeMo then anneals from the end of the warm-up).",
                evidence={"warmup_steps": w, "factor_after_warmup": drop},
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
        out.append(_horizon(run, m, spath, "the policy", "set max_steps to the run length."))
    return out


def _horizon(run: int, m: int, spath: str, what: str, fix: str) -> Finding:
    """A run longer than the policy's ``max_steps``: the updates after it run at min_lr."""
    return Finding(
        rule="decay-horizon-too-short",
        severity="warning",
        message=f"the run has {run} updates but {what} ends at max_steps={m}: the last {run - m - 1} run at min_lr.",
        fix=fix,
        evidence={"max_steps": m, "total_steps": run},
        source=F.join(spath, "max_steps"),
    )


#: torch schedulers NeMo's ``AVAILABLE_SCHEDULERS`` registers by name; ExponentialLR and
#: ReduceLROnPlateau are stepped once per epoch (``EPOCH_SCHEDULERS``), the others per update
_TORCH_IN_NEMO = ("StepLR", "ExponentialLR", "CyclicLR", "ReduceLROnPlateau")
#: keys of ``optim.sched`` that are not a torch scheduler's keyword arguments
_NOT_KWARGS = tuple(k for k in _COMMON if k not in _POLICY_ARGS)
#: NeMo's policy on SquareRootConstantPolicy: absolute LRs, drawn by :func:`_read_t5`
_T5 = "T5InverseSquareRootAnnealing"
#: the keys of ``optim.sched`` T5InverseSquareRootAnnealing runs with: SquareRootConstantPolicy
#: takes constant_steps|constant_ratio, max_steps, min_lr and last_epoch (no warm-up keys)
_T5_KEYS = (*(k for k in _COMMON if k not in ("warmup_steps", "warmup_ratio")), "constant_steps", "constant_ratio")


def _sched_name(sched: Mapping[str, Any], spath: str) -> str:
    """``optim.sched.name``: one NeMo registers (lrkit draws them all). A name NeMo does not register
    is refused as NeMo's ``get_scheduler`` refuses it."""
    where = F.join(spath, "name")
    name = sched.get("name")
    try:
        return F.choice(name, where, (*NEMO_POLICIES, _T5, *_TORCH_IN_NEMO))
    except ConfigError as err:
        if not isinstance(name, str) or not name:
            raise
        # a name registered outside NeMo (an application's own register_scheduler) fails the same way
        raise ConfigError(
            f"{err.message} NeMo's get_scheduler raises too ('Cannot resolve scheduler') unless the training "
            "code registers that name itself (register_scheduler), which lrkit does not run.",
            field=where,
            value=name,
            fix=err.fix,
        ) from None


def _t5_args_auto(sched: Mapping[str, Any], spath: str) -> None:
    """``sched.args.name: auto`` names the policy's own parameter class, ``<name>Params``; NeMo
    registers none for T5InverseSquareRootAnnealing, so ``get_scheduler_config`` raises."""
    args = sched.get("args")
    if sched.get("name") == _T5 and isinstance(args, Mapping) and args.get("name") == "auto":
        raise ConfigError(
            f"sched.args.name: auto looks up {_T5}Params, which NeMo does not register (get_scheduler_config "
            "raises 'Cannot resolve scheduler parameters').",
            field=F.join(spath, "args.name"),
            value="auto",
            fix="use args.name: SquareRootConstantSchedulerParams (its class), or drop args and write "
            "constant_steps beside name.",
        )


def _t5_constant_steps(sched: Mapping[str, Any], spath: str) -> float:
    """``constant_steps`` as SquareRootConstantPolicy needs it: its constant LR is
    ``1 / constant_steps ** 0.5`` of the argument itself, so without it (or with only
    ``constant_ratio``) NeMo raises TypeError, and 0 divides by zero."""
    where = F.join(spath, "constant_steps")
    if sched.get("constant_steps") is not None and sched.get("constant_ratio") is not None:
        raise ConfigError(
            "both constant_steps and constant_ratio are set (NeMo asserts one).",
            field=F.join(spath, "constant_ratio"),
            value=sched["constant_ratio"],
            fix="keep constant_steps only.",
        )
    if sched.get("constant_steps") is None:
        ratio = sched.get("constant_ratio")
        raise ConfigError(
            f"{_T5} needs constant_steps: NeMo computes its constant LR as 1 / constant_steps ** 0.5 from that "
            "argument itself, so without it NeMo raises TypeError"
            + (" (constant_ratio does not stand in for it)." if ratio is not None else "."),
            field=where,
            value=None,
            fix="set constant_steps: N (the LR is 1 / sqrt(N) for the first N + 1 updates; T5 used 10000).",
        )
    number = F.number(sched["constant_steps"], where)
    if not number > 0:
        raise ConfigError(
            f"constant_steps={number:g}: NeMo's constant LR 1 / constant_steps ** 0.5 "
            + ("divides by zero." if number == 0 else "is not a real number."),
            field=where,
            value=sched["constant_steps"],
            fix="set constant_steps to a positive number of updates (T5 used 10000).",
        )
    return int(number) if number.is_integer() else number


def _steps_text(value: float) -> str:
    """A step count as a user writes it (``1000000``, not ``1e+06``)."""
    return str(round(value)) if value >= 1 and math.isclose(value, round(value), rel_tol=1e-9) else f"{value:.6g}"


def _read_t5(
    data: Mapping[str, Any],
    sched: Mapping[str, Any],
    spath: str,
    lr: float,
    optimizer: dict[str, Any],
    trainer_max: int | None,
    total_steps: int | None,
    source: str,
) -> ResolvedConfig:
    """``T5InverseSquareRootAnnealing``: ``1 / sqrt(constant_steps)`` up to ``constant_steps``,
    ``1 / sqrt(step)`` up to ``max_steps``, ``min_lr`` after (:class:`NemoT5InverseSqrt`); absolute
    LRs, so ``optim.lr`` is not used (warning ``nemo-lr-unused``). The peak reported is the
    curve's largest LR."""
    warm = [k for k in ("warmup_steps", "warmup_ratio") if k in sched]
    if warm:
        raise ConfigError(
            f"{_T5} takes no {warm[0]}: NeMo passes it to SquareRootConstantPolicy, which has no such "
            "argument (TypeError), and its LR holds 1 / sqrt(constant_steps) instead of warming up.",
            field=F.join(spath, warm[0]),
            value=sched[warm[0]],
            fix="drop it; set constant_steps: N for the first N + 1 updates at 1 / sqrt(N).",
        )
    F.check_keys(sched, _T5_KEYS, spath, what=_T5)
    findings: list[Finding] = []
    constant = _t5_constant_steps(sched, spath)
    max_steps = _policy_max_steps(sched, spath, trainer_max, findings)
    min_lr = F.number(sched.get("min_lr", 0.0), F.join(spath, "min_lr"), low=0.0)
    top = max(1.0 / math.sqrt(constant), min_lr)
    with F.at_path(spath):
        schedule = NemoT5InverseSqrt(max_steps=max_steps, constant_steps=constant, min_lr=min_lr, peak_lr=top)
    findings.append(
        Finding(
            rule="nemo-lr-unused",
            severity="warning",
            message=f"{_T5} does not use optim.lr={lr:g}: the LR is 1/sqrt(constant_steps) = "
            f"{1.0 / math.sqrt(constant):.4g} for the first {math.floor(constant) + 1} updates, then 1/sqrt(step), "
            f"and min_lr={min_lr:g} after max_steps={max_steps}.",
            fix=f"to start at {lr:g}, set constant_steps: {_steps_text(1.0 / lr**2)} (1 / lr^2); optim.lr can "
            "stay as it is.",
            evidence={"optim.lr": lr, "start_lr": 1.0 / math.sqrt(constant), "constant_steps": constant},
            source=F.join(spath, "name"),
        )
    )
    run = total_steps if total_steps is not None else max_steps
    if run > max(max_steps, math.floor(constant)) + 1:
        findings.append(_horizon(run, max_steps, spath, "the policy", "set max_steps to the run length."))
    context: dict[str, Any] = {
        "policy": _T5,
        "max_steps": max_steps,
        "declared_horizon": max_steps,
        "constant_steps": constant,
        "min_lr": min_lr,
    }
    return ResolvedConfig(schedule, top, run, "nemo", source, tuple(findings), context, optimizer, dict(data), None)


def _per_epoch_exponential(
    data: Mapping[str, Any], kwargs: Mapping[str, Any], spath: str, run: int | None, lr: float
) -> tuple[Schedule, dict[str, Any], Finding]:
    """ExponentialLR as NeMo steps it, once per epoch: a StepLR of ``run / trainer.max_epochs`` updates."""
    from lrkit.config.torch_schedulers import translate

    # NeMo passes these keys to torch's ExponentialLR, which takes gamma (and last_epoch)
    F.check_keys(kwargs, ("gamma", "last_epoch"), spath, what="ExponentialLR")
    gamma = F.number(kwargs.get("gamma"), F.join(spath, "gamma"), low=0.0, low_open=True)
    epochs = F.dig(data, "trainer.max_epochs")
    if run is None or epochs in (None, -1):
        raise ConfigError(
            "NeMo steps ExponentialLR once per epoch: the curve per update needs the updates per epoch, which is "
            "the run length divided by trainer.max_epochs.",
            field="trainer.max_epochs" if epochs in (None, -1) else "trainer.max_steps",
            fix="give trainer.max_epochs and the run length in updates (CLI: --total-steps N).",
        )
    epochs = F.steps(epochs, "trainer.max_epochs", minimum=1)
    per_epoch = run // epochs
    if per_epoch * epochs != run or per_epoch < 1:
        raise ConfigError(
            f"the run length {run} is not a whole number of epochs ({epochs}): the updates per epoch are unknown.",
            field="trainer.max_epochs",
            value=epochs,
            fix="pass --total-steps as trainer.max_epochs times the updates per epoch.",
        )
    schedule, info = translate("StepLR", {"step_size": per_epoch, "gamma": gamma}, spath, peak=lr)
    finding = Finding(
        rule="nemo-epoch-scheduler",
        severity="info",
        message=f"NeMo steps ExponentialLR once per epoch: the LR is multiplied by {gamma:g} every {per_epoch} "
        f"updates ({run} updates / {epochs} epochs).",
        fix="no action needed if that is intended.",
        evidence={"updates_per_epoch": per_epoch},
        source=F.join(spath, "name"),
    )
    return schedule, info, finding


def _read_torch_in_nemo(
    data: Mapping[str, Any],
    sched: Mapping[str, Any],
    spath: str,
    name: str,
    lr: float,
    optimizer: dict[str, Any],
    trainer_max: int | None,
    total_steps: int | None,
    source: str,
) -> ResolvedConfig:
    """A torch scheduler named in ``optim.sched``: built as ``cls(optimizer, **args)`` (max_steps
    dropped: these classes do not take it), stepped per update, or per epoch for ExponentialLR."""
    from lrkit.config.torch_schedulers import translate

    if name == "ReduceLROnPlateau":
        raise ConfigError(
            "ReduceLROnPlateau follows the validation metric, so its curve cannot be drawn before the run.",
            field=F.join(spath, "name"),
            value=name,
            fix="preview the starting LR with a constant schedule, or use a closed-form scheduler.",
        )
    kwargs = {k: v for k, v in sched.items() if k not in _NOT_KWARGS}
    findings: list[Finding] = []
    run = total_steps if total_steps is not None else trainer_max
    if name == "ExponentialLR":
        schedule, info, finding = _per_epoch_exponential(data, kwargs, spath, run, lr)
        findings.append(finding)
    else:
        schedule, info = translate(name, kwargs, spath, peak=lr)
    if run is None:
        hz = schedule.horizon
        if hz is None:
            raise ConfigError(
                "the run length is unknown (trainer.max_steps is not set).",
                field="trainer.max_steps",
                fix="pass the run length in optimizer updates (CLI: --total-steps N).",
            )
    context: dict[str, Any] = {"policy": name, "pieces": [{**info, "start": 0}]}
    return ResolvedConfig(schedule, lr, run, "nemo", source, tuple(findings), context, optimizer, dict(data), None)


# -- NeMo 2 (nemo.lightning) ------------------------------------------------------------------

#: nemo/lightning/pytorch/optim/lr_scheduler.py: module -> (NeMo 1 policy it builds, its keyword
#: defaults). These modules take their own max_steps (nothing copies the trainer's in) and pass
#: only the arguments listed to the policy.
_NEMO2: dict[str, tuple[str, dict[str, Any]]] = {
    "WarmupPolicyScheduler": (
        "WarmupPolicy",
        {"warmup_steps": 750, "warmup_ratio": None, "max_steps": 10, "min_lr": 0.0},
    ),
    "WarmupHoldPolicyScheduler": (
        "WarmupHoldPolicy",
        {
            "warmup_steps": 750,
            "warmup_ratio": None,
            "hold_steps": None,
            "hold_ratio": None,
            "max_steps": 10,
            "min_lr": 0.0,
        },
    ),
    "SquareAnnealingScheduler": ("SquareAnnealing", {"max_steps": 10, "min_lr": 1e-5}),
    "SquareRootAnnealingScheduler": ("SquareRootAnnealing", {"max_steps": 10, "min_lr": 0.0}),
    "NoamAnnealingScheduler": (
        "NoamAnnealing",
        {"d_model": None, "warmup_steps": 750, "warmup_ratio": None, "max_steps": 10, "min_lr": 0.0},
    ),
    "NoamHoldAnnealingScheduler": ("NoamHoldAnnealing", {"max_steps": 10, "decay_rate": 0.5, "min_lr": 0.0}),
    "WarmupAnnealingScheduler": (
        "WarmupAnnealing",
        {"warmup_steps": 750, "warmup_ratio": None, "max_steps": 10, "min_lr": 0.0},
    ),
    "InverseSquareRootAnnealingScheduler": ("InverseSquareRootAnnealing", {"max_steps": 10, "min_lr": 0.0}),
    "PolynomialDecayAnnealingScheduler": (
        "PolynomialDecayAnnealing",
        {"max_steps": 10, "min_lr": 0.0, "power": 1.0, "cycle": False},
    ),
    "PolynomialHoldDecayAnnealingScheduler": (
        "PolynomialHoldDecayAnnealing",
        {"max_steps": 10, "min_lr": 0.0, "power": 1.0, "cycle": False},
    ),
    "CosineAnnealingScheduler": (
        "CosineAnnealing",
        {"max_steps": 10, "warmup_steps": 750, "constant_steps": 80000, "min_lr": 6e-5},
    ),
}
_NEMO2_COMMON = ("_target_", "interval", "frequency", "monitor")


def _policy_target(data: Any) -> tuple[Mapping[str, Any], Mapping[str, Any], str] | None:
    """``model: {optimizer: {_target_: torch.optim.X, lr}, lr_scheduler: {_target_:
    nemo.core.optim.lr_scheduler.<Policy>, ...}}`` (speechlm2 models instantiate the policy with
    the optimizer): (optimizer, scheduler, path of the model section)."""
    for root, path in ((data, ""), (data.get("model") if isinstance(data, Mapping) else None, "model")):
        if not isinstance(root, Mapping):
            continue
        opt, sched = root.get("optimizer"), root.get("lr_scheduler")
        if (
            isinstance(opt, Mapping)
            and isinstance(sched, Mapping)
            and str(sched.get("_target_", "")).startswith("nemo.core.optim.lr_scheduler.")
        ):
            return opt, sched, path
    return None


def looks_like_nemo2(data: Any) -> bool:
    """``optim: {_target_: nemo.lightning...., config: {lr}, lr_scheduler: {_target_: ...}}``, or
    a policy of ``nemo.core.optim.lr_scheduler`` instantiated directly (speechlm2)."""
    if not isinstance(data, Mapping):
        return False
    if _policy_target(data) is not None:
        return True
    for root in (data, data.get("model")):
        optim = root.get("optim") if isinstance(root, Mapping) else None
        if isinstance(optim, Mapping):
            target = str(optim.get("_target_", ""))
            sched = optim.get("lr_scheduler")
            if target.startswith("nemo.lightning") or (isinstance(sched, Mapping) and "_target_" in sched):
                return True
    return False


def _nemo2_trainer_max(data: Mapping[str, Any]) -> int | None:
    """``trainer.max_steps`` (-1 or absent: None); NeMo 2 does not copy it into the scheduler."""
    trainer = data.get("trainer")
    trainer_max = trainer.get("max_steps") if isinstance(trainer, Mapping) else None
    return F.steps(trainer_max, "trainer.max_steps", minimum=1) if trainer_max not in (None, -1) else None


def _resourced(findings: Iterable[Finding], spath: str) -> tuple[Finding, ...]:
    """Findings of the NeMo 1.x reading, pointed at where the scheduler really is (``spath``)."""
    return tuple(
        Finding(
            f.rule,
            f.severity,
            f.message,
            f.fix,
            f.evidence,
            f.source.replace("optim.sched", spath) if isinstance(f.source, str) else f.source,
        )
        for f in findings
    )


def _nemo2_optimizer(optim: Mapping[str, Any], opath: str) -> tuple[float, dict[str, Any]]:
    """The peak ``optim.config.lr`` and the optimizer (Megatron's "adam" is AdamW)."""
    cpath = F.join(opath, "config")
    config = F.mapping(optim.get("config"), cpath)
    if config.get("lr") is None:
        raise ConfigError(
            "optim.config has no lr (the peak the scheduler multiplies).",
            field=F.join(cpath, "lr"),
            fix="add lr: 1.0e-4.",
        )
    lr = F.number(config["lr"], F.join(cpath, "lr"), low=0.0, low_open=True)
    optimizer = {
        "type": "adamw" if str(config.get("optimizer", "adam")) == "adam" else str(config.get("optimizer")),
        "lr": lr,
    }
    for key in ("weight_decay", "adam_beta1", "adam_beta2", "adam_eps"):
        if key in config:
            optimizer[key] = config[key]
    return lr, optimizer


def _nemo2_module(sched: Mapping[str, Any], spath: str) -> str:
    """The class of ``lr_scheduler._target_``, one of ``nemo.lightning.pytorch.optim``'s."""
    target = F.string(F.need(sched.get("_target_"), F.join(spath, "_target_")), F.join(spath, "_target_"))
    cls = target.rsplit(".", 1)[-1]
    if cls == "T5InverseSquareRootAnnealingScheduler" and target.startswith("nemo."):
        # its scheduler() builds T5InverseSquareRootAnnealing(optimizer, max_steps, min_lr) with no
        # constant_steps, whose constant LR 1 / constant_steps ** 0.5 is then None ** 0.5
        raise ConfigError(
            f"NeMo 2's {cls} builds {_T5} without constant_steps, which NeMo cannot construct (TypeError: "
            "1 / None ** 0.5), so this scheduler never runs.",
            field=F.join(spath, "_target_"),
            value=target,
            fix=f"instantiate nemo.core.optim.lr_scheduler.{_T5} with constant_steps, max_steps and min_lr "
            "(model.lr_scheduler beside model.optimizer), or use another scheduler module.",
        )
    if cls not in _NEMO2 or not target.startswith("nemo."):
        raise ConfigError(
            f"lrkit does not know the scheduler module {target!r}.{did_you_mean(cls, _NEMO2)}",
            field=F.join(spath, "_target_"),
            value=target,
            fix="use one of nemo.lightning.pytorch.optim." + ", ".join(_NEMO2) + ".",
        )
    return cls


def _nemo2_args(sched: Mapping[str, Any], spath: str, cls: str) -> dict[str, Any]:
    """The module's arguments: its defaults, overridden by the keys written."""
    defaults = _NEMO2[cls][1]
    F.check_keys(sched, (*_NEMO2_COMMON, *defaults), spath, what=cls)
    if sched.get("interval", "step") != "step" or sched.get("frequency", 1) != 1:
        raise ConfigError(
            "lrkit draws schedulers stepped after every update (interval: step, frequency: 1).",
            field=F.join(spath, "interval"),
            value=sched.get("interval"),
            fix="use interval: step and frequency: 1.",
        )
    args = {**defaults, **{k: v for k, v in sched.items() if k in defaults}}
    for key in args:
        F.need(args[key], F.join(spath, key))
    if args.get("warmup_steps") is not None and args.get("warmup_ratio") is not None:
        raise ConfigError(
            f"{cls} passes warmup_steps (default 750) and warmup_ratio together; NeMo asserts one of them.",
            field=F.join(spath, "warmup_ratio"),
            value=args["warmup_ratio"],
            fix="set warmup_steps: null beside warmup_ratio, or drop warmup_ratio.",
        )
    return args


def _nemo2_horizon(
    sched: Mapping[str, Any], spath: str, cls: str, v1: Mapping[str, Any], lr: float, run: int | None
) -> list[Finding]:
    """A default ``max_steps`` (NeMo 2 does not copy the trainer's), and a run longer than it."""
    out: list[Finding] = []
    m = int(v1["max_steps"])
    if "max_steps" not in sched:
        out.append(
            Finding(
                rule="nemo-default-max-steps",
                severity="warning",
                message=f"{cls} has no max_steps: its default {m} is used (NeMo 2 does not copy trainer.max_steps).",
                fix="set max_steps: ${trainer.max_steps}.",
                source=F.join(spath, "max_steps"),
            )
        )
    if run is not None and run > m + 1 and v1["name"] != "NoamAnnealing" and v1.get("min_lr", 0.0) < lr:
        out.append(_horizon(run, m, spath, "the scheduler", "set max_steps to the run length (${trainer.max_steps})."))
    return out


def read_nemo2(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig:
    """NeMo 2 YAML: ``optim.config.lr`` is the peak, ``optim.lr_scheduler._target_`` names a
    module of ``nemo.lightning.pytorch.optim`` built with its own defaults, stepped per update.
    The module's arguments are those of the NeMo 1.x policy it wraps, read by :func:`read_nemo`."""
    direct = _policy_target(data)
    if direct is not None:
        return _read_policy_target(data, *direct, total_steps=total_steps, source=source)
    optim, opath = _find_optim(data)
    lr, optimizer = _nemo2_optimizer(optim, opath)
    trainer_max = _nemo2_trainer_max(data)
    run = total_steps if total_steps is not None else trainer_max
    spath = F.join(opath, "lr_scheduler")
    sched = optim.get("lr_scheduler")
    if sched is None:
        from lrkit.schedules import Constant

        return ResolvedConfig(Constant(1.0), lr, run, "nemo", source, (), {}, optimizer, dict(data), None)
    sched = F.mapping(sched, spath)
    cls = _nemo2_module(sched, spath)
    policy = _NEMO2[cls][0]
    args = _nemo2_args(sched, spath, cls)
    v1 = {"name": policy, **{k: v for k, v in args.items() if v is not None}}
    if v1.get("d_model", 1) is None:
        v1.pop("d_model")
    res = read_nemo({"optim": {"lr": lr, "sched": v1}}, total_steps=None, source=source)
    findings = [f for f in res.findings if f.rule != "decay-horizon-too-short"]
    findings += _nemo2_horizon(sched, spath, cls, v1, lr, run)
    return ResolvedConfig(
        res.schedule,
        lr,
        run if run is not None else res.total_steps,
        "nemo",
        source,
        _resourced(findings, spath),
        {**res.context, "scheduler_module": cls},
        optimizer,
        dict(data),
        None,
    )


def _read_policy_target(
    data: Mapping[str, Any],
    opt: Mapping[str, Any],
    sched: Mapping[str, Any],
    root: str,
    *,
    total_steps: int | None,
    source: str,
) -> ResolvedConfig:
    """``lr_scheduler: {_target_: nemo.core.optim.lr_scheduler.CosineAnnealing, ...}`` built as
    ``hydra.utils.instantiate(cfg.lr_scheduler, optimizer)``: the keys are the policy's keyword
    arguments as written (nothing copies trainer.max_steps in), the peak is ``optimizer.lr``."""
    opath, spath = F.join(root, "optimizer"), F.join(root, "lr_scheduler")
    if opt.get("lr") is None:
        raise ConfigError("the optimizer has no lr.", field=F.join(opath, "lr"), fix="add lr: 1.0e-4.")
    lr = F.number(opt["lr"], F.join(opath, "lr"), low=0.0, low_open=True)
    policy = str(sched["_target_"]).rsplit(".", 1)[-1]
    F.choice(policy, F.join(spath, "_target_"), (*NEMO_POLICIES, _T5))
    kwargs = {k: v for k, v in sched.items() if k != "_target_"}
    if "max_steps" not in kwargs:
        raise ConfigError(
            f"{policy} needs max_steps (a required argument of the NeMo class).",
            field=F.join(spath, "max_steps"),
            fix="add max_steps: ${trainer.max_steps}.",
        )
    res = read_nemo({"optim": {"lr": lr, "sched": {"name": policy, **kwargs}}}, total_steps=None, source=source)
    run = total_steps if total_steps is not None else (_nemo2_trainer_max(data) or res.total_steps)
    findings = _resourced(res.findings, spath)
    optimizer = {"type": str(opt.get("_target_", "adamw")), "lr": lr}
    # res.peak_lr: optimizer.lr, or the largest LR of a policy that does not use it (T5)
    return ResolvedConfig(
        res.schedule, res.peak_lr, run, "nemo", source, findings, res.context, optimizer, dict(data), None
    )


# -- writing (to_config(..., 'nemo')) ----------------------------------------------------------


def write_nemo(sched: Schedule, peak: float, total: int | None) -> dict[str, Any]:
    """A NeMo 1.x ``model.optim`` with its ``sched`` (and ``trainer.max_steps``) for a curve read
    from NeMo; anything else cannot be said exactly (NeMo's policies warm up as (k + 1) / (W + 1))."""
    if isinstance(sched, NemoT5InverseSqrt):
        return _write_t5(sched, peak)
    if not isinstance(sched, NemoLR):
        raise cannot(describe(sched), "nemo", "NeMo's policies warm up as (k + 1) / (W + 1); export to lrkit instead.")
    s: dict[str, Any] = {
        "name": sched.policy,
        "max_steps": sched.max_steps,
        "warmup_steps": sched.warmup_steps,
        "min_lr": sched.min_lr * peak,
    }
    if sched.hold_steps:
        s["hold_steps"] = sched.hold_steps - sched.warmup_steps
    if sched.constant_steps:
        s["constant_steps"] = sched.constant_steps
    if sched.policy.startswith("Polynomial"):
        s.update(power=sched.power, cycle=sched.cycle)
    if sched.policy == "NoamAnnealing":
        s["d_model"] = sched.d_model
    if sched.policy == "NoamHoldAnnealing":
        s["decay_rate"] = sched.decay_rate
    out: dict[str, Any] = {"model": {"optim": {"name": "adamw", "lr": peak, "sched": s}}}
    if total is not None:
        out["trainer"] = {"max_steps": total}
    return out


def _write_t5(sched: NemoT5InverseSqrt, peak: float) -> dict[str, Any]:
    """T5InverseSquareRootAnnealing's absolute LRs are NeMo's only when drawn in the unit read
    (``peak`` equal to the curve's ``peak_lr``); ``optim.lr`` is written as that peak (unused by NeMo)."""
    if not math.isclose(peak, sched.peak_lr, rel_tol=1e-12):
        raise cannot(
            f"NeMo's {_T5} scaled to a peak of {peak:g}",
            "nemo",
            f"its LRs are 1 / sqrt(step) whatever optim.lr says: keep the peak {sched.peak_lr:g} it was read with.",
        )
    c = sched.constant_steps
    s = {"name": _T5, "max_steps": sched.max_steps, "constant_steps": int(c) if float(c).is_integer() else c}
    s["min_lr"] = sched.min_lr
    return {"model": {"optim": {"name": "adamw", "lr": peak, "sched": s}}, "trainer": {"max_steps": sched.max_steps}}
