"""Regressions found by benchmarks/fuzz_parsers.py: deeply nested YAML and JSON.

PyYAML and the json module recurse once per level and raise RecursionError past the
interpreter's limit; a reader must turn that into its typed error, not a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alliance.errors import InputFileError, InstrumentError, PolicyError
from alliance.instruments.catalog import parse_yaml_spec
from alliance.interop.casefiles import load_case_file
from alliance.interop.tables import read_table
from alliance.monitoring import load_policy_text

DEEP_YAML = "a: " + "[" * 5000 + "]" * 5000 + "\n"


def test_deeply_nested_spec_is_an_instrument_error() -> None:
    with pytest.raises(InstrumentError, match="nested too deeply"):
        parse_yaml_spec(DEEP_YAML, "deep.yaml")


def test_deeply_nested_policy_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="nested too deeply"):
        load_policy_text(DEEP_YAML, "deep.yaml")


def test_deeply_nested_case_file_is_an_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text('{"cases": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    with pytest.raises(InputFileError, match="nested too deeply"):
        load_case_file(path)


def test_deeply_nested_json_table_is_an_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "responses.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(InputFileError, match="nested too deeply"):
        read_table(path)
