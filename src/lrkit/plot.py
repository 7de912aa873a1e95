"""Matplotlib rendering shared by the CLI, the monitor, the finder and the comparison runner.

Always headless (the Agg backend): figures go to files, never to ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["new_figure", "save_figure", "mark_boundaries", "plot_curves", "schedule_figure", "CURVE_GID"]

#: SVG/matplotlib id prefix of each schedule curve drawn by :func:`schedule_figure`
CURVE_GID = "lrkit-curve"


def new_figure(width: float = 8.0, height: float = 4.5, *, nrows: int = 1, ncols: int = 1) -> tuple[Any, Any]:
    """A new figure and its axes, on the headless backend (width/height in inches)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols)
    return fig, axes


#: image formats every plot can be written as (chosen by the file name's suffix)
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")


def check_image_path(path: str | Path, *, field: str = "output") -> Path:
    """``path`` as a :class:`Path` if its suffix names a supported image format, else a
    :class:`~lrkit.ConfigError` -- checked before any work whose result would be lost."""
    out = Path(path)
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        from lrkit.errors import ConfigError

        raise ConfigError(
            f"{out}: unsupported image type {out.suffix or '(none)'!r}.",
            field=field,
            value=str(out),
            fix="end the name in .png, .svg or .pdf.",
        )
    return out


def save_figure(fig: Any, path: str | Path, *, dpi: int = 100) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: .png, .svg, .pdf)."""
    out = check_image_path(path)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out


def mark_boundaries(ax: Any, steps: Iterable[int], **kwargs: Any) -> None:
    """Dotted vertical lines at phase boundaries."""
    style = {"color": "0.6", "linestyle": ":", "linewidth": 0.8} | kwargs
    for s in steps:
        ax.axvline(s, **style)


def plot_curves(
    ax: Any,
    curves: Sequence[tuple[str, Sequence[float], Sequence[float]]],
    *,
    log: bool = False,
    xlabel: str = "step (optimizer updates taken)",
    ylabel: str = "learning rate",
) -> None:
    """One line per ``(label, steps, values)``, with a legend when there are several."""
    for label, xs, ys in curves:
        ax.plot(xs, ys, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    if len(curves) > 1:
        ax.legend()


def schedule_figure(
    series: Sequence[tuple[str, Sequence[float], Sequence[float], Sequence[int]]],
    *,
    log: bool = False,
    width_px: int = 800,
    height_px: int = 450,
    dpi: int = 100,
    title: str | None = None,
) -> Any:
    """LR curves overlaid on one axis: one ``(label, steps, values, boundaries)`` per
    schedule, each with its phase boundaries as dotted lines in its own colour.

    Curve ``i`` carries the id ``f"{CURVE_GID}-{i}"`` (in the SVG too), so tools and tests can
    count curves apart from boundary lines. The figure is ``width_px x height_px`` pixels at
    ``dpi`` (save it with the same ``dpi``).
    """
    fig, ax = new_figure(width_px / dpi, height_px / dpi)
    fig.set_dpi(dpi)
    before = len(ax.get_lines())
    plot_curves(ax, [(label, xs, ys) for label, xs, ys, _ in series], log=log)
    if len(series) == 1:
        ax.legend()  # a single curve still says which config it is
    lines = ax.get_lines()[before:]
    for i, (line, (_, _, _, bounds)) in enumerate(zip(lines, series, strict=True)):
        line.set_gid(f"{CURVE_GID}-{i}")
        mark_boundaries(ax, bounds, color=line.get_color(), alpha=0.5)
    if title:
        ax.set_title(title)
    return fig
