"""Framework callbacks in tiny real training runs: one record per optimizer update, correct
under gradient accumulation, LRs equal to what the scheduler set for that update."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lrkit
from lrkit import LRMonitor
from lrkit.monitor import read_log

pytestmark = pytest.mark.slow


def _data(n: int = 32) -> torch.utils.data.TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 4, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0]) + 0.1
    return torch.utils.data.TensorDataset(x, y)


def test_lightning_callback_one_record_per_update_with_accumulation(tmp_path):
    import lightning.pytorch as pl

    from lrkit.integrations.lightning import LRMonitorCallback

    torch.set_num_threads(1)
    sched = lrkit.schedules.warmup_cosine(6, 2)

    class Tiny(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 1)
            self.micro_losses: list[float] = []

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.net(x).squeeze(-1), y)
            self.micro_losses.append(loss.item())
            return loss

        def configure_optimizers(self):
            opt = torch.optim.AdamW(
                [
                    {"params": [self.net.weight], "name": "w", "weight_decay": 0.1},
                    {"params": [self.net.bias], "name": "b", "weight_decay": 0.0},
                ],
                lr=0.01,
            )
            return {"optimizer": opt, "lr_scheduler": {"scheduler": lrkit.Scheduler(opt, sched), "interval": "step"}}

    model = Tiny()
    cb = LRMonitorCallback(log_dir=tmp_path)
    trainer = pl.Trainer(
        accelerator="cpu",
        max_steps=6,
        accumulate_grad_batches=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[cb],
        default_root_dir=tmp_path,
    )
    trainer.fit(model, torch.utils.data.DataLoader(_data(), batch_size=4))
    log = read_log(tmp_path / "lrkit.csv")
    assert log.steps.tolist() == list(range(6))  # 12 micro-batches, 6 updates
    assert log.lrs == pytest.approx([0.01 * sched(k) for k in range(6)])
    assert log.group_lrs()["b"] == pytest.approx(log.lrs)
    # the update's loss is the mean over its two micro-batches
    expected = np.asarray(model.micro_losses).reshape(6, 2).mean(axis=1)
    assert log.losses == pytest.approx(expected, rel=1e-5)
    assert np.all(log.columns["grad_norm"] > 0)
    assert log.columns["weight_decay/w"].tolist() == [0.1] * 6


def _hf_model():
    class Regressor(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(4, 1)

        def forward(self, x, labels=None):
            out = self.net(x).squeeze(-1)
            return {"loss": torch.nn.functional.mse_loss(out, labels), "logits": out}

    return Regressor()


class _Dataset(torch.utils.data.Dataset):
    def __init__(self):
        self.data = _data()

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        x, y = self.data[i]
        return {"x": x, "labels": y}


def test_hf_trainer_callback_under_gradient_accumulation(tmp_path):
    from transformers import Trainer, TrainingArguments

    from lrkit.integrations.hf import LRMonitorCallback

    torch.set_num_threads(1)
    model = _hf_model()
    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=5,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        learning_rate=0.01,
        lr_scheduler_type="linear",
        warmup_steps=2,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    cb = LRMonitorCallback()
    trainer = Trainer(model=model, args=args, train_dataset=_Dataset(), callbacks=[cb])
    trainer.train()
    log = read_log(tmp_path / "lrkit" / "lrkit.csv")
    assert log.steps.tolist() == list(range(5))  # 10 micro-batches, 5 updates
    hf_losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    hf_lrs = [h["learning_rate"] for h in trainer.state.log_history if "learning_rate" in h]
    assert log.losses == pytest.approx(hf_losses)
    # HF logs the LR of the update just taken; lrkit reads it from the optimizer before the scheduler steps
    assert log.lrs == pytest.approx(hf_lrs)
    assert log.lrs[0] == 0.0  # HF's linear warm-up trains update 0 at LR 0; the record shows it


def test_hf_callback_through_transformers_callback_handler(tmp_path):
    """The Trainer's event order (transformers' own CallbackHandler, TrainerState), driven by a
    loop that accumulates 3 micro-batches per update."""
    from transformers.trainer_callback import CallbackHandler, TrainerControl, TrainerState

    from lrkit.integrations.hf import LRMonitorCallback

    model = _hf_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    sched = lrkit.Scheduler(opt, lrkit.schedules.warmup_linear(4, 1))
    cb = LRMonitorCallback(LRMonitor(tmp_path))
    handler = CallbackHandler([cb], model, None, opt, sched)
    args = type("Args", (), {"output_dir": str(tmp_path)})()
    state, control = TrainerState(), TrainerControl()
    handler.on_train_begin(args, state, control)
    data = _Dataset()
    expected = []
    for update in range(4):
        losses = []
        for micro in range(3):
            item = data[update * 3 + micro]
            loss = model(item["x"][None], labels=item["labels"][None])["loss"]
            (loss / 3).backward()
            losses.append(loss.item())
            handler.on_substep_end(args, state, control)
        expected.append((float(np.mean(losses)), opt.param_groups[0]["lr"]))
        handler.on_pre_optimizer_step(args, state, control)
        opt.step()
        handler.on_optimizer_step(args, state, control)
        sched.step()
        opt.zero_grad()
        state.global_step += 1
        handler.on_step_end(args, state, control)
        handler.on_log(args, state, control, logs={"loss": expected[-1][0], "grad_norm": 1.5})
    handler.on_train_end(args, state, control)
    log = read_log(tmp_path / "lrkit.jsonl")
    assert log.steps.tolist() == [0, 1, 2, 3]
    assert log.losses == pytest.approx([e[0] for e in expected])
    assert log.lrs == pytest.approx([e[1] for e in expected])
    assert log.lrs == pytest.approx([0.1 * sched.schedule(k) for k in range(4)])
    assert log.columns["momentum"].tolist() == [0.9] * 4
