"""Compare schedules by training: each (schedule, peak LR, seed) is a real run of a task.

``run_comparison(task="digits", schedules=["cosine", "wsd"], seeds=3, out="lrkit-out")``
plans the grid, runs what the results store (``out/results.sqlite``) does not hold yet in
worker processes (or on Ray), and writes ``out/report.html``; ``report_comparison(out)``
re-reports. The CLI is ``lrkit compare``; see ``docs/compare.md``.
"""

from lrkit.compare.core import (
    DEFAULT_SEEDS,
    DEFAULT_TASK,
    ComparisonOutcome,
    Events,
    find_peak_lr,
    report_comparison,
    run_comparison,
)
from lrkit.compare.spec import DEFAULT_SCHEDULES, PRESETS, ScheduleSpec, TrialSpec, parse_schedule, parse_schedules
from lrkit.compare.stats import Summary, summarize

__all__ = [
    "run_comparison",
    "report_comparison",
    "ComparisonOutcome",
    "Events",
    "find_peak_lr",
    "DEFAULT_TASK",
    "DEFAULT_SEEDS",
    "DEFAULT_SCHEDULES",
    "PRESETS",
    "ScheduleSpec",
    "TrialSpec",
    "parse_schedule",
    "parse_schedules",
    "Summary",
    "summarize",
]
