"""Embedded tasks and the Task contract: registry, user entry points, determinism, learning."""

from __future__ import annotations

import math
import sys
import textwrap

import pytest
import torch

from lrkit.errors import ConfigError
from lrkit.tasks import Task, describe_tasks, get_task, load_entry, resolve_task, task_names


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_registry_lists_the_embedded_tasks():
    assert {"digits", "charlm"} <= set(task_names())
    assert task_names() == sorted(task_names())


def test_the_listed_line_names_the_model_the_task_builds():
    # describe_tasks() is kept apart from the task modules so `lrkit list` imports no torch
    for name, line in describe_tasks().items():
        model_words = line.lower().split()[:2]  # "CNN classifier", "character-level transformer"
        assert any(w in get_task(name).description.lower() for w in model_words), (name, line)


def test_unknown_task_suggests_the_closest_name():
    with pytest.raises(ConfigError) as err:
        get_task("digit")
    assert "Did you mean 'digits'" in str(err.value)
    assert err.value.field == "task"


@pytest.mark.parametrize("name", ["digits", "charlm"])
def test_task_fields_follow_the_contract(name):
    task = get_task(name)
    assert isinstance(task, Task)
    assert task.name == name and task.description
    assert isinstance(task.default_steps, int) and task.default_steps >= 1
    model = task.make_model(0)
    opt = task.make_optimizer(model, 0.0123)
    assert all(g["lr"] == pytest.approx(0.0123) for g in opt.param_groups)
    params = {id(p) for g in opt.param_groups for p in g["params"]}
    assert params == {id(p) for p in model.parameters()}
    loss = task.loss_fn(model, next(task.batches(0)))
    assert loss.dim() == 0 and math.isfinite(loss.item())
    metric = task.evaluate(model)
    assert isinstance(metric, float) and math.isfinite(metric)


@pytest.mark.parametrize("name", ["digits", "charlm"])
def test_same_seed_same_model_and_batches_other_seed_differs(name):
    task = get_task(name)
    a, b, c = task.make_model(3), task.make_model(3), task.make_model(4)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True))
    it1, it2, it3 = task.batches(7), task.batches(7), task.batches(8)
    for _ in range(30):  # crosses an epoch boundary of digits (22 batches per epoch)
        x1, y1 = next(it1)
        x2, y2 = next(it2)
        assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(next(task.batches(7))[0], next(it3)[0])


@pytest.mark.slow
@pytest.mark.parametrize(("name", "lr", "steps"), [("digits", 0.05, 60), ("charlm", 3e-3, 40)])
def test_a_few_updates_lower_the_held_out_loss(name, lr, steps):
    task = get_task(name)
    model = task.make_model(0)
    opt = task.make_optimizer(model, lr)
    before = task.evaluate(model)
    batches = task.batches(0)
    for _ in range(steps):
        loss = task.loss_fn(model, next(batches))
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = task.evaluate(model)
    assert after < 0.8 * before
    assert model.training  # evaluate restores the mode it found


def test_evaluate_does_not_touch_gradients_or_weights():
    task = get_task("digits")
    model = task.make_model(0)
    snapshot = [p.detach().clone() for p in model.parameters()]
    task.evaluate(model)
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(p, s) for p, s in zip(model.parameters(), snapshot, strict=True))


def test_digits_held_out_images_never_appear_in_training_batches():
    from lrkit.tasks.digits import _data

    x_train, _, x_test, _ = _data()
    train_rows = {tuple(r.tolist()) for r in x_train}
    test_rows = [tuple(r.tolist()) for r in x_test]
    # the digits set has a few duplicate images; a split by index must not leak more than those
    assert sum(r in train_rows for r in test_rows) <= 5
    assert len(x_train) + len(x_test) == 1797


def test_charlm_corpus_is_ascii_python_source_and_stable():
    from lrkit.tasks.charlm import _tokens, corpus

    text = corpus()
    assert "def " in text and len(text) > 50_000
    train, held = _tokens()
    assert int(train.max()) < 128 and int(held.max()) < 128
    assert len(held) == pytest.approx(0.1 * (len(train) + len(held)), abs=2)


# -- user entry points ---------------------------------------------------------------------


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    code = textwrap.dedent(
        """
        import torch
        from lrkit.tasks import Task

        def _batches(seed):
            g = torch.Generator().manual_seed(seed)
            while True:
                x = torch.randn(16, 3, generator=g)
                yield x, x.sum(dim=1, keepdim=True)

        def make_task():
            return Task(
                name="toy", description="linear regression",
                make_model=lambda seed: (torch.manual_seed(seed), torch.nn.Linear(3, 1))[1],
                make_optimizer=lambda m, lr: torch.optim.SGD(m.parameters(), lr=lr),
                batches=_batches,
                loss_fn=lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1]),
                evaluate=lambda m: 0.0,
                default_steps=10,
            )

        def not_a_task():
            return {"make_model": 1}

        def raises():
            raise RuntimeError("boom")

        def wants_args(n):
            return n

        NUMBER = 3
        """
    )
    (tmp_path / "lrkit_user_tasks.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lrkit_user_tasks"
    sys.modules.pop("lrkit_user_tasks", None)


def test_entry_point_returns_the_users_task(user_module):
    task = load_entry(f"{user_module}:make_task")
    assert task.name == "toy" and task.default_steps == 10
    assert resolve_task(f"{user_module}:make_task").name == "toy"


@pytest.mark.parametrize(
    ("suffix", "needle"),
    [
        (":not_a_task", "not a Task"),
        (":raises", "raised RuntimeError: boom"),
        (":wants_args", "raised TypeError"),
        (":NUMBER", "not a function"),
        (":make_tsk", "Did you mean 'make_task'"),
    ],
)
def test_bad_entry_points_are_one_clear_config_error(user_module, suffix, needle):
    with pytest.raises(ConfigError) as err:
        load_entry(user_module + suffix)
    assert needle in str(err.value)
    assert err.value.field == "entry"


@pytest.mark.parametrize("entry", ["nosuchmodule_lrkit_xyz:make", "justaname", "a:b:c", ":f", "m:"])
def test_malformed_or_unimportable_entries(entry):
    with pytest.raises(ConfigError) as err:
        load_entry(entry)
    assert "entry" in str(err.value)
