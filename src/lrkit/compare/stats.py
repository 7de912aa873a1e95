"""Summaries of a comparison: per-configuration statistics, the winner and how sure that is.

A *configuration* is one schedule at one peak LR; its trials differ only by seed. Its score is
the final held-out metric (lower is better): mean and sample standard deviation (``ddof=1``)
over the seeds whose trial ended ``ok``.

The winner is the configuration with the lowest mean among those whose every seed ended ok
(diverged or failed seeds disqualify: a schedule that sometimes blows up does not win). How
sure that is comes from a *paired* comparison with every other configuration over the seeds
both completed -- same seed means same initial weights and same batches, so the per-seed
difference ``d_i = metric_other(i) - metric_winner(i)`` removes the seed-to-seed variation:

- ``wins``: seeds where the winner is strictly better;
- two-sided paired t-test on ``d`` (``scipy.stats.ttest_rel``), ``n - 1`` degrees of freedom.

Confidence against the runner-up: ``high`` (p < 0.01), ``moderate`` (p < 0.05), ``low``
(otherwise: the top two are within seed noise), ``none`` (one seed: no spread to judge by).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lrkit.errors import ConfigError

__all__ = ["ConfigSummary", "Paired", "Verdict", "Summary", "summarize", "paired", "fmt_lr"]


def fmt_lr(lr: float) -> str:
    return f"{lr:.3g}"


@dataclass
class ConfigSummary:
    """Statistics of one (schedule, peak LR) over its seeds."""

    label: str
    lr: float
    seeds: list[int]
    statuses: dict[int, str]
    evals: dict[int, float]
    final_losses: dict[int, float]
    reasons: dict[int, str]
    wall_s: list[float]
    train_s: list[float]
    keys: dict[int, str]

    @property
    def id(self) -> str:
        return f"{self.label} @ {fmt_lr(self.lr)}"

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def n_ok(self) -> int:
        return sum(s == "ok" for s in self.statuses.values())

    @property
    def n_done(self) -> int:
        return len(self.statuses)

    def count(self, status: str) -> int:
        return sum(s == status for s in self.statuses.values())

    @property
    def complete(self) -> bool:
        """Every seed ran and ended ok."""
        return self.n_ok == self.n

    @property
    def eval_mean(self) -> float | None:
        v = list(self.evals.values())
        return float(np.mean(v)) if v else None

    @property
    def eval_std(self) -> float | None:
        v = list(self.evals.values())
        return float(np.std(v, ddof=1)) if len(v) > 1 else (0.0 if v else None)

    @property
    def loss_mean(self) -> float | None:
        v = [x for x in self.final_losses.values() if x is not None and math.isfinite(x)]
        return float(np.mean(v)) if v else None

    @property
    def loss_std(self) -> float | None:
        v = [x for x in self.final_losses.values() if x is not None and math.isfinite(x)]
        return float(np.std(v, ddof=1)) if len(v) > 1 else (0.0 if v else None)

    @property
    def status_text(self) -> str:
        parts = [f"{self.n_ok}/{self.n} ok"]
        for s in ("diverged", "failed"):
            if self.count(s):
                parts.append(f"{self.count(s)} {s}")
        missing = self.n - self.n_done
        if missing:
            parts.append(f"{missing} not run")
        return ", ".join(parts)


@dataclass
class Paired:
    """Paired comparison of ``other`` against the winner over shared ok seeds."""

    other: str
    n: int
    mean_diff: float | None
    wins: int
    p_value: float | None

    @property
    def text(self) -> str:
        if self.n == 0:
            return "no shared seeds"
        p = "" if self.p_value is None else f", p = {self.p_value:.2g}"
        return f"{self.mean_diff:+.4g} ({self.wins}/{self.n} seeds{p})"


@dataclass
class Verdict:
    winner: ConfigSummary | None
    runner_up: ConfigSummary | None
    versus: Paired | None
    confidence: str  # high | moderate | low | none | no-result
    sentence: str


@dataclass
class Summary:
    configs: list[ConfigSummary]  # ranked, best first
    verdict: Verdict
    vs_winner: dict[str, Paired] = field(default_factory=dict)
    metric: str = "held-out loss"


def paired(winner: ConfigSummary, other: ConfigSummary) -> Paired:
    """Paired comparison over the seeds both configurations completed."""
    seeds = sorted(set(winner.evals) & set(other.evals))
    if not seeds:
        return Paired(other.id, 0, None, 0, None)
    d = np.array([other.evals[s] - winner.evals[s] for s in seeds], dtype=np.float64)
    wins = int(np.sum(d > 0))
    p: float | None = None
    if len(seeds) >= 2:
        if np.allclose(d, d[0], rtol=0.0, atol=1e-15):  # no spread: the t statistic is undefined
            p = 0.0 if d[0] != 0 else 1.0
        else:
            try:
                from scipy.stats import ttest_rel
            except ImportError:  # pragma: no cover - scipy comes with scikit-learn
                p = None
            else:
                p = float(ttest_rel([other.evals[s] for s in seeds], [winner.evals[s] for s in seeds]).pvalue)
    return Paired(other.id, len(seeds), float(d.mean()), wins, p)


def _rank_key(c: ConfigSummary) -> tuple:
    mean = c.eval_mean
    return (not c.complete, c.n_ok == 0, -c.n_ok, math.inf if mean is None else mean, c.label, c.lr)


def _confidence(p: Paired) -> str:
    if p.n < 2 or p.p_value is None:
        return "none"
    if p.p_value < 0.01:
        return "high"
    if p.p_value < 0.05:
        return "moderate"
    return "low"


def summarize(
    trials: Iterable[Mapping[str, Any]],
    order: Iterable[tuple[str, float]] | None = None,
    seeds: Iterable[int] | None = None,
    metric: str = "held-out loss",
) -> Summary:
    """Group finished trials into configurations, rank them and name the winner.

    Args:
        trials: results as read from the store (``spec``, ``status``, ``eval`` ...).
        order: the planned (label, lr) configurations, so planned-but-unrun ones are listed.
        seeds: the planned seeds (for "not run" counts).
    """
    configs = sorted(_group(trials, order, sorted(set(seeds or ()))), key=_rank_key)
    winner = configs[0] if configs and configs[0].n_ok > 0 else None
    if winner is None:
        return Summary(
            configs,
            Verdict(None, None, None, "no-result", "No trial finished ok, so there is no winner."),
            metric=metric,
        )
    vs = {c.id: paired(winner, c) for c in configs if c is not winner}
    runner = next((c for c in configs[1:] if c.n_ok > 0), None)
    if not winner.complete:
        sentence = (
            f"No schedule completed every seed; best partial result: {winner.id} "
            f"({metric} {winner.eval_mean:.4g} over {winner.n_ok}/{winner.n} seeds)."
        )
        return Summary(configs, Verdict(winner, runner, None, "none", sentence), vs, metric)
    head = f"{winner.id} wins with {metric} {winner.eval_mean:.4g}"
    if winner.n_ok > 1:
        head += f" ± {winner.eval_std:.2g}"
    if runner is None:
        return Summary(
            configs, Verdict(winner, None, None, "none", head + " (the only one that finished)."), vs, metric
        )
    versus = vs[runner.id]
    conf = _confidence(versus)
    return Summary(
        configs, Verdict(winner, runner, versus, conf, head + _runner_up_tail(runner, versus, conf)), vs, metric
    )


def _group(
    trials: Iterable[Mapping[str, Any]], order: Iterable[tuple[str, float]] | None, seeds: list[int]
) -> list[ConfigSummary]:
    """One :class:`ConfigSummary` per (label, lr): the planned ones first, in plan order, then
    any only the trials name."""
    groups: dict[tuple[str, float], ConfigSummary] = {}

    def group(label: str, lr: float) -> ConfigSummary:
        k = (label, float(lr))
        if k not in groups:
            groups[k] = ConfigSummary(label, float(lr), list(seeds), {}, {}, {}, {}, [], [], {})
        return groups[k]

    for label, lr in order or ():
        group(label, lr)
    for i, t in enumerate(trials):
        label, lr, seed = _checked_trial(t, f"trials[{i}]")
        _add_trial(group(label, lr), seed, t)
    return list(groups.values())


_STATUSES = ("ok", "diverged", "failed")


def _checked_trial(t: Any, where: str) -> tuple[str, float, int]:
    """``(label, lr, seed)`` of one stored trial, or a ConfigError naming what a hand-edited or
    foreign store got wrong (the fields run_trial writes)."""
    from lrkit.config import fields as F

    def bad(field: str, value: Any, want: str) -> ConfigError:
        return ConfigError(
            f"must be {want}, got {value!r}.",
            field=f"{where}.{field}" if field else where,
            value=value,
            fix="read results written by lrkit compare (its store), or give each trial these fields.",
        )

    if not isinstance(t, Mapping):
        raise bad("", t, "a mapping with spec, key and status")
    spec = t.get("spec")
    if not isinstance(spec, Mapping):
        raise bad("spec", spec, "a mapping with label, lr and seed")
    if not isinstance(spec.get("label"), str):
        raise bad("spec.label", spec.get("label"), "a string")
    if t.get("status") not in _STATUSES:
        raise bad("status", t.get("status"), f"one of {', '.join(_STATUSES)}")
    if "key" not in t:
        raise bad("key", None, "the trial's key")
    seed = spec.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise bad("spec.seed", seed, "an integer seed")
    for name in ("final_loss", "wall_s", "train_s"):
        v = t.get(name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
            raise bad(name, v, "a number")
    return spec["label"], F.number(spec.get("lr"), f"{where}.spec.lr", low=0.0), seed


def _add_trial(c: ConfigSummary, seed: int, t: Mapping[str, Any]) -> None:
    """Record one trial's outcome under its seed (a later trial of the same seed replaces it)."""
    if seed not in c.seeds:
        c.seeds.append(seed)
        c.seeds.sort()
    status, value = t["status"], t.get("eval")
    finite = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if status == "ok" and not finite:
        # a hand-edited or foreign store: an "ok" without a held-out loss cannot be ranked
        status = "failed"
        c.reasons[seed] = f"stored as ok but with no finite eval value (got {value!r})"
    c.statuses[seed] = status
    c.keys[seed] = t["key"]
    if status == "ok":
        c.evals[seed] = float(value)  # type: ignore[arg-type]
    if t.get("final_loss") is not None:
        c.final_losses[seed] = float(t["final_loss"])
    if t.get("reason"):
        c.reasons[seed] = str(t["reason"])
    c.wall_s.append(float(t.get("wall_s") or 0.0))
    c.train_s.append(float(t.get("train_s") or 0.0))


_JUDGEMENT = {
    "high": "a clear win",
    "moderate": "a likely win",
    "low": "within seed noise: not a reliable difference",
    "none": "no test possible",
}


def _runner_up_tail(runner: ConfigSummary, versus: Paired, conf: str) -> str:
    """The verdict's second half: how the runner-up compares with the winner, seed by seed."""
    if versus.n == 0:
        return f"; the runner-up {runner.id} shares no completed seed with it, so they cannot be paired."
    if versus.n == 1:
        return (
            f"; runner-up {runner.id} is {versus.mean_diff:+.4g} worse on the one seed both ran -- with one seed "
            "there is no way to tell this from noise (use --seeds 3 or more)."
        )
    p = "" if versus.p_value is None else f", paired t-test p = {versus.p_value:.2g}"
    return (
        f"; runner-up {runner.id} is worse by {versus.mean_diff:.4g} on average, and on {versus.wins} of "
        f"{versus.n} seeds{p}: {_JUDGEMENT[conf]}."
    )
