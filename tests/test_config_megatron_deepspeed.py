"""Megatron-DeepSpeed launch scripts: token-based decay, the batch-size ramp, and which Megatron runs a script.

Megatron-DeepSpeed is not installed here, so the reference is a line-by-line scalar transcription of
its ``AnnealingLR`` (megatron/learning_rates.py), ``RampupBatchsizeNumMicroBatches``
(megatron/microbatches.py) and ``update_train_iters`` (megatron/training.py), driven as its
``train`` loop drives them: ``update_num_microbatches(consumed_samples)``, ``train_step`` steps the
scheduler by the iteration's samples while ``args.consumed_train_tokens`` still holds the tokens
consumed *before* the iteration, then ``train`` adds ``samples * seq_length``. The benchmark
(``benchmarks/real_configs.py``) compares with the real modules loaded from a checkout.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrkit.config import load_config, load_config_text
from lrkit.errors import ConfigError

TOL = 1e-9


class RefAnnealingLR:
    """Transcription of Megatron-DeepSpeed's AnnealingLR (learning-rate part)."""

    def __init__(self, max_lr, min_lr, warmup_steps, decay_steps, decay_style, decay_tokens):
        self.max_lr, self.min_lr = float(max_lr), min_lr
        self.warmup_steps, self.decay_steps = warmup_steps, decay_steps
        assert self.decay_steps > 0 and self.warmup_steps < self.decay_steps
        self.decay_tokens, self.num_tokens, self.warmup_tokens = decay_tokens, 0, 0
        self.decay_style = decay_style
        self.num_steps = 0
        self.lr = None
        self.step(0, 0)

    def get_lr(self):
        if self.warmup_steps > 0 and self.num_steps <= self.warmup_steps:
            if self.num_steps == self.warmup_steps and self.decay_tokens is not None:
                self.warmup_tokens = self.num_tokens
            return self.max_lr * float(self.num_steps) / float(self.warmup_steps)
        if self.decay_style == "constant":
            return self.max_lr
        if self.decay_tokens is None:
            if self.num_steps > self.decay_steps:
                return self.min_lr
            ratio = float(self.num_steps - self.warmup_steps) / float(self.decay_steps - self.warmup_steps)
        else:
            if self.num_tokens > self.decay_tokens:
                return self.min_lr
            ratio = float(self.num_tokens - self.warmup_tokens) / float(self.decay_tokens - self.warmup_tokens)
        assert 0.0 <= ratio <= 1.0
        coeff = 1.0 - ratio if self.decay_style == "linear" else 0.5 * (math.cos(math.pi * ratio) + 1.0)
        return self.min_lr + coeff * (self.max_lr - self.min_lr)

    def step(self, increment, token_num):
        self.num_tokens = token_num
        self.num_steps += increment
        self.lr = self.get_lr()


class RefRampup:
    """Transcription of RampupBatchsizeNumMicroBatches (micro-batch x data-parallel = 1)."""

    def __init__(self, start, increment, ramp_samples, gbs):
        diff = gbs - start
        assert start > 0 and diff >= 0 and increment > 0 and diff % increment == 0 and ramp_samples >= 0
        self.start, self.increment, self.ramp_samples, self.gbs = start, increment, ramp_samples, gbs
        self.per_increment = ramp_samples / (diff // increment)

    def batch(self, consumed):
        if consumed > self.ramp_samples:
            return self.gbs
        return self.start + int(consumed / self.per_increment) * self.increment


def ref_curve(*, lr, min_lr, style, warmup, decay, decay_tokens, seq, batch, n):
    """The LR of each of ``n`` updates as Megatron-DeepSpeed's train loop sets it (``batch(consumed)``)."""
    s = RefAnnealingLR(lr, min_lr, warmup, decay, style, decay_tokens)
    out, consumed, tokens = [], 0, 0
    for _ in range(n):
        out.append(s.lr)
        b = batch(consumed)
        s.step(b, tokens)  # token_num: args.consumed_train_tokens, not yet counting this iteration
        consumed += b
        tokens += b * seq
    return np.asarray(out)


def ref_train_iters(train_samples, ramp):
    """Transcription of update_train_iters with a batch ramp."""
    iterations = consumed = 0
    while consumed <= ramp.ramp_samples:
        consumed += ramp.batch(consumed)
        iterations += 1
    return iterations + (train_samples - consumed) // ramp.gbs


def _rel(ours, ref):
    return float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300)))


BASE = ["--lr", "3e-4", "--min-lr", "3e-5", "--seq-length", "64", "--lr-decay-style", "cosine"]


@pytest.mark.parametrize(
    ("argv", "ref"),
    [
        # sample-based, the warm-up end (400 samples) is a sample count the run passes through exactly
        (
            [*BASE, "--global-batch-size", "8", "--train-samples", "4000", "--lr-warmup-samples", "400"],
            dict(warmup=400, decay=4000, batch=lambda c: 8),
        ),
        # 397 is never hit exactly: Megatron-DeepSpeed's warmup_tokens stays 0
        (
            [*BASE, "--global-batch-size", "8", "--train-samples", "4000", "--lr-warmup-samples", "397"],
            dict(warmup=397, decay=4000, batch=lambda c: 8),
        ),
        # iteration-based: every count times the global batch size, tokens = iterations x gbs x seq
        (
            [*BASE, "--global-batch-size", "4", "--train-iters", "900", "--lr-warmup-fraction", "0.05"],
            dict(warmup=0.05 * 3600, decay=3600, batch=lambda c: 4),
        ),
        (
            [*BASE[:-1], "linear", "--global-batch-size", "4", "--train-iters", "900"],
            dict(warmup=0, decay=3600, batch=lambda c: 4, style="linear"),
        ),
    ],
)
def test_lr_decay_tokens_is_megatron_deepspeeds_token_decay(argv, ref):
    res = load_config([*argv, "--lr-decay-tokens", "150000"])
    n = res.total_steps
    kw = {"style": "cosine", **ref}
    expected = ref_curve(lr=3e-4, min_lr=3e-5, decay_tokens=150000, seq=64, n=n, **kw)
    assert _rel(res.lrs(n), expected) <= TOL
    assert res.lrs(n)[-1] == pytest.approx(3e-5)  # the run passes the token decay's end
    assert res.context["megatron"] == "deepspeed"  # only Megatron-DeepSpeed's parser has --lr-decay-tokens


def test_token_decay_lags_the_sample_count_by_one_iteration():
    """The LR of update t sees the tokens before update t - 1: not the sample-based curve rescaled."""
    argv = [*BASE, "--global-batch-size", "8", "--train-samples", "4000", "--lr-warmup-samples", "400"]
    tokens = load_config([*argv, "--lr-decay-tokens", str(4000 * 64)]).lrs(500)
    samples = load_config(argv).lrs(500)
    assert not np.allclose(tokens[51:], samples[51:], rtol=1e-9)
    np.testing.assert_allclose(tokens[:51], samples[:51], rtol=0, atol=0)  # the warm-up counts samples


def test_batch_ramp_on_megatron_deepspeed_matches_its_calculator_and_run_length():
    argv = [
        *BASE,
        "--global-batch-size",
        "99",
        "--rampup-batch-size",
        "3",
        "32",
        "5000",
        "--train-samples",
        "90000",
        "--lr-decay-samples",
        "70000",
        "--lr-warmup-samples",
        "1234",
    ]
    res = load_config(argv, overrides={"megatron": "deepspeed"})
    ramp = RefRampup(3, 32, 5000, 99)
    assert res.total_steps == ref_train_iters(90000, ramp)
    n = res.total_steps
    expected = ref_curve(
        lr=3e-4, min_lr=3e-5, style="cosine", warmup=1234, decay=70000, decay_tokens=None, seq=64, batch=ramp.batch, n=n
    )
    assert _rel(res.lrs(n), expected) <= TOL


@settings(max_examples=60, deadline=None)
@given(
    start=st.integers(1, 40),
    inc=st.integers(1, 24),
    steps=st.integers(1, 12),
    ramp_samples=st.integers(1, 3000),
    warmup=st.integers(0, 800),
    tokens=st.booleans(),
)
def test_any_ramp_with_or_without_token_decay_is_megatron_deepspeeds(start, inc, steps, ramp_samples, warmup, tokens):
    gbs = start + steps * inc
    argv = [
        *BASE,
        "--global-batch-size",
        str(gbs),
        "--rampup-batch-size",
        str(start),
        str(inc),
        str(ramp_samples),
        "--train-samples",
        "20000",
        "--lr-warmup-samples",
        str(warmup),
    ]
    if tokens:
        argv += ["--lr-decay-tokens", str(9000 * 64)]
    res = load_config(argv, overrides={"megatron": "deepspeed"})
    ramp = RefRampup(start, inc, ramp_samples, gbs)
    assert res.total_steps == ref_train_iters(20000, ramp)
    n = res.total_steps
    expected = ref_curve(
        lr=3e-4,
        min_lr=3e-5,
        style="cosine",
        warmup=warmup,
        decay=20000,
        decay_tokens=9000 * 64 if tokens else None,
        seq=64,
        batch=ramp.batch,
        n=n,
    )
    assert _rel(res.lrs(n), expected) <= TOL


RAMP_SCRIPT = """#!/bin/bash
options=" \\
  --micro-batch-size 1 \\
  --global-batch-size 64 \\
  --rampup-batch-size 16 16 20000 \\
  --train-samples 300000 \\
  --lr-decay-samples 250000 \\
  --lr-warmup-samples 3000 \\
  --lr 6.0e-5 --min-lr 6.0e-6 --lr-decay-style cosine --seq-length 128 {extra}"
run_cmd="python -u ${{DIR}}/pretrain_gpt.py $@ ${{options}}"
srun sh -c "${{run_cmd}}"
"""


def test_batch_ramp_asks_which_megatron_unless_the_script_says():
    with pytest.raises(ConfigError) as info:
        load_config_text(RAMP_SCRIPT.format(extra=""), name="ramp.sh")
    msg = str(info.value)
    assert "--set megatron=deepspeed" in msg and "--set megatron=lm" in msg
    assert "Megatron-DeepSpeed" in msg and "Megatron-LM" in msg
    ds = load_config_text(RAMP_SCRIPT.format(extra=""), name="ramp.sh", overrides={"megatron": "deepspeed"})
    for extra in ("--deepspeed --deepspeed_config ds.json --zero-stage 1", "--zero-stage 0", "--deepspeed_config x"):
        said = load_config_text(
            RAMP_SCRIPT.format(extra=extra), name="ramp.sh", overrides={"deepspeed_scheduler": "false"}
        )
        np.testing.assert_array_equal(ds.lrs(2000), said.lrs(2000))
    expected = ref_curve(
        lr=6e-5,
        min_lr=6e-6,
        style="cosine",
        warmup=3000,
        decay=250000,
        decay_tokens=None,
        seq=128,
        batch=RefRampup(16, 16, 20000, 64).batch,
        n=2000,
    )
    assert _rel(ds.lrs(2000), expected) <= TOL


def test_megatron_lm_reading_ignores_the_ramp_as_megatron_lm_does():
    lm = load_config_text(RAMP_SCRIPT.format(extra=""), name="ramp.sh", overrides={"megatron": "lm"})
    flat = load_config_text(RAMP_SCRIPT.format(extra="").replace("--rampup-batch-size 16 16 20000", ""), name="r.sh")
    np.testing.assert_array_equal(lm.lrs(3000), flat.lrs(3000))
    assert any(f.rule == "megatron-rampup-ignored" for f in lm.findings)


def test_batch_ramp_in_an_iteration_run_runs_only_on_megatron_lm():
    argv = [
        "--lr",
        "1e-3",
        "--train-iters",
        "500",
        "--global-batch-size",
        "64",
        "--rampup-batch-size",
        "16",
        "16",
        "99",
    ]
    res = load_config(argv)
    assert any(f.rule == "megatron-rampup-ignored" for f in res.findings)
    with pytest.raises(ConfigError, match="expected no batch-size rampup"):
        load_config(argv, overrides={"megatron": "deepspeed"})


@pytest.mark.parametrize(
    ("ramp", "match"),
    [
        (["64", "16", "1000"], "divides by zero"),  # a ramp from the global batch size itself
        (["16", "16", "0"], "divides by zero"),
        (["16", "15", "1000"], "not divisible"),
        (["16", "16"], "three values"),
        (["16", "x", "1000"], "int"),
    ],
)
def test_batch_ramp_refused_where_megatron_deepspeed_refuses(ramp, match):
    argv = ["--lr", "1e-3", "--train-samples", "5000", "--global-batch-size", "64", "--rampup-batch-size", *ramp]
    with pytest.raises(ConfigError, match=match):
        load_config(argv, overrides={"megatron": "deepspeed"})


CL_SCRIPT = """#!/bin/bash
GBS=512
TRAIN_SAMPLES={samples}
LR_DECAY_SAMPLES={decay}
SEQLEN=1024
LR_DECAY_TOKENS=$(($LR_DECAY_SAMPLES*$SEQLEN))
options=" \\
    --lr-decay-tokens ${{LR_DECAY_TOKENS}} \\
    --lr-warmup-samples 10240 \\
    --global-batch-size ${{GBS}} \\
    --seq-length ${{SEQLEN}} \\
    --train-samples ${{TRAIN_SAMPLES}} \\
    --lr 1.0e-4 --min-lr 1.0e-5 --lr-decay-style cosine"
CONFIG_JSON="$(dirname $0)/ds_config.json"
ds=" --deepspeed --deepspeed_config ${{CONFIG_JSON}}"
run_cmd="deepspeed ../../pretrain_gpt.py ${{options}} ${{ds}}"
{heredoc}
eval ${{run_cmd}}
"""
DS_CONFIG = """cat <<EOT > $CONFIG_JSON
{{
  "train_batch_size": $GBS,
  {section}
  "fp16": {{"enabled": true}}
}}
EOT"""
CURRICULUM = '"curriculum_learning": {"enabled": true, "curriculum_type": "seqlen", "min_difficulty": 8},'
SCHEDULER = '"scheduler": {"type": "WarmupLR", "params": {"warmup_num_steps": 1000}},'


def test_underscored_numbers_in_bash_arithmetic_leave_the_flag_empty():
    """bash has no digit separators: $((1_000*2)) fails, the variable stays empty, Megatron's argparse refuses."""
    with pytest.raises(ConfigError, match="value too great for base") as info:
        load_config_text(CL_SCRIPT.format(samples="146_484_375", decay="126_953_125", heredoc=""), name="cl.sh")
    assert "expected one argument" in str(info.value) and info.value.field == "--lr-decay-tokens"


def test_deepspeed_config_decides_scheduler_and_curriculum_when_the_script_writes_it():
    def read(section, **sets):
        heredoc = DS_CONFIG.format(section=section) if section is not None else ""
        text = CL_SCRIPT.format(samples="146484375", decay="126953125", heredoc=heredoc)
        return load_config_text(text, name="cl.sh", overrides=sets or None)

    with pytest.raises(ConfigError, match="does not model"):
        read(CURRICULUM)
    with pytest.raises(ConfigError, match="depends on DeepSpeed's release") as info:
        read(SCHEDULER)
    assert info.value.field == "scheduler_from" and "scheduler_from=megatron" in info.value.fix
    res = read("")  # a config without either section: Megatron-DeepSpeed's AnnealingLR, seq_length tokens
    assert res.total_steps == 146484375 // 512
    n = 3000
    expected = ref_curve(
        lr=1e-4,
        min_lr=1e-5,
        style="cosine",
        warmup=10240,
        decay=146484375,
        decay_tokens=126953125 * 1024,
        seq=1024,
        batch=lambda c: 512,
        n=n,
    )
    assert _rel(res.lrs(n), expected) <= TOL


def test_a_scheduler_section_is_read_as_the_deepspeed_release_answered_says():
    """DeepSpeed 0.14.5+ trains with the scheduler Megatron-DeepSpeed passes to deepspeed.initialize;
    earlier releases with the section's, built beside Megatron's optimizer and stepped after each update."""

    def read(section, **sets):
        text = CL_SCRIPT.format(samples="146484375", decay="126953125", heredoc=DS_CONFIG.format(section=section))
        return load_config_text(text, name="cl.sh", overrides=sets)

    megatron = read(SCHEDULER, scheduler_from="megatron")
    np.testing.assert_array_equal(megatron.lrs(3000), read("").lrs(3000))
    ds = read(SCHEDULER, scheduler_from="deepspeed")
    # WarmupLR without warmup_max_lr: 0.001 before DeepSpeed 0.17.2; update k runs at iteration k - 1
    k = np.arange(1, 3000)
    expected = np.concatenate([[0.0], 1e-3 * np.minimum(np.log(k) / np.log(1000), 1.0)])
    expected[1001:] = 1e-3
    assert ds.format == "megatron" and ds.total_steps == 146484375 // 512
    np.testing.assert_allclose(ds.lrs(3000), expected, rtol=1e-12, atol=0)
    # WarmupCosineLR scales the optimizer's LR when it is built: Megatron's scheduler has set it to its
    # warm-up start, 0, so the whole run trains at LR 0
    cosine = '"scheduler": {"type": "WarmupCosineLR", "params": {"total_num_steps": 500, "warmup_num_steps": 50}},'
    assert not np.any(read(cosine, scheduler_from="deepspeed").lrs(600))
    with pytest.raises(ConfigError, match="neither megatron nor deepspeed"):
        read(SCHEDULER, scheduler_from="yes")
    no_pipe = CL_SCRIPT.format(samples="146484375", decay="126953125", heredoc=DS_CONFIG.format(section=SCHEDULER))
    no_pipe = no_pipe.replace("--deepspeed --deepspeed_config", "--no-pipeline-parallel --deepspeed --deepspeed_config")
    with pytest.raises(ConfigError, match="train_batch_size") as info:
        load_config_text(no_pipe, name="cl.sh", overrides={"scheduler_from": "deepspeed"})
    assert info.value.field == "--no-pipeline-parallel"


def test_curriculum_enabled_after_a_nested_object_or_by_a_variable_is_never_read_as_off():
    # DeepSpeed's own examples put schedule_config (an object) before "enabled": a pattern that stops at
    # the first inner brace read such a section as "not enabled" and drew the curve without curriculum
    nested = '"curriculum_learning": {"schedule_config": {"difficulty_step": 8}, "enabled": true},'
    by_var = '"curriculum_learning": {"enabled": $CL_ENABLED, "curriculum_type": "seqlen"},'
    off = '"curriculum_learning": {"schedule_config": {"enabled": true}, "enabled": false},'

    def read(section):
        text = CL_SCRIPT.format(samples="146484375", decay="126953125", heredoc=DS_CONFIG.format(section=section))
        return load_config_text(text, name="cl.sh")

    with pytest.raises(ConfigError, match="does not model"):
        read(nested)
    with pytest.raises(ConfigError, match="curriculum_learning=false"):
        read(by_var)
    np.testing.assert_array_equal(read(off).lrs(500), read("").lrs(500))


def test_a_deepspeed_config_the_script_does_not_write_is_asked_about():
    with pytest.raises(ConfigError, match="deepspeed_scheduler=false") as info:
        read_external = CL_SCRIPT.format(samples="146484375", decay="126953125", heredoc="")
        load_config_text(read_external, name="cl.sh")
    assert "ds_config.json" in str(info.value)
    with pytest.raises(ConfigError, match="curriculum_learning=false"):
        load_config_text(read_external, name="cl.sh", overrides={"deepspeed_scheduler": "false"})
    res = load_config_text(
        read_external, name="cl.sh", overrides={"deepspeed_scheduler": "false", "curriculum_learning": "false"}
    )
    same = CL_SCRIPT.format(samples="146484375", decay="126953125", heredoc=DS_CONFIG.format(section=""))
    np.testing.assert_array_equal(res.lrs(2000), load_config_text(same, name="cl.sh").lrs(2000))
    with pytest.raises(ConfigError, match="fails without one"):
        load_config(["--lr", "1e-3", "--train-iters", "100", "--deepspeed"])


@pytest.mark.parametrize(
    ("argv", "field"),
    [
        (
            ["--lr", "1e-3", "--train-samples", "5000", "--global-batch-size", "8", "--lr-decay-tokens", "9"],
            "seq_length",
        ),
        (["--lr", "1e-3", "--train-iters", "50", "--seq-length", "8", "--lr-decay-tokens", "9"], "--global-batch-size"),
    ],
)
def test_token_decay_names_what_it_needs(argv, field):
    with pytest.raises(ConfigError) as info:
        load_config(argv)
    assert field in str(info.value.field) and "--set" in str(info.value)


def test_megatron_lm_refuses_megatron_deepspeed_arguments():
    with pytest.raises(ConfigError, match="unrecognized arguments"):
        load_config(
            [*BASE, "--train-iters", "9", "--global-batch-size", "8", "--lr-decay-tokens", "9"],
            overrides={"megatron": "lm"},
        )
    with pytest.raises(ConfigError, match="names no Megatron"):
        load_config([*BASE, "--train-iters", "9"], overrides={"megatron": "nemo"})


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--lr-decay-style", "inverse-square-root"], "choices: constant, linear, cosine"),
        (["--lr-warmup-init", "1e-5"], "unrecognized"),
    ],
)
def test_megatron_deepspeed_refuses_megatron_lm_only_arguments(extra, match):
    with pytest.raises(ConfigError, match=match):
        load_config(["--lr", "1e-3", "--train-iters", "100", "--deepspeed", *extra])


def test_a_token_warm_up_is_named_not_called_a_misspelling():
    with pytest.raises(ConfigError, match="microsoft/Megatron-DeepSpeed") as info:
        load_config([*BASE, "--train-iters", "9", "--global-batch-size", "8", "--lr-warmup-tokens", "375000000"])
    assert "did you mean" not in str(info.value)


def test_the_zero_first_update_fix_does_not_name_an_argument_megatron_deepspeed_lacks():
    argv = [*BASE, "--train-iters", "90", "--lr-warmup-iters", "9", "--deepspeed", "--deepspeed_config", "x"]
    res = load_config(argv, overrides={"deepspeed_scheduler": "false"})
    (zero,) = [f for f in res.findings if f.rule == "first-update-at-zero"]
    assert "no lr_warmup_init" in zero.fix


def test_a_config_path_from_the_environment_is_the_file_the_script_writes():
    text = CL_SCRIPT.format(samples="146484375", decay="126953125", heredoc=DS_CONFIG.format(section=SCHEDULER))
    text = text.replace('CONFIG_JSON="$(dirname $0)/ds_config.json"\n', "")  # $CONFIG_JSON set outside the script
    with pytest.raises(ConfigError, match="depends on DeepSpeed's release"):
        load_config_text(text, name="cl.sh")
