"""The result of :func:`lrkit.diagnose`: the classes it knows, most severe first, and
:class:`Diagnosis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lrkit.diagnosis.formatting import fmt_lr
from lrkit.findings import Finding

__all__ = ["CLASSES", "GOOD", "RULE_CLASS", "Diagnosis"]

#: verdicts, most severe first; ``converged`` and ``healthy`` are the two good outcomes
CLASSES = (
    "diverging",
    "stuck",
    "overfitting",
    "spikes",
    "oscillating",
    "schedule",
    "plateau",
    "slow",
    "converged",
    "healthy",
)

#: verdicts that need no change (exit code 0)
GOOD = ("converged", "healthy")

RULE_CLASS = {
    "diverging": "diverging",
    "frozen-loss": "stuck",
    "never-learned": "stuck",
    "overfitting": "overfitting",
    "loss-spike": "spikes",
    "oscillating": "oscillating",
    "warmup-never-ends": "schedule",
    "lr-zero": "schedule",
    "decay-ends-early": "schedule",
    "plateau": "plateau",
    "slow-convergence": "slow",
    "converged": "converged",
    "short-log": "healthy",  # an info note only: a log too short for the curve's shape to be judged
    "lr-restart": "healthy",  # an info note only: the LR restarted (a resume); the last segment is judged
}


@dataclass(frozen=True)
class Diagnosis:
    """What :func:`diagnose` found.

    Attributes:
        verdict: the most severe class found (``CLASSES`` order), else ``"converged"`` or
            ``"healthy"``; :attr:`ok` is true for those two.
        findings: one :class:`~lrkit.Finding` per problem (``rule`` is one of :data:`RULE_CLASS`:
            ``diverging``, ``frozen-loss``, ``never-learned``, ``overfitting``, ``loss-spike``,
            ``oscillating``, ``warmup-never-ends``, ``lr-zero``, ``decay-ends-early``,
            ``plateau``, ``slow-convergence``, ``converged``, and the notes ``short-log`` and
            ``lr-restart``), with evidence and a fix; ``info`` findings are notes that do not
            change the verdict (``converged`` is one: with no other problem it makes the verdict
            ``converged``).
        suggested_lr: the peak LR to try next (absolute), when the LR in use is known and the
            verdict calls for a change.
        summary: facts about the curve (points, first/best/last loss, noise, LR range).
    """

    verdict: str
    findings: tuple[Finding, ...]
    suggested_lr: float | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.verdict == "healthy"

    @property
    def ok(self) -> bool:
        """Nothing to change: ``healthy`` or ``converged``."""
        return self.verdict in GOOD

    @property
    def classes(self) -> tuple[str, ...]:
        """Every class found (warnings and errors), most severe first."""
        found = {RULE_CLASS[f.rule] for f in self.findings if f.severity != "info"}
        return tuple(c for c in CLASSES if c in found) or (self.verdict if self.verdict in GOOD else "healthy",)

    def of(self, cls: str) -> list[Finding]:
        """Findings of one class (``"spikes"``, ``"diverging"``, ...)."""
        return [f for f in self.findings if RULE_CLASS.get(f.rule) == cls]

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "classes": list(self.classes),
            "suggested_lr": self.suggested_lr,
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
        }

    def __str__(self) -> str:
        lines = [f"verdict: {self.verdict}"]
        for f in self.findings:
            lines.append(f"- [{f.severity}] {f.message}")
            if f.fix:
                lines.append(f"  fix: {f.fix}")
        if self.suggested_lr is not None:
            lines.append(f"suggested peak LR: {fmt_lr(self.suggested_lr)}")
        return "\n".join(lines)
