"""Megatron-LM command lines: argument lists, shell scripts, YAML with dashed keys.

Small inputs written here mirror the shapes of Megatron-LM's examples/**/*.sh and its
functional-test model_config.yaml; every curve is compared with the same run written as the
flat YAML the Megatron reader already reads.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrkit.config import load_config, load_config_text
from lrkit.config.megatron_args import parse_arg_list
from lrkit.config.shell import parse_shell
from lrkit.errors import ConfigError

FLAT = {
    "lr": 3e-4,
    "min_lr": 3e-5,
    "lr_decay_style": "cosine",
    "lr_warmup_iters": 20,
    "lr_decay_iters": 180,
    "train_iters": 200,
    "global_batch_size": 64,
}
ARGV = [
    "--lr",
    "3e-4",
    "--min-lr=3e-5",
    "--lr-decay-style",
    "cosine",
    "--lr-warmup-iters",
    "20",
    "--lr-decay-iters",
    "180",
    "--train-iters",
    "200",
    "--global-batch-size",
    "64",
    "--bf16",
]


def _same(a, b, n=200):
    assert a.total_steps == b.total_steps
    np.testing.assert_allclose(a.lrs(n), b.lrs(n), rtol=1e-12, atol=0)


def test_argument_list_k_v_and_k_eq_v():
    args, written = parse_arg_list(ARGV)
    assert args["min_lr"] == 3e-5 and args["bf16"] is True and written["min_lr"] == "--min-lr"
    _same(load_config(ARGV), load_config(FLAT))


def test_argument_list_needs_flags():
    with pytest.raises(ConfigError, match="not a --flag"):
        load_config(["3e-4", "--lr", "1"])


SCRIPT = """#!/bin/bash
# Runs a small model (comment with an apostrophe: don't)
export CUDA_DEVICE_MAX_CONNECTIONS=1
GPUS_PER_NODE=8
NUM_NODES=${NUM_NODES:-1}
WORLD_SIZE=$(($GPUS_PER_NODE*$NUM_NODES))
CHECKPOINT_PATH=$1 #<Specify path>
LR=3e-4
WARMUP=$((4 * 5))

DISTRIBUTED_ARGS=(
    --nproc_per_node $GPUS_PER_NODE
    --nnodes $NUM_NODES
)

TRAINING_ARGS=(
    --micro-batch-size 1
    --global-batch-size 64   # samples per iteration
    --train-iters 200
    --lr $LR
    --lr-decay-style cosine
    --min-lr 3.0e-5
    --lr-warmup-iters $WARMUP
    --lr-decay-iters 180
)
EXTRA="--bf16 --clip-grad 1.0"

torchrun ${DISTRIBUTED_ARGS[@]} pretrain_gpt.py \\
    "${TRAINING_ARGS[@]}" \\
    $EXTRA \\
    --save $CHECKPOINT_PATH \\
    --data-path $(ls /data | head -1)
"""


def test_shell_script_arrays_variables_continuations(tmp_path):
    p = tmp_path / "train.sh"
    p.write_text(SCRIPT)
    r = load_config(p)
    assert r.format == "megatron"
    _same(r, load_config(FLAT))
    # standard input with a #! line is a script too
    _same(load_config_text(SCRIPT, name="<stdin>"), load_config(FLAT))


def test_shell_is_never_executed(tmp_path):
    marker = tmp_path / "ran"
    script = SCRIPT.replace("--data-path $(ls /data | head -1)", f"--data-path $(touch {marker})")
    script = script.replace("LR=3e-4", f"LR=3e-4; touch {marker}")
    (tmp_path / "t.sh").write_text(script)
    load_config(tmp_path / "t.sh")
    assert not marker.exists()


def test_unset_variable_that_decides_the_curve_is_asked_for(tmp_path):
    p = tmp_path / "t.sh"
    p.write_text(SCRIPT.replace("LR=3e-4\n", ""))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "$LR" in str(err.value) and "--set LR=" in err.value.fix
    _same(load_config(p, overrides={"LR": "3e-4"}), load_config(FLAT))
    _same(load_config(p, overrides=["lr=3e-4"]), load_config(FLAT))


def test_unset_variable_outside_the_curve_is_fine(tmp_path):
    # $1 (CHECKPOINT_PATH) and $(ls ...) never reach the curve
    p = tmp_path / "t.sh"
    p.write_text(SCRIPT)
    assert load_config(p).peak_lr == 3e-4


def test_global_batch_size_only_matters_for_samples(tmp_path):
    p = tmp_path / "t.sh"
    p.write_text(SCRIPT.replace("--global-batch-size 64", "--global-batch-size $GBS"))
    _same(load_config(p), load_config(FLAT))  # iteration-based: the batch size cancels out
    sampled = (
        "#!/bin/bash\npython pretrain_gpt.py --lr 1e-3 --train-samples 6400 --lr-warmup-samples 640 "
        "--global-batch-size $GBS --lr-decay-style linear\n"
    )
    p.write_text(sampled)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "--set GBS=" in err.value.fix
    r = load_config(p, overrides={"GBS": "64"})
    assert r.total_steps == 100 and r.context["warmup_steps"] == 10


def test_conditional_assignment_that_changes_the_curve_is_asked_for(tmp_path):
    p = tmp_path / "t.sh"
    p.write_text(SCRIPT.replace("LR=3e-4\n", 'LR=3e-4\nif [ "$BIG" = 1 ]; then\n    LR=1e-4\nfi\n'))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "--lr" in str(err.value) and "if/case/for" in str(err.value) and "--set lr=" in err.value.fix
    assert load_config(p, overrides={"lr": "1e-4"}).peak_lr == 1e-4
    # a block that only appends arguments the curve does not use is fine
    p.write_text(
        SCRIPT.replace(
            "EXTRA=", 'if [ "$FSDP" = 1 ]; then\n  TRAINING_ARGS=("${TRAINING_ARGS[@]}" --use-fsdp)\nfi\nEXTRA='
        )
    )
    _same(load_config(p), load_config(FLAT))


def test_two_launches_must_agree(tmp_path):
    p = tmp_path / "t.sh"
    p.write_text(
        "#!/bin/bash\npython pretrain_gpt.py --lr 1e-3 --train-iters 10\n"
        "python pretrain_gpt.py --lr 2e-3 --train-iters 10\n"
    )
    with pytest.raises(ConfigError, match="2 times"):
        load_config(p)


def test_misspelt_dashed_key_is_not_ignored():
    with pytest.raises(ConfigError, match="did you mean --lr-decay-style"):
        load_config([*ARGV, "--lr-decay-stlye", "linear"])


def test_lr_warmup_samples_zero_with_train_iters_is_iteration_based():
    # Megatron's default lr_warmup_samples is 0; with train_iters the run is iteration-based
    data = {**FLAT, "lr_warmup_samples": 0}
    _same(load_config(data), load_config(FLAT))
    r = load_config(["--lr", "1e-3", "--train-iters", "100", "--lr-warmup-iters", "10", "--lr-warmup-samples", "0"])
    assert r.context["warmup_steps"] == 10 and r.total_steps == 100
    with pytest.raises(ConfigError, match="asserts"):
        load_config({**FLAT, "lr_warmup_samples": 640})


def test_batch_size_schedule_with_global_batch_size_is_refused_as_megatron_does():
    with pytest.raises(ConfigError, match="Megatron raises"):
        load_config([*ARGV, "--step-batch-size-schedule", "0:16 1000:64"])


DASHED = """ENV_VARS:
  CUDA_DEVICE_MAX_CONNECTIONS: 1
MODEL_ARGS:
  --num-layers: 2
  --tensorboard-dir: ${TENSORBOARD_PATH}
  --data-path: ${DATA_PATH}/text
  --global-batch-size: 64
  --train-iters: 200
  --lr-decay-iters: 180
  --lr: 0.0003
  --min-lr: 3.0e-5
  --lr-decay-style: cosine
  --lr-warmup-iters: 20
  --bf16: true
TEST_TYPE: regular
"""


def test_yaml_with_dashed_keys(tmp_path):
    p = tmp_path / "model_config.yaml"
    p.write_text(DASHED)
    r = load_config(p)
    assert r.format == "megatron"
    _same(r, load_config(FLAT))


def test_dashed_yaml_duplicate_key_keeps_the_last_with_a_warning(tmp_path):
    p = tmp_path / "model_config.yaml"
    p.write_text(DASHED.replace("  --bf16: true\n", "  --bf16: true\n  --num-layers: 4\n"))
    r = load_config(p)
    dup = [f for f in r.findings if f.rule == "duplicate-key"]
    assert len(dup) == 1 and dup[0].evidence["lines"] == [4, 15]
    assert "--num-layers" in dup[0].message


def test_dashed_yaml_curve_value_unresolved_is_asked_for(tmp_path):
    p = tmp_path / "model_config.yaml"
    p.write_text(DASHED.replace("--lr: 0.0003", "--lr: ${LR}"))
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "--set MODEL_ARGS.--lr=" in err.value.fix
    assert load_config(p, overrides={"LR": "3e-4"}).peak_lr == 3e-4


def test_parse_shell_collects_only_what_follows_the_entry_point():
    parsed = parse_shell("torchrun --nproc_per_node 8 pretrain_gpt.py --lr 1e-3\n")
    assert parsed.launches == (("--lr", "1e-3"),)


# -- command line ------------------------------------------------------------------------------


def _cli(*args, input=None):
    from typer.testing import CliRunner

    from lrkit.cli import app

    return CliRunner().invoke(app, list(args), input=input)


def test_cli_show_argument_list():
    res = _cli("show", "--json", "--", *ARGV)
    assert res.exit_code == 0, res.output
    import json

    report = json.loads(res.output)
    assert report["format"] == "megatron" and report["total_steps"] == 200
    assert report["summary"]["warmup_steps"] == 20


def test_cli_set_on_a_script_and_on_yaml(tmp_path):
    p = tmp_path / "t.sh"
    p.write_text(SCRIPT.replace("LR=3e-4\n", ""))
    res = _cli("show", str(p))
    assert res.exit_code == 2 and "--set LR=" in res.output
    res = _cli("show", str(p), "--set", "LR=3e-4", "--json")
    assert res.exit_code == 0, res.output
    y = tmp_path / "m.yaml"
    y.write_text(DASHED.replace("--lr: 0.0003", "--lr: ${LR}"))
    assert _cli("check", str(y), "--set", "LR=3e-4").exit_code == 0
    res = _cli("check", str(y), "--set", "LRR=3e-4")
    assert res.exit_code == 2 and "LRR" in res.output


def test_cli_show_takes_one_file():
    res = _cli("show", "a.yaml", "b.yaml")
    assert res.exit_code == 2 and "one config file" in res.output


def test_cli_plot_argument_list(tmp_path):
    out = tmp_path / "curve.png"
    res = _cli("plot", "-o", str(out), "--", *ARGV)
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 0 and "1 curve" in res.output


def test_sample_based_without_train_samples_takes_the_run_length_in_iterations():
    # lr_warmup_samples 640 at 64 per iteration: 10 iterations; the decay ends at the run's end
    r = load_config(
        {"lr": 1e-3, "lr_warmup_samples": 640, "global_batch_size": 64, "lr_decay_style": "linear"}, total_steps=100
    )
    assert r.context["warmup_steps"] == 10
    assert r.lrs(100)[55] == pytest.approx(5e-4)
    assert r.lrs(101)[100] == 0.0


def test_conditional_block_lists_every_curve_argument_it_changes(tmp_path):
    p = tmp_path / "t.sh"
    p.write_text(
        "#!/bin/bash\nif [ -z $DATA_ARGS ]; then\n  DATA_ARGS='--train-samples 6400 --lr-decay-samples 6400 "
        "--lr-warmup-samples 0'\nfi\npython pretrain_gpt.py --lr 1e-3 --global-batch-size 64 $DATA_ARGS\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "--set train_samples=" in err.value.fix and "--set lr_decay_samples=" in err.value.fix
    assert "lr_warmup_samples" not in err.value.fix  # 0 is Megatron's default: the same either way
    r = load_config(p, overrides={"train_samples": "6400", "lr_decay_samples": "6400"})
    assert r.total_steps == 100


def test_module_entry_point_after_the_launcher():
    parsed = parse_shell(
        'python -m torch.distributed.run --nproc-per-node 8 -m examples.mimo.pretrain_mimo --lr 1e-3 "$@"\n'
    )
    assert parsed.launches[0][:2] == ("--lr", "1e-3")


def test_quoted_string_of_arguments_with_leading_whitespace_is_split(tmp_path):
    # Pai-Megatron-Patch's shape: OPTS="  \<newline> --lr-decay-style ... " passed as "${OPTS}" to a
    # wrapper that re-splits it; the leading blanks must not hide the flags (they were dropped: linear, no warm-up)
    p = tmp_path / "t.sh"
    p.write_text(
        'OPTS="  \\\n  --lr-decay-style cosine --min-lr 3.0e-5 \\\n'
        '  --lr-warmup-iters 20 --lr-decay-iters 180 \\\n  "\n'
        'mpirun -np 8 bash entry.sh pretrain_gpt.py --lr 3e-4 --train-iters 200 --global-batch-size 64 "${OPTS}"\n'
    )
    _same(load_config(p), load_config(FLAT))


def test_unknown_outside_a_block_is_not_blamed_on_the_block(tmp_path):
    # the block's own unknown ($(shuf ...)) shifted the marker of $2, so --lr seemed to depend on $PORT
    p = tmp_path / "t.sh"
    p.write_text(
        'if [ "$1" = a ]; then\n  PORT=$(shuf -n 1 -i 10000-65535)\nfi\nLR=$2\n'
        "torchrun pretrain_gpt.py --lr $LR --lr-decay-style cosine --train-iters 100 --global-batch-size 8\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "PORT" not in str(err.value) and "--set 2=" in str(err.value)


def test_block_question_names_the_unknown_not_its_marker(tmp_path):
    p = tmp_path / "t.sh"
    p.write_text(
        'if [ "$1" = a ]; then\n  ITERS=100\nfi\ntorchrun pretrain_gpt.py --lr 3e-4 --train-iters ${ITERS} '
        "--global-batch-size 8\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "@@" not in str(err.value) and "$ITERS" in str(err.value)


def test_a_curve_argument_without_a_value_is_refused_as_argparse_does():
    with pytest.raises(ConfigError, match=r"--lr has no value") as err:
        parse_arg_list(["--lr-decay-style", "cosine", "--lr"])
    assert err.value.field == "--lr"
    # a boolean switch stays a switch
    args, _ = parse_arg_list(["--lr", "3e-4", "--use-distributed-optimizer"])
    assert args["use_distributed_optimizer"] is True and args["lr"] == 3e-4


# -- a batch size that changes during the run (--step-batch-size-schedule) ----------------------


def _megatron_counter_loop(thresholds, sizes, n):
    """Megatron's training loop, written out: the batch size of each iteration is the one whose
    threshold the samples consumed before it have reached; the scheduler then steps by it."""
    consumed, out = 0, []
    for _ in range(n):
        out.append(consumed)
        size = [b for t, b in zip(thresholds, sizes, strict=True) if consumed >= t][-1]
        consumed += size
    return np.asarray(out, dtype=float)


RAMP_ARGV = [
    "--lr", "1e-3", "--min-lr", "1e-4", "--lr-decay-style", "cosine",
    "--train-samples", "20000", "--lr-warmup-samples", "1000", "--lr-decay-samples", "18000",
    "--seq-length", "100", "--step-batch-size-schedule", "0:16 0.3M:64,1.2M:100",
]  # fmt: skip


def test_step_batch_size_schedule_is_drawn_as_megatron_steps_its_scheduler():
    from lrkit.schedules.compat import MegatronLR

    res = load_config(RAMP_ARGV)
    # thresholds are tokens when --seq-length is set: 0.3M / 100 = 3000 and 1.2M / 100 = 12000 samples
    counter = _megatron_counter_loop([0, 3000, 12000], [16, 64, 100], 400)
    flat = MegatronLR(style="cosine", max_lr=1.0, min_lr=0.1, warmup_steps=1000, decay_steps=18000)
    np.testing.assert_allclose(res.lrs(400), 1e-3 * flat(counter), rtol=1e-12, atol=0)
    # Megatron's update_train_iters: iterations until 20000 samples are consumed
    assert res.total_steps == int(np.argmax(_megatron_counter_loop([0, 3000, 12000], [16, 64, 100], 600) >= 20000))
    assert res.context["warmup_steps"] == 63  # 1000 samples at 16 per iteration: reached at iteration 63 (1008)


def test_step_batch_size_schedule_thresholds_are_samples_without_seq_length():
    argv = [a for a in RAMP_ARGV if a not in ("--seq-length", "100")]
    argv[argv.index("0:16 0.3M:64,1.2M:100")] = "0:16 3000:64 12000:100"
    with_tokens, with_samples = load_config(RAMP_ARGV), load_config(argv)
    np.testing.assert_array_equal(with_tokens.lrs(400), with_samples.lrs(400))


def test_batch_ramp_matches_the_loop_and_inverts_it():
    from lrkit.schedules.compat.megatron import BatchRamp

    ramp = BatchRamp((0, 50, 51, 400), (7, 3, 20, 9))  # a stage skipped, uneven sizes
    loop = _megatron_counter_loop([0, 50, 51, 400], [7, 3, 20, 9], 300)
    np.testing.assert_array_equal(ramp.samples(np.arange(300.0)), loop)
    for x in (0, 1, 49, 50, 56, 57, 399, 400, 401, 1000):
        assert ramp.first_update_reaching(x) == int(np.argmax(loop >= x))
        assert ramp.first_update_past(x) == int(np.argmax(loop > x))


@pytest.mark.parametrize(
    ("schedule", "match"),
    [
        ("1000:16 3000:64", "first batch threshold must be 0"),
        ("0:16 3000:64 3000:80", "strictly increasing"),
        ("0:16 3000", "THRESHOLD:BATCH_SIZE"),
        ("0:16 3k0:64", "not a count"),
        ("0:16 3000:1e400", "not a count"),
    ],
)
def test_step_batch_size_schedule_refused_where_megatron_refuses(schedule, match):
    argv = [*RAMP_ARGV[:-1], schedule]
    with pytest.raises(ConfigError, match=match) as info:
        load_config(argv)
    assert "step-batch-size-schedule" in str(info.value) or "batch_thresholds" in str(info.value)


def test_step_batch_size_schedule_in_an_iteration_run_asks_for_samples():
    argv = ["--lr", "1e-3", "--train-iters", "100", "--step-batch-size-schedule", "0:16 1000:64"]
    with pytest.raises(ConfigError, match="depends on the cluster"):
        load_config(argv)


def test_rampup_batch_size_is_refused_naming_which_megatron_it_depends_on():
    with pytest.raises(ConfigError, match="ignores it"):
        load_config([*RAMP_ARGV[:-2], "--global-batch-size", "64", "--rampup-batch-size", "16", "16", "5000"])


@st.composite
def _ramps(draw):
    gaps = draw(st.lists(st.integers(1, 400), max_size=4))
    thresholds = tuple(int(x) for x in np.cumsum([0, *gaps]))
    sizes = tuple(draw(st.lists(st.integers(1, 64), min_size=len(thresholds), max_size=len(thresholds))))
    return thresholds, sizes


@given(_ramps(), st.integers(0, 3000))
def test_batch_ramp_is_megatrons_loop_for_any_schedule(ramp, x):
    from lrkit.schedules.compat.megatron import BatchRamp

    thresholds, sizes = ramp
    loop = _megatron_counter_loop(thresholds, sizes, 3200)
    r = BatchRamp(thresholds, sizes)
    np.testing.assert_array_equal(r.samples(np.arange(3200.0)), loop)
    assert r.first_update_reaching(x) == int(np.argmax(loop >= x))
    assert r.first_update_past(x) == int(np.argmax(loop > x))
    assert r.updates(float(loop[x])) == x


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda B, M: B((), ()), "batch_thresholds"),
        (lambda B, M: B((0,), (0,)), "batch_sizes"),
        (lambda B, M: B((0, 10), (8,)), "batch_sizes"),
        (lambda B, M: M(decay_steps=10.0, increment=4.0, batch_thresholds=(0,), batch_sizes=(8,)), "increment"),
    ],
)
def test_batch_ramp_checks_its_own_input(make, field):
    from lrkit.schedules.compat import MegatronLR
    from lrkit.schedules.compat.megatron import BatchRamp

    with pytest.raises(ConfigError) as info:
        make(BatchRamp, MegatronLR)
    assert info.value.field == field


def test_an_unquoted_step_batch_size_schedule_asks_to_quote_it():
    # two argv words: Megatron's argparse takes one string; "3000:32" must not become YAML's base-60 180032
    with pytest.raises(ConfigError, match="quote it") as info:
        load_config([*RAMP_ARGV[:-1], "0:16", "3000:64"])
    assert "3000:64" in str(info.value)
