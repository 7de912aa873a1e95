"""How the diagnosis writes numbers: LRs to two significant figures, steps with thousands
separators, and the rounded values its advice suggests.
"""

from __future__ import annotations

import math

__all__ = ["fmt_lr", "fmt_step", "nice", "nice_steps"]


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
