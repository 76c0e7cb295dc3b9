"""Regressions found by benchmarks/fuzz_parsers.py: deeply nested YAML and JSON.

PyYAML and the json module recurse once per level and raise RecursionError past the
interpreter's limit; a reader must turn that into its typed error, not a traceback.
"""

from __future__ import annotations

import pytest

from alliance.errors import InstrumentError, PolicyError
from alliance.instruments.catalog import parse_yaml_spec
from alliance.monitoring import load_policy_text

DEEP_YAML = "a: " + "[" * 5000 + "]" * 5000 + "\n"


def test_deeply_nested_spec_is_an_instrument_error() -> None:
    with pytest.raises(InstrumentError, match="nested too deeply"):
        parse_yaml_spec(DEEP_YAML, "deep.yaml")


def test_deeply_nested_policy_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="nested too deeply"):
        load_policy_text(DEEP_YAML, "deep.yaml")
