"""The `lrkit` command: show, plot, check, convert, list, through typer's runner and as real
subprocesses of the installed console script."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import lrkit
from lrkit.cli import app
from lrkit.linter.summary import SPARK_WIDTH, sparkline, summarize_config

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "src" / "lrkit" / "examples"


def _console_script() -> str:
    here = Path(sys.executable).with_name("lrkit")
    return str(here) if here.exists() else (shutil.which("lrkit") or "lrkit")


LRKIT = _console_script()

GOOD = """\
training:
  optimizer: {type: adamw, lr: 3.0e-4}
  scheduler: {type: cosine_annealing, warmup_steps: 500, total_steps: 10000, min_lr: 3.0e-5}
"""
# decays over 20000 updates but is checked for a 5000-update run: error-level finding
LONG = """\
training:
  optimizer: {type: adamw, lr: 1.0e-3}
  scheduler: {type: cosine_annealing, warmup_steps: 200, total_steps: 20000}
"""
WSD = """\
training:
  optimizer: {type: adamw, lr: 1.0e-3}
  scheduler: {type: wsd, warmup_steps: 100, total_steps: 10000, decay_steps: 300}
"""
BAD_VALUE = """\
training:
  optimizer: {type: adamw, lr: 3.0e-4}
  scheduler: {type: cosine_annealing, warmup_steps: -5, total_steps: 10000}
"""
BAD_YAML = "training:\n  optimizer: {type: adamw, lr: 3.0e-4\n  scheduler: [\n"


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def cfgs(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in {"good": GOOD, "long": LONG, "wsd": WSD, "bad_value": BAD_VALUE, "bad_yaml": BAD_YAML}.items():
        p = tmp_path / f"{name}.yaml"
        p.write_text(text)
        out[name] = p
    return out


def invoke(runner: CliRunner, *args: str, **kw):
    return runner.invoke(app, [str(a) for a in args], **kw)


def assert_one_error_line(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("lrkit: error: ")
    assert "Traceback" not in stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])


# ---------------------------------------------------------------------------------- show


def test_show_text_has_key_steps_sparkline_summary_and_findings(runner, cfgs):
    res = invoke(runner, "show", cfgs["good"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert re.search(r"^\s+0\s+6\.0000e-07\s+0\.2%\s+first update$", out, re.M)
    assert re.search(r"^\s+500\s+3\.0000e-04\s+100\.0%\s+warm-up ended, phase boundary$", out, re.M)
    assert re.search(r"^\s+9999\s+3\.0000e-05\s+10\.0%\s+last update$", out, re.M)
    spark = [line.strip() for line in out.splitlines() if line.strip() and set(line.strip()) <= set("▁▂▃▄▅▆▇█")]
    assert len(spark) == 1 and len(spark[0]) == SPARK_WIDTH
    for label in ("peak", "final", "minimum", "warm-up", ">= 90% of peak", "area"):
        assert re.search(rf"^  {re.escape(label)}\s", out, re.M), label
    assert "findings: none" in out


def test_show_notes_each_old_field_name_once_and_reads_the_same_curve(runner, tmp_path):
    # Python hides a DeprecationWarning raised for a config read by the CLI; the user must still see it
    old = tmp_path / "old.yaml"
    old.write_text("schedule:\n  type: one_cycle\n  max_value: 1.0\n  total_steps: 100\n")
    new = tmp_path / "new.yaml"
    new.write_text("schedule:\n  type: one_cycle\n  peak: 1.0\n  steps: 100\n")
    res_old = invoke(runner, "show", old, "--json")
    res_new = invoke(runner, "show", new, "--json")
    assert res_old.exit_code == 0 and res_new.exit_code == 0, res_old.output
    notes = [line for line in res_old.stderr.splitlines() if line.strip()]
    assert len(notes) == 2, res_old.stderr
    assert all(line.startswith("lrkit: note: OneCycle: field ") for line in notes)
    assert "'max_value' is now called 'peak'" in notes[0] and "'total_steps' is now called 'steps'" in notes[1]
    assert res_new.stderr.strip() == ""
    curve_old, curve_new = json.loads(res_old.stdout), json.loads(res_new.stdout)
    curve_old.pop("source"), curve_new.pop("source")
    assert curve_old == curve_new


def test_show_json_matches_the_algebra(runner, cfgs):
    res = invoke(runner, "show", cfgs["good"], "--json", "--every", "2500")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    cfg = lrkit.load_config(cfgs["good"])
    lrs = cfg.lr_schedule(np.arange(10_000))
    steps = [r["step"] for r in data["key_steps"]]
    assert steps == [0, 500, 2500, 5000, 7500, 9999]
    for row in data["key_steps"]:
        assert row["lr"] == pytest.approx(lrs[row["step"]], rel=1e-12)
    sm = data["summary"]
    assert sm["peak"] == pytest.approx(3e-4)
    assert sm["final"] == pytest.approx(lrs[-1])
    assert sm["minimum"] == pytest.approx(lrs.min())
    assert sm["warmup_steps"] == 500 and sm["warmup_fraction"] == pytest.approx(0.05)
    assert sm["area"] == pytest.approx(lrs.sum(), rel=1e-12)
    assert sm["share_at_90pct_of_peak"] == pytest.approx(np.mean(lrs >= 0.9 * 3e-4))
    assert data["findings"] == []


def test_show_total_steps_flag_and_findings(runner, cfgs):
    res = invoke(runner, "show", cfgs["long"], "--total-steps", "5000", "--json")
    assert res.exit_code == 0  # show reports, check gates
    data = json.loads(res.output)
    assert data["total_steps"] == 5000
    (f,) = [f for f in data["findings"] if f["rule"] == "decay-horizon-too-long"]
    assert f["severity"] == "error" and f["evidence"]["steps"] == [4999, 20000]
    text = invoke(runner, "show", cfgs["long"], "-n", "5000").output
    assert "error   decay-horizon-too-long" in text and "fix: " in text


def test_show_json_is_the_python_summary(runner, cfgs):
    data = json.loads(invoke(runner, "show", cfgs["wsd"], "--json").output)
    del data["findings"]
    assert summarize_config(lrkit.load_config(cfgs["wsd"]), 10_000) == data
    # the name the CLI module exported before the summary moved still works (every=None: no extra rows)
    from lrkit.commands.schedule import summarize

    old = summarize(lrkit.load_config(cfgs["wsd"]), 10_000)
    assert [r["step"] for r in old["key_steps"]] == [0, 100, 9700, 9999]


def test_show_every_zero_lists_only_key_steps(runner, cfgs):
    data = json.loads(invoke(runner, "show", cfgs["good"], "--every", "0", "--json").output)
    assert [r["step"] for r in data["key_steps"]] == [0, 500, 9999]


def test_show_reads_stdin(runner, cfgs):
    res = invoke(runner, "show", "-", "--json", input=GOOD)
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["source"] == "<stdin>"


def test_show_ignore_drops_a_rule(runner, cfgs):
    data = json.loads(invoke(runner, "show", cfgs["wsd"], "--json").output)
    assert "wsd-cooldown-too-short" in [f["rule"] for f in data["findings"]]
    data = json.loads(invoke(runner, "show", cfgs["wsd"], "--json", "--ignore", "wsd-cooldown-too-short").output)
    assert "wsd-cooldown-too-short" not in [f["rule"] for f in data["findings"]]


def test_output_does_not_depend_on_terminal_width(runner, cfgs):
    narrow = invoke(runner, "show", cfgs["wsd"], env={"COLUMNS": "40"}).output
    wide = invoke(runner, "show", cfgs["wsd"], env={"COLUMNS": "250"}).output
    assert narrow == wide
    assert any(len(line) > 40 for line in narrow.splitlines())  # long lines were not wrapped


def test_no_color_is_respected(runner, cfgs):
    colored = invoke(runner, "check", cfgs["wsd"], env={"FORCE_COLOR": "1"}).output
    plain = invoke(runner, "check", cfgs["wsd"], env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).output
    color_code = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|38;[0-9;]+)m")
    assert color_code.search(colored)
    assert not color_code.search(plain)


def test_sparkline_levels():
    steps = np.arange(800)
    ramp = (steps // 100) / 7  # eight flat bins at 0, 1/7, ..., 1
    assert sparkline(steps, ramp, 800, 1.0, width=8) == "▁▂▃▄▅▆▇█"
    steps = np.arange(100)
    line = sparkline(steps, np.ones(100), 100, 1.0, width=10)
    assert line == "█" * 10
    assert sparkline(steps, np.zeros(100), 100, 0.0, width=5) == "▁" * 5


# ---------------------------------------------------------------------------------- check


def test_check_exit_codes(runner, cfgs):
    assert invoke(runner, "check", cfgs["good"]).exit_code == 0
    assert invoke(runner, "check", cfgs["wsd"]).exit_code == 0  # warnings do not fail
    res = invoke(runner, "check", cfgs["good"], cfgs["long"], "--total-steps", "5000")
    assert res.exit_code == 1
    assert invoke(runner, "check", cfgs["long"], "-n", "5000", "--ignore", "decay-horizon-too-long").exit_code == 0
    res = invoke(runner, "check", cfgs["good"], cfgs["bad_value"])
    assert res.exit_code == 2


def test_a_misspelt_ignore_is_bad_input_not_a_silent_no_op(runner, cfgs):
    # "--ignore decay-horizon-too-lng" dropping nothing would leave the gate failing (or, for a
    # rule meant to stay, passing) for a reason the reader of the CI file cannot see
    for cmd in ("check", "show"):
        res = invoke(runner, cmd, cfgs["long"], "-n", "5000", "--ignore", "decay-horizon-too-lng")
        assert res.exit_code == 2, res.output
        assert_one_error_line(
            res.stderr, "--ignore", "'decay-horizon-too-lng'", "Did you mean 'decay-horizon-too-long'?"
        )
    # a reader's rule id (docs/configs/) is a rule id too
    assert invoke(runner, "check", cfgs["good"], "--ignore", "no-scheduler").exit_code == 0


def test_every_rule_a_reader_reports_is_in_the_catalogue():
    from lrkit.linter.catalog import READER_RULES, RULES

    src = (ROOT / "src" / "lrkit" / "config").glob("*.py")
    used = {m for p in src for m in re.findall(r'rule="([a-z0-9-]+)"', p.read_text())}
    assert used and used <= set(RULES) | set(READER_RULES), used - set(RULES) - set(READER_RULES)


def test_check_json(runner, cfgs):
    res = invoke(runner, "check", cfgs["good"], cfgs["wsd"], "--json")
    data = json.loads(res.stdout)
    assert [d["config"] for d in data] == [str(cfgs["good"]), str(cfgs["wsd"])]
    assert data[0]["findings"] == []
    (f,) = [f for f in data[1]["findings"] if f["rule"] == "wsd-cooldown-too-short"]
    assert set(f) >= {"rule", "severity", "message", "fix", "evidence"}


# ---------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("command", ["show", "check", "plot", "convert"])
def test_bad_value_is_one_line_naming_file_path_value_and_fix(runner, cfgs, command, tmp_path):
    extra = {"plot": ["-o", str(tmp_path / "x.png")], "convert": ["--to", "lrkit"]}.get(command, [])
    res = invoke(runner, command, cfgs["bad_value"], *extra)
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, str(cfgs["bad_value"]), "training.scheduler.warmup_steps", "-5", "Fix:")


def test_bad_yaml_missing_file_and_directory(runner, cfgs, tmp_path):
    res = invoke(runner, "show", cfgs["bad_yaml"])
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, str(cfgs["bad_yaml"]), "line 3")
    res = invoke(runner, "show", tmp_path / "missing.yaml")
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "missing.yaml", "Fix:")
    res = invoke(runner, "check", tmp_path)
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "directory")
    res = invoke(runner, "show", "-", input="")
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "standard input is empty")


def test_bad_flags(runner, cfgs, tmp_path):
    res = invoke(runner, "plot", cfgs["good"], "-o", tmp_path / "x.gif")
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "x.gif", ".png")
    res = invoke(runner, "convert", cfgs["good"], "--to", "hff")
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "'hff'", "Did you mean 'hf'?")
    res = invoke(runner, "show", cfgs["good"], "--total-steps", "0")
    assert res.exit_code == 2


def test_run_length_unknown_and_endless_schedule(runner, tmp_path):
    p = tmp_path / "const.yaml"
    p.write_text("training:\n  optimizer: {type: sgd, lr: 0.1}\n  scheduler: {type: constant}\n")
    res = invoke(runner, "show", p)
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "--total-steps")
    assert invoke(runner, "show", p, "-n", "100").exit_code == 0


# ---------------------------------------------------------------------------------- convert


def test_convert_to_lrkit_round_trips_the_curve(runner, cfgs, tmp_path):
    res = invoke(runner, "convert", cfgs["good"], "--to", "lrkit")
    assert res.exit_code == 0, res.output
    data = yaml.safe_load(res.stdout)
    back = lrkit.load_config(data, total_steps=10_000)
    orig = lrkit.load_config(cfgs["good"])
    steps = np.arange(12_000)
    np.testing.assert_allclose(back.lr_schedule(steps), orig.lr_schedule(steps), rtol=1e-12, atol=0)
    out = tmp_path / "out.json"
    assert invoke(runner, "convert", cfgs["good"], "--to", "lrkit", "-o", out).exit_code == 0
    assert json.loads(out.read_text()) == data


# ---------------------------------------------------------------------------------- list


def test_list_names_every_family_and_format(runner):
    from lrkit.config import FORMATS
    from lrkit.schedules import schedule_names
    from lrkit.tasks import task_names

    res = invoke(runner, "list")
    assert res.exit_code == 0
    for name in schedule_names():
        assert re.search(rf"^  {re.escape(name)}\s+\S", res.output, re.M), name
    for name in FORMATS:
        assert re.search(rf"^  {re.escape(name)}\s+\S", res.output, re.M), name
    for name in task_names():
        assert re.search(rf"^  {re.escape(name)}\s+\S", res.output, re.M), name
    data = json.loads(invoke(runner, "list", "--json").output)
    assert set(data["schedules"]) == set(schedule_names()) and set(data["formats"]) == set(FORMATS)
    assert set(data["tasks"]) == set(task_names()) and all(data["tasks"].values())
    assert data["schedules"]["cosine"].startswith("Half a cosine")


# ---------------------------------------------------------------------------------- plot


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_an_unwritable_output_is_described_as_an_output(runner, cfgs, tmp_path):
    # the reading hints ("no such file ... use - to read standard input", "give a config file")
    # are wrong for a file lrkit was asked to write
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    (tmp_path / "d.png").mkdir()
    for args in (
        ("plot", cfgs["good"], "-o", blocker / "x.png"),
        ("plot", cfgs["good"], "-o", tmp_path / "d.png"),
        ("convert", cfgs["good"], "--to", "lrkit", "-o", tmp_path),
    ):
        res = invoke(runner, *args)
        assert res.exit_code == 2, res.output
        assert_one_error_line(res.stderr, "cannot write the output here", "Fix: give a file name in a writable folder")
        assert "standard input" not in res.stderr and "config file" not in res.stderr


def test_plot_png_has_requested_size(runner, cfgs, tmp_path):
    out = tmp_path / "curves.png"
    res = invoke(runner, "plot", cfgs["good"], cfgs["wsd"], "-o", out, "--width", "640", "--height", "360")
    assert res.exit_code == 0, res.output
    assert _png_size(out) == (640, 360)


def test_plot_svg_counts_curves_and_log_axis(runner, cfgs, tmp_path):
    out = tmp_path / "curves.svg"
    res = invoke(runner, "plot", cfgs["good"], cfgs["wsd"], cfgs["long"], "-o", out, "--log", "--json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["curves"] == ["good.yaml", "wsd.yaml", "long.yaml"]
    root = ET.parse(out).getroot()
    assert root.get("width") == "576pt" and root.get("height") == "324pt"  # 800x450 px at 100 dpi
    ids = sorted(el.get("id") for el in root.iter() if (el.get("id") or "").startswith("lrkit-curve-"))
    assert ids == ["lrkit-curve-0", "lrkit-curve-1", "lrkit-curve-2"]


def test_plot_figure_curves_legend_boundaries():
    from lrkit.plot import CURVE_GID, schedule_figure

    xs = np.arange(10)
    fig = schedule_figure(
        [("a", xs, np.ones(10), [3]), ("b", xs, np.full(10, 0.5), [2, 6])], log=True, width_px=500, height_px=300
    )
    (ax,) = fig.axes
    curves = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith(CURVE_GID)]
    assert len(curves) == 2
    assert len(ax.get_lines()) == 2 + 3  # three boundary lines
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert ax.get_yscale() == "log"
    assert tuple(fig.get_size_inches() * fig.dpi) == pytest.approx((500, 300))


def test_plot_same_file_names_use_paths(runner, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "run.yaml").write_text(GOOD)
    res = invoke(
        runner, "plot", tmp_path / "a" / "run.yaml", tmp_path / "b" / "run.yaml", "-o", tmp_path / "p.svg", "--json"
    )
    labels = json.loads(res.stdout)["curves"]
    assert labels[0] != labels[1] and labels[0].endswith("a/run.yaml")


# ---------------------------------------------------------------------------------- help


def test_command_summaries_are_not_broken_mid_sentence():
    # `lrkit --help` lists each command's first paragraph; a wrapped docstring shows its newlines
    import inspect

    from lrkit.cli import app

    assert app.registered_commands
    for info in app.registered_commands:
        text = info.help if info.help is not None else inspect.getdoc(info.callback) or ""
        assert "\n" not in text.split("\n\n")[0], (info.name, text)


@pytest.mark.parametrize("command", ["show", "plot", "check", "convert", "list"])
def test_help_has_an_example(runner, command):
    res = invoke(runner, command, "--help", env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "Example" in res.output and f"lrkit {command}" in res.output


# ---------------------------------------------------------------------------------- subprocesses


def _run(*args: str, stdin: str | None = None, cwd: Path | None = None, env: dict | None = None):
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "80", **(env or {})}
    full_env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [*args], input=stdin, capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120, check=False
    )


@pytest.mark.slow
def test_console_script_exit_codes(cfgs, tmp_path):
    assert Path(LRKIT).exists() or shutil.which(LRKIT), "the lrkit console script is not installed"
    ok = _run(LRKIT, "show", str(cfgs["good"]))
    assert ok.returncode == 0 and "last update" in ok.stdout
    gate = _run(LRKIT, "check", str(cfgs["long"]), "-n", "5000")
    assert gate.returncode == 1 and "decay-horizon-too-long" in gate.stdout
    bad = _run(LRKIT, "check", str(cfgs["bad_value"]))
    assert bad.returncode == 2
    assert_one_error_line(bad.stderr, "training.scheduler.warmup_steps")
    piped = _run(LRKIT, "check", "-", "--json", stdin=GOOD)
    assert piped.returncode == 0 and json.loads(piped.stdout)[0]["config"] == "-"


_RUNNER = textwrap.dedent(
    """
    import atexit, json, sys
    def report():
        loaded = [m for m in ("torch", "evil_marker_module") if m in sys.modules]
        sys.stderr.write("\\nLOADED=" + json.dumps(loaded) + "\\n")
    atexit.register(report)
    sys.argv = ["lrkit"] + sys.argv[1:]
    from lrkit.cli import main
    main()
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["show", "check", "plot", "convert"])
def test_commands_do_not_import_torch(cfgs, tmp_path, command):
    extra = {"plot": ["-o", str(tmp_path / "p.png")], "convert": ["--to", "lrkit"]}.get(command, [])
    res = _run(sys.executable, "-c", _RUNNER, command, str(cfgs["good"]), *extra)
    loaded = json.loads(res.stderr.rsplit("LOADED=", 1)[1])
    assert "torch" not in loaded, res.stderr


@pytest.mark.slow
def test_list_names_the_tasks_without_importing_torch():
    res = _run(sys.executable, "-c", _RUNNER, "list", "--json")
    assert res.returncode == 0, res.stderr
    assert "digits" in json.loads(res.stdout)["tasks"]
    loaded = json.loads(res.stderr.rsplit("LOADED=", 1)[1])
    assert "torch" not in loaded, res.stderr


@pytest.mark.slow
def test_dotted_class_in_a_config_is_never_imported(tmp_path):
    (tmp_path / "evil_marker_module.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('IMPORTED').write_text('x')\n"
        "class Sched:\n    def __init__(self, optimizer, **kw): pass\n"
    )
    cfg = tmp_path / "rl.yaml"
    cfg.write_text(
        textwrap.dedent(
            """\
            policy:
              optimizer: {name: torch.optim.AdamW, kwargs: {lr: 1.0e-6}}
              scheduler:
                - name: torch.optim.lr_scheduler.LinearLR
                  kwargs: {start_factor: 0.1, end_factor: 1.0, total_iters: 10}
                - {name: evil_marker_module.Sched, kwargs: {}}
                - {milestones: [10]}
            grpo: {max_num_steps: 100}
            """
        )
    )
    opt = tmp_path / "opt.yaml"
    opt.write_text(
        "training:\n  optimizer: {type: evil_marker_module.Opt, lr: 1.0e-3}\n  scheduler: {type: constant}\n"
    )
    env = {"PYTHONPATH": str(tmp_path)}
    for command in (["show", str(cfg)], ["check", str(cfg)], ["show", str(opt), "-n", "10"]):
        res = _run(sys.executable, "-c", _RUNNER, *command, cwd=tmp_path, env=env)
        loaded = json.loads(res.stderr.rsplit("LOADED=", 1)[1])
        assert loaded == [], res.stderr
        assert res.returncode in (0, 1, 2) and "Traceback" not in res.stderr, res.stderr
        assert not (tmp_path / "IMPORTED").exists()


@pytest.mark.parametrize("example", ["lrkit_cosine.yaml", "nemo_rl_grpo_dtensor.yaml", "megatron_cosine.yaml"])
def test_convert_to_every_format_gives_the_same_curve_or_says_why_not(runner, example, tmp_path):
    from lrkit.config import FORMATS

    src = EXAMPLES / example
    orig = lrkit.load_config(src)
    n = orig.total_steps
    steps = np.arange(n)
    converted = 0
    for fmt in FORMATS:
        out = tmp_path / f"{fmt}.yaml"
        res = invoke(runner, "convert", src, "--to", fmt, "-o", out)
        if res.exit_code == 2:
            assert_one_error_line(res.stderr, str(src), "format", "Fix:")
            continue
        assert res.exit_code == 0, res.output
        back = lrkit.load_config(out, total_steps=n)
        assert back.format == fmt
        np.testing.assert_allclose(back.lr_schedule(steps), orig.lr_schedule(steps), rtol=1e-9, atol=1e-15)
        converted += 1
    assert converted >= 2  # lrkit's own format always, and at least one framework


# ---------------------------------------------------------------------------------- the command line's promises


@pytest.mark.parametrize(
    "args, needles",
    [
        (["show", "{good}", "--total-steps", "0"], ["--total-steps", "got '0'", "Fix:"]),
        (["show", "{good}", "-n", "-5"], ["--total-steps", "got '-5'", "Fix:"]),
        (["show", "{good}", "--total-steps", "abc"], ["--total-steps", "integer", "got 'abc'", "Fix:"]),
        (["check", "{good}", "--total-steps=0"], ["--total-steps", "got '0'"]),
        (["compare", "--seeds", "0"], ["--seeds", "got '0'", "Fix:"]),
        (["show", "{good}", "--every", "-1"], ["--every", "got '-1'"]),
        (["show", "{good}", "--bogus"], ["--bogus", "Fix:"]),
        (["show"], ["Missing argument", "Fix:"]),
        (["shwo"], ["No such command", "show", "Fix:"]),
    ],
)
def test_a_bad_flag_value_is_one_error_line_with_exit_2(runner, cfgs, args, needles):
    res = invoke(runner, *[a.format(good=cfgs["good"]) for a in args])
    assert res.exit_code == 2, res.output
    assert_one_error_line(res.stderr, *needles)
    assert "╭" not in res.output and "Usage:" not in res.output  # not typer's boxed usage error


def test_an_error_names_the_file_once(runner, tmp_path):
    # readers put the file in their messages (the Python API has no other place for it); the
    # command line names it once, before the field
    odd = tmp_path / "odd.yaml"
    odd.write_text("foo: 1\nbar: 2\n")
    script = tmp_path / "run.sh"
    script.write_text('#!/bin/bash\nsbatch --wrap="llamafactory-cli train x.yaml"\n')
    for path, field in ((odd, "format"), (script, "script")):
        res = invoke(runner, "show", str(path))
        assert res.exit_code == 2, res.output
        assert_one_error_line(res.stderr, field)
        assert res.stderr.count(str(path)) == 1 and f"{path}: {field}: " in res.stderr, res.stderr


@pytest.mark.slow
def test_a_bad_flag_value_through_the_console_script(cfgs):
    res = _run(LRKIT, "show", str(cfgs["good"]), "-n", "-5")
    assert res.returncode == 2
    assert_one_error_line(res.stderr, "--total-steps", "-5")


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag(runner, flag):
    res = invoke(runner, flag)
    assert res.exit_code == 0
    assert res.output.strip() == f"lrkit {lrkit.__version__}"
    assert invoke(runner, "version").output.strip() == lrkit.__version__


@pytest.mark.parametrize("args", [["-h"], ["show", "-h"], ["convert", "-h"]])
def test_dash_h_is_help(runner, args):
    res = invoke(runner, *args)
    assert res.exit_code == 0 and "Usage:" in res.output


def _all_commands() -> list[str]:
    import typer.main

    return sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", [None, *_all_commands()])
def test_help_never_shows_a_type_after_a_switch(runner, command):
    res = invoke(runner, *([command] if command else []), "--help", env={"COLUMNS": "200"})
    assert res.exit_code == 0
    assert "<bool>" not in res.output
    assert "--help" in res.output


@pytest.mark.parametrize("command", ["demo", "version", "find", "diagnose", "compare"])
def test_every_other_command_has_an_example_too(runner, command):
    res = invoke(runner, command, "--help", env={"COLUMNS": "200"})
    assert "Example" in res.output and f"lrkit {command}" in res.output


def test_a_toml_file_is_said_to_be_unread(runner, tmp_path):
    p = tmp_path / "run.toml"
    p.write_text('[training.optimizer]\ntype = "adamw"\nlr = 3e-4\n')
    for command in ("show", "check", "convert"):
        extra = ["--to", "lrkit"] if command == "convert" else []
        res = invoke(runner, command, p, *extra)
        assert res.exit_code == 2
        assert_one_error_line(res.stderr, "run.toml", "TOML is not read", "YAML")


def test_cli_md_lists_every_command():
    text = (ROOT / "docs" / "cli.md").read_text()
    missing = [c for c in _all_commands() if f"`lrkit {c}" not in text]
    assert not missing


@pytest.mark.slow
def test_piped_output_has_a_fixed_width_whatever_columns_says(cfgs):
    """Not a terminal: the same bytes for any $COLUMNS (tables included: `list`)."""
    for args in (["list"], ["show", str(cfgs["wsd"])], ["check", str(cfgs["long"]), "-n", "5000"]):
        narrow = _run(LRKIT, *args, env={"COLUMNS": "30"})
        wide = _run(LRKIT, *args, env={"COLUMNS": "300"})
        assert narrow.stdout == wide.stdout and narrow.stdout, args


# ---------------------------------------------------------------------------------- convert over the run


@pytest.mark.parametrize("to", ["megatron", "nemo_rl_megatron"])
def test_nemo_rl_warmup_cosine_converts_to_megatron_and_says_it_matches_over_the_run(runner, tmp_path, to):
    src = EXAMPLES / "nemo_rl_grpo_dtensor.yaml"
    res = invoke(runner, "convert", src, "--to", to)
    assert res.exit_code == 0, res.stderr
    assert "same LR on each of the run's 500 updates" in res.stderr and "after the run" in res.stderr
    out = tmp_path / "m.yaml"
    out.write_text(res.stdout)
    data = yaml.safe_load(res.stdout)
    sched = data if to == "megatron" else data["policy"]["megatron_cfg"]["scheduler"]
    assert sched["lr_decay_style"] == "cosine" and sched["lr_warmup_iters"] == 50 and sched["lr_decay_iters"] == 500
    a, b = lrkit.load_config(src), lrkit.load_config(out)
    steps = np.arange(500)
    assert np.allclose(a.lr_schedule(steps), b.lr_schedule(steps), rtol=1e-12, atol=0)
    check = invoke(runner, "check", out)
    assert check.exit_code == 0 and "none" in check.stdout


def test_a_refused_conversion_speaks_the_formats_words(runner):
    res = invoke(runner, "convert", EXAMPLES / "flawed_nemo_rl_tmax.yaml", "--to", "megatron")
    assert res.exit_code == 2
    assert_one_error_line(res.stderr, "CosineAnnealingLR (T_max=200", "Megatron", "Fix:")
    for internal in ("Sequence", "(sequence)", "PeriodicCosine", "periodic_cosine"):
        assert internal not in res.stderr


def test_convert_to_deepspeed_prints_the_json_deepspeed_reads(runner):
    res = invoke(runner, "convert", EXAMPLES / "deepspeed_warmup_decay.json", "--to", "deepspeed")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["scheduler"]["type"] == "WarmupDecayLR"
    back = lrkit.load_config(data)
    orig = lrkit.load_config(EXAMPLES / "deepspeed_warmup_decay.json")
    steps = np.arange(6_000)
    np.testing.assert_allclose(back.lr_schedule(steps), orig.lr_schedule(steps), rtol=1e-12, atol=0)


def test_convert_to_lrkit_writes_the_simplest_config(runner):
    grpo = yaml.safe_load(invoke(runner, "convert", EXAMPLES / "nemo_rl_grpo_dtensor.yaml", "--to", "lrkit").stdout)
    text = yaml.safe_dump(grpo)
    assert "periodic_cosine" not in text and "0.09999" not in text and ".0\n" not in text.replace("1.0\n", "")
    pieces = grpo["training"]["scheduler"]["schedule"]["pieces"]
    assert pieces[1] == {"type": "cosine", "steps": 450, "end": 0.1}
    native = yaml.safe_load(invoke(runner, "convert", EXAMPLES / "lrkit_cosine.yaml", "--to", "lrkit").stdout)
    assert native["training"]["scheduler"] == {
        "type": "cosine_annealing",
        "total_steps": 100000,
        "min_lr": 1e-06,
        "warmup_steps": 1000,
    }
    # a torch cosine that climbs back inside the run stays what it is
    flawed = invoke(runner, "convert", EXAMPLES / "flawed_nemo_rl_tmax.yaml", "--to", "lrkit").stdout
    assert "periodic_cosine" in flawed


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    """`lrkit demo` as documented, shortened with --steps (the docs test only parses it)."""
    res = _run(LRKIT, "demo", "--steps", "5", "--workers", "0", "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert (tmp_path / "out" / "report.html").exists() and "report.html" in res.stdout
