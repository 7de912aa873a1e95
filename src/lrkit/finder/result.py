"""The outcome of a range test: the curve, the suggestion, and how the test ended."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.finder.suggest import Suggestion
from lrkit.finder.trials import Trial

__all__ = ["FinderResult", "STOP_REASONS"]

#: why a test ended
STOP_REASONS = {
    "completed": "the ramp reached end_lr",
    "diverged": "the smoothed loss rose far above its best (the LR is past divergence)",
    "nan": "a loss was NaN or infinite (the test stopped at once; that step is not recorded)",
    "data_exhausted": "the data ran out and could not be iterated again",
    "interrupted": "KeyboardInterrupt (model and optimizer were restored)",
}


@dataclass(frozen=True)
class FinderResult:
    """A finished LR range test.

    Attributes:
        lrs: LR of the reference group (first group with a non-zero LR) for each recorded
            update.
        raw_losses: loss of each recorded update (averaged over ranks under torch.distributed).
        losses: bias-corrected EMA of ``raw_losses`` (``beta``).
        suggestion: peak LR to use for a warm-up + decay schedule over a full run (reference
            group; other groups keep their ratios, see ``group_ratios``), or ``None`` when the
            curve has no usable descent (``notes`` says why).
        range: ``(low, high)`` bracketing the suggestion (``(None, None)`` without one).
        confidence: ``"high"``, ``"medium"``, ``"low"`` (how much the suggestion moves when the
            curve's noise is resampled, and whether the ramp reached divergence) or ``"none"``.
        stopped_reason: a key of :data:`STOP_REASONS`.
        group_ratios: each group's LR relative to the reference group.
        details: the rule's reading of the curve (descent start, centre, divergence LR) -- of
            the zoom pass when that is where the descent showed.
        method: how the suggestion was reached: ``"curve"`` (the range test's rule),
            ``"zoom"`` (the rule on the zoom pass), ``"+trials"`` appended when confirmation
            trials chose among candidates, ``"fallback"`` when no descent showed anywhere.
        trials: every confirmation trial (:class:`~lrkit.finder.trials.Trial`: peak LR, updates,
            score, how it was judged, evaluations).
        zoom: the zoom pass (``{"lrs", "raw_losses", "stopped_reason"}``) or ``None``.
        loss_evaluations: losses computed in all (every update of every pass and trial, every
            held-out batch); at most ``max_evals``. ``val_start_evaluations``: the held-out
            batches evaluated once before the trials.
        held_out: examples the finder held out of the trials to judge them, on a tiny data set
            without ``val_data`` (:mod:`lrkit.finder.holdout`); 0 when it held out none.
    """

    lrs: np.ndarray
    raw_losses: np.ndarray
    losses: np.ndarray
    suggestion: float | None
    range: tuple[float | None, float | None]
    confidence: str
    stopped_reason: str
    num_steps: int
    start_lr: float
    end_lr: float
    mode: str
    beta: float
    group_ratios: tuple[float, ...] = (1.0,)
    details: Suggestion | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    method: str = "curve"
    trials: tuple[Trial, ...] = ()
    zoom: dict[str, Any] | None = None
    loss_evaluations: int = 0
    val_start_evaluations: int = 0
    max_evals: int | None = None
    held_out: int = 0

    @property
    def suggestions_per_group(self) -> list[float | None]:
        """The suggestion applied to every parameter group (ratios preserved)."""
        return [None if self.suggestion is None else self.suggestion * r for r in self.group_ratios]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready; NaN never appears, missing values are ``None``)."""

        def clean(v: Any) -> Any:
            return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v

        return {
            "suggestion": clean(self.suggestion),
            "range": [clean(self.range[0]), clean(self.range[1])],
            "confidence": self.confidence,
            "stopped_reason": self.stopped_reason,
            "steps_run": len(self.lrs),
            "num_steps": self.num_steps,
            "start_lr": self.start_lr,
            "end_lr": self.end_lr,
            "mode": self.mode,
            "beta": self.beta,
            "group_ratios": list(self.group_ratios),
            "lrs": [float(v) for v in self.lrs],
            "raw_losses": [clean(float(v)) for v in self.raw_losses],
            "losses": [clean(float(v)) for v in self.losses],
            "details": None if self.details is None else self.details.to_dict(),
            "notes": list(self.notes),
            "method": self.method,
            "trials": [t.to_dict() for t in self.trials],
            "zoom": None
            if self.zoom is None
            else {
                "lrs": [float(v) for v in self.zoom["lrs"]],
                "raw_losses": [clean(float(v)) for v in self.zoom["raw_losses"]],
                "stopped_reason": self.zoom["stopped_reason"],
            },
            "loss_evaluations": self.loss_evaluations,
            "max_evals": self.max_evals,
            "held_out": self.held_out,
        }

    def figure(self, *, title: str | None = None) -> Any:
        """The loss-vs-LR figure (matplotlib ``Figure``; log x axis): raw losses, the smoothed
        curve, the zoom pass, the suggestion and its range, the divergence point, and every
        confirmation trial (its score on a second y axis)."""
        from lrkit.plot import new_figure

        fig, ax = new_figure(8.0, 4.5)
        if len(self.lrs):
            ax.plot(self.lrs, self.raw_losses, color="0.75", linewidth=0.8, label="loss (raw)")
            ax.plot(self.lrs, self.losses, color="C0", linewidth=1.6, label=f"loss (EMA, beta={self.beta:g})")
            ax.set_xscale("log")
            finite = self.raw_losses[np.isfinite(self.raw_losses)]
            if finite.size:
                lo = float(np.min(finite))
                first = float(np.median(finite[: max(3, len(finite) // 10)]))
                span = max(first - lo, 1e-12)
                ax.set_ylim(lo - 0.15 * span, first + 1.0 * span)
        if self.zoom is not None and len(self.zoom["lrs"]):
            from lrkit.finder.smoothing import ema

            zl, zr = np.asarray(self.zoom["lrs"]), np.asarray(self.zoom["raw_losses"])
            ax.plot(zl, ema(zr, self.beta), color="C1", linewidth=1.2, label="zoom pass (EMA)")
        if self.suggestion is not None:
            low, high = self.range
            if low is not None and high is not None:
                ax.axvspan(low, high, color="C2", alpha=0.15, label=f"range {low:.2g} - {high:.2g} ({self.confidence})")
            ax.axvline(
                self.suggestion, color="C2", linewidth=1.6, label=f"suggestion {self.suggestion:.3g} ({self.method})"
            )
        if self.details is not None and self.details.divergence_lr is not None:
            ax.axvline(self.details.divergence_lr, color="C3", linestyle="--", linewidth=1.0, label="divergence point")
        if self.trials:
            tx = ax.twinx()
            xs = [t.lr for t in self.trials]
            finite_scores = [t.score for t in self.trials if not t.diverged]
            top = max(finite_scores) if finite_scores else 1.0
            ys = [t.score if not t.diverged else top for t in self.trials]
            kind = self.trials[0].judged_by
            tx.plot(
                xs,
                ys,
                "D",
                color="C4",
                markersize=6,
                linestyle="none",
                label=f"trials ({self.trials[0].steps} updates; {kind} loss; diverged drawn at the top)",
            )
            tx.set_ylabel(f"trial {kind} loss", color="C4")
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = tx.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, loc="best", fontsize=8)
        else:
            ax.legend(loc="best", fontsize=8)
        ax.set_xlabel("learning rate (reference group)")
        ax.set_ylabel("training loss")
        ax.set_title(title or f"LR range test ({len(self.lrs)} steps, stopped: {self.stopped_reason})")
        ax.grid(True, which="both", alpha=0.25)
        return fig

    def plot(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write :meth:`figure` to ``path``. Format from the suffix (.png, .svg, .pdf)."""
        from lrkit.plot import save_figure

        return save_figure(self.figure(title=title), path)

    def __repr__(self) -> str:
        low, high = self.range
        rng = "n/a" if low is None or high is None else f"{low:.3g}..{high:.3g}"
        sug = "None" if self.suggestion is None else f"{self.suggestion:.3g}"
        return (
            f"FinderResult(suggestion={sug}, range={rng}, confidence={self.confidence!r}, "
            f"steps={len(self.lrs)}/{self.num_steps}, stopped_reason={self.stopped_reason!r}, method={self.method!r}, "
            f"trials={len(self.trials)}, loss_evaluations={self.loss_evaluations})"
        )
