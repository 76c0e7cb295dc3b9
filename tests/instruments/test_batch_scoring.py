"""The vectorised table path gives exactly the per-response results."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.errors import ScoringError
from alliance.instruments import builtin_catalog, get_instrument, score_response, score_table
from alliance.testing.responses import simulate_responses

CATALOG = builtin_catalog()


def answers_for(instrument_id: str) -> st.SearchStrategy[dict[str, Any]]:
    inst = CATALOG[instrument_id]
    fields = {}
    for item in inst.items:
        lo, hi = int(item.scale.min), int(item.scale.max)
        value = (st.integers(lo, hi) if item.scale.integer
                 else st.integers(lo * 10, hi * 10).map(lambda v: v / 10))
        fields[item.id] = st.one_of(value, st.just(None))
    return st.fixed_dictionaries(fields)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12)
    if a is None:
        return b is None or (isinstance(b, float) and math.isnan(b))
    return bool(a == b)


@settings(max_examples=60, deadline=None)
@given(instrument_id=st.sampled_from(sorted(CATALOG)), data=st.data())
def test_table_scores_equal_per_response_scores(instrument_id: str, data: st.DataObject) -> None:
    inst = CATALOG[instrument_id]
    rows = data.draw(st.lists(answers_for(instrument_id), min_size=1, max_size=12))
    table = pd.DataFrame(rows, columns=list(inst.item_ids)).astype("float64")
    table.insert(0, "client", [f"c{i}" for i in range(len(rows))])
    scored = score_table(inst, table)
    for i, answers in enumerate(rows):
        expected = score_response(inst, answers).as_row()
        got = scored.iloc[i]
        assert got["client"] == f"c{i}"
        for column, value in expected.items():
            assert same(value, got[column]), (column, value, got[column])


def test_id_columns_are_carried_through_in_order() -> None:
    inst = get_instrument("pulse-3")
    table = pd.DataFrame({"client": ["a", "b"], "session": [1, 2], "bond": [7, 1],
                          "goal": [7, 1], "task": [7, 1]})
    scored = score_table(inst, table)
    assert list(scored.columns[:2]) == ["client", "session"]
    assert list(scored["total_raw"]) == [7.0, 1.0]
    assert list(scored["total_pom"]) == [100.0, 0.0]


def test_table_errors_name_row_item_and_value() -> None:
    inst = get_instrument("pulse-3")
    table = pd.DataFrame({"client": ["a", "b", "c"], "bond": ["7", "nine", "3"],
                          "goal": ["7", "8", "2.5"], "task": ["1", "1", "1"]})
    with pytest.raises(ScoringError) as err:
        score_table(inst, table)
    message = str(err.value)
    assert "3 invalid value(s)" in message
    assert "row 2 (client=b), item 'bond': 'nine' is not a number" in message
    assert "row 2 (client=b), item 'goal': 8 is out of range" in message
    assert "row 3 (client=c), item 'goal': 2.5 is not a whole number" in message


def test_missing_item_column_is_an_error_not_missing_data() -> None:
    inst = get_instrument("pulse-3")
    with pytest.raises(ScoringError, match="no column for item\\(s\\) task"):
        score_table(inst, pd.DataFrame({"bond": [1], "goal": [2]}))


def test_empty_table_scores_to_empty_result() -> None:
    inst = get_instrument("pulse-3")
    scored = score_table(inst, pd.DataFrame({"bond": [], "goal": [], "task": []}))
    assert len(scored) == 0 and "total_raw" in scored.columns


def test_simulated_responses_score_without_errors() -> None:
    inst = get_instrument("alliance-12")
    table = simulate_responses(inst, 500, seed=1, missing_rate=0.05)
    scored = score_table(inst, table)
    assert set(scored["total_status"]) <= {"complete", "prorated", "invalid"}
    valid = scored["total_status"] != "invalid"
    assert np.all((scored.loc[valid, "total_raw"] >= 12) & (scored.loc[valid, "total_raw"] <= 60))
