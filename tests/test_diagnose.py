"""lrkit.diagnose (the lrkit.diagnosis package): synthetic curves of each class, noisy healthy
curves that must not be flagged, real curves from training a small model with an LR too high and
too low, and the `lrkit diagnose` command."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import lrkit
import lrkit.diagnosis
from lrkit import ConfigError
from lrkit.diagnosis import Diagnosis, diagnose, fmt_lr
from lrkit.schedules import warmup_cosine

N = 1000
T = np.arange(N)


def _healthy(rng: np.random.Generator, n: int = N, tau: float = 200.0, noise: float = 0.05) -> np.ndarray:
    t = np.arange(n)
    return (2.0 * np.exp(-t / tau) + 0.5) * np.exp(rng.normal(0.0, noise, n))


# -- synthetic curves of each class ---------------------------------------------------------------


def test_healthy_curve_is_healthy_with_and_without_lrs():
    rng = np.random.default_rng(1)
    y = _healthy(rng)
    assert diagnose(T, y).verdict == "healthy"
    lrs = warmup_cosine(N, 50, peak=3e-4)(T)
    d = diagnose(T, y, lrs)
    assert d.healthy and d.classes == ("healthy",) and d.suggested_lr is None


def test_blow_up_is_diverging_with_onset_and_lr():
    rng = np.random.default_rng(2)
    y = _healthy(rng, noise=0.03)
    y[600:] *= np.exp((T[600:] - 600) / 40.0)
    lrs = np.full(N, 2e-3)
    d = diagnose(T, y, lrs)
    assert d.verdict == "diverging"
    (f,) = d.of("diverging")
    assert f.severity == "error"
    assert 585 <= f.evidence["onset_step"] <= 615
    assert f.evidence["lr_at_onset"] == pytest.approx(2e-3)
    assert d.suggested_lr == pytest.approx(1e-3)
    assert "1.0e-3" in f.fix and "warm-up" not in f.fix  # a late blow-up at a constant LR


def test_early_blow_up_without_warmup_suggests_one():
    rng = np.random.default_rng(19)
    y = _healthy(rng, noise=0.03)
    y[30:] *= np.exp((T[30:] - 30) / 10.0)
    d = diagnose(T, y, np.full(N, 1e-2))
    f = d.of("diverging")[0]
    assert "add a warm-up of about" in f.fix and d.suggested_lr == pytest.approx(5e-3)


def test_nan_loss_is_diverging_at_that_step():
    rng = np.random.default_rng(3)
    y = _healthy(rng, noise=0.03)
    y[700:] = np.nan
    d = diagnose(T, y, np.full(N, 1e-3))
    assert d.verdict == "diverging"
    assert d.of("diverging")[0].evidence["nonfinite_step"] == 700
    assert d.suggested_lr is not None and d.suggested_lr < 1e-3


def test_nan_at_the_very_start_is_still_diverging():
    y = np.array([2.3, 2.4, 5.0, np.inf] + [np.nan] * 20)
    d = diagnose(np.arange(y.size), y, np.full(y.size, 1.0))
    assert d.verdict == "diverging"
    assert d.of("diverging")[0].evidence["nonfinite_step"] == 3


def test_divergence_in_warmup_uses_the_schedule_and_suggests_longer_warmup():
    # the guide's example: LR from the schedule algebra, divergence just after warm-up's end
    sched = warmup_cosine(10_000, 1_000, peak=4e-4)
    steps = np.arange(0, 2_000)
    rng = np.random.default_rng(4)
    y = (2.0 * np.exp(-steps / 300) + 1.0) * np.exp(rng.normal(0, 0.02, steps.size))
    y[1_240:] *= np.exp((steps[1_240:] - 1_240) / 25.0)
    d = diagnose(steps, y, schedule=sched)
    assert d.verdict == "diverging"
    f = d.of("diverging")[0]
    onset = f.evidence["onset_step"]
    assert 1_220 <= onset <= 1_260
    assert f.evidence["lr_at_onset"] == pytest.approx(sched(onset))
    assert "warm-up" in f.message
    # the warm-up is already 10% of the 10,000-step run: lengthening it is what `lrkit check` refuses
    assert "lengthen warm-up" not in f.fix
    assert d.suggested_lr == pytest.approx(float(f"{sched(onset) / 2:.1e}"))


def test_resolved_config_gives_lr_and_warmup():
    from lrkit.config import load_config

    cfg = load_config(
        {
            "training": {
                "optimizer": {"lr": 3e-4},
                "scheduler": {"type": "cosine_annealing", "warmup_steps": 400, "total_steps": 5000},
            }
        }
    )
    steps = np.arange(1_000)
    rng = np.random.default_rng(5)
    y = (2.0 * np.exp(-steps / 100) + 1.0) * np.exp(rng.normal(0, 0.02, steps.size))
    y[500:] *= np.exp((steps[500:] - 500) / 20.0)
    d = diagnose(steps, y, schedule=cfg)
    f = d.of("diverging")[0]
    assert d.summary["warmup_steps"] == 400
    assert f.evidence["lr_at_onset"] == pytest.approx(cfg.lr_schedule(f.evidence["onset_step"]))
    assert "lengthen warm-up" not in f.fix  # 400 of 5,000 steps is 8%: inside the 5-10% the advice aims for


def test_recovered_spike_is_reported_with_size_and_recovery():
    rng = np.random.default_rng(6)
    y = _healthy(rng, noise=0.03)
    y[400:405] *= 3.0
    y[405:430] *= np.linspace(2.0, 1.0, 25)
    d = diagnose(T, y, np.full(N, 3e-4))
    assert d.verdict == "spikes"
    (f,) = d.of("spikes")
    assert f.evidence["recovered"] and 400 <= f.evidence["peak_step"] <= 404
    assert 2.3 < f.evidence["size"] < 3.8
    assert 405 <= f.evidence["recovered_at"] <= 460
    assert f.severity == "warning"
    assert d.suggested_lr == pytest.approx(2.1e-4)


def test_unrecovered_spike_is_an_error():
    rng = np.random.default_rng(7)
    y = 1.5 * np.exp(-T / 150) + 0.5
    y = y * np.exp(rng.normal(0, 0.02, N))
    y[700:] *= 1.6  # jumps and stays 60% higher: not back, but not a blow-up either
    d = diagnose(T, y, np.full(N, 1e-3))
    spikes = d.of("spikes")
    assert spikes and not spikes[0].evidence["recovered"]
    assert spikes[0].severity == "error"


@pytest.mark.parametrize("kind", ["slow-wave", "alternating"])
def test_oscillating(kind):
    rng = np.random.default_rng(8)
    wave = 0.3 * np.sin(2 * np.pi * T / 60) if kind == "slow-wave" else 0.25 * (-1.0) ** T
    y = (2.0 * np.exp(-T / 200) + 0.5) * np.exp(rng.normal(0, 0.02, N) + wave)
    d = diagnose(T, y, np.full(N, 1e-3))
    assert d.verdict == "oscillating"
    assert d.suggested_lr == pytest.approx(5e-4)
    assert "reduce the LR" in d.of("oscillating")[0].fix


def test_plateau_then_escape():
    rng = np.random.default_rng(9)
    y = np.where(T < 150, 2.5 - 1.5 * T / 150, 1.0)
    y = np.where(T > 600, 1.0 - 0.6 * (1 - np.exp(-(T - 600) / 50)), y) * np.exp(rng.normal(0, 0.02, N))
    d = diagnose(T, y, np.full(N, 1e-3))
    assert d.verdict == "plateau"
    f = next(f for f in d.of("plateau") if f.severity == "warning")
    assert f.evidence["start_step"] < 250 and 550 <= f.evidence["end_step"] <= 650
    assert "cyclical" in f.fix.lower()


def test_plateau_ended_by_an_lr_drop_is_only_a_note():
    rng = np.random.default_rng(10)
    y = np.where(T < 150, 2.5 - 1.5 * T / 150, 1.0)
    y = np.where(T > 600, 1.0 - 0.6 * (1 - np.exp(-(T - 600) / 50)), y) * np.exp(rng.normal(0, 0.02, N))
    lrs = np.where(T < 600, 1e-2, 1e-3)  # step decay at 600: the drop is the schedule working
    d = diagnose(T, y, lrs)
    assert all(f.severity == "info" for f in d.of("plateau"))


def test_slow_convergence_suggests_a_larger_lr_at_most_3x():
    rng = np.random.default_rng(11)
    y = 2.3 * np.exp(-T / 3000) * np.exp(rng.normal(0, 0.02, N))
    d = diagnose(T, y, np.full(N, 1e-3))  # a from-scratch LR level
    assert d.verdict == "slow"
    assert d.suggested_lr == pytest.approx(2.5e-3)


def test_a_fine_tune_that_moves_little_is_not_slow():
    # real shape: a full fine-tune at 2e-5 over 128 steps, 0.73 -> 0.55 (it was told to raise its LR 10x)
    rng = np.random.default_rng(11)
    steps = np.arange(0, 128, 4)
    y = (0.55 + 0.18 * (1 - steps / 128)) * np.exp(rng.normal(0, 0.01, steps.size))
    d = diagnose(steps, y, np.linspace(2e-5, 1e-6, steps.size))
    assert d.ok and d.suggested_lr is None, str(d)


def test_no_progress_is_stuck_and_points_to_a_bug_first():
    rng = np.random.default_rng(12)
    y = 2.3 * np.exp(rng.normal(0, 0.02, N))
    d = diagnose(T, y, np.full(N, 1e-6))
    assert d.verdict == "stuck" and d.suggested_lr is None
    (f,) = d.of("stuck")
    assert f.rule == "never-learned" and "bug" in f.fix and "lrkit find" in f.fix


def test_negative_losses_work_in_linear_space():
    rng = np.random.default_rng(13)
    y = -(1.0 - np.exp(-T / 150)) + rng.normal(0, 0.01, N)  # e.g. a negative reward as loss
    assert diagnose(T, y).verdict == "healthy"
    y[500:] += np.linspace(0, 50, N - 500)
    assert diagnose(T, y).verdict == "diverging"


def test_sparse_steps_are_reported_as_logged():
    rng = np.random.default_rng(14)
    steps = np.arange(0, 20_000, 20)
    y = _healthy(rng, n=steps.size, noise=0.03)
    y[700:] *= np.exp((np.arange(700, steps.size) - 700) / 30.0)
    d = diagnose(steps, y)
    assert d.verdict == "diverging"
    assert d.of("diverging")[0].evidence["onset_step"] % 20 == 0
    assert d.suggested_lr is None  # LR unknown: the advice is relative
    assert "50%" in d.of("diverging")[0].fix


# -- healthy noisy curves must not be flagged -------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(150, 2500),
    tau_frac=st.floats(0.03, 0.25),
    noise=st.floats(0.001, 0.12),  # a real minibatch loss never repeats exactly: that is the frozen signal
    floor=st.floats(0.05, 3.0),
    with_lrs=st.booleans(),
)
@example(seed=7253, n=496, tau_frac=0.25, noise=0.119140625, floor=1.0, with_lrs=False)  # 38 flips in 39 steps
def test_noisy_healthy_curves_are_not_flagged(seed, n, tau_frac, noise, floor, with_lrs):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = (3.0 * np.exp(-t / (tau_frac * n)) + floor) * np.exp(rng.normal(0.0, noise, n))
    lrs = warmup_cosine(n, n // 20, peak=1e-3, min_ratio=0.1)(t) if with_lrs else None
    d = diagnose(t, y, lrs)
    assert d.verdict == "healthy", str(d)


@pytest.mark.parametrize("seed", range(15))
def test_power_law_curves_with_heavy_tailed_noise_are_healthy(seed):
    # LLM-like: loss ~ a * t^-alpha + c, minibatch noise with occasional larger batches
    rng = np.random.default_rng(100 + seed)
    t = np.arange(1, 3001)
    y = (6.0 * t**-0.35 + 1.5) * np.exp(0.03 * rng.standard_t(5, t.size))
    lrs = warmup_cosine(3000, 100, peak=6e-4, min_ratio=0.1)(t - 1)
    assert diagnose(t - 1, y, lrs).verdict == "healthy"


# -- real curves: a small MLP on scikit-learn's digits -----------------------------------------------


def _train_digits(lr: float, steps: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import torch
    from sklearn.datasets import load_digits

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    x, y = load_digits(return_X_y=True)
    xt = torch.tensor(x / 16.0, dtype=torch.float32)
    yt = torch.tensor(y)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    monitor = lrkit.LRMonitor()
    g = torch.Generator().manual_seed(seed)
    for k in range(steps):
        idx = torch.randint(0, xt.shape[0], (64,), generator=g)
        loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        monitor.log(opt, k, loss=loss)
    log = monitor.run_log()
    return log.steps, log.losses, log.lrs


@pytest.mark.slow
def test_real_training_lr_too_high_diverges_or_spikes():
    steps, losses, lrs = _train_digits(lr=3.0)
    d = diagnose(steps, losses, lrs)
    assert d.verdict in ("diverging", "spikes", "oscillating"), str(d)
    assert d.suggested_lr is not None and d.suggested_lr <= 1.5


@pytest.mark.slow
def test_real_training_lr_far_too_low_never_learns():
    # SGD at 1e-4 for 300 steps: the loss stays at ln 10 (uniform over the 10 digits)
    steps, losses, lrs = _train_digits(lr=1e-4)
    d = diagnose(steps, losses, lrs)
    assert d.verdict == "stuck", str(d)
    f = d.of("stuck")[0]
    assert "ln 10" in f.message and "lrkit find" in f.fix and d.suggested_lr is None


@pytest.mark.slow
def test_real_training_good_lr_is_healthy():
    steps, losses, lrs = _train_digits(lr=0.05)
    d = diagnose(steps, losses, lrs)
    assert d.verdict == "healthy", str(d)


# -- API details ----------------------------------------------------------------------------------


def test_lrkit_diagnose_is_callable_and_returns_a_diagnosis():
    rng = np.random.default_rng(15)
    d = lrkit.diagnose(T, _healthy(rng))
    assert isinstance(d, Diagnosis) and isinstance(d, lrkit.Diagnosis)
    assert json.loads(json.dumps(d.to_dict()))["verdict"] == "healthy"
    assert lrkit.diagnose is diagnose and lrkit.Diagnosis is Diagnosis


@pytest.mark.slow
def test_importing_the_diagnosis_package_first_keeps_lrkit_diagnose_a_function():
    # a fresh interpreter: in this one the package attribute is already bound
    code = (
        "import lrkit.diagnosis, lrkit.diagnosis.core, lrkit.commands.diagnose, lrkit\n"
        "import numpy as np\n"
        "t = np.arange(200)\n"
        "print(lrkit.diagnose(t, 2.0 * np.exp(-t / 50) + 0.5).verdict)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() in lrkit.diagnosis.CLASSES


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((np.arange(1), np.ones(1)), "losses"),
        ((np.arange(10), np.ones(9)), "losses"),
        ((np.arange(10), np.ones(10), np.ones(3)), "lrs"),
        ((np.array([0, 1, 1, 2, 3, 4, 5, 6, 7]), np.ones(9)), "steps"),
        ((np.arange(-1, 9), np.ones(10)), "steps"),
        (("abc", np.ones(3)), "steps"),
    ],
)
def test_bad_input_is_a_config_error(args, field):
    with pytest.raises(ConfigError) as err:
        diagnose(*args)
    assert err.value.field == field


def test_bad_schedule_is_a_config_error():
    with pytest.raises(ConfigError):
        diagnose(T, np.ones(N), schedule="cosine please")


def test_fmt_lr():
    assert fmt_lr(3.1e-4) == "3.1e-4"
    assert fmt_lr(0.0) == "0" and fmt_lr(None) == "?"


# -- the command ----------------------------------------------------------------------------------


def _app():
    from lrkit.cli import app

    return app


def _write_csv(path, steps, losses, lrs=None, header=("step", "loss", "lr")):
    with open(path, "w") as fh:
        fh.write(",".join(header[: 2 if lrs is None else 3]) + "\n")
        for i, (s, y) in enumerate(zip(steps, losses, strict=True)):
            fh.write(f"{s},{y}" + ("" if lrs is None else f",{lrs[i]}") + "\n")


def test_cli_healthy_and_json(tmp_path):
    rng = np.random.default_rng(16)
    p = tmp_path / "run.csv"
    _write_csv(p, T, _healthy(rng), np.full(N, 1e-3))
    res = CliRunner().invoke(_app(), ["diagnose", str(p)])
    assert res.exit_code == 0, res.output
    assert "verdict: healthy" in res.output
    res = CliRunner().invoke(_app(), ["diagnose", str(p), "--json"])
    assert json.loads(res.stdout)["verdict"] == "healthy"


def test_cli_diverging_with_schedule_config_and_plot(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        "training:\n  optimizer: {type: adamw, lr: 4.0e-4}\n"
        "  scheduler: {type: cosine_annealing, warmup_steps: 1000, total_steps: 10000}\n"
    )
    steps = np.arange(2_000)
    rng = np.random.default_rng(17)
    y = (2.0 * np.exp(-steps / 300) + 1.0) * np.exp(rng.normal(0, 0.02, steps.size))
    y[1_240:] *= np.exp((steps[1_240:] - 1_240) / 25.0)
    y[1_900:] = np.nan
    log = tmp_path / "metrics.jsonl"
    log.write_text(
        "".join(json.dumps({"iteration": int(s), "train_loss": float(v)}) + "\n" for s, v in zip(steps, y, strict=True))
    )
    png = tmp_path / "diag.png"
    res = CliRunner().invoke(_app(), ["diagnose", str(log), "--schedule", str(cfg), "--plot", str(png)])
    assert res.exit_code == 1, res.output
    assert "verdict: diverging" in res.output
    assert "lengthen warm-up" not in res.output  # already 10% of the 10,000-step run: check would refuse more
    assert png.stat().st_size > 1000
    res = CliRunner().invoke(_app(), ["diagnose", str(log), "--schedule", str(cfg), "--json"])
    data = json.loads(res.stdout)  # strict JSON: NaN losses come out as null
    assert data["verdict"] == "diverging" and data["suggested_lr"] > 0


@pytest.mark.parametrize(
    "extra",
    [["--loss-col", "nope"], ["--step-col", "nope"]],
)
def test_cli_bad_column_is_one_line_exit_2(tmp_path, extra):
    p = tmp_path / "run.csv"
    _write_csv(p, T[:20], np.ones(20))
    res = CliRunner().invoke(_app(), ["diagnose", str(p), *extra])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("lrkit: error:")
    assert "Traceback" not in res.output + res.stderr


@pytest.mark.parametrize(
    "content",
    ["", "step,loss\n1,abc\n2,0.5\n", "step,loss\n0,1\n1,2,3\n2,1\n", "\x00\x01binary"],
)
def test_cli_bad_file_is_one_line_exit_2(tmp_path, content):
    p = tmp_path / "run.csv"
    p.write_text(content)
    res = CliRunner().invoke(_app(), ["diagnose", str(p)])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("lrkit: error:") and "Traceback" not in res.stderr


def test_cli_missing_file_and_bad_config(tmp_path):
    res = CliRunner().invoke(_app(), ["diagnose", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2 and "no such file" in res.stderr
    p = tmp_path / "run.csv"
    _write_csv(p, T[:20], np.ones(20))
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  scheduler: {type: cosine_annealing, warmup_steps: -5}\n")
    res = CliRunner().invoke(_app(), ["diagnose", str(p), "--schedule", str(bad)])
    assert res.exit_code == 2 and res.stderr.startswith("lrkit: error:")


def test_cli_reads_tensorboard(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(18)
    y = _healthy(rng)
    w = SummaryWriter(str(tmp_path / "tb"))
    for s, v in zip(T, y, strict=True):
        w.add_scalar("train/loss", float(v), int(s))
        w.add_scalar("train/learning_rate", 1e-3, int(s))
    w.close()
    res = CliRunner().invoke(_app(), ["diagnose", str(tmp_path / "tb"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["columns"] == {"step": "step", "loss": "train/loss", "lr": "train/learning_rate", "eval": None}
    assert not math.isnan(data["summary"]["first_loss"])


# -- the window helpers against brute force ---------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=60),
    w=st.integers(1, 25),
)
def test_window_helpers_match_brute_force(values, w):
    from lrkit.diagnosis.signals import causal_median, forward_min, rolling_median, wide_rolling_median

    z = np.asarray(values)
    n = z.size
    half = max(1, min(w, n)) // 2
    ww = max(1, min(w, n))
    centred = [np.median(z[max(0, i - half) : i - half + ww]) for i in range(n)]
    assert np.allclose(rolling_median(z, w), centred)
    assert np.allclose(wide_rolling_median(z, w), centred)  # narrow windows are exact
    causal = [np.median(z[max(0, i - w) : i]) if min(i, w) >= 3 else np.nan for i in range(n)]
    assert np.allclose(causal_median(z, w), causal, equal_nan=True)
    assert np.allclose(forward_min(z, w), [z[i : i + w].min() for i in range(n)])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"warmup_steps": "x"}, "warmup_steps"),
        ({"warmup_steps": -3}, "warmup_steps"),
        ({"lrs": [1e-3] * 9 + [-1.0]}, "lrs"),
        ({"eval_steps": [0, 5]}, "eval_losses"),
        ({"eval_steps": [0.5, -10], "eval_losses": [1.0, 0.9]}, "eval_steps"),
    ],
)
def test_bad_side_inputs_are_named(kwargs, field):
    # each used to pass silently or end in a raw numpy error
    with pytest.raises(ConfigError) as info:
        diagnose(list(range(10)), [2.0 - 0.1 * k for k in range(10)], **kwargs)
    assert info.value.field == field


def test_log_readers_refuse_a_folder_for_every_format_and_read_a_csv_with_a_bom(tmp_path):
    from lrkit.monitor.readers import read_log

    for fmt in ("csv", "jsonl", "json"):
        with pytest.raises(ConfigError, match="is a folder"):
            read_log(tmp_path, format=fmt)
    p = tmp_path / "log.csv"
    p.write_text("\ufeffstep,loss\n" + "".join(f"{10 * k},{2.0 - 0.1 * k}\n" for k in range(8)), encoding="utf-8")
    log = read_log(p)
    assert list(log.steps[:3]) == [0, 10, 20]


# -- a log too short for the curve's shape (3-4 rows: one per epoch, or logging_steps near the run) --
def test_a_short_log_is_read_for_what_three_rows_can_show():
    # a three-epoch classifier fine-tune: eval 0.808 -> 0.807 -> 0.902 while the training loss falls
    d = diagnose(
        [14146, 28292, 42438],
        [0.828, 0.715, 0.619],
        eval_steps=[14146, 28292, 42438],
        eval_losses=[0.808, 0.807, 0.902],
    )
    assert d.verdict == "overfitting" and "28,292" in d.of("overfitting")[0].message
    assert any(f.rule == "short-log" and f.severity == "info" for f in d.findings)
    # a warm-up longer than the run: the LR rises at every row
    d = diagnose([10, 20, 30], [1.096, 1.084, 1.033], lrs=[3.6e-6, 7.6e-6, 1.16e-5])
    assert d.verdict == "schedule" and d.findings[0].rule == "warmup-never-ends"
    # a short SFT whose loss falls: nothing to change, and a note that the shape was not judged
    d = diagnose([10, 20, 30, 40], [8.34, 1.26, 0.495, 0.427], lrs=[1.6e-4, 1.16e-4, 7.1e-5, 2.7e-5])
    assert d.verdict == "healthy" and [f.rule for f in d.findings] == ["short-log"]
    # a loss that ended 2x above its first value
    assert diagnose([0, 100, 200], [2.0, 2.6, 4.1]).verdict == "diverging"
    assert diagnose([0, 100, 200], [2.0, 2.6, 2.9]).verdict == "healthy"  # under 1.5x: not judged on 3 points
    # eval flat within 5%, or best at the end: no overfitting
    assert (
        diagnose([0, 1, 2], [1.0, 0.8, 0.7], eval_steps=[0, 1, 2], eval_losses=[0.9, 0.85, 0.87]).verdict == "healthy"
    )
    # a NaN among few rows is still a divergence
    assert diagnose([0, 1, 2], [1.0, float("nan"), 2.0]).verdict == "diverging"
