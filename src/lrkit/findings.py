"""A finding: something worth telling a person about a schedule or a run.

Produced by the linter (:mod:`lrkit.linter`), by config readers (framework quirks they
reproduce), by the diagnosis of loss curves; rendered by the CLI.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Finding", "Severity"]

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    """One finding.

    Attributes:
        rule: stable identifier (``"warmup-too-long"``), for filtering and tests.
        severity: ``"error"`` (the run is wrong), ``"warning"`` (probably unintended) or
            ``"info"``.
        message: what is wrong, in one sentence with the numbers.
        fix: what to change.
        evidence: the steps and values behind it (plain data).
        source: where it came from (a config path, a reader name), when known.
    """

    rule: str
    severity: Severity
    message: str
    fix: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
