"""NeMo models that build their own optimizers (``configure_optimizers``) instead of ModelPT's.

ModelPT reads ``model.optim`` with its ``sched`` (:func:`lrkit.config.nemo.read_nemo`). Some
NeMo models override ``configure_optimizers`` and read other keys, or the same keys another way
(``nemo/collections/tts/models/``):

- ``RadTTSModel``: ``torch.optim.Adam`` or NeMo's ``RAdam`` at ``optim.lr`` (another
  ``optim.name`` exits), and no scheduler: ``optim.sched`` is never read, so the LR is constant.
- ``VitsModel``: ``optim`` instantiated twice (generator, discriminator: the same curve);
  ``optim.sched`` is ``ExponentialLR`` with ``gamma = sched.lr_decay`` or ``CosineAnnealing(max_steps,
  min_lr)`` (no warm-up), stepped after every update; another name raises.
- ``SpectrogramEnhancerModel``: ``generator_opt`` and ``discriminator_opt``, no scheduler.
- ``SSLDisentangler``: ``optim_backbone`` and ``optim_downstream``; when both have a ``sched``, each
  gets ``WarmupPolicy(max_steps=None, min_lr, warmup_steps)``: NeMo's warm-up, then constant.

The model is the class named by ``model.target`` (or ``model._target_``), a string compared,
never imported. A file that names none is read as the one model whose code reads its keys
(``generator_opt``, ``optim_backbone``, ``sched.lr_decay``), with an info finding saying so.
Several optimizers with different curves: lrkit asks which (``model.lrkit_optimizer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lrkit.config import fields as F
from lrkit.config.resolved import ResolvedConfig
from lrkit.errors import ConfigError
from lrkit.findings import Finding
from lrkit.schedules import Constant, Schedule
from lrkit.schedules.compat import NemoLR

__all__ = ["OWN_OPTIMIZERS", "SELECT_KEY", "model_class", "own_optimizer_keys", "read_nemo_model"]

#: model class -> the keys of the model section its configure_optimizers builds optimizers from
OWN_OPTIMIZERS: dict[str, tuple[str, ...]] = {
    "RadTTSModel": ("optim",),
    "VitsModel": ("optim",),
    "SpectrogramEnhancerModel": ("generator_opt", "discriminator_opt"),
    "SSLDisentangler": ("optim_backbone", "optim_downstream"),
}
#: the models whose optimizer keys are their own (no other NeMo model reads them)
_SEVERAL = ("SpectrogramEnhancerModel", "SSLDisentangler")
#: ``--set model.lrkit_optimizer=<key>``: which optimizer's curve to read when they differ
SELECT_KEY = "lrkit_optimizer"


def _model(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    model = data.get("model")
    return model if isinstance(model, Mapping) else None


def model_class(data: Mapping[str, Any]) -> str | None:
    """The class named by ``model.target`` / ``model._target_`` (its last dotted part), or None."""
    model = _model(data)
    if model is None:
        return None
    for key in ("target", "_target_"):
        value = model.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().rsplit(".", 1)[-1]
    return None


def own_optimizer_keys(model: Mapping[str, Any]) -> bool:
    """The model section has the optimizer keys only a model with its own configure_optimizers reads."""
    return any(all(isinstance(model.get(k), Mapping) for k in OWN_OPTIMIZERS[cls]) for cls in _SEVERAL)


def _implied(data: Mapping[str, Any]) -> tuple[str, str] | None:
    """The one model whose code reads this file's keys, and which key shows it; None when none does."""
    model = _model(data)
    if model is None:
        return None
    for cls in _SEVERAL:
        keys = OWN_OPTIMIZERS[cls]
        if all(isinstance(model.get(k), Mapping) for k in keys):
            return cls, F.join("model", keys[0])
    sched = F.dig(model, "optim.sched")
    if isinstance(sched, Mapping) and "lr_decay" in sched:
        return "VitsModel", "model.optim.sched.lr_decay"
    return None


def _which(data: Mapping[str, Any]) -> tuple[str, Finding | None] | None:
    """The model whose configure_optimizers runs: named, or implied by its keys (with a finding)."""
    named = model_class(data)
    if named is not None:
        return (named, None) if named in OWN_OPTIMIZERS else None
    implied = _implied(data)
    if implied is None:
        return None
    cls, where = implied
    finding = Finding(
        rule="nemo-model-implied",
        severity="info",
        message=f"read as NeMo's {cls}.configure_optimizers: the file names no model class, and {where} is read "
        f"only by {cls} (ModelPT's own optimizer setup does not run this file).",
        fix=f"name the model to make it explicit: model.target: nemo.collections.tts.models.{cls}.",
        evidence={"model": cls, "key": where},
        source=where,
    )
    return cls, finding


def _lr(block: Mapping[str, Any], path: str) -> float:
    if block.get("lr") is None:
        raise ConfigError("the optimizer has no lr.", field=F.join(path, "lr"), fix="add lr: 1.0e-4.")
    return F.number(block["lr"], F.join(path, "lr"), low=0.0, low_open=True)


def _run(data: Mapping[str, Any], total_steps: int | None) -> int | None:
    if total_steps is not None:
        return total_steps
    value = F.dig(data, "trainer.max_steps")
    if value is None or value == -1:
        return None
    return F.steps(value, "trainer.max_steps", minimum=0) or None


def _radtts(block: Mapping[str, Any], path: str, run: int | None) -> tuple[Schedule, list[Finding]]:
    name = block.get("name")
    if name not in ("Adam", "RAdam"):
        raise ConfigError(
            f"RadTTSModel builds only Adam or RAdam; with optim.name {name!r} it logs 'Unrecognized optimizer' and "
            "exits.",
            field=F.join(path, "name"),
            value=name,
            fix="use name: RAdam (or Adam).",
        )
    out = []
    if block.get("sched") is not None:
        out.append(
            Finding(
                rule="nemo-sched-not-read",
                severity="info",
                message="RadTTSModel.configure_optimizers returns the optimizer alone: optim.sched is never read, so "
                "the LR stays at optim.lr for the whole run.",
                fix="remove optim.sched so the file says what runs.",
                source=F.join(path, "sched"),
            )
        )
    return Constant(1.0), out


def _vits(block: Mapping[str, Any], path: str, lr: float) -> tuple[Schedule, list[Finding]]:
    from lrkit.config.torch_schedulers import translate

    spath = F.join(path, "sched")
    if block.get("sched") is None:
        return Constant(1.0), []
    sched = F.mapping(block["sched"], spath)
    name = sched.get("name")
    if name == "ExponentialLR":
        where = F.join(spath, "lr_decay")
        # checked here, where the file has it: translate would name it sched.kwargs.gamma
        decay = F.number(F.need(sched.get("lr_decay"), where), where, low=0.0, low_open=True)
        schedule, _ = translate("ExponentialLR", {"gamma": decay}, spath, peak=lr)
        return schedule, []
    if name == "CosineAnnealing":
        max_steps = F.steps(
            F.need(sched.get("max_steps"), F.join(spath, "max_steps")), F.join(spath, "max_steps"), minimum=1
        )
        min_lr = F.number(F.need(sched.get("min_lr"), F.join(spath, "min_lr")), F.join(spath, "min_lr"), low=0.0)
        with F.at_path(spath):
            return NemoLR(policy="CosineAnnealing", max_steps=max_steps, min_lr=min_lr / lr), []
    raise ConfigError(
        f"VitsModel knows the schedulers ExponentialLR and CosineAnnealing; with {name!r} it raises "
        "('Unknown optimizer.').",
        field=F.join(spath, "name"),
        value=name,
        fix="use name: ExponentialLR with lr_decay, or CosineAnnealing with max_steps and min_lr.",
    )


def _ssl_warmup(block: Mapping[str, Any], path: str, lr: float, run: int | None) -> Schedule:
    """``WarmupPolicy(max_steps=None, ...)``: (k + 1) / (W + 1) up to W, then constant for good."""
    spath = F.join(path, "sched")
    sched = F.mapping(block["sched"], spath)
    warm = F.steps(F.need(sched.get("warmup_steps"), F.join(spath, "warmup_steps")), F.join(spath, "warmup_steps"))
    min_lr = F.number(F.need(sched.get("min_lr"), F.join(spath, "min_lr")), F.join(spath, "min_lr"), low=0.0)
    if run is None:
        raise ConfigError(
            "the run length is unknown (trainer.max_steps is not set).",
            field="trainer.max_steps",
            fix="pass the run length in optimizer updates (CLI: --total-steps N).",
        )
    # max_steps=None never ends the policy: a horizon at the run's end draws the same updates
    with F.at_path(spath):
        return NemoLR(policy="WarmupPolicy", max_steps=max(run, warm + 1), warmup_steps=warm, min_lr=min_lr / lr)


def _curves(
    cls: str, model: Mapping[str, Any], run: int | None
) -> list[tuple[str, float, Schedule, list[Finding], dict[str, Any]]]:
    """(path, peak, factor curve, findings, optimizer spec) of each optimizer the model builds."""
    out = []
    keys = OWN_OPTIMIZERS[cls]
    both_sched = all(isinstance(model.get(k), Mapping) and model[k].get("sched") is not None for k in keys)
    for key in keys:
        path = F.join("model", key)
        block = F.mapping(F.need(model.get(key), path), path)
        lr = _lr(block, path)
        findings: list[Finding] = []
        schedule: Schedule
        if cls == "RadTTSModel":
            schedule, findings = _radtts(block, path, run)
        elif cls == "VitsModel":
            schedule, findings = _vits(block, path, lr)
        elif cls == "SSLDisentangler" and both_sched:
            schedule = _ssl_warmup(block, path, lr, run)
        else:
            schedule = Constant(1.0)
        kind = str(block.get("_target_", block.get("name", "adam")))
        out.append((path, lr, schedule, findings, {"type": kind, "lr": lr}))
    return out


def read_nemo_model(data: Mapping[str, Any], *, total_steps: int | None, source: str) -> ResolvedConfig | None:
    """The curve of a model with its own configure_optimizers; None for ModelPT's (read_nemo's)."""
    which = _which(data)
    model = _model(data)
    if which is None or model is None:
        return None
    cls, implied = which
    run = _run(data, total_steps)
    curves = _curves(cls, model, run)
    if cls == "VitsModel":
        # the generator's and the discriminator's optimizers are the same block instantiated twice
        curves = curves[:1]
    chosen = curves[0]
    distinct = {(c[1], repr(c[2])) for c in curves}
    pick = model.get(SELECT_KEY)
    if pick is not None:
        names = {c[0].rsplit(".", 1)[-1]: c for c in curves}
        key = F.choice(str(pick).rsplit(".", 1)[-1], F.join("model", SELECT_KEY), list(names))
        chosen = names[key]
    elif len(distinct) > 1:
        listed = "; ".join(f"{c[0]} (lr {c[1]:g})" for c in curves)
        first = curves[0][0].rsplit(".", 1)[-1]
        raise ConfigError(
            f"{cls} trains {len(curves)} optimizers with different LR curves: {listed}. lrkit does not pick one.",
            field=F.join("model", SELECT_KEY),
            fix=f"name the optimizer to read: --set model.{SELECT_KEY}={first} (one of "
            f"{', '.join(c[0].rsplit('.', 1)[-1] for c in curves)}).",
        )
    path, lr, schedule, findings, optimizer = chosen
    if len(curves) > 1 and pick is None:
        findings = [
            *findings,
            Finding(
                rule="nemo-several-optimizers",
                severity="info",
                message=f"{cls} trains {len(curves)} optimizers ({', '.join(c[0] for c in curves)}), all on this "
                "curve.",
                fix="no action needed.",
                source=path,
            ),
        ]
    if implied is not None:
        findings = [implied, *findings]
    context: dict[str, Any] = {"model_class": cls, "optimizer_key": path}
    return ResolvedConfig(schedule, lr, run, "nemo", source, tuple(findings), context, optimizer, dict(data), None)
