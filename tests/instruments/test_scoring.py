"""Scoring one response: hand-computed cases and every kind of bad answer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from alliance.errors import ScoringError
from alliance.instruments import get_instrument, score_response

A12 = get_instrument("alliance-12")
FULL = {"b1": 4, "b2": 5, "b3": 2, "b4": 4, "g1": 5, "g2": 4, "g3": 1, "g4": 4,
        "t1": 3, "t2": 3, "t3": 4, "t4": 3}


def test_reverse_keyed_items_are_flipped_before_summing() -> None:
    # bond: 4 + 5 + (6 - 2) + 4 = 17; goal: 5 + 4 + (6 - 1) + 4 = 18; task: 3 + 3 + 2 + 3 = 11
    s = score_response(A12, FULL)
    assert (s["bond"].raw, s["goal"].raw, s["task"].raw, s.total.raw) == (17, 18, 11, 46)
    assert s.total.status == "complete"


def test_percent_of_maximum_uses_the_score_range() -> None:
    s = score_response(A12, FULL)
    assert s["bond"].pom == pytest.approx(100 * (17 - 4) / 16)  # 81.25
    assert s.total.pom == pytest.approx(100 * (46 - 12) / 48)  # 70.83


def test_one_missing_item_prorates_its_subscale() -> None:
    answers = {**FULL, "g2": None}
    s = score_response(A12, answers)
    # goal: (5 + 5 + 4) / 3 * 4 = 18.667; total = 17 + 18.667 + 11
    assert s["goal"].raw == pytest.approx(56 / 3)
    assert s["goal"].status == "prorated"
    assert s["goal"].note == "prorated from 3 of 4 items"
    assert s.total.raw == pytest.approx(17 + 56 / 3 + 11)
    assert s.total.status == "prorated"
    assert s.total.note == "prorated subscale: goal"


def test_two_missing_items_invalidate_the_subscale_and_the_total() -> None:
    s = score_response(A12, {**FULL, "t1": None, "t2": float("nan")})
    assert s["task"].status == "invalid" and s["task"].raw is None
    assert s["task"].note == "2 of 4 items missing; at most 1 may be missing"
    assert s.total.status == "invalid"
    assert s.total.note == "invalid subscale: task"
    assert s["bond"].raw == 17


def test_empty_text_counts_as_missing_and_numeric_text_as_a_number() -> None:
    s = score_response(A12, {**FULL, "b1": "", "b2": " 5 "})
    assert s["bond"].raw == pytest.approx((5 + 4 + 4) / 3 * 4)


def test_items_absent_from_the_mapping_are_missing() -> None:
    s = score_response(A12, {k: v for k, v in FULL.items() if k != "b4"})
    assert s["bond"].status == "prorated"


def test_mean_scored_instrument_averages_items() -> None:
    s = score_response(get_instrument("pulse-3"), {"bond": 7, "goal": 5, "task": 3})
    assert s.total.raw == pytest.approx(5.0)
    assert s.total.pom == pytest.approx(100 * (5 - 1) / 6)


def test_pulse_3_allows_no_missing_answer() -> None:
    s = score_response(get_instrument("pulse-3"), {"bond": 7, "goal": 5})
    assert s["task"].status == "invalid"
    assert s.total.status == "invalid"


def test_srs_total_accepts_decimals_and_requires_every_item() -> None:
    srs = get_instrument("srs")
    s = score_response(srs, {"relationship": 9.5, "goals": 8.2, "approach": 9, "overall": 9.1})
    assert s.total.raw == pytest.approx(35.8)
    missing = score_response(srs, {"relationship": 9.5, "goals": 8.2, "approach": 9})
    assert missing.total.status == "invalid"
    assert missing.total.note == "1 of 4 items missing; this instrument requires every item"


def test_wai_sr_scores_from_structure_alone() -> None:
    wai = get_instrument("wai-sr")
    s = score_response(wai, {str(i): (i % 5) + 1 for i in range(1, 13)})
    # task items 1,2,10,12 -> 2,3,1,3 ; goal 4,6,8,11 -> 5,2,4,2 ; bond 3,5,7,9 -> 4,1,3,5
    assert (s["task"].raw, s["goal"].raw, s["bond"].raw, s.total.raw) == (9, 13, 13, 35)


def test_session_check_subscales_map_to_components() -> None:
    inst = get_instrument("session-check-4")
    s = score_response(inst, {"relationship": 9, "goals": 6, "approach": 8, "overall": 8})
    assert s.total.raw == 31
    assert s["goals"].raw == 6


@pytest.mark.parametrize(("value", "message"), [
    (6, "item 'b1': 6 is out of range; expected a whole number from 1 to 5"),
    (0, "item 'b1': 0 is out of range; expected a whole number from 1 to 5"),
    (-1, "item 'b1': -1 is out of range"),
    (4.5, "item 'b1': 4.5 is not a whole number; expected a whole number from 1 to 5"),
    ("four", "item 'b1': 'four' is not a number; expected a whole number from 1 to 5"),
    (True, "item 'b1': True is not a number"),
    ([4], "item 'b1': [4] is not a number"),
    (math.inf, "item 'b1': inf is out of range"),
])
def test_bad_answer_is_refused_naming_item_and_value(value: object, message: str) -> None:
    with pytest.raises(ScoringError) as err:
        score_response(A12, {**FULL, "b1": value})
    assert str(err.value).startswith(message)
    assert err.value.context["item"] == "b1"


def test_unknown_item_is_refused() -> None:
    with pytest.raises(ScoringError, match="alliance-12: unknown item 'b9'"):
        score_response(A12, {**FULL, "b9": 3})


def test_response_must_be_a_mapping() -> None:
    with pytest.raises(ScoringError, match="must map item ids to values, not list"):
        score_response(A12, [4, 5])  # type: ignore[arg-type]


def test_numpy_numbers_are_accepted() -> None:
    s = score_response(A12, {k: np.int64(v) for k, v in FULL.items()})
    assert s.total.raw == 46


def test_an_instrument_derived_with_replace_looks_up_its_own_items_and_ranges() -> None:
    from dataclasses import replace

    from alliance.errors import InstrumentError

    assert A12.item("b1").id == "b1" and A12.score_range("bond") == (4.0, 20.0)
    wider = replace(A12.item("b1"), scale=replace(A12.item("b1").scale, max=9))
    derived = replace(A12, items=(wider, *A12.items[1:]))
    assert derived.item("b1").scale.max == 9 and derived.score_range("bond") == (4.0, 24.0)
    assert A12.item("b1").scale.max == 5 and A12.score_range("bond") == (4.0, 20.0)
    with pytest.raises(InstrumentError, match="no item 'zz'"):
        derived.item("zz")
