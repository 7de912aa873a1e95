"""LLaMA-Factory readers: v0 (TrainingArguments + its WSD defaults) and the v1 trainer."""

from __future__ import annotations

import numpy as np
import pytest

from lrkit.config import load_config
from lrkit.errors import ConfigError

V0 = {"stage": "sft", "finetuning_type": "lora", "template": "default", "dataset": "d", "do_train": True}
V1 = {"model": "m", "model_class": "llm", "train_dataset": "data.yaml", "dist_config": {"name": "fsdp2"}}


def test_v0_reads_transformers_warmup_ceil():
    r = load_config({**V0, "learning_rate": 1.0, "lr_scheduler_type": "linear", "warmup_ratio": 0.1, "max_steps": 95})
    assert r.format == "llamafactory" and r.context["warmup_steps"] == 10  # ceil(9.5)
    # linear: t / 10, then (95 - t) / 85
    assert [r.lr_schedule(t) for t in (5, 10, 52.5, 95)] == pytest.approx([0.5, 1.0, 0.5, 0.0], abs=1e-15)


def test_v0_defaults_are_transformers():
    r = load_config({**V0, "max_steps": 100})
    assert r.peak_lr == 5e-5 and r.lr_schedule(50) == pytest.approx(2.5e-5)  # linear, no warm-up


def test_v0_wsd_splits_the_rest_one_third_stable():
    r = load_config(
        {**V0, "learning_rate": 1.0, "lr_scheduler_type": "warmup_stable_decay", "warmup_steps": 10, "max_steps": 100}
    )
    # remaining 90: stable 30 (updates 10..39), decay 60 (cosine), then 0
    assert [r.lr_schedule(t) for t in (39, 70, 100)] == pytest.approx([1.0, 0.5, 0.0], abs=1e-15)


def test_v0_wsd_keeps_given_kwargs():
    r = load_config(
        {
            **V0,
            "learning_rate": 1.0,
            "lr_scheduler_type": "warmup_stable_decay",
            "warmup_steps": 0,
            "max_steps": 100,
            "lr_scheduler_kwargs": {"num_decay_steps": 20},
        }
    )
    # num_stable_steps = 100 // 3 = 33 filled in, decay 20 kept
    assert r.lr_schedule(32) == 1.0 and r.lr_schedule(43) == pytest.approx(0.5) and r.lr_schedule(53) == 0.0


def test_v0_wsd_without_length_asks():
    with pytest.raises(ConfigError, match="run length"):
        load_config({**V0, "lr_scheduler_type": "warmup_stable_decay", "num_train_epochs": 3})


def test_v0_megatron_backend_asks_which_backend():
    with pytest.raises(ConfigError, match="USE_MCA") as err:
        load_config({**V0, "learning_rate": 1e-5, "lr_scheduler_type": "cosine", "tensor_model_parallel_size": 2})
    assert err.value.field == "tensor_model_parallel_size"
    assert "--format llamafactory_mbridge" in str(err.value)


MB = {**V0, "tensor_model_parallel_size": 1, "use_distributed_optimizer": True, "learning_rate": 1.0}


def _megatron(k, *, warmup, decay, style):
    """Megatron's OptimizerParamScheduler.get_lr at num_steps=k, lr_warmup_init 0, min_lr 0."""
    k = np.asarray(k, dtype=float)
    ratio = np.clip((k - warmup) / (decay - warmup), 0.0, 1.0)
    coeff = {"cosine": 0.5 * (np.cos(np.pi * ratio) + 1.0), "linear": 1.0 - ratio, "constant": np.ones_like(k)}[style]
    return np.where((warmup > 0) & (k <= warmup), k / max(warmup, 1), coeff)


@pytest.mark.parametrize(
    ("extra", "warmup", "decay", "style"),
    [
        ({"lr_scheduler_type": "cosine", "warmup_steps": 10, "max_steps": 100}, 10, 100, "cosine"),
        ({"lr_scheduler_type": "linear", "warmup_ratio": 0.25, "max_steps": 100}, 25, 100, "linear"),
        ({"max_steps": 100}, 0, 100, "linear"),  # TrainingArguments' default lr_scheduler_type
        ({"lr_scheduler_type": "constant_with_warmup", "warmup_steps": 5, "max_steps": 50}, 5, 50, "constant"),
        # a warm-up longer than the run: lr_decay_iters = W + 1 so Megatron keeps the warm-up
        ({"lr_scheduler_type": "cosine", "warmup_steps": 30, "max_steps": 20}, 30, 31, "cosine"),
    ],
)
def test_megatron_bridge_backend_runs_megatrons_scheduler(extra, warmup, decay, style):
    r = load_config({**MB, **extra}, format="llamafactory_mbridge")
    n = r.total_steps
    assert r.format == "llamafactory_mbridge" and n == extra["max_steps"]
    np.testing.assert_allclose(r.lrs(n), _megatron(np.arange(n), warmup=warmup, decay=decay, style=style), atol=1e-15)


def test_megatron_bridge_unknown_scheduler_is_cosine_with_a_warning():
    r = load_config({**MB, "lr_scheduler_type": "polynomial", "max_steps": 40}, format="llamafactory_mbridge")
    assert "mbridge-scheduler-replaced" in {f.rule for f in r.findings}
    np.testing.assert_allclose(r.lrs(40), _megatron(np.arange(40), warmup=0, decay=40, style="cosine"), atol=1e-15)


def test_megatron_bridge_needs_the_run_length_and_refuses_what_it_refuses():
    with pytest.raises(ConfigError, match="run length"):
        load_config({**MB, "num_train_epochs": 3}, format="llamafactory_mbridge")
    assert load_config({**MB, "num_train_epochs": 3}, format="llamafactory_mbridge", total_steps=60).total_steps == 60
    with pytest.raises(ConfigError, match="pt and sft"):
        load_config({**MB, "stage": "dpo", "max_steps": 9}, format="llamafactory_mbridge")
    with pytest.raises(ConfigError, match="full and lora"):
        load_config({**MB, "finetuning_type": "freeze", "max_steps": 9}, format="llamafactory_mbridge")


def test_v1_is_constant():
    r = load_config({**V1, "learning_rate": 2e-4, "max_steps": 10})
    assert r.format == "llamafactory_v1" and r.total_steps == 10
    np.testing.assert_array_equal(r.lrs(), np.full(10, 2e-4))


def test_v1_defaults_and_no_length_needed():
    r = load_config({**V1, "micro_batch_size": 1})
    assert r.peak_lr == 1e-4 and r.total_steps is None and r.lr_schedule(10**6) == 1e-4
    assert load_config({**V1}, total_steps=7).total_steps == 7


def test_v1_scheduler_plugin_is_refused_like_llamafactory():
    with pytest.raises(ConfigError) as err:
        load_config({**V1, "learning_rate": 1e-4, "lr_scheduler_config": {"name": "cosine"}})
    assert err.value.field == "lr_scheduler_config" and "not registered" in str(err.value)


def test_v0_cosine_with_restarts_defaults_to_one_cycle():
    # transformers' hard-restarts schedule defaults to num_cycles=1 (not the cosine's 0.5): one full decay to 0
    r = load_config({**V0, "learning_rate": 1.0, "lr_scheduler_type": "cosine_with_restarts", "max_steps": 100})
    assert r.lr_schedule(50) == pytest.approx(0.5) and r.lr_schedule(99) == pytest.approx(
        0.5 * (1 + np.cos(np.pi * 0.99))
    )
