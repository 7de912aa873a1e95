"""LR range test: the ramp, the data handling, the stop rules, the suggestion, the CLI."""

from __future__ import annotations

import json
import math
import sys
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from typer.testing import CliRunner

import lrkit
from lrkit.errors import ConfigError
from lrkit.finder import LearningRateFinder, find_lr
from lrkit.finder.ramp import ramp_lrs, ramp_schedule
from lrkit.finder.smoothing import EMA, ema
from lrkit.finder.suggest import read_curve, suggest
from lrkit.schedules import Exponential, Linear


def _lin_data(n: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(16, 5, generator=g), torch.randn(16, 1, generator=g)) for _ in range(n)]


def _mse(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


# -- the ramp -----------------------------------------------------------------------------------
def test_ramp_is_an_lrkit_schedule_evenly_spaced():
    s = ramp_schedule(1e-6, 1.0, 61, "exp")
    assert isinstance(s, Exponential)
    lrs = ramp_lrs(1e-6, 1.0, 61, "exp")
    assert lrs[0] == pytest.approx(1e-6) and lrs[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(np.diff(np.log10(lrs)), 0.1, rtol=1e-9)
    assert isinstance(ramp_schedule(1e-3, 1.0, 11, "linear"), Linear)
    np.testing.assert_allclose(np.diff(ramp_lrs(1e-3, 1.0, 11, "linear")), 0.0999, rtol=1e-9)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"start_lr": 0.0}, "start_lr"),
        ({"end_lr": 1e-9}, "end_lr"),
        ({"num_steps": 2}, "num_steps"),
        ({"mode": "cosine"}, "mode"),
        ({"beta": 1.0}, "beta"),
        ({"check_every": 0}, "check_every"),
        ({"device": "nope"}, "device"),
        ({"progress": 3}, "progress"),
        ({"restore": "no"}, "restore"),  # a non-empty string is truthy: the model would be restored
        ({"step_fn": 3, "loss_fn": None}, "step_fn"),
        ({"criterion": 3, "loss_fn": None}, "criterion"),
        ({"criterion": nn.MSELoss()}, "criterion"),
    ],
)
def test_bad_arguments_are_config_errors(kwargs, field):
    model = nn.Linear(5, 1)
    with pytest.raises(ConfigError) as e:
        find_lr(model, torch.optim.SGD(model.parameters(), lr=0.1), _lin_data(), **({"loss_fn": _mse} | kwargs))
    assert e.value.field == field


@pytest.mark.parametrize(
    "lrs,losses", [([1e-3, 1e-2], [1.0]), (["a", "b"], ["c", "d"]), (np.ones((3, 3)), np.ones((3, 3)))]
)
def test_suggest_on_curves_that_do_not_match_is_a_config_error(lrs, losses):
    with pytest.raises(ConfigError) as e:
        suggest(lrs, losses)
    assert e.value.field == "losses"


def test_no_way_to_compute_a_loss_is_a_config_error():
    model = nn.Linear(5, 1)
    with pytest.raises(ConfigError, match="no way to compute a loss"):
        find_lr(model, torch.optim.SGD(model.parameters(), lr=0.1), _lin_data())


def test_group_ratios_are_kept_along_the_ramp_and_frozen_groups_stay_at_zero():
    torch.manual_seed(0)
    a, b, c = nn.Linear(5, 5), nn.Linear(5, 1), nn.Linear(1, 1)
    model = nn.Sequential(a, b, c)
    opt = torch.optim.SGD(
        [
            {"params": a.parameters(), "lr": 0.01},
            {"params": b.parameters(), "lr": 0.1},
            {"params": c.parameters(), "lr": 0.0},
        ]
    )
    seen = []

    def step_fn(m, o, batch):
        seen.append([g["lr"] for g in o.param_groups])
        o.zero_grad()
        loss = _mse(m, batch)
        loss.backward()
        o.step()
        return loss

    res = find_lr(model, opt, _lin_data(), step_fn=step_fn, start_lr=1e-5, end_lr=1e-2, num_steps=15, max_evals=100)
    seen = np.array(seen)
    assert len(seen) > len(res.lrs)  # the confirmation trials ran too, and kept the ratios as well
    np.testing.assert_allclose(seen[:, 1] / seen[:, 0], 10.0)
    assert np.all(seen[:, 2] == 0.0)
    np.testing.assert_allclose(seen[: len(res.lrs), 0], res.lrs)  # reported LRs are the reference group's
    assert res.group_ratios == (1.0, 10.0, 0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.1, 0.0]


# -- data --------------------------------------------------------------------------------------
def test_data_is_iterated_again_never_one_batch_reread():
    data = _lin_data(3)
    order = []

    def loss_fn(m, batch):
        order.append(next(i for i, b in enumerate(data) if b[0] is batch[0]))
        return _mse(m, batch)

    model = nn.Linear(5, 1)
    find_lr(model, torch.optim.SGD(model.parameters(), lr=0.1), data, loss_fn, num_steps=10, end_lr=1e-3, trials=False)
    assert order == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def test_progress_is_reported_at_each_check():
    model = nn.Linear(5, 1)
    calls = []
    result = find_lr(
        model,
        torch.optim.SGD(model.parameters(), lr=0.1),
        _lin_data(),
        _mse,
        num_steps=20,
        end_lr=1e-3,
        check_every=8,
        progress=lambda done, total, lr, loss: calls.append((done, total, lr, loss)),
    )
    assert [c[0] for c in calls] == [8, 16, 20] and all(c[1] == 20 for c in calls)
    assert calls[-1][2] == pytest.approx(1e-3)
    # the reported smoothed loss is the result's smoothed curve at that update
    assert [c[3] for c in calls] == pytest.approx([result.losses[c[0] - 1] for c in calls], rel=1e-12)


def test_a_one_shot_generator_that_runs_out_stops_with_a_warning():
    model = nn.Linear(5, 1)
    gen = (b for b in _lin_data(9))
    with pytest.warns(UserWarning, match="ran out after 9"):
        res = find_lr(model, torch.optim.SGD(model.parameters(), lr=0.1), gen, _mse, num_steps=20, end_lr=1e-3)
    assert res.stopped_reason == "data_exhausted" and len(res.raw_losses) == 9


def test_empty_data_is_a_config_error():
    model = nn.Linear(5, 1)
    with pytest.raises(ConfigError, match="no batch"):
        find_lr(model, torch.optim.SGD(model.parameters(), lr=0.1), [], _mse, num_steps=10)


def test_criterion_passed_as_loss_fn_and_training_step_models():
    torch.manual_seed(0)
    model = nn.Linear(5, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    res = find_lr(model, opt, _lin_data(), nn.MSELoss(), num_steps=10, end_lr=1e-2)
    assert len(res.raw_losses) == 10

    class WithStep(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(5, 1)

        def training_step(self, batch):
            x, y = batch
            return {"loss": nn.functional.mse_loss(self.fc(x), y)}

    m = WithStep()
    res = find_lr(m, torch.optim.SGD(m.parameters(), lr=0.1), _lin_data(), num_steps=10, end_lr=1e-2)
    assert len(res.raw_losses) == 10


@pytest.mark.parametrize("option", ["bet", "num_steps"])
def test_guide_api_unknown_option_is_a_config_error_at_construction(option):
    model = nn.Linear(5, 1)
    with pytest.raises(ConfigError) as e:
        LearningRateFinder(model, torch.optim.SGD(model.parameters(), lr=0.1), _lin_data(), _mse, **{option: 1})
    assert e.value.field == option


def test_guide_api_learning_rate_finder():
    class GuideModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(5, 1)

        def training_step(self, batch):
            return _mse(self.fc, batch)

    torch.manual_seed(0)
    model = GuideModel()
    w = model.fc.weight.detach().clone()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    finder = LearningRateFinder(model, opt, _lin_data(8))
    lrs, losses = finder.find_lr(1e-5, 1e-1, 30)
    assert isinstance(lrs, list) and len(lrs) == len(losses) == 30
    assert lrs[0] == pytest.approx(1e-5) and lrs[-1] == pytest.approx(1e-1)
    assert len(set(finder.result.raw_losses.tolist())) > 1  # it trained on fresh batches
    assert torch.equal(w, model.fc.weight)
    assert lrkit.LearningRateFinder is LearningRateFinder and lrkit.find_lr is find_lr


# -- stop rules ---------------------------------------------------------------------------------
def _curve_step(curve):
    """step_fn whose loss is ``curve(lr)`` (no model involved)."""

    def step_fn(m, o, batch):
        return torch.tensor(curve(o.param_groups[0]["lr"]))

    return step_fn


@pytest.mark.parametrize("shift", [0.0, -50.0])
def test_divergence_is_detected_for_positive_and_negative_losses(shift):
    def curve(lr):  # descent around 1e-3, explosion past 1e-1
        x = math.log10(lr)
        return shift + 2.0 / (1.0 + math.exp(2.0 * (x + 3.0))) + (0.0 if x < -1 else 10.0 ** (x + 1.5))

    model = nn.Linear(1, 1)
    # the range test alone (a loss that is a function of the current LR only has nothing for trials to judge)
    res = find_lr(
        model, torch.optim.SGD(model.parameters(), lr=1.0), [0], step_fn=_curve_step(curve), num_steps=100, trials=False
    )
    assert res.stopped_reason == "diverged"
    assert 1e-1 < res.lrs[-1] < 10.0
    assert res.suggestion is not None and 1e-3 < res.suggestion < 1e-1


def test_inf_stops_like_nan():
    model = nn.Linear(1, 1)
    res = find_lr(
        model,
        torch.optim.SGD(model.parameters(), lr=1.0),
        [0],
        step_fn=_curve_step(lambda lr: float("inf") if lr > 1e-2 else 1.0),
        num_steps=50,
    )
    assert res.stopped_reason == "nan" and np.all(np.isfinite(res.raw_losses)) and res.lrs[-1] <= 1e-2


def test_losses_are_read_once_per_check_not_every_step(monkeypatch):
    calls = {"cpu": 0, "item": 0}
    real_cpu, real_item = torch.Tensor.cpu, torch.Tensor.item

    def cpu(self, *a, **k):
        calls["cpu"] += 1
        return real_cpu(self, *a, **k)

    def item(self):
        calls["item"] += 1
        return real_item(self)

    model = nn.Linear(5, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    data = _lin_data()
    monkeypatch.setattr(torch.Tensor, "cpu", cpu)
    monkeypatch.setattr(torch.Tensor, "item", item)
    find_lr(model, opt, data, _mse, num_steps=40, end_lr=1e-2, check_every=8, restore=False)
    monkeypatch.undo()
    assert calls["item"] == 0
    assert calls["cpu"] <= 40 // 8 + 1


# -- smoothing and suggestion --------------------------------------------------------------------
@given(st.floats(-1e3, 1e3, allow_nan=False), st.integers(1, 50), st.floats(0.0, 0.99))
def test_ema_is_bias_corrected(c, n, beta):
    np.testing.assert_allclose(ema(np.full(n, c), beta), c, rtol=1e-9, atol=1e-9)


def test_streaming_ema_in_blocks_is_the_offline_ema():
    x = np.random.default_rng(0).normal(size=37)
    stream = EMA(0.9)
    blocks = [stream.update(b) for b in np.split(x, [5, 6, 20])]
    np.testing.assert_array_equal(np.concatenate(blocks), ema(x, 0.9))
    assert stream.value == ema(x, 0.9)[-1] and math.isnan(EMA(0.9).value)


def _synthetic(n=150, noise=0.02, flat=0.0, seed=0):
    """A classic range-test curve: flat, descent around 1e-3, divergence from 3e-2."""
    lrs = ramp_lrs(1e-7, 10.0, n)
    x = np.log10(lrs)
    y = 2.3 - 2.0 / (1.0 + np.exp(-3.0 * (x + 3.0 - flat))) + np.where(x > -1.5, 20.0 * (x + 1.5) ** 2, 0.0)
    return lrs, y + np.random.default_rng(seed).normal(0, noise, n)


def test_suggestion_sits_between_descent_and_divergence_and_is_bracketed():
    lrs, y = _synthetic()
    s = suggest(lrs, y)
    assert s.lr is not None and s.low <= s.lr <= s.high
    assert s.descent_centre_lr < s.lr < s.divergence_lr
    assert 1e-3 < s.lr < 3e-2
    assert s.confidence in ("high", "medium")


def test_noise_moves_the_suggestion_little_and_widens_the_range():
    lrs, clean = _synthetic(noise=0.005)
    base = suggest(lrs, clean)
    moved = []
    for seed in range(4):
        _, noisy = _synthetic(noise=0.15, seed=seed)
        s = suggest(lrs, noisy)
        moved.append(abs(math.log10(s.lr / base.lr)))
        assert s.high / s.low >= base.high / base.low
    assert max(moved) < 0.35


def test_flat_start_does_not_fool_the_rule():
    lrs, y = _synthetic(flat=1.0)  # nothing happens until 1e-2 ... then descent, then divergence
    s = suggest(lrs, y)
    r = read_curve(lrs, y)
    assert r is not None and r.x[r.i_start] > -4.0
    assert s.lr is not None and 1e-3 < s.lr < 3e-2


def test_no_descent_gives_no_suggestion():
    lrs = ramp_lrs(1e-7, 10.0, 100)
    y = 1.0 + np.random.default_rng(0).normal(0, 0.01, 100)
    s = suggest(lrs, y)
    assert s.lr is None and s.confidence == "none" and s.notes


def test_a_test_stopped_at_a_nan_has_reached_its_cliff():
    # the loss goes NaN right past its lowest point: the reading drops the NaN and sees no rise,
    # but the test itself blew up there -- that is the cliff, not a ramp that ended too early
    lrs, y = _synthetic(noise=0.005)
    cut = int(np.argmin(y)) + 1
    lrs, y = lrs[: cut + 1], np.concatenate([y[:cut], [np.nan]])
    unaware = suggest(lrs, y)
    assert not unaware.diverged and unaware.confidence == "low"
    assert any("did not diverge" in n for n in unaware.notes)
    s = suggest(lrs, y, stopped="nan")
    assert s.diverged and s.lr == unaware.lr
    assert not any("did not diverge" in n for n in s.notes)
    assert s.high <= s.divergence_lr  # never past where the test blew up
    assert suggest(lrs, y, stopped="completed").diverged is False
    assert suggest(*_synthetic()).diverged  # a visible rise counts without being told
    with pytest.raises(ConfigError, match="stopped_reason") as bad:
        suggest(lrs, y, stopped="exploded")
    assert bad.value.field == "stopped"
    with pytest.raises(ConfigError, match="stopped_reason"):
        suggest(lrs, y, stopped=["nan"])  # not a string: a clear error, not a TypeError


@settings(max_examples=15, deadline=None)
@given(st.floats(0.01, 100.0), st.floats(-100.0, 100.0))
def test_suggestion_is_invariant_to_affine_changes_of_the_loss(scale, shift):
    lrs, y = _synthetic(noise=0.05)
    a, b = suggest(lrs, y), suggest(lrs, scale * y + shift)
    assert a.lr == pytest.approx(b.lr, rel=1e-6)
    assert a.low == pytest.approx(b.low, rel=1e-6) and a.high == pytest.approx(b.high, rel=1e-6)


# -- the result ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_result_on_a_real_model_plots_and_serialises(tmp_path):
    torch.manual_seed(0)
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    data = [(X[i : i + 64], y[i : i + 64]) for i in range(0, 1280, 64)]
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    res = find_lr(model, opt, data, nn.CrossEntropyLoss(), start_lr=1e-5, end_lr=10.0, num_steps=100)
    assert res.stopped_reason == "diverged"
    assert res.suggestion is not None and 1e-2 < res.suggestion < 1.0
    low, high = res.range
    assert low <= res.suggestion <= high
    d = json.loads(json.dumps(res.to_dict()))
    assert d["suggestion"] == res.suggestion and len(d["lrs"]) == len(res.lrs)
    out = res.plot(tmp_path / "f.png")
    assert out.stat().st_size > 1000


# -- CLI ------------------------------------------------------------------------------------------
@pytest.fixture
def entry_module(tmp_path, monkeypatch):
    (tmp_path / "finder_entry_mod.py").write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            def setup():
                torch.manual_seed(0)
                g = torch.Generator().manual_seed(0)
                data = [(torch.randn(32, 5, generator=g), torch.randn(32, 1, generator=g)) for _ in range(4)]
                model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 1))
                opt = torch.optim.SGD(model.parameters(), lr=0.01)
                return model, opt, data, lambda m, b: nn.functional.mse_loss(m(b[0]), b[1])

            def not_a_tuple():
                return 3
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "finder_entry_mod"
    sys.modules.pop("finder_entry_mod", None)


def _cli():
    from lrkit.cli import app

    return CliRunner(), app


def test_cli_entry_json_and_plot(entry_module, tmp_path):
    runner, app = _cli()
    out = tmp_path / "p.png"
    args = ["find", "--entry", f"{entry_module}:setup", "--steps", "40", "--start-lr", "1e-5"]
    r = runner.invoke(app, [*args, "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["steps_run"] >= 8 and d["plot"] == str(out) and out.exists()
    r = runner.invoke(app, ["find", "--entry", f"{entry_module}:setup", "--steps", "40", "--start-lr", "1e-5"])
    assert r.exit_code == 0 and "suggestion" in r.stdout


def test_cli_entry_imports_from_the_current_folder(tmp_path, monkeypatch):
    # `lrkit` is a console script: the current folder is not on sys.path unless find puts it there
    (tmp_path / "finder_cwd_mod.py").write_text(
        textwrap.dedent(
            """
            import torch
            from torch import nn

            def setup():
                torch.manual_seed(0)
                data = [(torch.randn(16, 3), torch.randn(16, 1)) for _ in range(4)]
                model = nn.Linear(3, 1)
                return model, torch.optim.SGD(model.parameters(), lr=0.1), data, nn.MSELoss()
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    runner, app = _cli()
    try:
        r = runner.invoke(app, ["find", "--entry", "finder_cwd_mod:setup", "--steps", "20", "--json"])
    finally:
        sys.modules.pop("finder_cwd_mod", None)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["source"] == "finder_cwd_mod:setup"


@pytest.mark.slow
def test_cli_embedded_task():
    runner, app = _cli()
    r = runner.invoke(app, ["find", "--task", "digits", "--steps", "24", "--start-lr", "1e-3", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["source"] == "task digits" and 8 <= d["steps_run"] <= 24


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--entry", "no_such_module_xyz:f"], "cannot import module"),
        (["--entry", "finder_entry_mod:nope"], "has no attribute"),
        (["--entry", "finder_entry_mod:not_a_tuple"], "not (model, optimizer, data, loss_fn)"),
        (["--entry", "justamodule"], "module:function"),
        ([], "exactly one of"),
        (["--task", "no-such-task"], "unknown task"),
        (["--task", "digits", "-o", "curve.xyz"], "unsupported image type"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(entry_module, args, needle):
    runner, app = _cli()
    r = runner.invoke(app, ["find", *args])
    assert r.exit_code == 2
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lrkit: error:") and needle in err[0]


def test_rule_is_the_cross_validated_anchor_plus_offset():
    import importlib

    rule = importlib.import_module("lrkit.finder.suggest")  # the package re-exports suggest()
    lrs, y = _synthetic(noise=0.01)
    r = read_curve(lrs, y)
    pts = rule.anchor_points(r)
    # the descent points are ordered along the descent and end at the divergence point
    assert pts["descent50"] <= pts["descent75"] <= pts["descent90"] <= pts["divergence"]
    s = suggest(lrs, y)
    expected = min(pts[rule.ANCHOR] + rule.OFFSET_DECADES, pts["divergence"])
    assert math.log10(s.lr) == pytest.approx(expected, abs=1e-12)
    # the range is at least the rule's own measured error wide on each side (below the top cap)
    assert math.log10(s.lr / s.low) >= rule.RULE_ERROR_DECADES - 1e-9


def test_find_lr_takes_and_forwards_exactly_run_range_tests_parameters():
    # find_lr repeats run_range_test's signature (so help() and IDEs show it) and adds only the
    # search settings; a parameter added to one and not the other, or a default changed in one,
    # must not go unnoticed
    import inspect

    from lrkit.finder import run_range_test

    ours = dict(inspect.signature(find_lr).parameters)
    extra = {k: ours.pop(k) for k in ("val_data", "max_evals", "trials", "zoom")}
    assert ours == dict(inspect.signature(run_range_test).parameters)
    assert {k: p.default for k, p in extra.items()} == {
        "val_data": None,
        "max_evals": None,
        "trials": True,
        "zoom": True,
    }
