"""Format detection is declared beside each reader (``SIGNATURES``) and consulted by detect.py."""

from __future__ import annotations

import pytest

from lrkit.config import FORMATS, _reader, detect_format
from lrkit.config.detect import FORMAT_ALIASES, SIGNATURES, check_format
from lrkit.config.signature import FLAT_STEP
from lrkit.errors import ConfigError


def test_every_listed_format_has_one_signature_and_a_reader():
    names = [s.name for s in SIGNATURES]
    assert names == list(FORMATS)
    assert len(set(names)) == len(names)
    for sig in SIGNATURES:
        read = _reader(sig.name)
        assert read.__name__ == sig.reader and read.__module__.startswith("lrkit.config.")


def test_aliases_are_declared_once_and_resolve_to_their_format():
    for sig in SIGNATURES:
        for alias in sig.aliases:
            assert FORMAT_ALIASES[alias] == sig.name
            assert check_format(alias.upper()) == sig.name


def test_shapes_have_distinct_precedence_before_the_flat_keys():
    shapes = [s for s in SIGNATURES if s.shape is not None]
    assert len({s.precedence for s in shapes}) == len(shapes)
    assert all(s.precedence < FLAT_STEP for s in shapes)


def _own_keys(name: str) -> list[str]:
    flat = [s for s in SIGNATURES if s.flat]
    mine = next(s for s in flat if s.name == name)
    others = set().union(*(s.flat_keys for s in flat if s.name != name))
    return sorted(mine.flat_keys - others)


@pytest.mark.parametrize("name", [s.name for s in SIGNATURES if s.flat and not s.reads_plain])
def test_a_key_only_one_flat_format_has_decides_it(name):
    sig = next(s for s in SIGNATURES if s.name == name)
    own = [k for k in _own_keys(name) if "sched" not in k]
    assert own, f"{name} declares no key of its own"
    training = sorted(sig.training_keys - {k for k in sig.training_keys if "sched" in k})
    data = {own[0]: "x", training[0]: 1}
    assert detect_format(data) == name


def test_keys_of_two_flat_formats_ask_with_both_never_guess():
    ax, lf1 = _own_keys("axolotl")[0], _own_keys("llamafactory_v1")[0]
    with pytest.raises(ConfigError) as err:
        detect_format({ax: "x", lf1: "y", "learning_rate": 1e-4})
    assert set(err.value.value) >= {"axolotl", "llamafactory_v1"}


def test_keys_hf_shares_with_another_trainer_are_read_as_transformers_reads_them():
    # per_device_train_batch_size: TrainingArguments' own, parsed by LLaMA-Factory v0 as well
    (plain,) = [s for s in SIGNATURES if s.reads_plain]
    owners = {s.name for s in SIGNATURES if "per_device_train_batch_size" in s.flat_keys}
    assert plain.name in owners and len(owners) == 2
    assert detect_format({"per_device_train_batch_size": 8, "learning_rate": 1e-4}) == plain.name
