"""Fuzz: random and mutated configs for every reader; only ConfigError may ever escape.

Each example config (one or more per format) is mutated at a random path -- a value replaced
by junk of another type or a bad number, a key deleted, a key added -- and read with the
format named and detected; random configs built from the readers' own key vocabulary are
read the same way. Reading, evaluating the curve and exporting it must either succeed or
raise :class:`lrkit.ConfigError`; a KeyError/TypeError/AttributeError/ZeroDivisionError/...
fails the test.
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrkit.config import load_config, load_config_text, to_config
from lrkit.config.loading import read_file
from lrkit.errors import ConfigError

# the YAML/JSON examples (megatron_pretrain.sh is a shell script, read by megatron_args)
_EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "src" / "lrkit" / "examples"
EXAMPLES = sorted(p for p in _EXAMPLE_DIR.iterdir() if p.suffix in (".yaml", ".json"))
BASES = [(p.name, read_file(p)[0]) for p in EXAMPLES]
FORMATS = [None, "lrkit", "nemo_rl", "nemo_rl_megatron", "megatron", "hf", "nemo"]

JUNK = st.one_of(
    st.integers(0, 2000),
    st.floats(0.0, 1.0),
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 1, 2, 3, 10**12, 10**30, -(10**9)]),
    st.sampled_from([0.0, -0.5, 0.5, 1.5, 1e-300, 1e300, math.inf, -math.inf, math.nan]),
    st.sampled_from(
        [
            "",
            "abc",
            "1e-4",
            "cosine",
            "WSD",
            "torch.optim.lr_scheduler.LambdaLR",
            "${nope}",
            "${mul:2,3}",
            "torch.optim.AdamW",
            "CosineAnnealing",
            "lrkit.Scheduler",
            "nan",
            "-3",
        ]
    ),
    st.lists(st.integers(-5, 200), max_size=4),
    st.dictionaries(
        st.sampled_from(["name", "kwargs", "type", "milestones", "lr", "T_max"]), st.integers(-3, 50), max_size=3
    ),
)

VOCAB = [
    "training",
    "optimizer",
    "scheduler",
    "type",
    "lr",
    "warmup_steps",
    "warmup_ratio",
    "total_steps",
    "min_lr",
    "min_lr_ratio",
    "policy",
    "name",
    "kwargs",
    "milestones",
    "grpo",
    "max_num_steps",
    "megatron_cfg",
    "enabled",
    "lr_decay_style",
    "lr_warmup_iters",
    "lr_decay_iters",
    "lr_warmup_init",
    "train_iters",
    "global_batch_size",
    "learning_rate",
    "lr_scheduler_type",
    "max_steps",
    "lr_scheduler_kwargs",
    "model",
    "optim",
    "sched",
    "constant_steps",
    "T_max",
    "start_factor",
    "total_iters",
    "pieces",
    "boundaries",
    "schedule",
    "defaults",
]


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _exercise(data, fmt) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = load_config(data, format=fmt)
            n = min(r.total_steps or 500, 3000)
            r.lr_schedule(np.arange(n))
            r.lr_schedule(n + 10)
            for target in ("lrkit", "nemo_rl", "megatron"):
                with contextlib.suppress(ConfigError):
                    load_config(to_config(r, target), format=target).lr_schedule(np.arange(50))
        except ConfigError as err:
            assert str(err)


@st.composite
def mutated(draw):
    _, base = draw(st.sampled_from(BASES))
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JUNK)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(VOCAB))] = draw(JUNK)
    return data


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated(), st.sampled_from(FORMATS))
def test_mutated_configs_raise_only_config_errors(data, fmt):
    _exercise(data, fmt)


random_configs = st.recursive(
    JUNK,
    lambda children: st.one_of(
        st.dictionaries(st.sampled_from(VOCAB), children, max_size=5), st.lists(children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_configs, st.sampled_from(FORMATS))
def test_random_configs_raise_only_config_errors(data, fmt):
    _exercise(data, fmt)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:{}[]-,$ \n\t'\"#&*!|>%@`0123456789.e")), max_size=60))
def test_random_text_raises_only_config_errors(text):
    with contextlib.suppress(ConfigError):
        load_config_text(text)
