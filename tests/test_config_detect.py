"""Format detection: chosen by keys only one format has; asks when they do not decide."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrkit.config import FORMATS, detect_format
from lrkit.config.detect import _OWNERS, check_format
from lrkit.errors import ConfigError

AXOLOTL = {
    "base_model": "m",
    "datasets": [{"path": "d"}],
    "micro_batch_size": 2,
    "num_epochs": 3,
    "learning_rate": 2e-4,
    "lr_scheduler": "cosine",
    "warmup_ratio": 0.1,
}
LF0 = {
    "stage": "sft",
    "finetuning_type": "lora",
    "template": "qwen",
    "dataset": "d",
    "learning_rate": 1e-4,
    "lr_scheduler_type": "cosine",
    "num_train_epochs": 3.0,
    "per_device_train_batch_size": 1,
}
LF1 = {
    "model": "m",
    "model_class": "llm",
    "dist_config": {"name": "fsdp2"},
    "train_dataset": "x.yaml",
    "micro_batch_size": 1,
    "learning_rate": 1e-4,
    "max_steps": 10,
}
HF = {
    "learning_rate": 2e-5,
    "lr_scheduler_type": "cosine",
    "num_train_epochs": 1,
    "per_device_train_batch_size": 8,
    "model_name_or_path": "m",
    "lora_r": 16,
}


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (AXOLOTL, "axolotl"),
        (LF0, "llamafactory"),
        (LF1, "llamafactory_v1"),
        (HF, "hf"),
        ({"learning_rate": 1e-3}, "hf"),
    ],
)
def test_each_shape(data, fmt):
    assert detect_format(data) == fmt


def test_axolotl_is_never_hugging_face():
    assert detect_format({"learning_rate": 1e-4, "lr_scheduler": "cosine"}) == "axolotl"
    assert detect_format({"learning_rate": 1e-4, "num_epochs": 2, "warmup_steps": 10}) == "axolotl"


@pytest.mark.parametrize(
    ("data", "candidates"),
    [
        (
            {"learning_rate": 1, "lr_scheduler": "cosine", "lr_scheduler_type": "linear"},
            {"axolotl", "hf", "llamafactory"},
        ),
        ({"learning_rate": 1, "micro_batch_size": 2}, {"axolotl", "llamafactory_v1"}),
        ({**LF1, "warmup_ratio": 0.1}, {"axolotl", "hf", "llamafactory", "llamafactory_v1"}),
        ({**HF, "my_scheduler": "cosine"}, {"hf"}),
        ({**AXOLOTL, "lr_scheduler_config": {"name": "x"}}, {"axolotl", "llamafactory_v1"}),
    ],
)
def test_mixed_or_unknown_keys_ask_with_the_candidates(data, candidates):
    with pytest.raises(ConfigError) as err:
        detect_format(data)
    assert err.value.field == "format" and "--format" in err.value.fix
    assert set(err.value.value) == candidates


def test_a_scheduler_mapping_no_reader_knows_is_not_read_as_anything():
    with pytest.raises(ConfigError, match="lr_scheduler is a dict"):
        detect_format({"learning_rate": 1e-4, "lr_scheduler": {"_component_": "x.get_cosine", "num_warmup_steps": 10}})


def test_shared_names_without_training_keys_are_not_a_trainer_config():
    with pytest.raises(ConfigError, match="cannot tell"):
        detect_format({"template": "qwen", "model_name_or_path": "m"})


def test_names_and_aliases():
    for name in ("axolotl", "llamafactory", "llamafactory_v1"):
        assert name in FORMATS and check_format(name) == name
    assert check_format("llama-factory") == "llamafactory" and check_format("LF_V1") == "llamafactory_v1"
    with pytest.raises(ConfigError, match=r"Did you mean .axolotl."):
        check_format("axolotol")


KEYS = sorted(_OWNERS)


@given(st.sets(st.sampled_from(KEYS), min_size=1, max_size=5))
def test_never_picks_a_format_that_lacks_a_present_key(keys):
    data = {"learning_rate": 1e-4, **{k: 1 for k in keys}}
    data.pop("lr_scheduler_config", None)
    try:
        fmt = detect_format(data)
    except ConfigError as err:
        assert err.field == "format"
        return
    assert all(fmt in _OWNERS[k] for k in data if k in _OWNERS)


def test_detect_format_names_the_shapes_load_config_reads():
    # the dashed Megatron YAML and NeMo 2 were recognised by load_config only; detect_format said
    # "cannot tell" for the same dict
    from lrkit.config import detect_format, load_config

    dashed = {"MODEL_ARGS": {"--lr": 3e-4, "--train-iters": 100, "--lr-decay-style": "cosine"}}
    assert detect_format(dashed) == "megatron" == load_config(dashed).format
