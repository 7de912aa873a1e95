"""Express a schedule in a framework's config format: ``to_config(schedule, format)``.

Each format's writer lives beside its reader; this module only splits the input into a factor
schedule, a peak LR and a run length, and picks the writer:

- ``lrkit``: always (:func:`lrkit.config.native.write_native`: a native scheduler when one gives
  the curve, else the algebra dict under ``training.scheduler.schedule``).
- ``nemo_rl``: a list of torch schedulers and a ``{milestones: [...]}`` entry for
  ``SequentialLR`` (:func:`lrkit.config.nemo_rl.write_nemo_rl`, pieces from
  :func:`lrkit.config.torch_schedulers.to_torch`). lrkit's warm-up ``(k + 1) / W`` is
  ``LinearLR(start_factor=1/W, total_iters=W - 1)``; a cosine that must hold its floor within the
  run gets a ``ConstantLR`` after it (torch's cosine would climb back). With a run length, pieces
  that would only start after the last update are left out: the curve matches over the run's updates.
- ``megatron`` / ``nemo_rl_megatron``: Megatron's styles (:func:`lrkit.config.megatron.write_megatron`,
  :func:`lrkit.config.nemo_rl.write_nemo_rl_megatron`). An lrkit warm-up followed by a cosine or
  linear decay is Megatron's ``WSD`` with ``lr_warmup_iters = W - 1``, ``lr_warmup_init = peak / W``
  and a cool-down over the whole decay, which reproduces it exactly; Megatron's own curves (read
  from a Megatron config) export as they are.
- ``hf`` / ``nemo``: the curves read from those frameworks, and a constant
  (:func:`lrkit.config.hf.write_hf`, :func:`lrkit.config.nemo.write_nemo`).

Whatever cannot be expressed exactly raises a :class:`ConfigError` naming the piece; reading
the result back (:func:`lrkit.config.load_config`) gives the same curve.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lrkit.config import fields as F
from lrkit.config.detect import check_format
from lrkit.config.resolved import ResolvedConfig
from lrkit.config.writing import cannot
from lrkit.errors import ConfigError
from lrkit.schedules import Scale, Schedule

__all__ = ["to_config"]

#: a format's writer: (factor schedule, peak LR, run length or None) -> its config dict
Writer = Callable[[Schedule, float, int | None], dict[str, Any]]


def _writers() -> dict[str, Writer]:
    """Every format but ``lrkit`` (whose writer also takes the resolved config) that can be written;
    axolotl and LLaMA-Factory are read only (their keys are Hugging Face's: export to ``hf``)."""
    # the readers import the schedule algebra and their formats' helpers: loaded when exporting
    from lrkit.config.deepspeed import write_deepspeed
    from lrkit.config.hf import write_hf
    from lrkit.config.megatron import write_megatron
    from lrkit.config.nemo import write_nemo
    from lrkit.config.nemo_rl import write_nemo_rl, write_nemo_rl_megatron

    return {
        "nemo_rl": write_nemo_rl,
        "nemo_rl_megatron": write_nemo_rl_megatron,
        "megatron": write_megatron,
        "hf": write_hf,
        "nemo": write_nemo,
        "deepspeed": write_deepspeed,
    }


def _split(
    target: Schedule | ResolvedConfig, peak_lr: float | None, total_steps: int | None
) -> tuple[Schedule, float, int | None, ResolvedConfig | None]:
    if peak_lr is not None:
        peak_lr = F.number(peak_lr, "peak_lr", low=0.0, low_open=True)
    if isinstance(target, ResolvedConfig):
        return (
            target.schedule,
            target.peak_lr if peak_lr is None else peak_lr,
            target.total_steps if total_steps is None else total_steps,
            target,
        )
    if not isinstance(target, Schedule):
        raise ConfigError(
            f"expected a schedule or a ResolvedConfig, got {type(target).__name__}.",
            field="schedule",
            value=target,
            fix="pass lrkit.load_config(...) or a schedule from lrkit.schedules.",
        )
    if peak_lr is None and isinstance(target, Scale):
        return target.schedule, target.factor, total_steps, None
    return target, 1.0 if peak_lr is None else peak_lr, total_steps, None


def to_config(
    schedule: Schedule | ResolvedConfig,
    format: str,
    *,
    peak_lr: float | None = None,
    total_steps: int | None = None,
) -> dict[str, Any]:
    """The config dict of ``format`` whose curve is ``peak_lr * schedule``.

    Args:
        schedule: a factor schedule (with ``peak_lr``), an absolute one (``Scale(s, peak)`` is
            split into both), or a :class:`ResolvedConfig`.
        format: one of :data:`lrkit.config.FORMATS`.
        peak_lr: the optimizer's LR; default the config's, or 1.0 (values are then LRs).
        total_steps: the run length to write where the format has one.
    """
    fmt = check_format(format)
    sched, peak, total, resolved = _split(schedule, peak_lr, total_steps)
    if total is not None:
        total = F.steps(total, "total_steps", minimum=1)
    if fmt == "lrkit":
        from lrkit.config.native import write_native

        return write_native(sched, peak, total, resolved)
    writer = _writers().get(fmt)
    if writer is None:
        raise cannot(
            "a schedule",
            fmt,
            "export to hf (LLaMA-Factory v0 reads those keys as they are; axolotl names the type lr_scheduler) "
            "or to lrkit's own format.",
        )
    return writer(sched, peak, total)
