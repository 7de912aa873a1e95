"""What the rules look at (:class:`Run`: the schedule, the run, its curve, the findings so far)
and the number formats their messages and evidence share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lrkit.findings import Finding
from lrkit.linter.catalog import RULES
from lrkit.linter.curve import Curve
from lrkit.schedules import Schedule

__all__ = ["Run", "fmt_lr", "fmt_pct", "plain_number", "piece_value", "int_or_none", "short_name"]


@dataclass
class Run:
    """Everything the rules look at."""

    schedule: Schedule
    scale: float
    total: int | None
    context: Mapping[str, Any]
    curve: Curve | None = None
    peak: float = 0.0
    warmup: int = 0
    horizon: float | None = None
    findings: list[Finding] = field(default_factory=list)

    def add(self, rule: str, message: str, fix: str, severity: str | None = None, **evidence: Any) -> None:
        sev = severity or RULES[rule][0]
        ev = {
            k: ([plain_number(x) for x in v] if isinstance(v, list | tuple) else plain_number(v))
            for k, v in evidence.items()
        }
        finding = Finding(rule=rule, severity=sev, message=message, fix=fix, evidence=ev)  # type: ignore[arg-type]
        self.findings.append(finding)

    def at(self, step: int) -> float:
        assert self.curve is not None
        return self.curve.value_at(self.schedule, self.scale, step)


def fmt_lr(x: float) -> str:
    return f"{x:.3g}"


def fmt_pct(x: float) -> str:
    if x == 0:
        return "0%"
    if abs(x) < 0.01:
        return f"{100 * x:.2g}%"
    return f"{100 * x:.0f}%"


def plain_number(x: Any) -> Any:
    """Plain-data number for evidence (JSON-friendly)."""
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return float(f"{x:.6g}")
    return x


def piece_value(piece: Mapping[str, Any], key: str) -> Any:
    if key in piece:
        return piece[key]
    kwargs = piece.get("kwargs")
    if isinstance(kwargs, Mapping):
        return kwargs.get(key)
    return None


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value)


def short_name(name: Any) -> str:
    return str(name).rsplit(".", 1)[-1] if name else "piece"
