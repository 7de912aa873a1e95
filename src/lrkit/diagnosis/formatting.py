"""How the diagnosis writes numbers: LRs to two significant figures, steps with thousands
separators, and the rounded values its advice suggests.
"""

from __future__ import annotations

import math

__all__ = ["STEP_UNITS", "at_step", "fmt_lr", "fmt_step", "nice", "nice_steps", "step_count", "step_range"]

#: what one step of a log counts: optimizer updates, or epochs (a log with one row per epoch)
STEP_UNITS = ("step", "epoch")


def fmt_lr(x: float | None) -> str:
    """``3.1e-4`` style (two significant figures)."""
    if x is None or not math.isfinite(x):
        return "?"
    if x == 0:
        return "0"
    mant, exp = f"{x:.1e}".split("e")
    return f"{mant}e{int(exp)}"


def fmt_step(s: float) -> str:
    return f"{int(s):,}"


def at_step(k: float, unit: str = "step") -> str:
    """A point of the run in the log's unit: ``step 1,200``, ``epoch 18``."""
    return f"{unit} {fmt_step(k)}"


def step_count(n: float, unit: str = "step") -> str:
    """A length in the log's unit: ``1,200 steps``, ``10 epochs``."""
    return f"{fmt_step(n)} {unit}s"


def step_range(a: float, b: float, unit: str = "step") -> str:
    """A stretch of the run in the log's unit: ``steps 17-24``, ``epochs 3-9``."""
    return f"{unit}s {fmt_step(a)}-{fmt_step(b)}"


def nice(x: float) -> float:
    """Two significant figures."""
    if x <= 0 or not math.isfinite(x):
        return x
    return float(f"{x:.1e}")


def nice_steps(x: float) -> int:
    if x <= 100:
        return math.ceil(x)
    mag = 10 ** (len(str(int(x))) - 2)
    return int(math.ceil(x / mag) * mag)
