"""Shapes met in a second held-out corpus of public training configs (recipes repositories that
use LLaMA-Factory, axolotl, NeMo 1.x, Megatron-LM and TRL): each test mirrors one real shape."""

from __future__ import annotations

import pytest

from lrkit.config import detect_format, load_config
from lrkit.errors import ConfigError

# a DeepSpeed config as the Hugging Face Trainer's examples pass it (--deepspeed ds_config.json):
# its sections are {"type": ..., "params": {...}}, which lrkit's own scheduler: {type: ...} resembles
DEEPSPEED_WITH_SCHEDULER = {
    "bf16": {"enabled": "auto"},
    "optimizer": {"type": "AdamW", "params": {"lr": 1e-4, "weight_decay": 0.0}},
    "scheduler": {
        "type": "WarmupDecayLR",
        "params": {"warmup_min_lr": 0, "warmup_max_lr": 1e-4, "warmup_num_steps": 100, "total_num_steps": 1000},
    },
    "zero_optimization": {"stage": 3},
    "train_micro_batch_size_per_gpu": "auto",
}
DEEPSPEED_ZERO_ONLY = {"zero_optimization": {"stage": 2}, "train_micro_batch_size_per_gpu": "auto"}


@pytest.mark.parametrize("data", [DEEPSPEED_WITH_SCHEDULER, {"scheduler": DEEPSPEED_WITH_SCHEDULER["scheduler"]}])
def test_a_deepspeed_config_is_named_not_read_as_lrkits_own_format(data):
    with pytest.raises(ConfigError) as err:
        detect_format(data)
    assert err.value.field == "format"
    assert "DeepSpeed" in str(err.value) and "WarmupDecayLR" in str(err.value)
    with pytest.raises(ConfigError, match="DeepSpeed"):
        load_config(data, total_steps=1000)


def test_a_deepspeed_config_without_a_scheduler_says_it_sets_no_schedule():
    with pytest.raises(ConfigError, match=r"DeepSpeed config .*sets no LR schedule"):
        load_config(DEEPSPEED_ZERO_ONLY, total_steps=1000)


def test_lrkits_own_top_level_scheduler_is_still_read():
    cfg = load_config({"optimizer": {"lr": 1e-3}, "scheduler": {"type": "cosine_annealing"}}, total_steps=100)
    assert cfg.format == "lrkit"
