"""A shell script that launches a Hugging Face-style trainer, read with --format hf / llamafactory:
its launch line's ``--key value`` words are the trainer's settings (the script is never run)."""

from __future__ import annotations

import numpy as np
import pytest

from lrkit.config import load_config, load_config_text
from lrkit.errors import ConfigError

HF_LAUNCH = """#!/bin/bash
OUT=runs/$RUN_NAME
CUDA_VISIBLE_DEVICES=0,1 torchrun --nproc_per_node 2 train.py \\
  --model_name_or_path Qwen/Qwen2.5-0.5B \\
  --learning-rate {lr} \\
  --lr_scheduler_type=cosine \\
  --warmup_ratio 0.1 \\
  --max_steps 1000 \\
  --bf16 \\
  --output_dir $OUT
"""


def _script(tmp_path, text, name="train.sh"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_a_trainer_launch_is_read_as_the_format_named_and_equals_its_yaml(tmp_path):
    p = _script(tmp_path, HF_LAUNCH.format(lr="2e-5"))
    got = load_config(p, format="hf")
    same = {"learning_rate": 2e-5, "lr_scheduler_type": "cosine", "warmup_ratio": 0.1, "max_steps": 1000}
    want = load_config(same, format="hf")
    assert got.format == "hf" and got.total_steps == 1000 and got.peak_lr == pytest.approx(2e-5)
    steps = np.arange(1100)
    np.testing.assert_allclose(got.lr_schedule(steps), want.lr_schedule(steps), rtol=1e-15, atol=0)
    text = load_config_text(HF_LAUNCH.format(lr="2e-5"), name="train.sh", format="hf")
    np.testing.assert_allclose(text.lr_schedule(steps), want.lr_schedule(steps), rtol=1e-15, atol=0)


def test_without_a_format_the_script_is_asked_about_and_the_fix_names_the_flag(tmp_path):
    p = _script(tmp_path, HF_LAUNCH.format(lr="2e-5"))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert err.value.field == "format" and "hf" in err.value.value
    assert "--format hf" in err.value.fix


def test_an_unknown_learning_rate_is_asked_for_and_set_fills_it(tmp_path):
    p = _script(tmp_path, HF_LAUNCH.format(lr="$LR"))
    with pytest.raises(ConfigError) as err:
        load_config(p, format="hf")
    assert err.value.field == "--learning_rate" and "--set LR=" in err.value.fix
    got = load_config(p, format="hf", overrides={"LR": "3e-5"})
    assert got.peak_lr == pytest.approx(3e-5)  # the unknown output dir ($RUN_NAME) is not asked for


def test_launches_that_disagree_are_asked_about(tmp_path):
    text = HF_LAUNCH.format(lr="2e-5") + "python train.py --learning_rate 1e-4 --lr_scheduler_type linear\n"
    with pytest.raises(ConfigError) as err:
        load_config(_script(tmp_path, text), format="hf")
    assert err.value.field == "script" and "2e-5" in str(err.value) and "1e-4" in str(err.value)


def test_a_llamafactory_train_py_launch_reads_as_llamafactory(tmp_path):
    text = (
        "#!/bin/bash\npython src/train.py --stage sft --do_train --finetuning_type lora "
        "--learning_rate 5e-5 --lr_scheduler_type cosine --warmup_steps 20 --max_steps 500\n"
    )
    got = load_config(_script(tmp_path, text), format="llamafactory")
    assert got.format == "llamafactory" and got.total_steps == 500 and got.peak_lr == pytest.approx(5e-5)


def test_a_script_is_not_read_as_a_format_with_no_launch_arguments(tmp_path):
    p = _script(tmp_path, HF_LAUNCH.format(lr="2e-5"))
    with pytest.raises(ConfigError) as err:
        load_config(p, format="nemo")
    assert err.value.field == "format" and "hf" in err.value.fix
    plain = _script(tmp_path, "#!/bin/bash\npython eval.py --model_name_or_path x\n", "eval.sh")
    with pytest.raises(ConfigError) as err:
        load_config(plain, format="hf")
    assert err.value.field == "script"


# -- scripts that run axolotl / LLaMA-Factory on a YAML: the error names the YAML and the command ----------

POINTER_LAUNCHES = [
    ("axolotl train configs/qlora.yml --launcher torchrun\n", "configs/qlora.yml", "axolotl"),
    ("accelerate launch --num_processes 2 -m axolotl.cli.train configs/qlora.yml\n", "configs/qlora.yml", "axolotl"),
    ("CUDA_VISIBLE_DEVICES=0 python -m axolotl.cli.train qlora.yaml\n", "qlora.yaml", "axolotl"),
    ("llamafactory-cli train examples/train_lora/sft.yaml\n", "examples/train_lora/sft.yaml", "llamafactory"),
    ("FORCE_TORCHRUN=1 NNODES=2 lmf train sft.yaml\n", "sft.yaml", "llamafactory"),
    ('sbatch --nodes=1 --wrap="cd /work && llamafactory-cli train sft.yaml"\n', "sft.yaml", "llamafactory"),
    ("srun --ntasks=8 llamafactory-cli train $RECIPE\n", "<$RECIPE>", "llamafactory"),
]


@pytest.mark.parametrize(("launch", "yaml", "trainer"), POINTER_LAUNCHES)
def test_a_script_running_axolotl_or_llamafactory_on_a_yaml_names_it_and_the_command(tmp_path, launch, yaml, trainer):
    p = _script(tmp_path, "#!/bin/bash\nset -e\n" + launch)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert err.value.field == "script" and err.value.fix.startswith(f"lrkit show {yaml} --format {trainer}")
    assert "Megatron" not in str(err.value)
    if trainer == "axolotl":  # --format axolotl on the script: the same pointer, not a generic refusal
        with pytest.raises(ConfigError) as again:
            load_config(p, format="axolotl")
        assert again.value.fix == err.value.fix


def test_the_yaml_a_script_names_is_never_read_even_when_it_exists(tmp_path):
    (tmp_path / "sft.yaml").write_text("learning_rate: 1.0e-4\nlr_scheduler_type: cosine\nmax_steps: 100\n")
    p = _script(tmp_path, f"#!/bin/bash\nllamafactory-cli train {tmp_path / 'sft.yaml'}\n")
    with pytest.raises(ConfigError) as err:
        load_config(p, format="llamafactory")
    assert err.value.value == str(tmp_path / "sft.yaml")


def test_the_launchs_overrides_of_the_yaml_that_the_curve_reads_become_sets(tmp_path):
    axo = _script(tmp_path, "#!/bin/bash\naxolotl train cfg.yml --learning-rate 2e-5 --num-processes 2\n")
    with pytest.raises(ConfigError) as err:
        load_config(axo)
    assert err.value.fix.startswith("lrkit show cfg.yml --format axolotl --set learning_rate=2e-5 (")
    assert "num_processes" not in err.value.fix
    lf = _script(tmp_path, "#!/bin/bash\nllamafactory-cli train x.yaml learning_rate=1e-5 output_dir=out\n", "lf.sh")
    with pytest.raises(ConfigError) as err:
        load_config(lf)
    assert "--set learning_rate=1e-5" in err.value.fix and "output_dir" not in err.value.fix


def test_launches_naming_different_yamls_are_all_named(tmp_path):
    text = "#!/bin/bash\nllamafactory-cli train stage1.yaml\nllamafactory-cli train stage2.yaml\n"
    with pytest.raises(ConfigError) as err:
        load_config(_script(tmp_path, text))
    assert err.value.value == ["stage1.yaml", "stage2.yaml"] and "does not guess" in str(err.value)


def test_llamafactory_cli_with_arguments_is_read_with_its_format_and_asked_for_without(tmp_path):
    text = (
        "#!/bin/bash\nllamafactory-cli train --stage sft --do_train --learning_rate 5e-5 "
        "--lr_scheduler_type cosine --warmup_steps 20 --max_steps 500\n"
    )
    p = _script(tmp_path, text)
    got = load_config(p, format="llamafactory")
    assert got.format == "llamafactory" and got.total_steps == 500 and got.peak_lr == pytest.approx(5e-5)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert (
        err.value.field == "format" and err.value.value == "llamafactory" and "--format llamafactory" in err.value.fix
    )


def test_format_axolotl_on_a_script_without_an_axolotl_launch_asks_for_the_yaml(tmp_path):
    p = _script(tmp_path, HF_LAUNCH.format(lr="2e-5"))
    with pytest.raises(ConfigError) as err:
        load_config(p, format="axolotl")
    assert err.value.field == "format" and "--format axolotl" in err.value.fix


def test_a_named_format_on_a_launch_that_hands_its_trainer_a_config_file_points_at_the_file(tmp_path):
    text = "#!/bin/bash\naccelerate launch --config_file zero3.yaml sft.py --config recipes/sft.yaml --output_dir o\n"
    p = _script(tmp_path, text)
    for fmt in ("hf", "axolotl"):
        with pytest.raises(ConfigError) as err:
            load_config(p, format=fmt)
        assert err.value.field == "script" and err.value.fix == f"lrkit show recipes/sft.yaml --format {fmt}."
        assert "hands the trainer the config file recipes/sft.yaml" in str(err.value)
