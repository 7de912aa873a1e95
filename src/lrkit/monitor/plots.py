"""Plots of a recorded run: LR over steps, LR and loss on twin axes, loss against LR.

All go through :mod:`lrkit.plot` (headless figures written to files; nothing ever calls
``plt.show()``). Each takes a :class:`~lrkit.monitor.RunLog` and an output path and returns
the path written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lrkit.errors import ConfigError
from lrkit.monitor.readers import RunLog
from lrkit.plot import mark_boundaries, new_figure, save_figure

__all__ = ["plot_lr", "plot_lr_and_loss", "plot_loss_vs_lr"]

_STEP_LABEL = "step (optimizer updates taken)"


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
    ax.set_xlabel(_STEP_LABEL)
    ax.set_ylabel("learning rate")
    ax.grid(True, alpha=0.3)
    ax.set_title(title or "Learning rate")
    if len(groups) > 1:
        ax.legend()
    return save_figure(fig, path)


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
    if (~finite).any():
        ax.scatter(steps[~finite], np.full((~finite).sum(), np.nanmax(losses) if finite.any() else 0.0),
                   marker="x", color="red", label="NaN/inf loss")
    ax.set_xlabel(_STEP_LABEL)
    ax.set_ylabel("loss", color="tab:blue")
    if finite.any() and _log_scale_ok(losses) and np.nanmax(losses[finite]) / np.nanmin(losses[finite]) > 30:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    groups = log.group_lrs()
    if groups:
        twin = ax.twinx()
        for name, lrs in groups.items():
            m = np.isfinite(lrs)
            twin.plot(log.steps[m], lrs[m], color="tab:orange", linewidth=1.2, alpha=0.9,
                      label=f"lr ({name})" if len(groups) > 1 else "lr")
        if all(_log_scale_ok(v) for v in groups.values()):
            twin.set_yscale("log")
        twin.set_ylabel("learning rate", color="tab:orange")
    for step, label in marks:
        ax.axvline(step, color="red", linestyle="--", linewidth=0.8)
        ax.annotate(label, (step, 1.0), xycoords=("data", "axes fraction"), rotation=90,
                    va="top", ha="right", fontsize=7, color="red")
    ax.set_title(title or "Loss and learning rate")
    return save_figure(fig, path)


def plot_loss_vs_lr(log: RunLog, path: str | Path, *, title: str | None = None) -> Path:
    """Loss against the LR in use (log-scale x), points coloured by step."""
    if log.lrs is None:
        _need_lrs(log)
    steps, losses, lrs = log.loss_curve()
    assert lrs is not None
    m = np.isfinite(losses) & np.isfinite(lrs)
    fig, ax = new_figure()
    sc = ax.scatter(lrs[m], losses[m], c=steps[m], s=6, cmap="viridis")
    fig.colorbar(sc, ax=ax, label=_STEP_LABEL)
    if _log_scale_ok(lrs[m]):
        ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    ax.set_title(title or "Loss against learning rate")
    return save_figure(fig, path)
