"""The range test leaves model, optimizer and RNGs bitwise as it found them, however it ends."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from lrkit.finder import Snapshot, find_lr


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.bn = nn.BatchNorm1d(8)
        self.drop = nn.Dropout(0.2)
        self.fc2 = nn.Linear(8, 3)
        self.register_buffer("calls", torch.zeros((), dtype=torch.long), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.fc2(self.drop(torch.relu(self.bn(self.fc1(x)))))


def _batches(n: int = 5, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(16, 6, generator=g), torch.randint(0, 3, (16,), generator=g)) for _ in range(n)]


def _setup(opt_kind: str = "adamw"):
    torch.manual_seed(0)
    model = Net()
    head = list(model.fc2.parameters())
    rest = [p for p in model.parameters() if all(p is not h for h in head)]
    if opt_kind == "adamw":
        opt = torch.optim.AdamW([{"params": rest, "lr": 1e-3}, {"params": head, "lr": 5e-4, "tag": "head"}])
    else:
        opt = torch.optim.SGD([{"params": rest, "lr": 0.1}, {"params": head, "lr": 0.05}], momentum=0.9)
    # one real step so the optimizer has state (step counts, moments) and grads exist
    x, y = _batches(1, seed=9)[0]
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    model.fc1.weight.grad = None  # a mix of None and real grads
    model.eval()  # the test must put train/eval flags back too
    model.drop.train()
    return model, opt


def _bits(t: torch.Tensor) -> bytes:
    return t.detach().cpu().contiguous().numpy().tobytes()


def _state(model: nn.Module, opt: torch.optim.Optimizer) -> dict:
    out: dict = {}
    for n, p in model.named_parameters():
        out[f"p.{n}"] = _bits(p)
        out[f"g.{n}"] = None if p.grad is None else _bits(p.grad)
    for n, b in model.named_buffers():
        out[f"b.{n}"] = _bits(b)
    out["training"] = [m.training for m in model.modules()]
    for i, group in enumerate(opt.param_groups):
        out[f"group{i}"] = {
            k: (_bits(v) if isinstance(v, torch.Tensor) else v) for k, v in group.items() if k != "params"
        }
        out[f"group{i}.params"] = [id(p) for p in group["params"]]
    out["state"] = {
        id(p): {k: (_bits(v) if isinstance(v, torch.Tensor) else v) for k, v in s.items()} for p, s in opt.state.items()
    }
    out["rng.torch"] = _bits(torch.get_rng_state())
    out["rng.numpy"] = repr(np.random.get_state())
    out["rng.python"] = random.getstate()
    return out


def _ce(model, batch):
    x, y = batch
    return nn.functional.cross_entropy(model(x), y)


def _check_same(before: dict, model, opt) -> None:
    after = _state(model, opt)
    assert after.keys() == before.keys()
    for k in before:
        assert after[k] == before[k], k


@pytest.mark.parametrize("opt_kind", ["adamw", "sgd"])
def test_restored_after_a_full_ramp(opt_kind):
    model, opt = _setup(opt_kind)
    before = _state(model, opt)
    ids = [id(p) for p in model.parameters()]
    res = find_lr(model, opt, _batches(), _ce, start_lr=1e-5, end_lr=1e-2, num_steps=20)
    assert res.stopped_reason == "completed" and len(res.lrs) == 20
    _check_same(before, model, opt)
    assert [id(p) for p in model.parameters()] == ids


def test_restored_after_divergence():
    model, opt = _setup("sgd")
    before = _state(model, opt)
    res = find_lr(model, opt, _batches(), _ce, start_lr=1e-3, end_lr=1e8, num_steps=60, check_every=4)
    assert res.stopped_reason in ("diverged", "nan")
    assert len(res.lrs) < 60
    _check_same(before, model, opt)


def test_restored_after_nan_and_nan_stops_at_once():
    model, opt = _setup()
    before = _state(model, opt)
    calls = [0]

    def loss_fn(m, batch):
        calls[0] += 1
        loss = _ce(m, batch)
        return loss * float("nan") if calls[0] == 7 else loss

    res = find_lr(model, opt, _batches(), loss_fn, num_steps=40, check_every=5, trials=False, zoom=False)
    assert res.stopped_reason == "nan"
    assert len(res.raw_losses) == 6  # updates 0..5 recorded, the NaN one is not
    assert np.all(np.isfinite(res.raw_losses))
    assert calls[0] <= 10  # stopped at the next check, not at the end of the ramp
    _check_same(before, model, opt)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_restored_after_interrupt_or_user_exception(exc):
    model, opt = _setup()
    before = _state(model, opt)
    calls = [0]

    def loss_fn(m, batch):
        calls[0] += 1
        if calls[0] == 12:
            raise exc("boom")
        return _ce(m, batch)

    with pytest.raises(exc):
        find_lr(model, opt, _batches(), loss_fn, num_steps=30)
    _check_same(before, model, opt)


def test_restored_with_snapshot_on_disk(tmp_path):
    model, opt = _setup()
    before = _state(model, opt)
    find_lr(model, opt, _batches(), _ce, num_steps=12, snapshot="disk", snapshot_dir=str(tmp_path))
    _check_same(before, model, opt)
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone


def test_restored_state_the_test_created_and_keys_it_added():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)  # no state yet (lazy)
    data = [torch.randn(8, 4) for _ in range(3)]
    before = _state(model, opt)

    def step_fn(m, o, batch):
        o.param_groups[0]["added_by_user"] = 1
        o.zero_grad()
        loss = m(batch).pow(2).mean()
        loss.backward()
        o.step()
        return loss

    find_lr(model, opt, data, step_fn=step_fn, num_steps=10)
    assert len(opt.state) == 0
    assert "added_by_user" not in opt.param_groups[0]
    _check_same(before, model, opt)


def test_tensor_lr_restored_in_place():
    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    lr = torch.tensor(1e-3)
    opt = torch.optim.Adam(model.parameters(), lr=lr, foreach=False)
    data = [torch.randn(8, 4)]
    before = _state(model, opt)
    seen = []

    def step_fn(m, o, batch):
        seen.append(float(o.param_groups[0]["lr"]))
        o.zero_grad()
        loss = m(batch).pow(2).mean()
        loss.backward()
        o.step()
        return loss

    res = find_lr(model, opt, data, step_fn=step_fn, start_lr=1e-4, end_lr=1e-1, num_steps=10, max_evals=100)
    assert opt.param_groups[0]["lr"] is lr  # same tensor object, value back (after the trials too)
    assert len(res.trials) > 0
    np.testing.assert_allclose(seen[: len(res.lrs)], res.lrs, rtol=1e-6)
    _check_same(before, model, opt)


def test_rng_states_restored_even_when_user_code_draws_numbers():
    model, opt = _setup()
    np.random.seed(3)
    random.seed(3)
    before = _state(model, opt)

    def loss_fn(m, batch):
        np.random.rand(5)
        random.random()
        torch.rand(3)
        return _ce(m, batch)

    find_lr(model, opt, _batches(), loss_fn, num_steps=8)
    _check_same(before, model, opt)
    assert np.random.rand() == np.random.RandomState(3).rand()  # the stream continues as if untouched


def test_snapshot_lives_on_the_host_and_never_aliases_live_tensors():
    model, opt = _setup()
    snap = Snapshot.take(model, opt)
    assert snap._saved is not None
    live_ptrs = {t.data_ptr() for t in [*model.parameters(), *model.buffers()]}
    for t in snap._saved:
        assert t.device.type == "cpu"
        assert t.numel() == 0 or t.data_ptr() not in live_ptrs
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    before_restore = [p.clone() for p in model.parameters()]
    snap.restore()
    assert all(not torch.equal(a, b) for a, b in zip(before_restore, model.parameters(), strict=True))


def test_restore_false_keeps_the_trained_model():
    model, opt = _setup()
    w = model.fc1.weight.detach().clone()
    find_lr(model, opt, _batches(), _ce, num_steps=10, restore=False, start_lr=1e-3, end_lr=1e-1)
    assert not torch.equal(w, model.fc1.weight)
