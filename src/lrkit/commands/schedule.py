"""``lrkit show | plot | check | convert | list``: see, check and convert any schedule config.

Every command resolves a config through :mod:`lrkit.config` (any supported format, ``-`` for
standard input), asks the schedule algebra for the curve and the linter for findings. None of
them imports torch or a class named in the file. Exit codes: 0 fine, 1 an error-level finding
(``check``), 2 bad input (one line on stderr naming the file, the config path, the value and the
fix).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.text import Text

from lrkit.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_FINDINGS,
    BadInput,
    bad_input,
    error_line,
    out_console,
    read_config,
    reflow_help,
)
from lrkit.findings import Finding
from lrkit.plot import IMAGE_SUFFIXES

__all__ = ["register", "summarize"]

#: points per curve in a plot (plus every phase boundary and its neighbours)
_PLOT_POINTS = 4000
#: a curve with more phase boundaries than this gets none marked
_PLOT_MAX_BOUNDARIES = 24

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}

TotalSteps = Annotated[
    int | None,
    typer.Option("--total-steps", "-n", min=1, help="Run length in optimizer updates (overrides the config's own)."),
]
Format = Annotated[
    str | None,
    typer.Option("--format", "-f", help="Read the config as this format instead of detecting it (see `lrkit list`)."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        help="KEY=VALUE (repeatable): a value the config leaves open or that you want to try: a dotted key "
        "(policy.optimizer.kwargs.lr=1e-5), a name the file refers to (${DATA_PATH}, ${oc.env:HF_HOME}), or in "
        "a shell script / argument list a shell variable (GBS=512) or a Megatron argument (lr=3e-4).",
    ),
]
Ignore = Annotated[
    list[str] | None,
    typer.Option("--ignore", help="Drop findings of this rule id (repeatable), e.g. --ignore no-warmup."),
]


# --------------------------------------------------------------------------------------------
# analysis shared by show / check / plot
# --------------------------------------------------------------------------------------------


def _run_length(cfg: Any, total_steps: int | None, source: str) -> int:
    n = total_steps if total_steps is not None else cfg.total_steps
    if n is None:
        horizon = cfg.schedule.horizon
        if horizon is not None and horizon >= 1:
            return math.ceil(horizon)
        raise BadInput(
            f"{source}: the config does not say how long the run is and its schedule never ends. "
            "Fix: pass the run length with --total-steps N."
        )
    return int(n)


def _is_arg_list(tokens: Sequence[str]) -> bool:
    """``lrkit show -- --lr 3e-4 ...``: Megatron arguments instead of a file."""
    return bool(tokens) and tokens[0].startswith("--")


def _read(source: str | Sequence[str], total_steps: int | None, fmt: str | None, sets: Sequence[str] | None) -> Any:
    from lrkit import config as config_mod

    if not isinstance(source, str):
        # load_config takes a Megatron argument list (its docstring says so; its annotation does not yet)
        return config_mod.load_config(list(source), total_steps=total_steps, overrides=list(sets or ()))  # type: ignore[arg-type]
    if not sets:
        return read_config(source, total_steps=total_steps, format=fmt)
    if source == "-":
        import sys

        text = sys.stdin.read()
        if not text.strip():
            raise BadInput("standard input is empty. Fix: pipe a config in, e.g. cat run.yaml | lrkit show -")
        return config_mod.load_config_text(
            text, total_steps=total_steps, format=fmt, name="<stdin>", overrides=list(sets)
        )
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", source)
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", source)
    return config_mod.load_config(path, total_steps=total_steps, format=fmt, overrides=list(sets))


def _load(
    source: str | Sequence[str], total_steps: int | None, fmt: str | None, sets: Sequence[str] | None = None
) -> tuple[Any, int]:
    name = source if isinstance(source, str) else "<args>"
    with bad_input(name):
        cfg = _read(source, total_steps, fmt, sets)
        return cfg, _run_length(cfg, total_steps, name)


def _sources(tokens: Sequence[str], *, single: bool) -> list[str | list[str]]:
    """Config files, or one Megatron argument list (after ``--``)."""
    if _is_arg_list(tokens):
        return [list(tokens)]
    if single and len(tokens) != 1:
        error_line(
            f"expected one config file, got {len(tokens)} ({' '.join(tokens[:3])}{' ...' if len(tokens) > 3 else ''}). "
            "Fix: give one file (lrkit check takes several), or Megatron arguments after --: "
            "lrkit show -- --lr 3e-4 ..."
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    return list(tokens)


def _check_ignore(ignore: Sequence[str] | None) -> None:
    """A misspelt ``--ignore`` would silently drop nothing (and let a CI gate pass or fail for the
    wrong reason): every id must be a linter or reader rule."""
    from lrkit.errors import did_you_mean
    from lrkit.linter.catalog import READER_RULES, RULES

    known = [*RULES, *READER_RULES]
    for rule in ignore or ():
        if rule not in known:
            error_line(
                f"--ignore: unknown rule id {rule!r}.{did_you_mean(rule, known)} "
                "Fix: use a rule id from docs/lint.md (or a finding's 'rule' field)."
            )
            raise typer.Exit(EXIT_BAD_INPUT)


def _lint(cfg: Any, n: int, ignore: Sequence[str] | None) -> list[Finding]:
    from lrkit.linter import lint

    drop = set(ignore or ())
    return [f for f in lint(cfg, total_steps=n) if f.rule not in drop]


def summarize(cfg: Any, total: int, *, every: int | None = None) -> dict[str, Any]:
    """Kept for callers of the old name: :func:`lrkit.linter.summary.summarize_config`, except that
    ``every=None`` here lists no extra steps (as it always did)."""
    from lrkit.linter.summary import summarize_config

    return summarize_config(cfg, total, every=0 if every is None else every)


def __getattr__(name: str) -> Any:
    # the summary's helpers moved to lrkit.linter.summary; loaded on use so the CLI starts without the linter
    if name in ("key_steps", "sparkline", "SPARK_WIDTH"):
        from lrkit.linter import summary

        return getattr(summary, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------


def _lr(x: float) -> str:
    return f"{x:.4e}"


def _finding_text(f: Finding, indent: str = "  ") -> list[Text]:
    head = Text(indent)
    head.append(f"{f.severity:<7}", style=_STYLE.get(f.severity, ""))
    head.append(f" {f.rule}: ", style="bold")
    head.append(f.message)
    if f.source:
        head.append(f" [{f.source}]", style="dim")
    lines = [head]
    if f.fix:
        fix = Text(indent + " " * 8)
        fix.append("fix: ", style="green")
        fix.append(f.fix)
        lines.append(fix)
    if f.evidence:
        ev = Text(indent + " " * 8, style="dim")
        ev.append("evidence: " + json.dumps(f.evidence, sort_keys=True, default=str))
        lines.append(ev)
    return lines


def _counts(findings: Sequence[Finding]) -> str:
    parts = []
    for sev in ("error", "warning", "info"):
        k = sum(f.severity == sev for f in findings)
        if k:
            parts.append(f"{k} {sev}{'s' if k != 1 else ''}")
    return ", ".join(parts) if parts else "none"


def _print_show(report: dict[str, Any], findings: Sequence[Finding]) -> None:
    from lrkit.linter.summary import SPARK_WIDTH

    out = out_console()
    sm = report["summary"]
    out.print(Text(f"{report['source']}", style="bold"))
    out.print(
        f"format {report['format']} | {report['total_steps']} updates | base LR {report['peak_lr']:.4g}",
        markup=False,
    )
    out.print()
    out.print(Text(f"{'step':>10}  {'lr':>10}  {'% peak':>7}  note", style="bold"))
    for row in report["key_steps"]:
        pct = 100 * row["fraction_of_peak"]
        line = f"{row['step']:>10}  {_lr(row['lr']):>10}  {pct:>6.1f}%  {', '.join(row['notes'])}"
        out.print(line.rstrip(), markup=False)
    if report["boundaries_not_listed"]:
        hidden = report["boundaries_not_listed"]
        out.print(f"{'':>10}  ({hidden} phase boundaries, too many to list)", markup=False)
    out.print()
    out.print(f"  {report['sparkline']}", markup=False)
    last = str(report["total_steps"] - 1)
    out.print(f"  step 0{last:>{SPARK_WIDTH - 6}}", markup=False)
    out.print()
    horizon = "none (keeps moving)" if sm["horizon"] is None else f"step {sm['horizon']:g}"
    if sm["horizon"] is None and sm["declared_horizon"] is not None:
        horizon += f"; the config declares step {sm['declared_horizon']:g}"
    figures = [
        ("peak", f"{_lr(sm['peak'])} at step {sm['peak_step']}"),
        ("final", f"{_lr(sm['final'])} ({100 * sm['final'] / sm['peak'] if sm['peak'] else 0:.1f}% of peak)"),
        ("minimum", f"{_lr(sm['minimum'])} at step {sm['minimum_step']}"),
        ("warm-up", f"{sm['warmup_steps']} updates ({100 * sm['warmup_fraction']:.1f}% of the run)"),
        (">= 90% of peak", f"{100 * sm['share_at_90pct_of_peak']:.1f}% of the run"),
        ("area", f"{sm['area']:.6g} (sum of the LR over {report['total_steps']} updates; mean {sm['mean_lr']:.4e})"),
        ("schedule ends", horizon),
    ]
    for name, value in figures:
        out.print(f"  {name:<15} {value}", markup=False)
    out.print()
    out.print(Text(f"findings: {_counts(findings)}", style="bold"))
    for f in findings:
        for text in _finding_text(f):
            out.print(text)


# --------------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------------


def show(
    config: Annotated[
        list[str],
        typer.Argument(
            help="Config file (any supported format; a shell script that launches Megatron-LM), - for standard "
            "input, or Megatron arguments after --.",
            metavar="CONFIG",
        ),
    ],
    total_steps: TotalSteps = None,
    every: Annotated[
        int | None,
        typer.Option(
            "--every", "-e", min=0, help="Also list every K-th step (default: about a tenth of the run; 0: none)."
        ),
    ] = None,
    fmt: Format = None,
    ignore: Ignore = None,
    sets: Sets = None,
    as_json: JsonFlag = False,
) -> None:
    """Show the LR a config produces: key steps, a sparkline, summary figures and the linter's
    findings.

    Key steps are the first update, the end of the warm-up, every phase boundary, every K-th step
    and the last update. Step k means k optimizer updates already taken; the area is the sum of
    the LR over the run's updates.

    Example:

        lrkit show src/lrkit/examples/lrkit_cosine.yaml --total-steps 20000 --every 2000

        lrkit show -- --lr 3e-4 --min-lr 3e-5 --lr-decay-style cosine --lr-warmup-iters 100 --train-iters 2000
    """
    _check_ignore(ignore)
    (source,) = _sources(config, single=True)
    cfg, n = _load(source, total_steps, fmt, sets)
    config_name = source if isinstance(source, str) else "<args>"
    with bad_input(config_name):
        from lrkit.linter.summary import summarize_config

        report = summarize_config(cfg, n, every=every)
        findings = _lint(cfg, n, ignore)
    if as_json:
        report["findings"] = [f.to_dict() for f in findings]
        typer.echo(json.dumps(report, indent=2, sort_keys=False))
        return
    _print_show(report, findings)


def check(
    configs: Annotated[
        list[str],
        typer.Argument(
            help="Config files (any supported format), - for standard input, or Megatron arguments after --.",
            metavar="CONFIGS...",
        ),
    ],
    total_steps: TotalSteps = None,
    fmt: Format = None,
    ignore: Ignore = None,
    sets: Sets = None,
    as_json: JsonFlag = False,
) -> None:
    """Lint configs: every finding with its severity, the steps and values behind it, and the fix.

    Exit code 1 when any config has an error-level finding (so it can gate a CI pipeline), 2 when
    a config cannot be read, 0 otherwise. Rules are listed in docs/lint.md.

    Example:

        lrkit check src/lrkit/examples/*.yaml --ignore no-warmup
    """
    _check_ignore(ignore)
    results: list[dict[str, Any]] = []
    worst = 0
    out = out_console()
    for item in _sources(configs, single=False):
        source = item if isinstance(item, str) else "<args>"
        try:
            cfg, n = _load(item, total_steps, fmt, sets)
            with bad_input(source):
                findings = _lint(cfg, n, ignore)
        except typer.Exit:
            worst = EXIT_BAD_INPUT
            results.append({"config": source, "error": "bad input (see stderr)", "findings": []})
            continue
        if any(f.severity == "error" for f in findings) and worst < EXIT_FINDINGS:
            worst = EXIT_FINDINGS
        results.append(
            {
                "config": source,
                "format": cfg.format,
                "total_steps": n,
                "findings": [f.to_dict() for f in findings],
            }
        )
        if not as_json:
            out.print(Text(f"{source} ({cfg.format}, {n} updates): {_counts(findings)}", style="bold"))
            for f in findings:
                for line in _finding_text(f):
                    out.print(line)
    if as_json:
        typer.echo(json.dumps(results, indent=2))
    if worst:
        raise typer.Exit(worst)


def convert(
    config: Annotated[str, typer.Argument(help="Config file (any supported format), or - for standard input.")],
    to: Annotated[str, typer.Option("--to", "-t", help="Target format (see `lrkit list`).")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write here (.json, or --to deepspeed, gives JSON, else YAML); default stdout."
        ),
    ] = None,
    total_steps: TotalSteps = None,
    fmt: Format = None,
    sets: Sets = None,
    as_json: JsonFlag = False,
) -> None:
    """Convert a config to another format that gives the same curve (a DeepSpeed config is
    written as JSON, the form DeepSpeed reads).

    The same LR on every update of the run; where the two differ only after the run (torch's cosine
    climbs back past T_max, Megatron holds min_lr) a note says so, on stderr and as a comment at the
    top of the YAML. Fails with exit code 2 and the reason when the target format cannot express the
    schedule over the run.

    Example:

        lrkit convert src/lrkit/examples/megatron_cosine.yaml --to nemo_rl_megatron -o recipe.yaml
    """
    import yaml

    from lrkit import config as config_mod
    from lrkit.errors import did_you_mean

    if to not in config_mod.FORMATS:
        error_line(
            f"--to: unknown format {to!r}.{did_you_mean(to, config_mod.FORMATS)} "
            f"Fix: use one of: {', '.join(config_mod.FORMATS)}."
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    cfg, n = _load(config, total_steps, fmt, sets)
    with bad_input(config):
        try:
            data = config_mod.to_config(cfg, to, total_steps=n)
        except ModuleNotFoundError as err:
            if not (err.name or "").startswith("lrkit."):
                raise
            raise BadInput(f"converting to {to!r} is not available in this build ({err.name} is missing).") from None
    as_json = as_json or to == "deepspeed" or (output is not None and output.suffix.lower() == ".json")
    text = json.dumps(data, indent=2) + "\n" if as_json else yaml.safe_dump(data, sort_keys=False)
    differs = _differs_after_run(cfg, data, to, n or cfg.total_steps)
    if differs is not None:
        note = (
            f"the {to} config gives the same LR on each of the run's {differs[0]} updates; after the run the curves "
            f"differ (step {differs[1]}: {differs[2]:.10g} in {config}, {differs[3]:.10g} in the {to} config)."
        )
        from lrkit.commands.common import err_console

        err_console().print(f"lrkit: note: {note}", markup=False)
        if not as_json:
            text = f"# lrkit convert: {note}\n{text}"
    if output is None:
        typer.echo(text, nl=False)
        return
    with bad_input(str(output), writing=True):
        output.write_text(text, encoding="utf-8")


def _differs_after_run(cfg: Any, data: Any, fmt: str, n: int | None) -> tuple[int, int, float, float] | None:
    """``(n, step, source LR, converted LR)`` at the first step after the run where the converted
    config's curve leaves the source's (checked to twice the run), or ``None`` when they agree."""
    from lrkit import config as config_mod
    from lrkit.errors import ConfigError

    if n is None:
        return None
    try:
        back = config_mod.load_config(data, format=fmt, total_steps=n)
    except ConfigError:  # the round trip is the exporter's tests' business; no note then
        return None
    steps = np.arange(n, 2 * n + 2)
    a, b = np.asarray(cfg.lr_schedule(steps), dtype=float), np.asarray(back.lr_schedule(steps), dtype=float)
    off = np.abs(a - b) > 1e-9 * max(float(np.max(np.abs(a))), 1e-300)
    if not off.any():
        return None
    i = int(np.argmax(off))
    return n, int(steps[i]), float(a[i]), float(b[i])


def plot(
    configs: Annotated[
        list[str],
        typer.Argument(
            help="Config files to overlay (any supported format; - for stdin), or Megatron arguments after --.",
            metavar="CONFIGS...",
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Image file: .png, .svg or .pdf.")],
    total_steps: TotalSteps = None,
    log: Annotated[bool, typer.Option("--log", help="Logarithmic LR axis.")] = False,
    width: Annotated[int, typer.Option("--width", min=100, help="Image width in pixels.")] = 800,
    height: Annotated[int, typer.Option("--height", min=100, help="Image height in pixels.")] = 450,
    title: Annotated[str | None, typer.Option("--title", help="Title above the plot.")] = None,
    fmt: Format = None,
    sets: Sets = None,
    as_json: JsonFlag = False,
) -> None:
    """Plot one or several configs' LR curves overlaid, with a legend and their phase boundaries
    (dotted).

    Example:

        lrkit plot src/lrkit/examples/nemo_rl_*.yaml -o curves.svg --log
    """
    suffix = output.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        error_line(
            f"--output: {output}: unsupported image type {suffix or '(none)'!r}. "
            "Fix: end the name in .png, .svg or .pdf."
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    if configs.count("-") > 1:
        error_line("- (standard input) can be given only once. Fix: save the other configs to files.")
        raise typer.Exit(EXIT_BAD_INPUT)
    from lrkit.linter import evaluate_curve
    from lrkit.plot import save_figure, schedule_figure

    series: list[tuple[str, Any, Any, list[int]]] = []  # steps and LRs as numpy arrays
    items = _sources(configs, single=False)
    names = ["<args>" if not isinstance(c, str) else "<stdin>" if c == "-" else Path(c).name for c in items]
    for source, name in zip(items, names, strict=True):
        cfg, n = _load(source, total_steps, fmt, sets)
        with bad_input(name):
            bounds = [b for b in cfg.schedule.phase_starts(n - 1) if 0 < b < n]
            curve = evaluate_curve(
                cfg.schedule, total=n, scale=float(cfg.peak_lr), extra=bounds[:10_000], max_points=_PLOT_POINTS
            )
        label = source if names.count(name) > 1 and isinstance(source, str) else name
        # a periodic curve has a boundary every half period: marking hundreds hides the curves
        series.append((label, curve.steps, curve.values, bounds if len(bounds) <= _PLOT_MAX_BOUNDARIES else []))
    fig = schedule_figure(series, log=log, width_px=width, height_px=height, title=title)
    with bad_input(str(output), writing=True):
        save_figure(fig, output, dpi=100)
    if as_json:
        info = {"output": str(output), "curves": [s[0] for s in series], "width": width, "height": height}
        typer.echo(json.dumps(info))
    else:
        curves = f"{len(series)} curve{'s' if len(series) != 1 else ''}"
        out_console().print(f"wrote {output} ({curves}, {width}x{height})", markup=False)


def _first_sentence(doc: str | None) -> str:
    """The docstring's first paragraph on one line, without reST literal quotes."""
    para = (doc or "").strip().split("\n\n")[0]
    return " ".join(para.split()).replace("``", "")


def list_known(as_json: JsonFlag = False) -> None:
    """List the schedule families, the config formats and the embedded tasks lrkit knows, one line each.

    Example:

        lrkit list --json
    """
    from lrkit.schedules import get_schedule_class, schedule_names

    families = {}
    for name in schedule_names():
        families[name] = _first_sentence(get_schedule_class(name).__doc__)
    try:
        from lrkit.config import FORMATS

        formats = dict(FORMATS)
    except ModuleNotFoundError as err:  # config readers not installed in this build
        if err.name not in ("lrkit.config",):
            raise
        formats = {}
    from lrkit.tasks import describe_tasks  # names and lines only: no torch

    tasks = describe_tasks()
    if as_json:
        typer.echo(json.dumps({"schedules": families, "formats": formats, "tasks": tasks}, indent=2))
        return
    out = out_console()
    out.print(Text("schedule families (type: in a schedule dict)", style="bold"))
    width = max(map(len, families), default=0)
    for name, line in families.items():
        out.print(f"  {name:<{width}}  {line}", markup=False)
    out.print()
    out.print(Text("config formats (--format / convert --to)", style="bold"))
    width = max(map(len, formats), default=0)
    for name, line in formats.items():
        out.print(f"  {name:<{width}}  {line}", markup=False)
    out.print()
    out.print(Text("embedded tasks (compare --task / find --task)", style="bold"))
    width = max(map(len, tasks), default=0)
    for name, line in tasks.items():
        out.print(f"  {name:<{width}}  {line}", markup=False)


def register(app: typer.Typer) -> None:
    """Add show, plot, check, convert and list to the ``lrkit`` app."""
    for name, fn in (("show", show), ("plot", plot), ("check", check), ("convert", convert), ("list", list_known)):
        app.command(name, help=reflow_help(fn))(fn)
