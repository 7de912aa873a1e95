"""The HTML report of a comparison: one self-contained file, no network, no JavaScript.

Charts are matplotlib SVGs embedded as ``data:`` URIs (each image keeps its own ids, so
several never clash). Sections: the verdict (winner and how sure), the ranked table (mean ±
std over seeds, paired comparison with the winner, status), the LR each schedule actually
applied, held-out loss over training, training loss per schedule with the seed spread, the
final metric of every seed, the LR finder's curve, the linter's findings per schedule, the
trials that failed or diverged with their reasons, and each schedule's definition.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lrkit.compare.stats import ConfigSummary, Summary, fmt_lr

__all__ = ["write_report", "render_report", "ema"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:.9rem}.verdict{padding:.8rem 1rem;border-radius:6px;margin:1rem 0;font-size:1.05rem}
.high{background:#e6f4ea;border-left:5px solid #1e8e3e}.moderate{background:#fef7e0;border-left:5px solid #f9ab00}
.low,.none{background:#f1f3f4;border-left:5px solid #80868b}.no-result{background:#fce8e6;border-left:5px solid #d93025}
table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0}th,td{padding:.3rem .6rem;border-bottom:1px solid #e5e5e5;
text-align:left}th{background:#fafafa}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.winner td{font-weight:600}.sev-error{color:#d93025;font-weight:600}.sev-warning{color:#b06000;font-weight:600}
.sev-info{color:#555}img{max-width:100%;height:auto}pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:.8rem}
code{background:#f6f8fa;padding:0 .2rem}.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;
margin-right:.3rem;vertical-align:middle}
"""


def ema(values: Sequence[float] | np.ndarray, beta: float = 0.9) -> np.ndarray:
    """Bias-corrected exponential moving average ``m_k / (1 - beta^(k+1))`` (display only);
    non-finite values are skipped (the average carries over)."""
    out = np.empty(len(values))
    m, w = 0.0, 0.0
    for i, v in enumerate(values):
        if math.isfinite(v):
            m = beta * m + (1 - beta) * v
            w = beta * w + (1 - beta)
        out[i] = m / w if w > 0 else math.nan
    return out


def _svg_img(fig: Any, alt: str) -> str:
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "lrkit"}):
        fig.savefig(buf, format="svg")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{data}">'


def _e(x: Any) -> str:
    return html.escape(str(x))


def _pm(mean: float | None, std: float | None, n: int) -> str:
    if mean is None:
        return "&ndash;"
    return f"{mean:.4f}" + (f" &plusmn; {std:.4f}" if n > 1 and std is not None else "")


def _colors(labels: Sequence[str]) -> dict[str, str]:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return {lab: _hex(cmap(i % 10)) for i, lab in enumerate(labels)}


def _hex(rgba: Sequence[float]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgba[:3])


def _best_per_label(summary: Summary) -> dict[str, ConfigSummary]:
    best: dict[str, ConfigSummary] = {}
    for c in summary.configs:  # ranked: the first seen per label is its best LR
        best.setdefault(c.label, c)
    return best


def _curves(rows: Mapping[str, Mapping[str, Any]], config: ConfigSummary, what: str) -> list[np.ndarray]:
    out = []
    for seed in config.seeds:
        key = config.keys.get(seed)
        if key and key in rows and rows[key][what]:
            out.append(np.asarray(rows[key][what], dtype=np.float64))
    return out


def _band(curves: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Steps, mean, min and max over seeds, up to the shortest curve (a diverged seed stops early)."""
    if not curves:
        return None
    n = min(len(c) for c in curves)
    if n == 0:
        return None
    stack = np.vstack([c[:n] for c in curves])
    with np.errstate(all="ignore"):
        return np.arange(n), np.nanmean(stack, axis=0), np.nanmin(stack, axis=0), np.nanmax(stack, axis=0)


def _lr_chart(plan, rows, best, colors) -> str:
    from lrkit.plot import new_figure

    fig, ax = new_figure(9.0, 4.0)
    for label, c in best.items():
        curves = _curves(rows, c, "lrs")
        if curves:
            ax.plot(np.arange(len(curves[0])), curves[0], color=colors[label], label=f"{label} (peak {fmt_lr(c.lr)})")
    ax.set_xlabel("step (optimizer updates taken)")
    ax.set_ylabel("learning rate used")
    ax.set_title("LR applied by lrkit.Scheduler (seed 0)")
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _svg_img(fig, "learning-rate curves")


def _eval_chart(plan, rows, best, colors) -> str:
    from lrkit.plot import new_figure

    fig, ax = new_figure(9.0, 4.0)
    drawn = False
    for label, c in best.items():
        per_seed = []
        steps = None
        for seed in c.seeds:
            key = c.keys.get(seed)
            if key and key in rows and rows[key]["evals"] and rows[key]["status"] == "ok":
                ev = np.asarray(rows[key]["evals"], dtype=np.float64)
                steps = ev[:, 0]
                per_seed.append(ev[:, 1])
        if not per_seed or steps is None:
            continue
        n = min(len(v) for v in per_seed)
        stack = np.vstack([v[:n] for v in per_seed])
        ax.plot(steps[:n], stack.mean(axis=0), marker="o", markersize=3, color=colors[label], label=label)
        if len(per_seed) > 1:
            ax.fill_between(steps[:n], stack.min(axis=0), stack.max(axis=0), color=colors[label], alpha=0.15)
        drawn = True
    ax.set_xlabel("step (optimizer updates taken)")
    ax.set_ylabel(plan.get("metric", "held-out loss"))
    ax.set_yscale("log")
    ax.set_title("Held-out loss during training (mean over seeds, band: min-max)")
    ax.grid(True, which="both", alpha=0.3)
    if drawn:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _svg_img(fig, "held-out loss during training")


def _loss_grid(plan, rows, best, colors, summary) -> str:
    from lrkit.plot import new_figure

    labels = list(best)
    ncols = 3 if len(labels) > 4 else max(1, len(labels))
    nrows = math.ceil(len(labels) / ncols)
    fig, axes = new_figure(3.4 * ncols, 2.6 * nrows + 0.4, nrows=nrows, ncols=ncols)
    axes = np.atleast_1d(axes).ravel()
    winner = summary.verdict.winner
    ref = None
    if winner is not None:
        b = _band([ema(c) for c in _curves(rows, winner, "losses")])
        ref = b[:2] if b else None
    lo, hi = math.inf, -math.inf
    for ax, label in zip(axes, labels, strict=False):
        c = best[label]
        b = _band([ema(v) for v in _curves(rows, c, "losses")])
        if b is not None:
            x, mean, mn, mx = b
            ax.fill_between(x, mn, mx, color=colors[label], alpha=0.25, linewidth=0, label="seed min-max")
            ax.plot(x, mean, color=colors[label], linewidth=1.4, label="mean")
            finite = mean[np.isfinite(mean)]
            if finite.size:
                tail = finite[len(finite) // 5 :] if finite.size > 5 else finite
                lo, hi = min(lo, float(np.min(tail))), max(hi, float(np.max(finite[: max(1, finite.size // 50)])))
        if ref is not None and winner is not None and label != winner.label:
            ax.plot(ref[0], ref[1], color="0.3", linestyle="--", linewidth=0.9, label=f"winner ({winner.label})")
        ax.set_title(f"{label} @ {fmt_lr(c.lr)}  [{c.status_text}]", fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=7)
    for ax in axes[len(labels) :]:
        ax.set_visible(False)
    if math.isfinite(lo) and math.isfinite(hi) and hi > lo > 0:
        for ax in axes[: len(labels)]:
            ax.set_yscale("log")
            ax.set_ylim(lo * 0.8, hi * 1.1)
    if len(labels) and axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(fontsize=7)
    fig.suptitle("Training loss (EMA 0.9) per schedule; band: spread over seeds", fontsize=10)
    fig.supxlabel("step", fontsize=9)
    return _svg_img(fig, "training loss per schedule")


def _seed_chart(plan, summary, colors) -> str:
    from lrkit.plot import new_figure

    configs = [c for c in summary.configs if c.evals]
    fig, ax = new_figure(max(5.0, 0.9 * len(configs) + 2), 3.6)
    for i, c in enumerate(configs):
        vals = [c.evals[s] for s in sorted(c.evals)]
        jitter = np.linspace(-0.12, 0.12, len(vals)) if len(vals) > 1 else np.zeros(1)
        ax.scatter(i + jitter, vals, color=colors.get(c.label, "C0"), s=18, zorder=3)
        ax.hlines(np.mean(vals), i - 0.3, i + 0.3, color="0.2", linewidth=1.5, zorder=4)
    ax.set_xticks(range(len(configs)))
    ax.set_xticklabels([c.id for c in configs], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(plan.get("metric", "held-out loss"))
    every = [v for c in configs for v in c.evals.values()]
    if every and min(every) > 0 and max(every) / min(every) > 10:  # one bad schedule would flatten the rest
        ax.set_yscale("log")
    ax.set_title("Final held-out loss of every seed (bar: mean), best first", fontsize=10)
    ax.grid(True, axis="y", alpha=0.3)
    return _svg_img(fig, "final metric per seed")


def _finder_chart(finder: Mapping[str, Any]) -> str:
    from lrkit.plot import new_figure

    fig, ax = new_figure(7.0, 3.4)
    lrs = np.asarray(finder.get("lrs") or [], dtype=np.float64)
    raw = np.asarray([math.nan if v is None else v for v in finder.get("raw_losses") or []], dtype=np.float64)
    smooth = np.asarray([math.nan if v is None else v for v in finder.get("losses") or []], dtype=np.float64)
    if lrs.size:
        ax.plot(lrs, raw, color="0.75", linewidth=0.8, label="loss (raw)")
        ax.plot(lrs, smooth, color="C0", linewidth=1.5, label="loss (EMA)")
        ax.set_xscale("log")
        finite = raw[np.isfinite(raw)]
        if finite.size:
            lo, first = float(np.min(finite)), float(np.median(finite[: max(3, finite.size // 10)]))
            span = max(first - lo, 1e-12)
            ax.set_ylim(lo - 0.15 * span, first + span)
    sug = finder.get("suggestion")
    if sug:
        ax.axvline(sug, color="C2", linewidth=1.5, label=f"suggestion {sug:.3g}")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("training loss")
    ax.set_title("LR range test on the task (seed 0)", fontsize=10)
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    return _svg_img(fig, "LR finder curve")


def _table(summary: Summary, colors: Mapping[str, str]) -> str:
    winner = summary.verdict.winner
    head = (
        "<tr><th>#</th><th>schedule</th><th>peak LR</th><th>held-out loss (mean &plusmn; std)</th>"
        "<th>final train loss</th><th>worse than winner by (paired)</th><th>seeds</th><th>train s/trial</th></tr>"
    )
    out = [f"<table>{head}"]
    for i, c in enumerate(summary.configs, 1):
        vs = summary.vs_winner.get(c.id)
        versus = "&ndash; (winner)" if c is winner else (_e(vs.text) if vs else "&ndash;")
        train = f"{np.mean(c.train_s):.2f}" if c.train_s else "&ndash;"
        swatch = f'<span class="swatch" style="background:{colors.get(c.label, "#888")}"></span>'
        out.append(
            f'<tr class="{"winner" if c is winner else ""}"><td>{i}</td><td>{swatch}{_e(c.label)}</td>'
            f'<td class="num">{fmt_lr(c.lr)}</td><td class="num">{_pm(c.eval_mean, c.eval_std, len(c.evals))}</td>'
            f'<td class="num">{_pm(c.loss_mean, c.loss_std, len(c.final_losses))}</td><td>{versus}</td>'
            f'<td>{_e(c.status_text)}</td><td class="num">{train}</td></tr>'
        )
    out.append("</table>")
    return "".join(out)


def _findings(plan: Mapping[str, Any]) -> str:
    out = []
    for s in plan["schedules"]:
        found = s.get("findings") or []
        out.append(f'<h3>{_e(s["label"])} <small class="meta">{_e(s.get("description", ""))}</small></h3>')
        if not found:
            out.append('<p class="meta">No findings.</p>')
            continue
        out.append("<ul>")
        for f in found:
            sev = f.get("severity", "info")
            fix = f" <em>Fix:</em> {_e(f['fix'])}" if f.get("fix") else ""
            out.append(
                f'<li><span class="sev-{_e(sev)}">{_e(sev)}</span> <code>{_e(f.get("rule", ""))}</code> '
                f"{_e(f.get('message', ''))}{fix}</li>"
            )
        out.append("</ul>")
    return "".join(out)


def _problems(summary: Summary) -> str:
    rows = []
    for c in summary.configs:
        for seed in sorted(c.statuses):
            if c.statuses[seed] != "ok":
                rows.append(
                    f'<tr><td>{_e(c.label)}</td><td class="num">{fmt_lr(c.lr)}</td><td>{seed}</td>'
                    f"<td>{_e(c.statuses[seed])}</td><td>{_e(c.reasons.get(seed, ''))}</td></tr>"
                )
    if not rows:
        return '<p class="meta">Every trial that ran finished ok.</p>'
    return (
        "<table><tr><th>schedule</th><th>peak LR</th><th>seed</th><th>status</th><th>reason</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _meta(plan: Mapping[str, Any], n_done: int) -> str:
    """The lines under the title: task, run length, seeds, LR source, progress, versions."""
    n_planned = len({t["key"] for t in plan["trials"]})
    wall = plan.get("wall_s")
    meta = [
        f"task <b>{_e(plan.get('task_name', plan['task']))}</b>: {_e(plan.get('task_description', ''))}",
        f"{plan['steps']} updates per trial, seeds {', '.join(map(str, plan['seeds']))}, "
        f"peak LR from {_e(plan.get('lr_source', ''))}",
        f"{n_done} of {n_planned} trials finished; backend {_e(plan.get('backend', ''))}"
        + (f"; last run took {wall:.1f} s" if wall else ""),
        f"lrkit {_e(plan.get('lrkit_version', ''))}, planned {_e(plan.get('planned_at', ''))}",
    ]
    return '<p class="meta">' + "<br>".join(meta) + "</p>"


def _charts(
    plan: Mapping[str, Any],
    rows: Mapping[str, Mapping[str, Any]],
    summary: Summary,
    colors: dict[str, str],
    labels: Sequence[str],
) -> list[str]:
    """The per-seed, LR, held-out loss and training loss charts (the best peak LR per schedule)."""
    found = _best_per_label(summary)
    best = {lab: found[lab] for lab in labels if lab in found}
    return [
        "<h2>Final held-out loss per seed</h2>",
        _seed_chart(plan, summary, colors) if any(c.evals for c in summary.configs) else "",
        "<h2>Learning rate</h2>",
        _lr_chart(plan, rows, best, colors),
        "<h2>Held-out loss during training</h2>",
        _eval_chart(plan, rows, best, colors),
        "<h2>Training loss per schedule</h2>",
        _loss_grid(plan, rows, best, colors, summary),
    ]


def _finder_section(f: Mapping[str, Any]) -> list[str]:
    rng = f.get("range") or [None, None]
    rng_txt = f" (range {rng[0]:.3g} to {rng[1]:.3g})" if rng[0] and rng[1] else ""
    return [
        "<h2>LR finder</h2>",
        f"<p>Suggested peak LR <b>{f['suggestion']:.3g}</b>{rng_txt}, confidence {_e(f.get('confidence', ''))}, "
        f"stopped: {_e(f.get('stopped_reason', ''))}. Every schedule without its own LR ran at this peak.</p>",
        _finder_chart(f),
    ]


def _schedule_details(plan: Mapping[str, Any]) -> list[str]:
    """Each schedule's source, peak LRs and curve, folded."""
    out = []
    for s in plan["schedules"]:
        lrs = ", ".join(fmt_lr(x) for x in plan["lrs"].get(s["label"], []))
        body = {"schedule": s["schedule"], "controller": s.get("controller")}
        out.append(
            f"<details><summary><b>{_e(s['label'])}</b> ({_e(s.get('source', ''))}; peak LR {lrs}): "
            f"{_e(s.get('description', ''))}</summary><pre>{_e(json.dumps(body, indent=2))}</pre></details>"
        )
    return out


_RESULTS_NOTE = (
    '<p class="meta">Ranked by the final held-out loss (lower is better), mean &plusmn; sample std over seeds. '
    "&ldquo;Worse than winner&rdquo; pairs the seeds (same initial weights, same batches): the mean "
    "difference, on how many seeds the winner was better, and a two-sided paired t-test p-value. "
    "Only schedules whose every seed finished can win.</p>"
)
_LINT_NOTE = (
    '<p class="meta">What <code>lrkit.lint()</code> says about each schedule at the peak LR over this run '
    "length (the adaptive controller's scaling is not part of the curve it sees).</p>"
)
_REPRODUCE = [
    "<h2>Reproduce</h2>",
    "<p>Every step's LR and loss, the held-out metric and each trial's status are in "
    "<code>results.sqlite</code> next to this file. Re-run the same command to resume; "
    "<code>lrkit compare --report-only -o THIS_FOLDER</code> re-writes this report.</p>",
    "</body></html>",
]


def render_report(plan: Mapping[str, Any], rows: Mapping[str, Mapping[str, Any]], summary: Summary) -> str:
    """The report as one HTML string."""
    labels = [s["label"] for s in plan["schedules"]]
    colors = _colors(labels)
    v = summary.verdict
    task = _e(plan.get("task_name", plan["task"]))
    parts = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
        f"<title>lrkit compare: {task}</title><style>{_CSS}</style></head><body>",
        f"<h1>Which schedule converges best on {task}?</h1>",
        _meta(plan, len(rows)),
        f'<div class="verdict {_e(v.confidence)}"><b>Verdict</b> (confidence: {_e(v.confidence)}): '
        f"{_e(v.sentence)}</div>",
        "<h2>Results</h2>",
        _RESULTS_NOTE,
        _table(summary, colors),
    ]
    if rows:
        parts += _charts(plan, rows, summary, colors, labels)
    if plan.get("finder"):
        parts += _finder_section(plan["finder"])
    parts += [
        "<h2>Linter findings</h2>",
        _LINT_NOTE,
        _findings(plan),
        "<h2>Failed and diverged trials</h2>",
        _problems(summary),
        "<h2>Schedules</h2>",
        *_schedule_details(plan),
        *_REPRODUCE,
    ]
    return "\n".join(parts)


def write_report(
    path: str | Path, plan: Mapping[str, Any], rows: Mapping[str, Mapping[str, Any]], summary: Summary
) -> Path:
    """Write :func:`render_report` to ``path``."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(plan, rows, summary), encoding="utf-8")
    return out
