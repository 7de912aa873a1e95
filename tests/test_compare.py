"""lrkit compare: schedule specs, the trial runner, the store and resume, stats, report, CLI."""

from __future__ import annotations

import math
import re
import sqlite3
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lrkit.cli import app
from lrkit.compare import core
from lrkit.compare.backends import Backend, InlineBackend, LocalBackend, make_backend
from lrkit.compare.core import report_comparison, run_comparison
from lrkit.compare.runner import run_trial
from lrkit.compare.spec import (
    DEFAULT_SCHEDULES,
    PRESETS,
    TrialSpec,
    build_trials,
    parse_schedule,
    parse_schedules,
    preset,
)
from lrkit.compare.stats import summarize
from lrkit.compare.store import ResultStore
from lrkit.errors import ConfigError
from lrkit.schedules import from_dict

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "lrkit" / "examples"


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


# -- a tiny user task, fast enough for many trials -------------------------------------------

USER_TASK = textwrap.dedent(
    """
    import torch
    from lrkit.tasks import Task

    def _batches(seed):
        g = torch.Generator().manual_seed(seed)
        w = torch.tensor([[1.0], [-2.0], [0.5]])
        while True:
            x = torch.randn(32, 3, generator=g)
            yield x, x @ w + 0.1 * torch.randn(32, 1, generator=g)

    _HELD = next(_batches(12345))

    def _model(seed):
        torch.manual_seed(seed)
        return torch.nn.Linear(3, 1)

    def _loss(m, b):
        return torch.nn.functional.mse_loss(m(b[0]), b[1])

    def make_task():
        return Task(
            name="toy", description="linear regression",
            make_model=_model,
            make_optimizer=lambda m, lr: torch.optim.SGD(m.parameters(), lr=lr),
            batches=_batches, loss_fn=_loss,
            evaluate=lambda m: float(_loss(m, _HELD).detach()),
            default_steps=30,
        )

    def make_failing_task():
        base = make_task()
        def loss(m, b, _n=[0]):
            _n[0] += 1
            if _n[0] > 3:
                raise RuntimeError("data loader broke")
            return _loss(m, b)
        from dataclasses import replace
        return replace(base, loss_fn=loss)

    def wrong():
        return 42
    """
)


@pytest.fixture
def toy(tmp_path, monkeypatch):
    (tmp_path / "lrkit_toy_task.py").write_text(USER_TASK)
    monkeypatch.syspath_prepend(str(tmp_path))
    from lrkit.tasks import resolve_task

    resolve_task.cache_clear()
    yield "lrkit_toy_task:make_task"
    sys.modules.pop("lrkit_toy_task", None)
    resolve_task.cache_clear()


# -- schedule specs ---------------------------------------------------------------------------


def test_default_set_is_the_guides_schedules_plus_wsd_and_constant():
    assert DEFAULT_SCHEDULES == ("linear", "cosine", "step", "cyclic", "adaptive", "wsd", "constant")
    specs = parse_schedules(None, 200)
    assert [s.label for s in specs] == list(DEFAULT_SCHEDULES)
    adaptive = next(s for s in specs if s.label == "adaptive")
    assert adaptive.controller is not None and adaptive.controller["type"] == "adaptive"
    assert all(s.controller is None for s in specs if s.label != "adaptive")


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(PRESETS)), total=st.integers(min_value=1, max_value=5000))
def test_presets_are_factor_curves_that_never_train_at_zero_first(name, total):
    sched = from_dict(preset(name, total).schedule)
    values = sched(np.arange(total))
    assert np.all(values >= 0) and np.all(values <= 1.0 + 1e-12)
    assert values[0] > 0  # lrkit's warm-up never wastes the first update
    if name in ("linear", "cosine", "wsd"):
        assert values.max() == pytest.approx(1.0)
        assert sched(total) == pytest.approx(0.0, abs=1e-12)  # decayed exactly at the end of the run


def test_aliases_labels_and_unknown_names():
    assert parse_schedule("cosine_warmup", 100).label == "cosine"
    assert parse_schedule("mine=wsd", 100).label == "mine"
    with pytest.raises(ConfigError) as err:
        parse_schedule("cosin", 100)
    assert "Did you mean 'cosine'" in str(err.value)
    with pytest.raises(ConfigError, match="no such config file"):
        parse_schedule("nothere/run.yaml", 100)


@pytest.mark.parametrize("bad", [5, None, ["cosine"]])
def test_a_schedule_of_another_type_is_named_not_called_empty(bad):
    with pytest.raises(ConfigError, match="must be a string") as err:
        parse_schedule(bad, 100)
    assert err.value.field == "schedule" and type(bad).__name__ in str(err.value)
    with pytest.raises(ConfigError, match="empty"):
        parse_schedule("  ", 100)


def test_duplicate_labels_are_made_unique():
    labels = [s.label for s in parse_schedules(["cosine", "cosine"], 100)]
    assert labels == ["cosine", "cosine#2"]


def test_inline_schedule_with_controller():
    spec = parse_schedule("{type: cosine, steps: 50, controller: {type: plateau, patience: 3}}", 50)
    assert spec.label == "cosine" and spec.schedule["steps"] == 50
    assert spec.controller["type"] == "plateau"
    with pytest.raises(ConfigError):
        parse_schedule("{type: cosinus}", 50)
    with pytest.raises(ConfigError, match="mapping"):
        parse_schedule("{[}", 50)


def test_config_file_brings_its_peak_lr_findings_and_context():
    spec = parse_schedule(str(EXAMPLES / "flawed_decay_horizon.yaml"), 300)
    assert spec.label == "flawed_decay_horizon"
    assert spec.peak_lr == pytest.approx(3e-4)
    assert spec.context.get("declared_horizon") == 100000


def test_trial_key_ignores_the_label_and_tracks_everything_else():
    s = preset("cosine", 50)
    a = TrialSpec("digits", "a", s.schedule, None, 0.1, 0, 50)
    b = TrialSpec("digits", "b", s.schedule, None, 0.1, 0, 50)
    assert a.key() == b.key()
    assert (
        len(
            {
                a.key(),
                TrialSpec("digits", "a", s.schedule, None, 0.2, 0, 50).key(),
                TrialSpec("digits", "a", s.schedule, None, 0.1, 1, 50).key(),
                TrialSpec("charlm", "a", s.schedule, None, 0.1, 0, 50).key(),
            }
        )
        == 4
    )


def test_build_trials_is_seed_major_grid():
    specs = parse_schedules(["cosine", "constant"], 20)
    trials = build_trials("digits", specs, {"cosine": [0.1, 0.2], "constant": [0.1]}, range(2), 20)
    assert len(trials) == 2 * 3
    assert [t.seed for t in trials] == [0, 0, 0, 1, 1, 1]


# -- the trial runner ---------------------------------------------------------------------------


def test_runner_applies_the_schedule_through_lrkit_scheduler(toy):
    spec = preset("cosine", 30)
    res = run_trial(TrialSpec(toy, "cosine", spec.schedule, None, 0.05, 0, 30))
    assert res["status"] == "ok" and res["steps_done"] == 30
    expected = 0.05 * from_dict(spec.schedule)(np.arange(30))
    np.testing.assert_allclose(res["lrs"], expected, rtol=1e-12)
    assert res["losses"][-1] < res["losses"][0]
    assert res["evals"][-1][0] == 30 and res["eval"] == res["evals"][-1][1]


def test_same_seed_same_curve_other_seed_differs(toy):
    spec = preset("wsd", 25).schedule
    a = run_trial(TrialSpec(toy, "x", spec, None, 0.05, 3, 25))
    b = run_trial(TrialSpec(toy, "x", spec, None, 0.05, 3, 25))
    c = run_trial(TrialSpec(toy, "x", spec, None, 0.05, 4, 25))
    assert a["losses"] == b["losses"] and a["lrs"] == b["lrs"] and a["eval"] == b["eval"]
    assert a["losses"] != c["losses"]


def test_adaptive_controller_is_fed_the_loss(toy):
    from lrkit.feedback import AdaptiveController

    # mode "max" reads the toy task's steadily falling loss as a worsening metric, so a short
    # window reacts within the run: the LRs must drop below the schedule, exactly when a
    # controller fed the run's own losses decides to (without the controller they never do)
    controller = {"type": "adaptive", "window": 5, "patience": 0, "t_threshold": 2.0, "mode": "max"}
    spec = preset("adaptive", 30)
    res = run_trial(TrialSpec(toy, "adaptive", spec.schedule, controller, 0.05, 0, 30))
    assert res["status"] == "ok"
    base = 0.05 * from_dict(spec.schedule)(np.arange(30))
    lrs = np.asarray(res["lrs"])
    assert np.all(lrs <= base + 1e-15) and np.any(lrs < 0.9 * base)
    replay = AdaptiveController(**{k: v for k, v in controller.items() if k != "type"})
    expected = [base[0]]
    for k, loss in enumerate(res["losses"][:-1]):
        replay.update(loss)
        expected.append(base[k + 1] * replay.factor(0))
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_divergence_is_recorded_with_its_reason(toy):
    res = run_trial(TrialSpec(toy, "const", preset("constant", 30).schedule, None, 50.0, 0, 30))
    assert res["status"] == "diverged"
    assert "step" in res["reason"] and res["eval"] is None
    assert res["steps_done"] < 30


def test_a_task_that_raises_is_recorded_as_failed(toy):
    res = run_trial(
        TrialSpec(
            toy.replace("make_task", "make_failing_task"), "c", preset("constant", 10).schedule, None, 0.01, 0, 10
        )
    )
    assert res["status"] == "failed"
    assert "RuntimeError: data loader broke at step 3" in res["reason"]
    assert res["steps_done"] == 3 and len(res["losses"]) == 3


# -- store, resume, report ----------------------------------------------------------------------


class _Interrupting(Backend):
    """Runs trials inline and raises KeyboardInterrupt after ``after`` results."""

    def __init__(self, after):
        self.after = after

    def run(self, trials, *, on_result, on_start=None, on_progress=None):
        for i, t in enumerate(trials):
            if i == self.after:
                raise KeyboardInterrupt
            on_result(run_trial(t))


def _run(toy, out, **kw):
    args = dict(entry=toy, schedules=["cosine", "constant"], lrs=[0.05], steps=20, seeds=2, out=out)
    args.update(kw)
    args.setdefault("write_report", False)
    if "backend" not in args:
        args["backend"] = InlineBackend()
    return run_comparison(**args)


def test_store_roundtrip_keeps_nan_and_inf(tmp_path):
    spec = TrialSpec("digits", "x", preset("constant", 3).schedule, None, 0.1, 0, 3)
    with ResultStore(tmp_path) as store:
        store.save(
            {
                "key": "k",
                "spec": spec.to_dict(),
                "status": "diverged",
                "reason": "r",
                "eval": None,
                "final_loss": None,
                "steps_done": 2,
                "lrs": [0.1, 0.1, 0.1],
                "losses": [1.0, math.inf, math.nan],
                "evals": [],
                "wall_s": 1.0,
                "train_s": 0.5,
            }
        )
        rec = store.trials()["k"]
    assert rec["status"] == "diverged" and rec["losses"][:2] == [1.0, math.inf] and math.isnan(rec["losses"][2])


def test_interrupted_comparison_resumes_without_redoing_finished_trials(toy, tmp_path):
    first = _run(toy, tmp_path, backend=_Interrupting(after=2))
    assert first.interrupted and first.ran == 2
    with ResultStore(tmp_path) as store:
        done_before = {k: r["finished_at"] for k, r in store.trials().items()}
    assert len(done_before) == 2
    second = _run(toy, tmp_path)
    assert not second.interrupted and second.reused == 2 and second.ran == 2
    with ResultStore(tmp_path) as store:
        rows = store.trials()
    assert len(rows) == 4
    assert all(rows[k]["finished_at"] == v for k, v in done_before.items())
    third = _run(toy, tmp_path)
    assert third.ran == 0 and third.reused == 4
    # extending the comparison runs only the new trials
    fourth = _run(toy, tmp_path, seeds=3)
    assert fourth.ran == 2 and fourth.reused == 4


def test_retry_failed_reruns_only_failed_trials(toy, tmp_path):
    failing = toy.replace("make_task", "make_failing_task")
    out = _run(failing, tmp_path, schedules=["constant"], seeds=1)
    assert out.summary.configs[0].statuses == {0: "failed"}
    assert _run(failing, tmp_path, schedules=["constant"], seeds=1).ran == 0
    assert _run(failing, tmp_path, schedules=["constant"], seeds=1, retry_failed=True).ran == 1


def test_report_is_self_contained_and_rereportable(toy, tmp_path):
    outcome = _run(toy, tmp_path, schedules=["cosine", "constant", "step"], lrs=[0.05, 40.0], write_report=True)
    text = outcome.report.read_text()
    assert "<script" not in text.lower()
    assert not re.search(r"(src|href)=\"https?:", text)
    assert text.count('src="data:image/svg+xml;base64,') >= 4
    assert "Verdict" in text and "Linter findings" in text and "diverged" in text
    v = outcome.summary.verdict
    assert v.winner is not None and v.winner.lr == 0.05
    outcome.report.unlink()
    again = report_comparison(tmp_path)
    assert again.report.is_file()
    assert again.summary.verdict.winner.id == v.winner.id


def test_findings_of_the_linter_are_in_the_plan(toy, tmp_path):
    out = _run(toy, tmp_path, schedules=["constant", str(EXAMPLES / "flawed_decay_horizon.yaml")], seeds=1)
    by_label = {s["label"]: s for s in out.plan["schedules"]}
    rules = {f["rule"] for f in by_label["flawed_decay_horizon"]["findings"]}
    assert "warmup-longer-than-run" in rules  # 1000 warm-up updates in a 20-update run
    assert by_label["constant"]["findings"] == []  # too short a run for the warm-up rules
    assert "no-warmup" in {f["rule"] for f in core._lint_spec(preset("constant", 500), 0.05, 500)}


def test_config_files_run_at_their_own_peak_lr_unless_lr_is_given(toy, tmp_path):
    cfg = str(EXAMPLES / "flawed_decay_horizon.yaml")
    out = run_comparison(entry=toy, schedules=[cfg], steps=10, seeds=1, out=tmp_path, backend=InlineBackend())
    assert out.plan["lrs"] == {"flawed_decay_horizon": [pytest.approx(3e-4)]} and out.plan["finder"] is None
    out = run_comparison(
        entry=toy, schedules=[cfg], lrs=[0.01], steps=10, seeds=1, out=tmp_path, backend=InlineBackend()
    )
    assert out.plan["lrs"] == {"flawed_decay_horizon": [0.01]}


@pytest.mark.slow
def test_finder_picks_the_peak_lr_and_is_cached(tmp_path, monkeypatch):
    calls = []
    real = core.find_peak_lr

    def spy(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(core, "find_peak_lr", spy)
    out = run_comparison(task="digits", schedules=["constant"], steps=5, seeds=1, out=tmp_path, backend=InlineBackend())
    lr = out.plan["finder"]["suggestion"]
    assert out.plan["lrs"]["constant"] == [lr] and 1e-4 < lr < 1.0
    with ResultStore(tmp_path) as store:
        assert any(k.startswith("finder:") for (k,) in store.conn.execute("SELECT key FROM meta"))
    again = run_comparison(
        task="digits", schedules=["constant"], steps=5, seeds=1, out=tmp_path, backend=InlineBackend()
    )
    assert again.ran == 0 and again.plan["finder"]["suggestion"] == lr


# -- worker processes ---------------------------------------------------------------------------


@pytest.mark.slow
def test_local_workers_match_the_same_trials_run_in_process(toy):
    specs = parse_schedules(["cosine", "adaptive"], 12)
    trials = build_trials(toy, specs, {"cosine": [0.05], "adaptive": [0.05]}, range(2), 12)
    got, started, progressed, events = {}, set(), [], []

    def result(r):
        got[r["key"]] = r
        events.append(("result", r["key"]))

    def start(k):
        started.add(k)
        events.append(("start", k))

    LocalBackend(workers=2).run(
        trials,
        on_result=result,
        on_start=start,
        on_progress=lambda k, s, v: progressed.append((k, s)),
    )
    assert set(got) == {t.key() for t in trials} == started
    assert progressed and all(0 < s <= 12 for _, s in progressed)
    # each trial is announced once, before its result (start events and results travel apart)
    assert len(events) == 2 * len(trials) and len(set(events)) == len(events)
    assert all(events.index(("start", k)) < events.index(("result", k)) for k in got)
    assert len({r["worker"] for r in got.values()}) >= 1
    for t in trials[:2]:
        inline = run_trial(t)
        assert got[t.key()]["losses"] == inline["losses"]  # bitwise: one thread, same seed
        assert got[t.key()]["lrs"] == inline["lrs"]


def test_backend_errors():
    with pytest.raises(ConfigError, match="unknown backend"):
        make_backend("rya")
    with pytest.raises(ConfigError, match="--ray-address"):
        make_backend("local", ray_address="ray://x:1")
    assert isinstance(make_backend("local", workers=0), InlineBackend)


# -- statistics ---------------------------------------------------------------------------------


def _fake(label, seed, value, status="ok", lr=0.1):
    return {
        "key": f"{label}{seed}{lr}",
        "spec": {"label": label, "lr": lr, "seed": seed},
        "status": status,
        "eval": value if status == "ok" else None,
        "final_loss": value,
        "reason": "" if status == "ok" else "x",
        "wall_s": 1.0,
        "train_s": 1.0,
    }


def test_winner_and_paired_confidence():
    trials = [_fake("a", s, 1.0 + 0.01 * s) for s in range(5)] + [_fake("b", s, 1.5 + 0.012 * s) for s in range(5)]
    s = summarize(trials, seeds=range(5))
    assert s.verdict.winner.label == "a" and s.verdict.confidence == "high"
    assert s.vs_winner["b @ 0.1"].wins == 5 and s.vs_winner["b @ 0.1"].p_value < 0.01


def test_noise_level_differences_get_low_confidence():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.1, size=(2, 6))
    trials = [_fake("a", s, 1.0 + noise[0, s]) for s in range(6)] + [_fake("b", s, 1.0 + noise[1, s]) for s in range(6)]
    assert summarize(trials, seeds=range(6)).verdict.confidence == "low"


def test_a_diverged_seed_disqualifies_and_one_seed_gives_no_confidence():
    trials = [_fake("fast", 0, 0.1), _fake("fast", 1, None, "diverged"), _fake("safe", 0, 0.5), _fake("safe", 1, 0.6)]
    s = summarize(trials, seeds=[0, 1])
    assert s.verdict.winner.label == "safe"
    single = summarize([_fake("a", 0, 0.1), _fake("b", 0, 0.2)], seeds=[0])
    assert single.verdict.winner.label == "a" and single.verdict.confidence == "none"
    none = summarize([_fake("a", 0, None, "failed")], seeds=[0])
    assert none.verdict.winner is None and none.verdict.confidence == "no-result"


def test_an_ok_trial_without_a_finite_eval_counts_as_failed_not_as_a_crash():
    # a hand-edited or foreign store: "ok" but no held-out loss (it used to raise a TypeError)
    trials = [_fake("a", s, 1.0) for s in range(2)] + [_fake("b", s, 2.0) for s in range(2)]
    for t in trials[:2]:
        t["eval"] = None if t["spec"]["seed"] == 0 else float("nan")
    s = summarize(trials, seeds=[0, 1])
    assert s.verdict.winner.label == "b"
    a = next(c for c in s.configs if c.label == "a")
    assert a.n_ok == 0 and a.count("failed") == 2 and "no finite eval" in a.reasons[0]
    only = summarize(trials[:2], seeds=[0, 1])
    assert only.verdict.winner is None and only.verdict.confidence == "no-result"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda t: None, "trials[1]"),
        (lambda t: {**t, "spec": None}, "trials[1].spec"),
        (lambda t: {**t, "spec": {**t["spec"], "lr": "x"}}, "trials[1].spec.lr"),
        (lambda t: {**t, "spec": {**t["spec"], "seed": None}}, "trials[1].spec.seed"),
        (lambda t: {**t, "status": "done"}, "trials[1].status"),
        (lambda t: {**t, "wall_s": "x"}, "trials[1].wall_s"),
    ],
)
def test_a_malformed_stored_trial_is_named_not_a_raw_error(change, field):
    trials = [_fake("a", 0, 1.0), change(_fake("a", 1, 1.1))]
    with pytest.raises(ConfigError) as info:
        summarize(trials, seeds=[0, 1])
    assert info.value.field == field


# -- the command line ---------------------------------------------------------------------------


def _cli(*args):
    return CliRunner().invoke(app, ["compare", *args])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--task", "digitz"], "Did you mean 'digits'"),
        (["--schedule", "cosin", "--lr", "0.1"], "Did you mean 'cosine'"),
        (["--entry", "no_such_module_xyz:make"], "cannot import module"),
        (["--entry", "lrkit_toy_task:wrong"], "not a Task"),
        (["--entry", "nocolon"], "module:function"),
        (["--lr", "-1"], "peak LR must be a number > 0"),
        (["--backend", "slurm", "--lr", "0.1"], "unknown backend"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_2(toy, tmp_path, args, needle):
    res = _cli(*args, "-o", str(tmp_path / "o"), "--workers", "0")
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("lrkit: error:") and needle in lines[0]


def test_output_that_is_a_file_is_bad_input(toy, tmp_path):
    (tmp_path / "o").write_text("not a folder")
    res = _cli("--entry", "lrkit_toy_task:make_task", "--lr", "0.1", "-o", str(tmp_path / "o"), "--workers", "0")
    assert res.exit_code == 2 and "is a file, not a folder" in res.output, res.output


@pytest.mark.parametrize(("kwargs", "field"), [({"seeds": 0}, "seeds"), ({"diverge_factor": 0.5}, "diverge_factor")])
def test_bad_numbers_name_the_field_and_a_fix(toy, tmp_path, kwargs, field):
    with pytest.raises(ConfigError) as err:
        run_comparison(entry="lrkit_toy_task:make_task", lrs=[0.1], out=tmp_path, workers=0, **kwargs)
    assert err.value.field == field and err.value.fix


def test_inline_schedule_without_spaces_after_colons_says_so():
    with pytest.raises(ConfigError, match="space after each colon"):
        parse_schedule("{type:cosine,steps:500}", 500)


def test_a_bare_string_or_number_where_a_list_belongs_is_a_config_error(toy, tmp_path):
    with pytest.raises(ConfigError, match=r"schedules: must be a list.*\['cosine'\]"):
        run_comparison(entry="lrkit_toy_task:make_task", schedules="cosine", lrs=[0.1], out=tmp_path, workers=0)
    with pytest.raises(ConfigError, match=r"lrs: must be a list.*lrs=\[0.1\]"):
        run_comparison(entry="lrkit_toy_task:make_task", schedules=["cosine"], lrs=0.1, out=tmp_path, workers=0)


def test_report_only_without_results_is_bad_input(tmp_path):
    res = _cli("--report-only", "-o", str(tmp_path / "empty"))
    assert res.exit_code == 2 and "no comparison results" in res.output


def test_cli_runs_resumes_and_rereports(toy, tmp_path):
    out = str(tmp_path / "cmp")
    args = [
        "--entry",
        toy,
        "-s",
        "cosine",
        "-s",
        "c=constant",
        "--lr",
        "0.05",
        "--steps",
        "15",
        "--seeds",
        "2",
        "--workers",
        "0",
        "-o",
        out,
    ]
    res = _cli(*args)
    assert res.exit_code == 0, res.output
    assert "Verdict" in res.output and "report.html" in res.output
    assert len(sqlite3.connect(Path(out) / "results.sqlite").execute("SELECT key FROM trials").fetchall()) == 4
    again = _cli(*args)
    assert again.exit_code == 0 and "4 already in the results store, 0 to run" in " ".join(again.output.split())
    rep = _cli("--report-only", "-o", out)
    assert rep.exit_code == 0 and "Verdict" in rep.output


def test_no_trial_ok_exits_1(toy, tmp_path):
    res = _cli(
        "--entry",
        toy,
        "-s",
        "constant",
        "--lr",
        "500",
        "--steps",
        "10",
        "--seeds",
        "1",
        "--workers",
        "0",
        "-o",
        str(tmp_path),
    )
    assert res.exit_code == 1 and "diverged" in res.output


def test_the_worked_example_in_the_docs_runs(tmp_path, monkeypatch):
    doc = (Path(__file__).resolve().parents[1] / "docs" / "compare.md").read_text()
    code = doc.split("<!-- example: mytasks.py -->", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    (tmp_path / "mytasks.py").write_text(code)
    monkeypatch.chdir(tmp_path)  # the CLI puts the current folder on the path, as for a user
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    sys.modules.pop("mytasks", None)
    try:
        res = _cli(
            "--entry",
            "mytasks:make_task",
            "-s",
            "cosine",
            "-s",
            "constant",
            "--lr",
            "3e-3",
            "--steps",
            "40",
            "--seeds",
            "2",
            "--workers",
            "0",
            "-o",
            str(tmp_path / "out"),
        )
        assert res.exit_code == 0, res.output
        with ResultStore(tmp_path / "out") as store:
            rows = store.trials()
        assert len(rows) == 4 and all(r["status"] == "ok" for r in rows.values())
        assert all(r["evals"][-1][1] < r["evals"][0][1] for r in rows.values())
    finally:
        sys.modules.pop("mytasks", None)


def test_live_display_tracks_running_trials_and_prints_each_result():
    import io

    from rich.console import Console

    from lrkit.compare.display import RichEvents

    buf = io.StringIO()
    ev = RichEvents(Console(file=buf, force_terminal=True, width=120), live=True)
    specs = [TrialSpec("digits", name, preset(name, 10).schedule, None, 0.1, 0, 10) for name in ("cosine", "wsd")]
    ev.planned({"schedules": [1, 2], "task": "digits", "steps": 10, "backend": "local (2 workers)"}, specs, 3)
    for s in specs:
        ev.started(s)
    ev.progress(specs[0], 5, 1.25)
    assert len(ev.rows) == 2
    ev.finished(specs[0], {"status": "ok", "eval": 0.5, "wall_s": 1.0})
    ev.finished(specs[1], {"status": "diverged", "eval": None, "reason": "loss nan at step 3", "wall_s": 0.2})
    ev.done()
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", buf.getvalue())
    assert "3 already in the results store, 2 to run" in text
    assert "held-out loss 0.5000" in text and "loss nan at step 3" in text
    assert not ev.rows and ev.bar is None


def test_json_summary_on_stdout(toy, tmp_path):
    import json

    res = CliRunner().invoke(
        app,
        [
            "compare",
            "--entry",
            toy,
            "-s",
            "cosine",
            "-s",
            "constant",
            "--lr",
            "0.05",
            "--steps",
            "12",
            "--seeds",
            "2",
            "--workers",
            "0",
            "-o",
            str(tmp_path),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["ran"] == 4 and data["verdict"]["winner"]["label"] in ("cosine", "constant")
    assert [c["rank"] for c in data["configs"]] == [1, 2]
    assert set(data["configs"][0]["statuses"].values()) == {"ok"}
    assert data["configs"][1]["vs_winner"]["n"] == 2


def test_run_comparison_takes_schedule_objects(toy, tmp_path):
    from lrkit.schedules import Cosine, warmup_cosine

    out = run_comparison(
        task=toy,
        schedules=[warmup_cosine(20, 4), ("short", Cosine(steps=10)), "constant"],
        lrs=[0.05],
        steps=20,
        seeds=1,
        out=tmp_path / "out",
        write_report=False,
    )
    labels = [s.label for s in parse_schedules([warmup_cosine(20, 4), ("short", Cosine(steps=10))], 20)]
    assert labels == ["warmup", "short"]
    by_label = {t["label"]: t["key"] for t in out.plan["trials"]}
    assert set(by_label) == {"warmup", "short", "constant"}
    short = out.trials[by_label["short"]]
    np.testing.assert_allclose(short["lrs"], 0.05 * Cosine(steps=10)(np.arange(20)), rtol=1e-12)
    with pytest.raises(ConfigError, match="label, Schedule"):
        parse_schedules([("a", "b", "c")], 20)
