"""Shapes met in a second held-out corpus of public training configs (recipes repositories that
use LLaMA-Factory, axolotl, NeMo 1.x, Megatron-LM and TRL): each test mirrors one real shape."""

from __future__ import annotations

import json

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
def test_a_deepspeed_config_is_not_read_as_lrkits_own_format(data):
    # read as DeepSpeed's, never taken for lrkit's scheduler: {type}
    assert detect_format(data) == "deepspeed"


def test_a_deepspeed_config_without_a_scheduler_says_it_sets_no_schedule():
    with pytest.raises(ConfigError, match=r"DeepSpeed config .*sets no LR schedule"):
        load_config(DEEPSPEED_ZERO_ONLY, total_steps=1000)


def test_lrkits_own_top_level_scheduler_is_still_read():
    cfg = load_config({"optimizer": {"lr": 1e-3}, "scheduler": {"type": "cosine_annealing"}}, total_steps=100)
    assert cfg.format == "lrkit"


# a LLaMA-Factory launch written as a shell script (SkyThought's train.sh shape): torchrun runs a
# *.py entry point with Hugging Face-style --key value arguments and no --lr
HF_LAUNCH = """DISTRIBUTED_ARGS="
    --nproc_per_node 8 \\
    --nnodes 1
  "

torchrun $DISTRIBUTED_ARGS src/train.py \\
    --stage sft \\
    --do_train \\
    --warmup_steps 100 \\
    --learning_rate 5e-6 \\
    --lr_scheduler_type cosine \\
    --max_steps 1000 \\
    --bf16
"""
# an open-r1 / TRL launch: the recipe YAML holds the arguments
RECIPE_LAUNCH = "accelerate launch --config_file zero3.yaml src/open_r1/grpo.py --config recipes/grpo.yaml\n"


def test_a_script_launching_a_hugging_face_style_trainer_is_not_read_as_megatron(tmp_path):
    script = tmp_path / "train.sh"
    script.write_text(HF_LAUNCH)
    with pytest.raises(ConfigError) as err:
        load_config(script)
    assert err.value.field == "format"
    assert "--learning_rate" in str(err.value) and "not Megatron's" in str(err.value)
    assert "hf" in err.value.value
    # answering the question a Megatron reading would ask must not draw a Megatron curve either
    with pytest.raises(ConfigError, match="not Megatron's"):
        load_config(script, overrides={"lr": "5e-6", "train_iters": "1000"})


def test_a_script_launching_a_trainer_with_its_config_file_names_that_file(tmp_path):
    script = tmp_path / "grpo.sh"
    script.write_text(RECIPE_LAUNCH)
    with pytest.raises(ConfigError, match=r"lrkit show recipes/grpo\.yaml"):
        load_config(script)


def test_a_megatron_launch_passing_a_vocab_json_is_still_read_as_megatron(tmp_path):
    script = tmp_path / "pretrain.sh"
    script.write_text(
        "torchrun pretrain_gpt.py --vocab-file gpt2-vocab.json --lr 3e-4 --min-lr 3e-5 "
        "--lr-decay-style cosine --lr-warmup-iters 10 --train-iters 100\n"
    )
    cfg = load_config(script)
    assert cfg.format == "megatron" and cfg.total_steps == 100


def _nemo(sched_name: str) -> dict:
    # NeMo-Framework-Launcher's gpt3/mlperf.yaml shape: model.optim.sched with a registered-elsewhere name
    return {
        "trainer": {"max_steps": 1000},
        "model": {
            "optim": {
                "name": "distributed_fused_adam",
                "lr": 2e-5,
                "sched": {"name": sched_name, "warmup_steps": 132, "constant_steps": 0, "min_lr": 2e-6},
            }
        },
    }


def test_a_nemo_scheduler_name_nemo_does_not_register_says_nemo_raises_too():
    with pytest.raises(ConfigError) as err:
        load_config(_nemo("CosineAnnealingExp"))
    assert err.value.field == "model.optim.sched.name"
    assert "NeMo's get_scheduler raises too" in str(err.value) and "CosineAnnealing" in str(err.value)


def test_a_nemo_scheduler_nemo_registers_is_not_called_unknown():
    # T5InverseSquareRootAnnealing is registered and drawn; this shape passes it warmup_steps, which
    # its constructor does not take (NeMo raises TypeError), so the refusal names that key
    with pytest.raises(ConfigError) as err:
        load_config(_nemo("T5InverseSquareRootAnnealing"))
    assert err.value.field == "model.optim.sched.warmup_steps" and "Cannot resolve" not in str(err.value)


def test_a_nemo_scheduler_lrkit_draws_is_read():
    assert load_config(_nemo("CosineAnnealing")).format == "nemo"


# Megatron-LLM's finetune.sh shape: the sequence length is chosen per model in an if/elif block
# (underscored flags, as that fork's argparse spells them); the run is iteration-based
SEQ_BY_MODEL = """MODEL=llama2
SEQ_LEN=none
if [[ $MODEL = falcon ]]; then
\tSEQ_LEN=2048
elif [[ $MODEL = llama2 ]]; then
\tif [[ $SEQ_LEN = none ]]; then
\t\tSEQ_LEN=4096
\tfi
fi
COMMON_ARGS="--seq_length $SEQ_LEN --max_position_embeddings $SEQ_LEN
\t--lr_decay_style cosine --lr_warmup_fraction 0.1 --lr 2e-5 --min_lr 2e-6"
torchrun finetune.py --global_batch_size 64 --train_iters 1000 $COMMON_ARGS {extra}
"""


def test_a_sequence_length_an_iteration_based_curve_does_not_read_is_not_asked(tmp_path):
    script = tmp_path / "finetune.sh"
    script.write_text(SEQ_BY_MODEL.format(extra=""))
    cfg = load_config(script)
    assert cfg.format == "megatron" and cfg.total_steps == 1000
    unknown = tmp_path / "unknown_seq.sh"
    unknown.write_text(
        "torchrun pretrain_gpt.py --seq-length $SEQ --lr 3e-4 --lr-decay-style cosine --train-iters 100\n"
    )
    assert load_config(unknown).total_steps == 100


def test_a_sequence_length_a_token_decay_reads_is_still_asked(tmp_path):
    script = tmp_path / "pretrain.sh"
    script.write_text(
        SEQ_BY_MODEL.replace("--lr_warmup_fraction 0.1", "--lr_decay_tokens 1000000").format(
            extra="--deepspeed --deepspeed_config ds.json"
        )
    )
    with pytest.raises(ConfigError, match=r"seq-length depends on an if/case/for block"):
        load_config(script, overrides={"megatron": "deepspeed", "deepspeed_scheduler": "false"})


# LLaMA-Factory's layout: recipes under examples/, DeepSpeed configs under examples/deepspeed/, both
# named relative to the repository root the run is launched from (SkyThought's train_full/*.yaml)
LF_RECIPE = """stage: sft
do_train: true
finetuning_type: full
deepspeed: examples/deepspeed/{ds}
learning_rate: 1.0e-5
num_train_epochs: 3.0
lr_scheduler_type: cosine
warmup_ratio: 0.1
"""
DS_SCHEDULER = json.dumps(
    {
        "scheduler": {
            "type": "WarmupDecayLR",
            "params": {k: "auto" for k in ("warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "total_num_steps")},
        },
        "train_batch_size": 8,
    }
)


def _lf_repo(tmp_path, ds_text: str | None, ds: str = "ds_z3_config.json"):
    (tmp_path / "examples" / "train_full").mkdir(parents=True)
    (tmp_path / "examples" / "deepspeed").mkdir()
    if ds_text is not None:
        (tmp_path / "examples" / "deepspeed" / ds).write_text(ds_text)
    recipe = tmp_path / "examples" / "train_full" / "qwen2_full_sft.yaml"
    recipe.write_text(LF_RECIPE.format(ds=ds))
    return recipe


def _not_the_trainers_own_curve(load, without):
    """A DeepSpeed "scheduler" section replaces the Trainer's: the curve drawn is DeepSpeed's (read by
    lrkit.config.deepspeed), never the lr_scheduler_type curve as if the section were absent."""
    cfg = load()
    assert [f.rule for f in cfg.findings if f.rule == "deepspeed-scheduler"]
    assert cfg.context["deepspeed_scheduler"] in ("WarmupDecayLR", "WarmupLR")
    assert cfg.lrs(100) != pytest.approx(without().lrs(100))


def test_a_deepspeed_config_with_a_scheduler_section_replaces_the_schedule(tmp_path):
    recipe = _lf_repo(tmp_path, DS_SCHEDULER)
    plain = tmp_path / "plain.yaml"
    plain.write_text(LF_RECIPE.replace("deepspeed: examples/deepspeed/{ds}\n", ""))
    _not_the_trainers_own_curve(
        lambda: load_config(recipe, total_steps=1000), lambda: load_config(plain, total_steps=1000)
    )


def test_a_deepspeed_config_without_a_scheduler_leaves_the_curve_to_the_trainer(tmp_path):
    recipe = _lf_repo(tmp_path, '{"zero_optimization": {"stage": 3}, "train_batch_size": "auto"}')
    cfg = load_config(recipe, total_steps=1000)
    assert cfg.format == "llamafactory"
    assert not [f for f in cfg.findings if f.rule == "deepspeed-config-not-read"]


def test_a_deepspeed_config_lrkit_cannot_find_is_said(tmp_path):
    cfg = load_config(_lf_repo(tmp_path, None), total_steps=1000)
    (note,) = [f for f in cfg.findings if f.rule == "deepspeed-config-not-read"]
    assert note.evidence == {"deepspeed": "examples/deepspeed/ds_z3_config.json"}


def test_an_axolotl_config_with_an_inline_deepspeed_scheduler_is_not_drawn_as_axolotls():
    data = {
        "base_model": "m",
        "datasets": [{"path": "d"}],
        "micro_batch_size": 2,
        "num_epochs": 1,
        "max_steps": 100,
        "learning_rate": 2e-4,
        "lr_scheduler": "cosine",
        "deepspeed": {"scheduler": {"type": "WarmupLR", "params": {}}},
    }
    plain = {k: v for k, v in data.items() if k != "deepspeed"}
    _not_the_trainers_own_curve(
        lambda: load_config(data, format="axolotl", total_steps=100),
        lambda: load_config(plain, format="axolotl", total_steps=100),
    )


# NeMo RL's test-suite scripts (the config path comes from a file the script sources, overrides follow)
# and NeMo-Aligner's Hydra launches: neither passes --lr, and Megatron's argparse has no --config*
NEMO_RL_LAUNCH = """source $SCRIPT_DIR/common.env
uv run examples/run_grpo.py \\
    --config $CONFIG_PATH \\
    grpo.max_num_steps=$MAX_STEPS \\
    policy.optimizer.kwargs.lr=1e-6
"""
HYDRA_LAUNCH = """CONF_DIR=examples/nlp/gpt/conf
torchrun --nproc_per_node=2 examples/nlp/gpt/train_gpt_sft.py \\
    --config-path=${CONF_DIR} \\
    --config-name=gpt_sft \\
    trainer.sft.max_steps=10
"""


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (NEMO_RL_LAUNCH, "<unknown: $CONFIG_PATH"),
        (HYDRA_LAUNCH, "examples/nlp/gpt/conf/gpt_sft.yaml"),
        ("python train.py --config=recipes/sft.yaml\n", "recipes/sft.yaml"),
    ],
)
def test_a_launch_with_a_trainers_config_flag_names_the_config_not_megatron(tmp_path, text, named):
    script = tmp_path / "launch.sh"
    script.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(script)
    assert err.value.field == "format" and named in str(err.value)
    assert "@@" not in str(err.value)  # the script's unknowns are named, not shown as lrkit's markers


NEMO_MODEL = {
    "trainer": {"max_steps": 1000},
    "model": {"optim": {"name": "fused_adam", "lr": 9e-6, "sched": {"name": "CosineAnnealing", "warmup_steps": 10}}},
}


def test_a_launcher_file_with_one_config_per_role_names_the_sections():
    # NeMo-Framework-Launcher's rlhf_ppo/gpt3/2b_ppo.yaml: the critic's and the actor's NeMo configs side by side
    data = {"run": {"name": "rlhf_2b_ppo"}, "name": "rlhf_2b_ppo", "critic": NEMO_MODEL, "actor": NEMO_MODEL}
    with pytest.raises(ConfigError) as err:
        load_config(data)
    assert err.value.field == "format" and err.value.value == ["critic", "actor"]
    assert "critic (nemo), actor (nemo)" in str(err.value)


def test_another_frameworks_config_under_training_is_not_read_as_lrkits_own():
    # a launcher's composed config: its NeMo training config sits under training:, where lrkit's own keys live
    with pytest.raises(ConfigError) as err:
        load_config({"run": {"name": "gpt3_5b"}, "training": NEMO_MODEL})
    assert err.value.field == "format" and "training (nemo)" in str(err.value)
    # lrkit's own training: section, misspelt, is still lrkit's and gets its spelling fix
    with pytest.raises(ConfigError, match="Did you mean 'optimizer'"):
        load_config({"training": {"optimzer": {"lr": 1e-3}, "scheduler": {"type": "cosine_annealing"}}}, total_steps=9)


# commands run with variables in their environment (SkyThought's fsdp_qlora/train.sh, Megatron-LLM's
# finetune.sh): bash sets none of them in the script, and each line is a launch like any other
def test_two_env_prefixed_megatron_launches_with_different_lrs_are_asked_about(tmp_path):
    script = tmp_path / "two_runs.sh"
    script.write_text(
        "CUDA_DEVICE_MAX_CONNECTIONS=1 torchrun pretrain_gpt.py --lr 3e-4 --train-iters 100\n"
        "CUDA_DEVICE_MAX_CONNECTIONS=1 OMP_NUM_THREADS=8 torchrun finetune.py --lr 1e-5 --train-iters 50\n"
    )
    with pytest.raises(ConfigError, match="launches Megatron 2 times with different --lr"):
        load_config(script)


def test_an_env_prefixed_trainer_launch_names_its_config_file(tmp_path):
    script = tmp_path / "train.sh"
    script.write_text(
        "CUDA_VISIBLE_DEVICES=0,1 accelerate launch \\\n"
        "    --config_file examples/accelerate/fsdp_config.yaml \\\n"
        "    src/train.py examples/extras/fsdp_qlora/llama3_lora_sft.yaml\n"
    )
    with pytest.raises(ConfigError, match=r"lrkit show examples/extras/fsdp_qlora/llama3_lora_sft\.yaml"):
        load_config(script)


def test_an_env_prefixed_megatron_launch_is_read_and_its_variables_stay_unset(tmp_path):
    script = tmp_path / "pretrain.sh"
    script.write_text('ITERS=100 LR="3e-4" torchrun pretrain_gpt.py --lr ${LR:-1e-4} --train-iters ${ITERS:-200}\n')
    cfg = load_config(script)
    assert cfg.total_steps == 200 and cfg.peak_lr == pytest.approx(1e-4)  # bash expands before the prefix applies


def test_a_long_argument_string_with_many_variables_is_read(tmp_path):
    # Megatron-LLM's COMMON_ARGS="... $SEQ_LEN ... $LR ..." over several lines: telling an assignment from a
    # command run with variables must not try every way of splitting each $NAME
    names = [f"V{i}" for i in range(40)]
    script = tmp_path / "many.sh"
    script.write_text(
        "".join(f"{n}={i}\n" for i, n in enumerate(names))
        + 'ARGS="'
        + " ".join(f"--x{i} ${n}" for i, n in enumerate(names))
        + '\n --lr 3e-4 --train-iters 100"\ntorchrun pretrain_gpt.py $ARGS\n'
    )
    assert load_config(script).total_steps == 100


def test_an_env_prefixed_command_that_passes_no_megatron_argument_is_no_launch(tmp_path):
    # an evaluation script (SkyThought's Qwen2.5-Math/evaluation/sh/*.sh shape)
    script = tmp_path / "eval.sh"
    script.write_text(
        "CUDA_VISIBLE_DEVICES=0 TOKENIZERS_PARALLELISM=false python3 -u math_eval.py --model_name_or_path m\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(script)
    assert err.value.field == "script" and "no Megatron launch line" in str(err.value)


def test_argument_variables_beside_an_unrelated_command_are_still_read(tmp_path):
    # a CONFIG.sh another script sources, which also runs a helper with its own environment
    script = tmp_path / "CONFIG.sh"
    script.write_text(
        'OPTIONS="--lr 1e-4 --min-lr 1e-5 --lr-decay-style cosine --lr-warmup-iters 5 --train-iters 50"\n'
        "CUDA_VISIBLE_DEVICES=0 python tools/preprocess_data.py --input data.json --workers 8\n"
    )
    assert load_config(script).total_steps == 50


def test_a_multi_line_env_prefixed_megatron_launch_is_read(tmp_path):
    # NeMo's bitexact mixtral/run.sh: several variables, then the launch continued over lines
    script = tmp_path / "run.sh"
    script.write_text(
        "CUDA_DEVICE_MAX_CONNECTIONS=1 CUDA_LAUNCH_BLOCKING=1 TORCH_COMPILE_DISABLE=1 \\\n"
        "    torchrun --nproc-per-node 1 /workspace/Megatron-LM/pretrain_gpt.py \\\n"
        "    --lr 1e-2 --min-lr 1e-4 --lr-decay-style constant --train-iters=10\n"
        "CUDA_LAUNCH_BLOCKING=1 coverage run -a tests/compare_ckpts.py out/ ref/\n"
    )
    cfg = load_config(script)
    assert cfg.total_steps == 10 and cfg.peak_lr == pytest.approx(1e-2)


def test_two_launches_that_differ_only_in_what_the_curve_does_not_read_are_one_run(tmp_path):
    # the same iteration-based run launched for two sequence lengths (Pai-Megatron-Patch's eval/train pairs)
    script = tmp_path / "two_seq.sh"
    args = "--lr 3e-4 --lr-decay-style cosine --train-iters 100 --global-batch-size {gbs} --seq-length {seq}"
    launch = "torchrun pretrain_gpt.py " + args + "\n"
    script.write_text(launch.format(gbs=64, seq=2048) + launch.format(gbs=32, seq=4096))
    assert load_config(script).total_steps == 100
