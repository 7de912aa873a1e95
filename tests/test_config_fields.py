"""Config numbers go through the algebra's one parser (schedules.checks.parse_number)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrkit.config import fields as F
from lrkit.errors import ConfigError
from lrkit.schedules.checks import parse_number


def test_yaml_11_number_text_is_a_number():
    assert F.number("3e-4", "lr") == 3e-4
    assert F.number(" 1_000 ", "steps") == 1000.0
    assert F.steps("1e3", "max_steps") == 1000


@pytest.mark.parametrize("text", ["e5", ".e5", "+.e5", "1e", "abc", "", "1.2.3"])
def test_text_that_only_looks_numeric_is_a_config_error_naming_field_value_and_fix(text):
    # the config parser's own regex once took "e5" for a number and crashed in float()
    with pytest.raises(ConfigError) as err:
        F.number(text, "optim.lr")
    assert err.value.field == "optim.lr"
    assert err.value.value == text
    assert "must be a number" in err.value.message and err.value.fix


def test_a_non_number_names_its_type():
    with pytest.raises(ConfigError, match=r"got list \[1, 2\]"):
        F.number([1, 2], "lr")
    with pytest.raises(ConfigError, match=r"got True"):
        F.number(True, "lr")


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.integers(-(10**6), 10**6).map(str),
        st.from_regex(r"[-+]?[0-9_.eE]{1,8}", fullmatch=True),
    )
)
def test_config_fields_and_schedules_parse_text_alike(text):
    def outcome(fn):
        try:
            return fn()
        except ConfigError as e:
            return ("error", e.message, e.fix)

    assert outcome(lambda: F.number(text, "x", low=0.0)) == outcome(lambda: parse_number("x", text, low=0.0, text=True))
