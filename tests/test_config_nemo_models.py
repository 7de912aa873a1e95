"""NeMo models with their own configure_optimizers (TTS: RAD-TTS, VITS, GANs, SSL): small configs
written here in the shape of NeMo's examples/tts/conf files, read into what each model's code runs."""

from __future__ import annotations

import numpy as np
import pytest

from lrkit.config import load_config
from lrkit.errors import ConfigError

TRAINER = {"trainer": {"max_steps": 300, "max_epochs": -1}}


def test_radtts_ignores_sched_and_keeps_lr_constant():
    cfg = {
        "name": "RadTTS",
        "model": {
            "target": "nemo.collections.tts.models.RadTTSModel",
            "optim": {"name": "RAdam", "lr": 2e-4, "sched": {"name": "exp_decay", "warmup_steps": 10, "d_model": 1}},
        },
        **TRAINER,
    }
    res = load_config(cfg)
    assert res.format == "nemo"
    np.testing.assert_array_equal(res.lrs(300), np.full(300, 2e-4))
    assert "nemo-sched-not-read" in {f.rule for f in res.findings}


def test_radtts_other_optimizer_exits_as_the_model_does():
    cfg = {"model": {"target": "x.RadTTSModel", "optim": {"name": "SGD", "lr": 1e-3}}, **TRAINER}
    with pytest.raises(ConfigError, match="RAdam") as err:
        load_config(cfg)
    assert err.value.field == "model.optim.name"


def test_unknown_sched_name_without_a_model_is_still_refused():
    cfg = {"model": {"optim": {"name": "adam", "lr": 1e-3, "sched": {"name": "exp_decay"}}}, **TRAINER}
    with pytest.raises(ConfigError, match="unknown value"):
        load_config(cfg)


def test_vits_exponential_lr_per_update_with_lr_decay():
    cfg = {
        "model": {
            "optim": {"_target_": "torch.optim.AdamW", "lr": 1e-3, "sched": {"name": "ExponentialLR", "lr_decay": 0.99}}
        },
        **TRAINER,
    }
    res = load_config(cfg)
    k = np.arange(300)
    np.testing.assert_allclose(res.lrs(300), 1e-3 * 0.99**k, rtol=1e-12)
    assert res.findings[0].rule == "nemo-model-implied"
    assert res.context["model_class"] == "VitsModel"


@pytest.mark.parametrize("bad", ["abc", 0, -0.5])
def test_vits_bad_lr_decay_is_named_where_the_file_has_it(bad):
    optim = {"_target_": "torch.optim.AdamW", "lr": 1e-3, "sched": {"name": "ExponentialLR", "lr_decay": bad}}
    with pytest.raises(ConfigError) as err:
        load_config({"model": {"optim": optim}, **TRAINER})
    assert err.value.field == "model.optim.sched.lr_decay"


def test_vits_cosine_annealing_has_no_warmup():
    cfg = {
        "model": {
            "target": "nemo.collections.tts.models.VitsModel",
            "optim": {
                "_target_": "torch.optim.AdamW",
                "lr": 1e-3,
                "sched": {"name": "CosineAnnealing", "max_steps": 100, "min_lr": 1e-5},
            },
        },
        **TRAINER,
    }
    lrs = load_config(cfg).lrs(101)
    # NeMo's CosineAnnealing with no warm-up: min + (peak - min) * (1 + cos(pi k / max_steps)) / 2
    k = np.arange(101)
    want = 1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + np.cos(np.pi * k / 100))
    np.testing.assert_allclose(lrs, want, rtol=1e-12)


def test_vits_other_sched_name_raises_as_the_model_does():
    cfg = {"model": {"target": "a.VitsModel", "optim": {"lr": 1e-3, "sched": {"name": "StepLR"}}}, **TRAINER}
    with pytest.raises(ConfigError, match="Unknown optimizer"):
        load_config(cfg)


def test_instantiated_optimizer_without_sched_is_detected_and_constant():
    cfg = {"name": "x", "model": {"optim": {"_target_": "torch.optim.AdamW", "lr": 3e-4}}, **TRAINER}
    res = load_config(cfg)
    assert res.format == "nemo"
    np.testing.assert_array_equal(res.lrs(10), np.full(10, 3e-4))


def test_gan_optimizers_with_one_curve_are_read():
    cfg = {
        "model": {
            "generator_opt": {"_target_": "torch.optim.Adam", "lr": 2e-4},
            "discriminator_opt": {"_target_": "torch.optim.Adam", "lr": 2e-4},
        },
        **TRAINER,
    }
    res = load_config(cfg)
    assert res.context["model_class"] == "SpectrogramEnhancerModel"
    assert {"nemo-model-implied", "nemo-several-optimizers"} <= {f.rule for f in res.findings}
    np.testing.assert_array_equal(res.lrs(5), np.full(5, 2e-4))


def _ssl(**extra):
    model = {
        "optim_backbone": {"_target_": "torch.optim.Adam", "lr": 5e-5, "sched": {"min_lr": 1e-6, "warmup_steps": 20}},
        "optim_downstream": {"_target_": "torch.optim.Adam", "lr": 1e-4, "sched": {"min_lr": 1e-6, "warmup_steps": 10}},
        **extra,
    }
    return {"model": model, **TRAINER}


def test_several_optimizers_with_different_curves_ask_which():
    with pytest.raises(ConfigError) as err:
        load_config(_ssl())
    msg = str(err.value)
    assert "optim_backbone" in msg and "optim_downstream" in msg and "--set model.lrkit_optimizer=" in msg


def test_chosen_optimizer_runs_nemo_warmup_policy_without_max_steps():
    res = load_config(_ssl(), overrides={"model.lrkit_optimizer": "optim_downstream"})
    lrs = res.lrs(300)
    k = np.arange(300)
    # WarmupPolicy: (k + 1) / (W + 1) for k <= W, then the base LR (max_steps=None never ends it)
    want = np.where(k <= 10, 1e-4 * (k + 1) / 11, 1e-4)
    np.testing.assert_allclose(lrs, want, rtol=1e-12)
    res = load_config(_ssl(), overrides={"model.lrkit_optimizer": "optim_backbone"})
    assert res.peak_lr == 5e-5
    with pytest.raises(ConfigError, match="unknown value"):
        load_config(_ssl(), overrides={"model.lrkit_optimizer": "optim_head"})


def test_ssl_without_both_scheds_is_constant():
    cfg = _ssl()
    del cfg["model"]["optim_backbone"]["sched"]
    res = load_config(cfg, overrides={"model.lrkit_optimizer": "optim_downstream"})
    np.testing.assert_array_equal(res.lrs(30), np.full(30, 1e-4))
