"""Reading real loggers' files for `lrkit diagnose` (columns found without flags, appended runs,
standard input) and the command's promises (one start/end loss, JSON errors, the plot). The
logs are small ones written here in each logger's shape."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lrkit import ConfigError
from lrkit.monitor import read_log


def _app():
    from lrkit.cli import app

    return app


def _lightning(path, n=60):
    # Lightning CSVLogger: per-step and per-epoch rows, val_loss on epoch rows, LearningRateMonitor
    rows = ["epoch,step,train_loss_step,train_loss_epoch,val_loss,lr-AdamW"]
    for k in range(n):
        step = 49 + 50 * k
        rows.append(f"{k // 10},{step},{2.0 * np.exp(-k / 20) + 0.3:.5f},,,{3e-4 * (1 - k / n):.3e}")
        if k % 10 == 9:
            rows.append(f"{k // 10},{step},,{2.0 * np.exp(-k / 20) + 0.32:.5f},{2.1 * np.exp(-k / 25) + 0.4:.5f},")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_lightning_columns_are_found_without_flags(tmp_path):
    log = read_log(_lightning(tmp_path / "metrics.csv"))
    assert (log.step_col, log.loss_col, log.lr_col, log.eval_col) == ("step", "train_loss_step", "lr-AdamW", "val_loss")
    assert log.steps[0] == 49  # the step column, never the epoch
    es, ey = log.eval_curve()
    assert es.size == 6 and np.all(np.diff(ey) < 0)


def test_padded_ultralytics_header_is_stripped_and_epoch_is_the_step(tmp_path):
    p = tmp_path / "results.csv"
    names = ["epoch", "train/box_loss", "train/cls_loss", "val/box_loss", "lr/pg0"]
    lines = [",".join(f"{h:>20}" for h in names)]
    for e in range(12):
        lines.append(
            ",".join(f"{v:>20}" for v in (e, f"{1.7 - 0.05 * e:.5f}", "1.0", f"{1.5 - 0.02 * e:.5f}", "0.0033"))
        )
    p.write_text("\n".join(lines) + "\n")
    log = read_log(p)
    assert (log.step_col, log.loss_col, log.lr_col, log.eval_col) == (
        "epoch",
        "train/box_loss",
        "lr/pg0",
        "val/box_loss",
    )
    assert read_log(p, loss_col="train/box_loss").loss_col == "train/box_loss"  # usable by its plain name


@pytest.mark.parametrize(
    ("header", "row", "want"),
    [
        ("Wall time,Step,Value", "1700000000.5,{s},{v}", ("Step", "Value")),  # TensorBoard scalar export
        ("Conductor_loss,epoch,mean_loss,step", "0.1,{e},{v},{s}", ("step", "mean_loss")),  # custom mean_loss
        ("train_loss_batch,epoch,step", "{v},{e},{s}", ("step", "train_loss_batch")),  # the one *loss* column
    ],
)
def test_common_logger_columns_are_found(tmp_path, header, row, want):
    p = tmp_path / "log.csv"
    body = [row.format(s=10 * k, e=k // 5, v=2.0 / (k + 1)) for k in range(20)]
    p.write_text(header + "\n" + "\n".join(body) + "\n")
    log = read_log(p)
    assert (log.step_col, log.loss_col) == want


def test_several_loss_like_columns_ask_instead_of_guessing(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("step,box_loss,cls_loss\n0,1,2\n1,0.9,1.8\n")
    with pytest.raises(ConfigError, match="several could be it: box_loss, cls_loss"):
        read_log(p)


def test_a_log_of_the_eval_loss_alone_is_read_as_its_curve_and_says_so(tmp_path):
    # Lightning metrics.csv where only validation_step logs (epoch, step, val_loss): it was refused
    p = tmp_path / "metrics.csv"
    rows = [f"{e},{60 * e + 59},{2.27 - 0.04 * e:.4f}" for e in range(10)]
    p.write_text("epoch,step,val_loss\n" + "\n".join(rows) + "\n")
    log = read_log(p)
    assert log.loss_col == "val_loss" and log.eval_col is None
    assert any("reading the eval loss ('val_loss') as the curve" in n for n in log.notes)
    res = CliRunner().invoke(_app(), ["diagnose", str(p)])
    assert res.exit_code in (0, 1) and "loss from column 'val_loss'" in res.output, res.output
    # two eval losses and no training loss: which one is the question, not a guess
    q = tmp_path / "two.csv"
    q.write_text("step,val_loss,eval_loss\n0,1,2\n1,0.9,1.8\n")
    with pytest.raises(ConfigError, match="no loss column"):
        read_log(q)


def test_keras_log_with_two_appended_runs_keeps_the_last(tmp_path):
    # CSVLogger(append=True): the second run restarts at epoch 0 (it was read as a 14x "loss spike")
    p = tmp_path / "training_log.csv"
    first = [f"{e},0.5,{1.2 - 0.1 * e:.3f},0.6,{1.1 - 0.05 * e:.3f}" for e in range(10)]
    # the second run bends (most of its fall in its first half): healthy, whatever the first run did
    second = [f"{e},0.5,{0.3 * 0.75**e + 0.1:.4f},0.6,{0.35 * 0.75**e + 0.12:.4f}" for e in range(12)]
    p.write_text("epoch,accuracy,loss,val_accuracy,val_loss\n" + "\n".join(first + second) + "\n")
    log = read_log(p)
    assert log.runs == 2 and log.steps.tolist() == list(range(12))
    assert any("last run" in n for n in log.notes)
    res = CliRunner().invoke(_app(), ["diagnose", str(p)])
    assert "verdict: healthy" in res.output and "last run" in res.output, res.output


def test_an_eval_loss_tag_is_found_by_its_prefix(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("step,train/loss,val/loss_epoch\n" + "".join(f"{k},{1 / (k + 1):.4f},{0.5:.4f}\n" for k in range(10)))
    assert read_log(p).eval_col == "val/loss_epoch"
    q = tmp_path / "two.csv"
    q.write_text("step,loss,val/box_loss_x,val/cls_loss_x\n0,1,2,3\n1,0.5,2,3\n")
    log = read_log(q)
    assert log.eval_col is None and any("--eval-col" in n for n in log.notes)


def test_eval_col_picks_the_eval_loss(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("step,loss,holdout\n" + "".join(f"{k},{1 / (k + 1):.4f},{1 / (k + 1) + 0.1:.4f}\n" for k in range(20)))
    assert read_log(p).eval_col is None
    assert read_log(p, eval_col="holdout").eval_col == "holdout"
    with pytest.raises(ConfigError, match="holdot"):
        read_log(p, eval_col="holdot")


# -- the command ---------------------------------------------------------------------------------------


def _stuck_csv(tmp_path):
    rng = np.random.default_rng(0)
    p = tmp_path / "stuck.csv"
    y = 7.65 * np.exp(rng.normal(0, 0.006, 100))
    p.write_text("step,loss\n" + "".join(f"{50 * k},{v:.4f}\n" for k, v in enumerate(y)))
    return p


def test_stdin_is_read_with_a_dash(tmp_path):
    text = _stuck_csv(tmp_path).read_text()
    res = CliRunner().invoke(_app(), ["diagnose", "-"], input=text)
    assert res.exit_code == 1, res.output
    assert "verdict: stuck" in res.output
    res = CliRunner().invoke(
        _app(),
        ["diagnose", "-", "--json"],
        input=json.dumps({"log_history": [{"step": s, "loss": 2.0 / (1 + s)} for s in range(1, 40)]}),
    )
    assert json.loads(res.stdout)["columns"]["loss"] == "loss"
    res = CliRunner().invoke(_app(), ["diagnose", "-"], input="")
    assert res.exit_code == 2 and "standard input is empty" in res.stderr


def test_header_and_findings_quote_one_start_and_end_loss(tmp_path):
    res = CliRunner().invoke(_app(), ["diagnose", str(_stuck_csv(tmp_path)), "--json"])
    data = json.loads(res.stdout)
    start, end = data["summary"]["start_loss"], data["summary"]["end_loss"]
    msg = data["findings"][0]["message"]
    assert f"{start:.4g}" in msg and f"{end:.4g}" in msg
    res = CliRunner().invoke(_app(), ["diagnose", str(_stuck_csv(tmp_path))])
    assert f"loss {start:.4g} -> {end:.4g}" in res.output.splitlines()[0]


def test_the_shipped_log_quotes_the_same_start_and_end_in_header_and_finding():
    log = Path(__file__).resolve().parents[1] / "src/lrkit/data/logs/digits_lr_too_high.csv"
    out = CliRunner().invoke(_app(), ["diagnose", str(log)]).output
    head = out.splitlines()[0].split("loss ", 1)[1].split(" (")[0]  # "2.298 -> 2.302"
    pairs = re.findall(r"\(([\d.]+ -> [\d.]+)\)", out)
    assert pairs and all(p == head for p in pairs), (head, pairs)


def test_json_errors_are_json(tmp_path):
    res = CliRunner().invoke(_app(), ["diagnose", str(tmp_path / "missing.csv"), "--json"])
    assert res.exit_code == 2
    data = json.loads(res.stdout)
    assert "missing.csv" in data["error"] and data["exit_code"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("step,loss\n0,1\n1,oops\n2,0.5\n")
    res = CliRunner().invoke(_app(), ["diagnose", str(bad), "--json"])
    assert res.exit_code == 2 and json.loads(res.stdout)["field"] == "loss"
    res = CliRunner().invoke(_app(), ["diagnose", str(bad)])  # without --json: still one line on stderr
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1


def test_converged_run_exits_0(tmp_path):
    p = tmp_path / "zero.csv"
    steps = np.arange(10, 1510, 10)
    y = np.round(np.where(steps < 900, 0.85 * np.exp(-steps / 40), 0.0), 4)
    p.write_text("step,loss\n" + "".join(f"{s},{v}\n" for s, v in zip(steps, y, strict=True)))
    res = CliRunner().invoke(_app(), ["diagnose", str(p)])
    assert res.exit_code == 0 and "verdict: converged" in res.output, res.output


def test_plot_draws_eval_trend_spans_and_the_schedule_lr(tmp_path, monkeypatch):
    from lrkit.monitor import plots

    drawn = {}
    real_save = plots.save_figure

    def capture(fig, path, **kw):
        drawn["labels"] = [ln.get_label() for ax in fig.axes for ln in ax.get_lines()]
        drawn["spans"] = sum(len(ax.patches) for ax in fig.axes)
        return real_save(fig, path, **kw)

    monkeypatch.setattr(plots, "save_figure", capture)
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        "training:\n  optimizer: {type: adamw, lr: 3.0e-4}\n"
        "  scheduler: {type: cosine_annealing, warmup_steps: 100, total_steps: 3000}\n"
    )
    log = tmp_path / "metrics.jsonl"
    steps = np.arange(0, 3000, 5)
    rng = np.random.default_rng(1)
    y = (2.0 * np.exp(-steps / 300) + 0.2) * np.exp(rng.normal(0, 0.05, steps.size))
    rows = [{"step": int(s), "loss": float(v)} for s, v in zip(steps, y, strict=True)]
    rows += [{"step": int(s), "eval_loss": float(0.5 + 0.0002 * abs(s - 600))} for s in range(300, 3000, 300)]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows))
    png = tmp_path / "diag.png"
    res = CliRunner().invoke(_app(), ["diagnose", str(log), "--schedule", str(cfg), "--plot", str(png)])
    assert "verdict: overfitting" in res.output, res.output
    assert f"plot written to {png}" in res.output.replace("\n", "")
    labels = drawn["labels"]
    assert "lr (schedule)" in labels and any(lb.startswith("eval loss") for lb in labels)
    assert any(lb.startswith("trend") for lb in labels) and drawn["spans"] >= 1


def _keras_overfit_csv(path, n=30):
    # Keras CSVLogger: one row per epoch, no step column; val_loss best at epoch 18, then rising
    rows = ["epoch,loss,val_loss"]
    for e in range(n):
        val = 0.29 + 0.002 * (e - 18) ** 2 if e >= 18 else 0.29 + 0.05 * (18 - e)
        rows.append(f"{e},{1.8 * np.exp(-e / 7) + 0.05:.5f},{val:.5f}")
    path.write_text("\n".join(rows) + "\n")
    return path


def test_an_epoch_step_column_makes_every_message_count_epochs(tmp_path):
    from lrkit.diagnosis import diagnose_log

    log = read_log(_keras_overfit_csv(tmp_path / "training.log.csv"))
    assert log.step_col == "epoch" and log.step_unit == "epoch"
    d = diagnose_log(log)
    assert d.verdict == "overfitting" and d.summary["step_unit"] == "epoch"
    text = " ".join(f"{f.message} {f.fix}" for f in d.findings)
    assert "epoch 18" in text and "epochs" in text
    assert not re.search(r"\bsteps?\b", text), text
    out = CliRunner().invoke(_app(), ["diagnose", str(tmp_path / "training.log.csv")]).output
    head = out.splitlines()[0]
    assert "epochs 0-29" in head and "at epoch 18" in head and "steps" not in head, head


def test_a_step_column_keeps_counting_steps(tmp_path):
    from lrkit.diagnosis import diagnose_log

    log = read_log(_lightning(tmp_path / "metrics.csv"))  # has an epoch column too: the step column wins
    assert log.step_unit == "step"
    assert diagnose_log(log).summary["step_unit"] == "step"


def test_diagnose_takes_the_step_unit_and_refuses_an_unknown_one():
    from lrkit import diagnose

    steps = np.arange(40)
    y = np.where(steps < 20, 3.0, 40.0)  # blows up at point 20 and stays there
    d = diagnose(steps, y, step_unit="epoch")
    assert d.verdict == "diverging" and "epoch 20" in d.findings[0].message
    assert "step 20" in diagnose(steps, y).findings[0].message
    with pytest.raises(ConfigError) as err:
        diagnose(steps, y, step_unit="epochs")
    assert err.value.field == "step_unit"


def test_plots_of_an_epoch_log_label_the_axis_in_epochs(tmp_path, monkeypatch):
    from lrkit.monitor import plots

    labels = []
    real_save = plots.save_figure

    def capture(fig, path, **kw):
        labels.append(fig.axes[0].get_xlabel())
        return real_save(fig, path, **kw)

    monkeypatch.setattr(plots, "save_figure", capture)
    log = read_log(_keras_overfit_csv(tmp_path / "training.log.csv"))
    plots.plot_diagnosis(log, tmp_path / "d.png")
    plots.plot_lr_and_loss(log, tmp_path / "l.png")
    plots.plot_diagnosis(read_log(_lightning(tmp_path / "metrics.csv")), tmp_path / "s.png")
    assert labels == ["epoch", "epoch", "step (optimizer updates taken)"]


def _lightning_constant_lr(path, *, bent, n=156, seed=3):
    # Lightning metrics.csv from scratch at a constant LR: LearningRateMonitor logs the LR once, on a
    # row of its own at step 0; the per-batch training loss is noisy (about 7% in log-loss)
    rng = np.random.default_rng(seed)
    x = np.arange(n) / n
    trend = 1.4 + 0.7 * np.exp(-x / 0.1) if bent else 2.1 - 0.6 * x  # bent: flat from ~40% of the run
    y = np.exp(np.log(trend) + 0.07 * rng.standard_normal(n))
    rows = ["epoch,lr-AdamW,step,train_acc,train_loss", ",0.0002,0,,"]
    rows += [f"0,,{9 + 10 * k},0.5,{v:.6f}" for k, v in enumerate(y)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_an_lr_logged_once_holds_until_the_next_value(tmp_path):
    from lrkit.diagnosis import diagnose_log

    d = diagnose_log(read_log(_lightning_constant_lr(tmp_path / "metrics.csv", bent=True)))
    assert d.summary["lr_known"] and d.summary["schedule_kind"] == "constant"
    assert d.summary["lr_peak"] == pytest.approx(2e-4)


def test_a_noisy_run_at_a_constant_lr_still_falling_at_the_end_is_slow(tmp_path):
    # the blind-corpus miss (a from-scratch run at a constant 2e-4, 2.46 -> ~1.5, still falling) in shape
    from lrkit.diagnosis import diagnose_log

    d = diagnose_log(read_log(_lightning_constant_lr(tmp_path / "metrics.csv", bent=False)))
    assert d.verdict == "slow", [f.message for f in d.findings]
    assert d.suggested_lr is not None and 2e-4 < d.suggested_lr <= 3 * 2e-4


@pytest.mark.parametrize("seed", range(6))
def test_a_noisy_run_at_a_constant_lr_that_has_bent_is_not_slow(tmp_path, seed):
    # (a tail flat for 30%+ under a constant LR may still be a plateau: "decay it" is that rule's advice)
    from lrkit.diagnosis import diagnose_log

    d = diagnose_log(read_log(_lightning_constant_lr(tmp_path / "metrics.csv", bent=True, seed=seed)))
    assert d.verdict in ("healthy", "plateau") and not d.of("slow"), [f.message for f in d.findings]


def test_a_schedule_read_against_an_epoch_log_says_what_it_assumed(tmp_path):
    from lrkit.diagnosis import diagnose_log
    from lrkit.schedules import Constant

    log = read_log(_keras_overfit_csv(tmp_path / "training.log.csv"))
    notes = diagnose_log(log, schedule=Constant(value=1e-3)).summary["notes"]
    assert any("read at epoch k" in n for n in notes), notes
    assert not any("read at" in n for n in diagnose_log(log).summary["notes"])
