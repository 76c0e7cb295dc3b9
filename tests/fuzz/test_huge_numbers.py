"""Regressions found by benchmarks/fuzz_parsers.py: integers too large for a float.

JSON has no size limit on integers. An answer of 10^400 made ``float()`` raise
OverflowError inside scoring (case files, survey answers), and an integer of more than
4,300 digits made ``json.load`` raise a bare ValueError. Both are typed errors now.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alliance.errors import CaseFileError, InputFileError, ScoringError
from alliance.instruments import get_instrument, score_response
from alliance.interop.casefiles import load_case_file

ROOT = Path(__file__).resolve().parents[2]


def test_answer_past_the_float_range_is_out_of_range() -> None:
    inst = get_instrument("alliance-12")
    answers = {item: 4 for item in inst.item_ids}
    answers[inst.item_ids[0]] = 10**400
    with pytest.raises(ScoringError, match="out of range"):
        score_response(inst, answers)


def _first_item_value(data: object, value: int) -> bool:
    """Set the first item answer found in a case file to ``value``."""
    if isinstance(data, dict):
        if "items" in data and isinstance(data["items"], dict) and data["items"]:
            data["items"][next(iter(data["items"]))] = value
            return True
        return any(_first_item_value(v, value) for v in data.values())
    if isinstance(data, list):
        return any(_first_item_value(v, value) for v in data)
    return False


def test_case_file_answer_past_the_float_range_is_a_typed_error(tmp_path: Path) -> None:
    data = json.loads((ROOT / "examples" / "cases" / "example.json").read_text("utf-8"))
    assert _first_item_value(data, 10**400)
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CaseFileError) as caught:
        load_case_file(path)
    assert "out of range" in str(caught.value)


def test_integer_past_the_digit_limit_is_an_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text('{"cases": [' + "9" * 5000 + "]}", encoding="utf-8")
    with pytest.raises(InputFileError, match="unusable JSON"):
        load_case_file(path)
