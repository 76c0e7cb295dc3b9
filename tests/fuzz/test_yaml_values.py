"""Regression found by benchmarks/fuzz_parsers.py: YAML values PyYAML cannot build.

An unquoted impossible date (``2024-13-45``) or an integer over Python's 4,300-digit limit
passes the YAML grammar and then fails in PyYAML's constructors with a bare ``ValueError``.
Spec, wording and policy files must report it as their typed error.
"""

from __future__ import annotations

import pytest

from alliance.errors import InstrumentError, PolicyError
from alliance.instruments.catalog import parse_yaml_spec
from alliance.monitoring import load_policy_text


@pytest.mark.parametrize("value", ["2024-13-45", "2024-02-30", "2024-01-01 25:00:00"])
def test_impossible_date_in_a_spec_is_an_instrument_error(value: str) -> None:
    with pytest.raises(InstrumentError, match="is not valid YAML"):
        parse_yaml_spec(f"id: x\nversion: {value}\n", "spec.yaml")


def test_integer_past_the_digit_limit_in_a_policy_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="is not valid YAML"):
        load_policy_text("drop:\n  strict_sd: " + "9" * 5000 + "\n", "policy.yaml")
