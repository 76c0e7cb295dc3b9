"""Regression found by benchmarks/fuzz_parsers.py: a policy number too large for a float.

YAML reads ``strict_sd: 1000…0`` (400 digits) as a Python int; checking it with
``math.isfinite`` raised OverflowError. It is a PolicyError naming the setting now.
"""

from __future__ import annotations

import pytest
import yaml

from alliance.errors import PolicyError
from alliance.monitoring import default_policy_text, load_policy_text


@pytest.mark.parametrize("setting", ["drop:\n  strict_sd: ", "drop:\n  lenient_sd: "])
def test_setting_past_the_float_range_is_a_policy_error(setting: str) -> None:
    with pytest.raises(PolicyError, match=r"drop\.\w+_sd: is out of range"):
        load_policy_text(setting + "1" + "0" * 400 + "\n", "policy.yaml")


def test_whole_number_setting_past_the_float_range_is_a_policy_error() -> None:
    raw = yaml.safe_load(default_policy_text())
    section, key = next((s, k) for s, v in raw.items() if isinstance(v, dict)
                        for k, x in v.items() if isinstance(x, int) and not isinstance(x, bool))
    with pytest.raises(PolicyError, match=f"{section}.{key}: is out of range"):
        load_policy_text(f"{section}:\n  {key}: 1{'0' * 400}\n", "policy.yaml")
