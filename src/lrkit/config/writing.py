"""What every format's writer shares: words for a schedule, tidy numbers, the refusal, the check.

Each format's writer lives beside its reader (``write_native`` in :mod:`lrkit.config.native`,
``write_nemo_rl`` in :mod:`lrkit.config.nemo_rl`, ...); :func:`lrkit.config.to_config` picks one.
A writer returns the config dict whose curve, read back by the same format's reader, is
``peak * schedule`` on every update of the run, or raises :func:`cannot`'s error.
"""

from __future__ import annotations

from lrkit.errors import ConfigError
from lrkit.schedules import Constant, Cosine, Linear, Scale, Schedule, Sequence, Warmup
from lrkit.schedules.compat import HFLambda, MegatronLR, NemoLR, PeriodicCosine

__all__ = ["tidy", "describe", "cannot", "agree"]


def tidy(value: float) -> float:
    """``value`` rounded to 12 significant digits when that is within float noise of it
    (``0.09999999999999999`` -> ``0.1``, ``500.0`` stays a float here; callers write ints)."""
    if not isinstance(value, float) or value == 0 or value != value or value in (float("inf"), float("-inf")):
        return value
    short = float(f"{value:.12g}")
    return short if abs(short - value) <= 1e-12 * abs(value) else value


_WORDS = {
    "step": "a step decay",
    "multistep": "a multi-step decay",
    "exponential": "an exponential decay",
    "polynomial": "a polynomial decay",
    "inverse_sqrt": "an inverse-square-root decay",
    "wsd": "a warmup-stable-decay curve",
    "one_cycle": "a one-cycle curve",
    "cyclic": "a cyclical LR",
    "cosine_restarts": "a cosine with warm restarts",
    "piecewise_constant": "a piecewise-constant LR",
    "floor": "a curve held above a floor (min_value)",
    "shift": "a curve shifted in steps",
}


def describe(s: Schedule) -> str:
    """A schedule in words a user of any framework reads (no lrkit class names)."""
    if isinstance(s, Scale):
        return describe(s.schedule)
    if isinstance(s, Warmup):
        return f"a warm-up of {s.warmup_steps} steps, then {describe(s.schedule)}"
    if isinstance(s, Sequence):
        parts = ", ".join(describe(p) for p in s.pieces)
        at = ", ".join(str(b) for b in s.boundaries)
        return f"{len(s.pieces)} pieces ({parts}) switching at step{'s' if len(s.boundaries) > 1 else ''} {at}"
    if isinstance(s, Constant):
        return "a constant LR" if s.value == 1.0 else f"a constant {tidy(s.value):g} of the peak"
    if isinstance(s, Linear):
        return f"a linear ramp from {tidy(s.start):g} to {tidy(s.end):g} of the peak over {s.steps} steps"
    if isinstance(s, PeriodicCosine):
        return f"torch's CosineAnnealingLR (T_max={tidy(float(s.steps)):g}, climbing back after it)"
    if isinstance(s, Cosine):
        return f"a cosine decay over {s.steps} steps to {tidy(s.end):g} of the peak"
    if isinstance(s, MegatronLR):
        return f"Megatron's {s.style} schedule"
    if isinstance(s, HFLambda):
        return f"Hugging Face's {s.name} schedule"
    if isinstance(s, NemoLR):
        return f"NeMo's {s.policy}"
    return _WORDS.get(s.type_name, f"a {s.type_name.replace('_', ' ')} curve")


def cannot(what: str, fmt: str, fix: str = "") -> ConfigError:
    """The error for ``what`` (words from :func:`describe`) that ``fmt`` cannot express exactly."""
    return ConfigError(
        f"{what} cannot be expressed exactly in the {fmt} format.",
        field="format",
        value=fmt,
        fix=fix or "export to lrkit's own format (always exact), or change the schedule.",
    )


def agree(want: Schedule, peak: float, got: Schedule, horizon: int) -> bool:
    """Whether ``got`` equals ``peak * want`` (to 1e-9 of the peak) on the updates ``[0, horizon)``;
    past a few million updates on a sample holding both curves' phase boundaries."""
    import numpy as np

    from lrkit.linter.curve import sample_steps

    steps = np.union1d(sample_steps(want, horizon), sample_steps(got, horizon))
    expected = peak * np.asarray(want(steps), dtype=float)
    actual = np.asarray(got(steps), dtype=float)
    return bool(np.all(np.abs(expected - actual) <= 1e-9 * max(abs(peak), 1e-300)))
