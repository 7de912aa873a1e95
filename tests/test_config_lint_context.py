"""``lrkit.lint(..., context=...)``: a caller's context that the rules could not read is refused
with a ConfigError naming the key (the rules skip an unreadable fact, which would silently change
the findings)."""

from __future__ import annotations

import pytest

import lrkit
from lrkit.errors import ConfigError
from lrkit.schedules import Cosine, warmup_cosine

SCHED = Cosine(1e-3, steps=1000)


@pytest.mark.parametrize(
    "context,field",
    [
        (5, "context"),
        ({"warmup_steps": "500"}, "context.warmup_steps"),
        ({"warmup_steps": -3}, "context.warmup_steps"),
        ({"declared_horizon": 1.5}, "context.declared_horizon"),
        ({"lr_decay_iters": "x"}, "context.lr_decay_iters"),
        ({"wsd_decay_steps": [1]}, "context.wsd_decay_steps"),
        ({"min_lr": "1e-5"}, "context.min_lr"),
        ({"min_lr_ratio": -0.1}, "context.min_lr_ratio"),
        ({"milestones": 500}, "context.milestones"),
        ({"milestones": [500, "x"]}, "context.milestones[1]"),
        ({"pieces": [3]}, "context.pieces"),
    ],
)
def test_unreadable_context_is_a_config_error(context, field):
    with pytest.raises(ConfigError) as err:
        lrkit.lint(SCHED, total_steps=1000, context=context)
    assert err.value.field == field
    assert err.value.fix


def test_readable_context_is_used():
    # the reader-free schedule has no warm-up structure; the caller's warm-up is believed
    rules = {f.rule for f in lrkit.lint(SCHED, total_steps=1000, context={"warmup_steps": 500})}
    assert "warmup-too-long" in rules
    assert "no-warmup" in {f.rule for f in lrkit.lint(SCHED, total_steps=1000, context=None)}


def test_a_readers_own_context_passes_back_in():
    r = lrkit.load_config("src/lrkit/examples/flawed_nemo_rl_tmax.yaml")
    assert {f.rule for f in lrkit.lint(r.schedule, total_steps=500, context=r.context)} >= {"cosine-tmax-mismatch"}
    lrkit.lint(warmup_cosine(1000, 100, peak=1e-3), context={"warmup_steps": 100, "min_lr": 0, "policy": "x"})
