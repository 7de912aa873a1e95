"""build(): real optimizers and lrkit.Scheduler from configs, parameter groups by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lrkit
from lrkit.config import build, load_config
from lrkit.errors import ConfigError

torch.set_num_threads(1)


class Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(10, 4)
        self.proj = torch.nn.Linear(4, 4)
        self.norm = torch.nn.LayerNorm(4)


def cfg(optimizer, scheduler=None, **training):
    return {
        "training": {
            "optimizer": optimizer,
            "scheduler": scheduler or {"type": "cosine", "warmup_steps": 5, "total_steps": 50},
            **training,
        }
    }


def test_scheduler_follows_the_resolved_curve():
    model = Tiny()
    config = cfg({"type": "adamw", "lr": 1e-3, "weight_decay": 0.1, "betas": [0.9, 0.95]})
    opt, sched = build(model, config)
    assert isinstance(opt, torch.optim.AdamW) and isinstance(sched, lrkit.Scheduler)
    assert opt.defaults["betas"] == (0.9, 0.95) and opt.defaults["weight_decay"] == 0.1
    want = load_config(config).lr_schedule(np.arange(60))
    got = []
    for _ in range(60):
        got.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert np.allclose(got, want, rtol=1e-12, atol=0)


def test_param_groups_by_name_pattern_with_lr_mult_and_no_decay():
    model = Tiny()
    config = cfg(
        {
            "type": "adamw",
            "lr": 1e-3,
            "weight_decay": 0.1,
            "param_groups": [
                {"match": ["*.bias", "norm"], "weight_decay": 0.0},
                {"match": "embed.*", "lr_mult": 0.1},
            ],
        }
    )
    opt, sched = build(model, config)
    groups = opt.param_groups
    assert len(groups) == 3
    default, nodecay, embed = groups
    names = {id(p): n for n, p in model.named_parameters()}
    assert {names[id(p)] for p in nodecay["params"]} == {"proj.bias", "norm.weight", "norm.bias"}
    assert {names[id(p)] for p in embed["params"]} == {"embed.weight"}
    assert {names[id(p)] for p in default["params"]} == {"proj.weight"}
    assert nodecay["weight_decay"] == 0.0 and default["weight_decay"] == 0.1
    # every group follows the same factor curve from its own base LR
    for _ in range(20):
        opt.step()
        sched.step()
    f = load_config(config).schedule(20)
    assert embed["lr"] == pytest.approx(1e-4 * f) and default["lr"] == pytest.approx(1e-3 * f)


def test_sgd_nesterov_and_dotted_names():
    opt, _ = build(Tiny(), cfg({"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True}))
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["nesterov"] is True
    opt, _ = build(Tiny().parameters(), cfg({"type": "torch.optim.RMSprop", "lr": 0.01, "alpha": 0.9}))
    assert isinstance(opt, torch.optim.RMSprop)


def test_build_errors():
    with pytest.raises(ConfigError) as err:
        build(Tiny(), cfg({"type": "adamw", "lr": 1e-3, "param_groups": [{"match": ["decoder.*"], "lr": 1e-4}]}))
    assert err.value.field == "optimizer.param_groups[0].match" and "names look like" in str(err.value)
    with pytest.raises(ConfigError, match="no argument 'alpah'"):
        build(Tiny(), cfg({"type": "torch.optim.RMSprop", "lr": 0.01, "alpah": 0.9}))
    with pytest.raises(ConfigError, match=r"not a torch\.optim\.Optimizer"):
        build(Tiny(), cfg({"type": "torch.nn.Linear", "lr": 0.01}))
    with pytest.raises(ConfigError):
        build("not a model", cfg({"type": "adamw", "lr": 1e-3}))


def test_framework_configs_build(tmp_path):
    for name in (
        "nemo_rl_grpo_dtensor.yaml",
        "megatron_cosine.yaml",
        "hf_linear.json",
        "nemo_cosine_constant_steps.yaml",
        "nemo_rl_megatron_wsd.yaml",
    ):
        opt, _ = build(Tiny(), f"src/lrkit/examples/{name}")
        r = load_config(f"src/lrkit/examples/{name}")
        assert opt.param_groups[0]["lr"] == pytest.approx(r.lr_schedule(0), abs=1e-30)


def test_controller_is_handed_to_the_scheduler():
    config = cfg(
        {"type": "adamw", "lr": 1e-3},
        {"type": "constant"},
        controller={"type": "plateau", "patience": 2, "factor": 0.5},
    )
    opt, sched = build(Tiny(), config)
    assert sched.controller is not None
    for loss in [1.0, 1.0, 1.0, 1.0, 1.0]:
        opt.step()
        sched.step(loss)
    assert opt.param_groups[0]["lr"] < 1e-3


def test_build_stays_a_function_after_use():
    import lrkit.config

    lrkit.config.build(torch.nn.Linear(2, 2), "src/lrkit/examples/lrkit_cosine.yaml")
    assert callable(lrkit.config.build) and callable(lrkit.build)
    opt, _ = lrkit.build(torch.nn.Linear(2, 2), "src/lrkit/examples/lrkit_cosine.yaml")
    assert [len(g["params"]) for g in opt.param_groups] == [1, 1]  # "*.bias" takes a top-level bias
