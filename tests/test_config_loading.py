"""Reading files and text: YAML rules, defaults: inheritance, ${...} interpolation, detection."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lrkit.config import FORMATS, detect_format, load_config, load_config_text
from lrkit.errors import ConfigError

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "lrkit" / "examples"


def test_every_example_reads_and_is_detected():
    expected = {
        "lrkit_cosine.yaml": "lrkit",
        "nemo_rl_grpo_dtensor.yaml": "nemo_rl",
        "nemo_rl_sft_constant.yaml": "nemo_rl",
        "nemo_rl_megatron_wsd.yaml": "nemo_rl_megatron",
        "megatron_cosine.yaml": "megatron",
        "hf_cosine_with_min_lr.yaml": "hf",
        "hf_linear.json": "hf",
        "nemo_cosine_constant_steps.yaml": "nemo",
        "flawed_decay_horizon.yaml": "lrkit",
        "flawed_nemo_rl_tmax.yaml": "nemo_rl",
        "flawed_long_warmup.yaml": "lrkit",
        "axolotl_cosine_min_lr.yaml": "axolotl",
        "llamafactory_sft_cosine.yaml": "llamafactory",
        "llamafactory_v1_constant.yaml": "llamafactory_v1",
        "deepspeed_warmup_decay.json": "deepspeed",
    }
    found = {p.name for p in EXAMPLES.iterdir() if p.suffix in (".yaml", ".json")}
    assert found == set(expected)
    for name, fmt in expected.items():
        r = load_config(EXAMPLES / name)
        assert r.format == fmt and r.source.endswith(name)
        assert r.total_steps is not None
        v = r.lr_schedule(np.arange(r.total_steps))
        assert np.all(np.isfinite(v)) and v.max() <= r.peak_lr * (1 + 1e-12)
    # a format chosen only by name (its backend is an environment variable, not in the file) has
    # no example that detection could read: `lrkit plot examples/*.yaml` must read every example
    by_name = {"llamafactory_mbridge"}
    assert set(FORMATS) == set(expected.values()) | by_name
    mbridge = {**load_config(EXAMPLES / "llamafactory_sft_cosine.yaml").raw, "tensor_model_parallel_size": 2}
    with pytest.raises(ConfigError, match="--format llamafactory_mbridge"):
        load_config(mbridge)
    assert load_config(mbridge, format="llamafactory_mbridge").format == "llamafactory_mbridge"


def test_defaults_inheritance_and_interpolation(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "grpo:\n  max_num_steps: 400\n  warmup: 40\n"
        "policy:\n  optimizer:\n    name: torch.optim.AdamW\n    kwargs:\n      lr: 1.0e-6\n"
        "  scheduler:\n"
        "    - name: torch.optim.lr_scheduler.LinearLR\n      kwargs: {start_factor: 0.1, total_iters: 40}\n"
        "    - name: torch.optim.lr_scheduler.CosineAnnealingLR\n      kwargs:\n"
        "        T_max: ${mul:${grpo.max_num_steps},0.9}\n"
        "    - milestones:\n        - ${grpo.warmup}\n"
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "child.yaml").write_text(
        "defaults: ../base.yaml\ngrpo:\n  max_num_steps: 500\npolicy:\n  optimizer:\n    kwargs:\n      lr: 2.0e-6\n"
    )
    r = load_config(tmp_path / "sub" / "child.yaml")
    assert r.total_steps == 500 and r.peak_lr == 2e-6
    assert r.context["pieces"][1]["kwargs"]["T_max"] == pytest.approx(450)  # interpolated after the merge
    assert r.context["milestones"] == [40]


def test_defaults_errors(tmp_path):
    (tmp_path / "a.yaml").write_text("defaults: b.yaml\nx: 1\n")
    (tmp_path / "b.yaml").write_text("defaults: a.yaml\ny: 2\n")
    with pytest.raises(ConfigError, match="loops"):
        load_config(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("defaults: missing.yaml\n")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "c.yaml")


def test_bad_interpolation_names_the_key():
    with pytest.raises(ConfigError) as err:
        load_config_text("training:\n  scheduler:\n    type: constant\n    total_steps: ${run.steps}\n")
    assert err.value.field == "training.scheduler.total_steps"
    assert "--set training.scheduler.total_steps=" in err.value.fix


def test_yaml_rules():
    with pytest.raises(ConfigError, match="duplicate key"):
        load_config_text("training:\n  scheduler: {type: constant}\n  scheduler: {type: linear}\n")
    with pytest.raises(ConfigError, match="line 3"):
        load_config_text("training:\n  scheduler: [\n")
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_config_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("/nonexistent/config.yaml")
    # YAML never builds objects
    with pytest.raises(ConfigError):
        load_config_text("!!python/object/apply:os.system ['echo hi']\n")


def test_format_detection_and_naming():
    assert detect_format({"lr_scheduler_type": "linear"}) == "hf"
    assert detect_format({"lr_decay_style": "cosine", "lr": 1}) == "megatron"
    assert detect_format({"model": {"optim": {"lr": 1, "sched": {"name": "CosineAnnealing"}}}}) == "nemo"
    with pytest.raises(ConfigError) as err:
        load_config({"foo": 1})
    assert "format" in err.value.fix
    with pytest.raises(ConfigError) as err:
        load_config({"lr": 1}, format="megatorn")
    assert "megatron" in str(err.value)
    r = load_config({"learning_rate": 1e-3, "lr_scheduler_type": "constant"}, format="huggingface")
    assert r.format == "hf"


def test_total_steps_argument_is_checked():
    with pytest.raises(ConfigError) as err:
        load_config({"learning_rate": 1e-3, "lr_scheduler_type": "constant"}, total_steps=-5)
    assert err.value.field == "total_steps"


def test_reading_imports_no_torch():
    code = (
        "import sys, lrkit.config as c, glob\n"
        "for f in sorted(glob.glob(sys.argv[1] + '/*')): c.load_config(f)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code, str(EXAMPLES)], check=True)


def test_syntax_errors_name_the_place_once():
    with pytest.raises(ConfigError) as err:
        load_config_text("a: [", name="run.yaml")
    assert str(err.value).startswith("run.yaml: line 1, column 5: not valid YAML/JSON")
    # a bad character has no line: no empty "::" and no "around that line"
    with pytest.raises(ConfigError) as err:
        load_config_text("a: \x07", name="run.yaml")
    assert str(err.value).startswith("run.yaml: not valid YAML/JSON (") and "::" not in str(err.value)
    assert "that line" not in err.value.fix


# -- resolve only what the curve needs ---------------------------------------------------------

_RL = (
    "policy:\n  optimizer: {name: torch.optim.AdamW, kwargs: {lr: 1.0e-5}}\n"
    "  scheduler: {name: torch.optim.lr_scheduler.ConstantLR, kwargs: {factor: 1.0, total_iters: 1}}\n"
    "grpo: {max_num_steps: 10}\n"
)


def test_unresolved_values_outside_the_curve_do_not_stop_a_reading(monkeypatch):
    monkeypatch.delenv("LRKIT_TEST_UNSET", raising=False)
    text = _RL + (
        "data: {path: '${oc.env:LRKIT_TEST_UNSET}/train', other: '${DATA_PATH}/x', need: '???'}\n"
        "logger: {name: '${unknown_resolver:1}', n: '${mul:2,3}', m: '${multiply:2,3}'}\n"
    )
    r = load_config_text(text)
    assert r.peak_lr == 1e-5 and r.raw["logger"]["n"] == 6 and r.raw["logger"]["m"] == 6


def test_unresolved_value_the_curve_needs_is_asked_for_by_key(monkeypatch):
    monkeypatch.delenv("LRKIT_TEST_UNSET", raising=False)
    text = _RL.replace("lr: 1.0e-5", "lr: '${oc.env:LRKIT_TEST_UNSET}'")
    with pytest.raises(ConfigError) as err:
        load_config_text(text)
    assert err.value.field == "policy.optimizer.kwargs.lr" and "--set policy.optimizer.kwargs.lr=" in err.value.fix
    assert load_config_text(text, overrides=["policy.optimizer.kwargs.lr=2e-5"]).peak_lr == 2e-5
    assert load_config_text(text, overrides={"LRKIT_TEST_UNSET": "3e-5"}).peak_lr == 3e-5
    with pytest.raises(ConfigError, match="Did you mean 'optimizer'"):
        load_config_text(_RL, overrides=["policy.optimzer.kwargs.lr=2e-5"])


def test_hydra_group_defaults(tmp_path):
    (tmp_path / "opt").mkdir()
    (tmp_path / "opt" / "fast.yaml").write_text("kwargs: {lr: 4.0e-5}\nname: torch.optim.AdamW\n")
    (tmp_path / "run.yaml").write_text(
        "defaults:\n  - _self_\n  - {optional tp_overlap@model: missing_option}\n  - opt@policy.optimizer: fast\n"
        + _RL.replace("lr: 1.0e-5", "lr: 1.0e-5, weight_decay: 0.1")
    )
    r = load_config(tmp_path / "run.yaml")
    assert r.peak_lr == 4e-5  # the group is merged after _self_, at its package
    assert r.optimizer["weight_decay"] == 0.1
    assert not [f for f in r.findings if f.rule == "config-not-merged"]  # optional: silent
    (tmp_path / "run2.yaml").write_text("defaults:\n  - {tp_overlap@model: absent}\n" + _RL)
    (f,) = [f for f in load_config(tmp_path / "run2.yaml").findings if f.rule == "config-not-merged"]
    assert "tp_overlap=absent" in f.message


def test_yaml_merge_key_then_override_is_not_a_duplicate():
    data = load_config_text("x: &B {a: 1, b: 2}\ny:\n  <<: *B\n  b: 3\n" + _RL).raw
    assert data["y"] == {"a": 1, "b": 3}
    with pytest.raises(ConfigError, match="first at line 1"):
        load_config_text("grpo: {max_num_steps: 1}\n" + _RL)
