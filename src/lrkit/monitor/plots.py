"""Plots of a recorded run: LR over steps, LR and loss on twin axes, loss against LR.

All go through :mod:`lrkit.plot` (headless figures written to files; nothing ever calls
``plt.show()``). Each takes a :class:`~lrkit.monitor.RunLog` and an output path and returns
the path written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.errors import ConfigError
from lrkit.monitor.readers import RunLog
from lrkit.plot import mark_boundaries, new_figure, save_figure

__all__ = ["plot_diagnosis", "plot_loss_vs_lr", "plot_lr", "plot_lr_and_loss"]

_STEP_LABEL = "step (optimizer updates taken)"
_AXIS_LABEL = {"step": _STEP_LABEL, "epoch": "epoch"}


def _need_lrs(log: RunLog) -> dict[str, np.ndarray]:
    groups = log.group_lrs()
    if not groups:
        raise ConfigError(
            f"{log.source}: the log has no learning-rate column, so there is nothing to plot.",
            field="lr_col",
            fix="record the LR (LRMonitor does) or name its column with lr_col.",
        )
    return groups


def _log_scale_ok(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return finite.size > 0 and bool(np.all(finite > 0))


def plot_lr(log: RunLog, path: str | Path, *, boundaries: Sequence[int] = (), title: str | None = None) -> Path:
    """Every parameter group's LR over steps, log-scale y when all LRs are positive."""
    groups = _need_lrs(log)
    fig, ax = new_figure()
    for name, lrs in groups.items():
        m = np.isfinite(lrs)
        ax.plot(log.steps[m], lrs[m], label=name)
    if all(_log_scale_ok(v) for v in groups.values()):
        ax.set_yscale("log")
    mark_boundaries(ax, boundaries)
    ax.set_xlabel(_AXIS_LABEL[log.step_unit])
    ax.set_ylabel("learning rate")
    ax.grid(True, alpha=0.3)
    ax.set_title(title or "Learning rate")
    if len(groups) > 1:
        ax.legend()
    return save_figure(fig, path)


def _mark_nonfinite(ax: Any, steps: np.ndarray, losses: np.ndarray, finite: np.ndarray) -> None:
    """A red cross for each NaN/inf loss, drawn at the top of the finite losses."""
    if (~finite).any():
        ax.scatter(
            steps[~finite],
            np.full((~finite).sum(), np.nanmax(losses) if finite.any() else 0.0),
            marker="x",
            color="red",
            label="NaN/inf loss",
        )


def _loss_axis(ax: Any, log: RunLog) -> None:
    ax.set_xlabel(_AXIS_LABEL[log.step_unit])
    ax.set_ylabel("loss", color="tab:blue")
    ax.grid(True, alpha=0.3)


def _lr_twin(ax: Any, series: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> Any:
    """The LR curves ``(label, steps, lrs)`` on a right-hand axis (log-scale when all are positive)."""
    twin = ax.twinx()
    for label, xs, lrs in series:
        m = np.isfinite(lrs)
        twin.plot(xs[m], lrs[m], color="tab:orange", linewidth=1.2, alpha=0.9, label=label)
    if all(_log_scale_ok(v) for _, _, v in series):
        twin.set_yscale("log")
    twin.set_ylabel("learning rate", color="tab:orange")
    return twin


def _mark_finding(ax: Any, a: int, b: int, label: str, *, ha: str) -> None:
    """A finding at steps ``a..b``: shaded over its span, a dashed line when it is one step."""
    if b > a:
        ax.axvspan(a, b, color="red", alpha=0.12)
    else:
        ax.axvline(a, color="red", linestyle="--", linewidth=0.8)
    ax.annotate(
        label, (a, 1.0), xycoords=("data", "axes fraction"), rotation=90, va="top", ha=ha, fontsize=7, color="red"
    )


def plot_lr_and_loss(
    log: RunLog,
    path: str | Path,
    *,
    marks: Sequence[tuple[int, str]] = (),
    title: str | None = None,
) -> Path:
    """Loss (left axis) and LR (right axis, log-scale) over steps; ``marks`` are
    ``(step, label)`` pairs drawn as vertical lines (the diagnosis puts its findings there)."""
    steps, losses, _ = log.loss_curve()
    fig, ax = new_figure()
    finite = np.isfinite(losses)
    ax.plot(steps[finite], losses[finite], color="tab:blue", linewidth=0.9, label="loss")
    _mark_nonfinite(ax, steps, losses, finite)
    if finite.any() and _log_scale_ok(losses) and np.nanmax(losses[finite]) / np.nanmin(losses[finite]) > 30:
        ax.set_yscale("log")
    _loss_axis(ax, log)
    groups = log.group_lrs()
    if groups:
        _lr_twin(ax, [(f"lr ({name})" if len(groups) > 1 else "lr", log.steps, v) for name, v in groups.items()])
    for step, label in marks:
        _mark_finding(ax, step, step, label, ha="right")
    ax.set_title(title or "Loss and learning rate")
    return save_figure(fig, path)


def plot_diagnosis(
    log: RunLog,
    path: str | Path,
    *,
    spans: Sequence[tuple[tuple[int, int], str]] = (),
    lr_curve: tuple[np.ndarray, np.ndarray] | None = None,
    title: str | None = None,
) -> Path:
    """What ``lrkit diagnose --plot`` draws: the training loss (faint when noisy) with its trend
    (a centred running median over ``clip(n / 25, 5, 101)`` points, the diagnosis's own), the
    eval loss when the log has one, the LR on the right axis (the log's column, else
    ``lr_curve`` = ``(steps, lrs)`` from the schedule config), and each finding shaded over its
    ``((start_step, end_step), rule)`` span (a line when it is one step)."""
    steps, losses, _ = log.loss_curve()
    es, ey = log.eval_curve()
    fig, ax = new_figure()
    finite = np.isfinite(losses)
    y = losses[finite]
    _draw_loss_and_trend(ax, steps[finite], y)
    _mark_nonfinite(ax, steps, losses, finite)
    if ey.size:
        ax.plot(es, ey, color="tab:green", marker="o", markersize=3, linewidth=1.2, label=f"eval loss ({log.eval_col})")
    every = np.concatenate([y, ey]) if ey.size else y
    if every.size and _log_scale_ok(every) and np.max(every) / np.min(every) > 30:
        ax.set_yscale("log")
    _loss_axis(ax, log)
    lr_series = [(name, log.steps, v) for name, v in log.group_lrs().items()]
    if not lr_series and lr_curve is not None:
        lr_series = [("lr (schedule)", np.asarray(lr_curve[0]), np.asarray(lr_curve[1], dtype=float))]
    if lr_series:
        several = len(lr_series) > 1
        labelled = [(name if several or "schedule" in name else "lr", xs, v) for name, xs, v in lr_series]
        _lr_twin(ax, labelled).legend(loc="upper center", fontsize=7)
    for (a, b), label in spans:
        _mark_finding(ax, a, b, label, ha="left")
    ax.legend(loc="upper right", fontsize=7)
    ax.set_title(title or "Loss and learning rate")
    return save_figure(fig, path)


def _draw_loss_and_trend(ax: Any, x: np.ndarray, y: np.ndarray) -> None:
    """The training loss, faint under its trend (the diagnosis's running median over
    ``clip(n / 25, 5, 101)`` points, in log-loss when every loss is positive) when it is noisy."""
    from lrkit.diagnosis.signals import rolling_median

    positive = bool(y.size) and bool(np.all(y > 0))
    w = int(np.clip(y.size // 25, 5, 101)) | 1
    noisy = y.size > 3 * w
    ax.plot(x, y, color="tab:blue", linewidth=0.7, alpha=0.35 if noisy else 0.9, label="training loss")
    if noisy:
        z = np.log(y) if positive else y
        trend = rolling_median(z, w)
        ax.plot(
            x,
            np.exp(trend) if positive else trend,
            color="tab:blue",
            linewidth=1.6,
            label=f"trend (running median, {w} points)",
        )


def plot_loss_vs_lr(log: RunLog, path: str | Path, *, title: str | None = None) -> Path:
    """Loss against the LR in use (log-scale x), points coloured by step."""
    if log.lrs is None:
        _need_lrs(log)
    steps, losses, lrs = log.loss_curve()
    assert lrs is not None
    m = np.isfinite(losses) & np.isfinite(lrs)
    fig, ax = new_figure()
    sc = ax.scatter(lrs[m], losses[m], c=steps[m], s=6, cmap="viridis")
    fig.colorbar(sc, ax=ax, label=_AXIS_LABEL[log.step_unit])
    if _log_scale_ok(lrs[m]):
        ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    ax.set_title(title or "Loss against learning rate")
    return save_figure(fig, path)
