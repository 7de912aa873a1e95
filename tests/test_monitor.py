"""LRMonitor: what it records per parameter group, its sinks (append, flush, crash-truncated
last lines), the readers, the guide's API and the plots."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

import lrkit
from lrkit import ConfigError, LRMonitor
from lrkit.monitor import read_log
from lrkit.monitor.sinks import repair_tail


def _two_group_adamw():
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.AdamW(
        [
            {"params": [model.weight], "name": "decay", "weight_decay": 0.1},
            {"params": [model.bias], "name": "no_decay", "weight_decay": 0.0, "lr": 5e-4},
        ],
        lr=1e-3,
        betas=(0.85, 0.95),
    )
    return model, opt


def _train(monitor, model, opt, steps, start=0):
    sched = lrkit.Scheduler(opt, lrkit.schedules.warmup_cosine(20, 5))
    for k in range(start, start + steps):
        loss = (model(torch.ones(3, 4)) ** 2).mean()
        loss.backward()
        opt.step()
        monitor.log(opt, k, loss=loss, grad_norm=True)
        sched.step()
        opt.zero_grad()
    return sched


def test_records_every_group_lr_beta1_weight_decay_loss_grad_norm():
    model, opt = _two_group_adamw()
    mon = LRMonitor()
    loss = (model(torch.ones(3, 4)) ** 2).mean()
    loss.backward()
    expected_norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in model.parameters()])).item()
    rec = mon.log(opt, 0, loss=loss, grad_norm=True)
    assert rec["step"] == 0
    assert rec["loss"] == pytest.approx(loss.item())
    assert rec["grad_norm"] == pytest.approx(expected_norm, rel=1e-6)
    assert rec["lr"] == 1e-3 and rec["lr/decay"] == 1e-3 and rec["lr/no_decay"] == 5e-4
    assert rec["momentum/decay"] == 0.85 and rec["weight_decay/no_decay"] == 0.0
    assert rec["weight_decay"] == 0.1


def test_sgd_momentum_unnamed_groups_and_tensor_lr():
    p = torch.nn.Parameter(torch.zeros(2))
    q = torch.nn.Parameter(torch.zeros(2))
    opt = torch.optim.SGD([{"params": [p]}, {"params": [q], "name": "head"}], lr=torch.tensor(0.1), momentum=0.9)
    rec = LRMonitor().log(opt, 3)
    assert rec["lr/group0"] == pytest.approx(0.1) and rec["momentum/head"] == 0.9
    assert rec["loss"] is None and rec["grad_norm"] is None


def test_guide_api_log_lr_and_plot_to_file(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() must never be called"))
    monkeypatch.chdir(tmp_path)
    _, opt = _two_group_adamw()
    sched = lrkit.Scheduler(opt, lrkit.schedules.warmup_cosine(10, 2))
    mon = LRMonitor()
    for step in range(10):
        mon.log_lr(opt, step)
        opt.step()
        sched.step()
    assert mon.step_history == list(range(10))
    assert mon.lr_history == pytest.approx([1e-3 * sched.schedule(k) for k in range(10)])
    out = mon.plot_lr_schedule()
    assert out == tmp_path / "lr_schedule.png" and out.stat().st_size > 1000


def test_csv_and_jsonl_append_across_a_resume(tmp_path):
    model, opt = _two_group_adamw()
    with LRMonitor(tmp_path) as mon:
        _train(mon, model, opt, 6)
    with LRMonitor(tmp_path) as mon:  # a resumed run appends to the same files
        _train(mon, model, opt, 4, start=6)
    for name in ("lrkit.csv", "lrkit.jsonl"):
        log = read_log(tmp_path / name)
        assert log.steps.tolist() == list(range(10))
        assert np.isfinite(log.losses).all() and log.lr_col == "lr"
        assert set(log.group_lrs()) == {"decay", "no_decay"}
    assert (tmp_path / "lrkit.csv").read_text().count("step,") == 1  # one header


def test_flushed_after_every_record(tmp_path):
    model, opt = _two_group_adamw()
    mon = LRMonitor(tmp_path)
    _train(mon, model, opt, 3)
    # not closed: what a crash would leave behind
    assert read_log(tmp_path / "lrkit.csv").steps.tolist() == [0, 1, 2]
    assert read_log(tmp_path / "lrkit.jsonl").steps.tolist() == [0, 1, 2]
    mon.close()


def test_truncated_last_line_is_tolerated_and_repaired_on_append(tmp_path):
    model, opt = _two_group_adamw()
    with LRMonitor(tmp_path) as mon:
        _train(mon, model, opt, 5)
    csv_path, jsonl_path = tmp_path / "lrkit.csv", tmp_path / "lrkit.jsonl"
    with open(csv_path, "a") as fh:
        fh.write("5,0.12")  # the crash came mid-row
    with open(jsonl_path, "a") as fh:
        fh.write('{"step": 5, "loss": 0.1')
    for path in (csv_path, jsonl_path):
        log = read_log(path)
        assert log.steps.tolist() == list(range(5))
        assert any("skipped" in n for n in log.notes)
    with LRMonitor(tmp_path) as mon:
        _train(mon, model, opt, 3, start=5)
    for path in (csv_path, jsonl_path):
        log = read_log(path)
        assert log.steps.tolist() == list(range(8)) and not log.notes


def test_repair_tail_only_cuts_an_unterminated_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"a": 1}\n{"a": 2}\n')
    assert repair_tail(p) is False and p.read_text().count("\n") == 2
    p.write_text('{"a": 1}\n{"a"')
    assert repair_tail(p) is True and p.read_text() == '{"a": 1}\n'


def test_bad_line_in_the_middle_is_a_config_error(tmp_path):
    p = tmp_path / "run.jsonl"
    p.write_text('{"step": 0, "loss": 1}\nnot json\n{"step": 2, "loss": 1}\n')
    with pytest.raises(ConfigError, match="line 2"):
        read_log(p)
    q = tmp_path / "run.csv"
    q.write_text("step,loss\n0,1\n1,2,3\n2,1\n")
    with pytest.raises(ConfigError, match="line 3"):
        read_log(q)


def test_reader_finds_foreign_columns_and_takes_names(tmp_path):
    p = tmp_path / "metrics.csv"
    p.write_text("iteration,train_loss,learning_rate,run\n0,2.0,0.1,a\n1,1.5,0.1,a\n2,nan,0.1,a\n")
    log = read_log(p)
    assert (log.step_col, log.loss_col, log.lr_col) == ("iteration", "train_loss", "learning_rate")
    assert np.isnan(log.losses[2]) and log.has_loss.all()  # a NaN loss is data, not a gap
    assert "run" not in log.columns  # text columns are left out
    q = tmp_path / "custom.csv"
    q.write_text("it,objective\n0,3\n1,2\n")
    log = read_log(q, step_col="it", loss_col="objective")
    assert log.steps.tolist() == [0, 1] and log.losses.tolist() == [3.0, 2.0]
    with pytest.raises(ConfigError) as err:
        read_log(q)
    assert err.value.field == "loss_col" and "objective" in str(err.value)
    with pytest.raises(ConfigError, match="Did you mean 'objective'"):
        read_log(q, loss_col="objectiv")


def test_reader_without_step_column_uses_row_order(tmp_path):
    p = tmp_path / "losses.csv"
    p.write_text("loss\n3\n2\n1\n")
    log = read_log(p)
    assert log.steps.tolist() == [0, 1, 2] and log.step_col is None and log.notes


def test_reader_merges_repeated_steps_and_hf_trainer_state(tmp_path):
    state = {
        "log_history": [
            {"step": 1, "loss": 2.0, "learning_rate": 1e-4, "grad_norm": 3.0},
            {"step": 2, "loss": 1.5, "learning_rate": 2e-4},
            {"step": 2, "eval_loss": 1.7},
            {"step": 1, "loss": 1.9, "learning_rate": 1e-4},  # re-logged after a resume
        ]
    }
    p = tmp_path / "trainer_state.json"
    p.write_text(json.dumps(state))
    log = read_log(p)
    assert log.steps.tolist() == [1, 2]
    assert log.losses.tolist() == [1.9, 1.5]
    assert log.columns["eval_loss"][1] == 1.7 and log.lrs.tolist() == [1e-4, 2e-4]


def test_tensorboard_sink_round_trip(tmp_path):
    model, opt = _two_group_adamw()
    with LRMonitor(tmp_path, sinks=["tensorboard"]) as mon:
        _train(mon, model, opt, 5)
    log = read_log(tmp_path / "tensorboard")
    assert log.steps.tolist() == list(range(5))
    assert log.lrs == pytest.approx([r["lr"] for r in mon.records])
    assert log.losses == pytest.approx([r["loss"] for r in mon.records])


def test_own_summary_writer_is_used_and_left_open(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path / "tb"))
    model, opt = _two_group_adamw()
    with LRMonitor(sinks=[writer]) as mon:
        _train(mon, model, opt, 3)
    writer.add_scalar("after", 1.0, 0)  # still open
    writer.close()
    log = read_log(tmp_path / "tb")
    assert log.steps.tolist() == [0, 1, 2] and "after" in log.columns


@pytest.mark.parametrize("name", ["wandb", "mlflow"])
def test_missing_optional_sink_is_a_clear_config_error(name, monkeypatch):
    monkeypatch.setitem(sys.modules, name, None)  # absent even where it is installed: import raises
    with pytest.raises(ConfigError) as err:
        LRMonitor(sinks=[name])
    assert err.value.field == "sinks" and f"pip install {name}" in str(err.value)


def test_unknown_sink_and_files_without_log_dir():
    with pytest.raises(ConfigError, match="Did you mean 'jsonl'"):
        LRMonitor("x", sinks=["jsonll"])
    with pytest.raises(ConfigError) as err:
        LRMonitor(sinks=["csv"])
    assert err.value.field == "log_dir"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"loss": "high"}, "loss"), ({"loss": torch.ones(3)}, "loss"), ({"grad_norm": [1.0]}, "grad_norm")],
)
def test_bad_values_are_config_errors(kwargs, field):
    _, opt = _two_group_adamw()
    with pytest.raises(ConfigError) as err:
        LRMonitor().log(opt, 0, **kwargs)
    assert err.value.field == field


def test_bad_optimizer_and_step():
    with pytest.raises(ConfigError, match="optimizer"):
        LRMonitor().log(torch.nn.Linear(2, 2), 0)
    _, opt = _two_group_adamw()
    with pytest.raises(ConfigError):
        LRMonitor().log(opt, -1)


def test_bad_records_and_formats_are_config_errors(tmp_path):
    for record, field in (({"step": "a"}, "step"), ({"step": -1}, "step"), ([("step", 0)], "record")):
        with pytest.raises(ConfigError) as err:
            LRMonitor().write(record)
        assert err.value.field == field
    (tmp_path / "log.csv").write_text("step,loss\n0,1\n")
    with pytest.raises(ConfigError, match="unknown log format '5'") as err:
        read_log(tmp_path / "log.csv", format=5)
    assert err.value.field == "format"


@pytest.mark.parametrize("framework", ["hf", "lightning"])
def test_a_path_where_the_callback_wants_a_monitor_is_a_config_error(framework):
    import importlib

    callback = importlib.import_module(f"lrkit.integrations.{framework}").LRMonitorCallback
    with pytest.raises(ConfigError, match=r"log_dir='runs/exp1'") as err:
        callback("runs/exp1")
    assert err.value.field == "monitor"
    assert callback(LRMonitor()).monitor is not None


def test_grad_norm_of_something_without_parameters_is_a_config_error():
    with pytest.raises(ConfigError, match="optimizer") as err:
        LRMonitor().log(None, 0, grad_norm=True)
    assert err.value.field == "optimizer"
    with pytest.raises(ConfigError) as err:
        lrkit.monitor.grad_norm(5)
    assert err.value.field == "params_or_optimizer"


def test_diagnose_with_a_schedule_whose_peak_is_a_field():
    # Cosine and WarmupStableDecay have a `peak` field where other schedules have a peak() method
    t = np.arange(300)
    losses = 2 * np.exp(-t / 50) + 0.5
    for sched in (
        lrkit.schedules.Cosine(peak=3e-4, steps=300),
        lrkit.schedules.WarmupStableDecay(peak=3e-4, warmup_steps=10, stable_steps=200, decay_steps=90),
    ):
        d = lrkit.diagnose(t, losses, schedule=sched)
        assert d.summary["lr_peak"] == pytest.approx(3e-4)


def test_plots_write_files(tmp_path):
    model, opt = _two_group_adamw()
    with LRMonitor(tmp_path) as mon:
        _train(mon, model, opt, 12)
    for path in (mon.plot_lr_schedule(), mon.plot_lr_loss(), mon.plot_loss_vs_lr()):
        assert path.parent == tmp_path and path.read_bytes()[:4] == b"\x89PNG"


def test_monitor_diagnose_uses_recorded_lrs():
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    mon = LRMonitor()
    rng = np.random.default_rng(0)
    for k in range(300):
        mon.log(opt, k, loss=float((2 * np.exp(-k / 50) + 0.5) * np.exp(rng.normal(0, 0.03))))
    d = mon.diagnose()
    assert d.verdict == "healthy" and d.summary["lr_known"]


def test_monitor_diagnose_reads_the_eval_loss_it_recorded():
    import math

    import torch

    from lrkit.monitor import LRMonitor

    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    mon = LRMonitor()
    for k in range(200):
        mon.log(opt, k, loss=2.0 * math.exp(-k / 40) + 0.05, eval_loss=1.0 + 0.3 * ((k - 80) / 60) ** 2)
    d = mon.diagnose()
    assert d.verdict == "overfitting", str(d)
