"""Outcome measures (PHQ-9, GAD-7, ORS) sit beside the alliance: never read as alliance series."""

from __future__ import annotations

from alliance.monitoring import monitor_cases, parse_cases
from alliance.monitoring.batch import monitor_tables, tables_from_casefile

from .conftest import case_dict, pulse


def _phq9(total_per_item: int) -> dict[str, int]:
    return {f"phq{n}": total_per_item for n in range(1, 10)}


def _with_phq9(values: list[int], phq_items: list[int]) -> dict:  # type: ignore[type-arg]
    data = case_dict(values, items=pulse)
    for session, v in zip(data["cases"][0]["sessions"], phq_items, strict=True):
        session["ratings"].append({"rater": "m1", "instrument": "phq-9", "items": _phq9(v)})
    return data


def test_a_falling_phq9_is_not_an_alliance_drop() -> None:
    # PHQ-9 falling from 27 to 0 is recovery; the alliance (pulse-3 at 6) is steady.
    data = _with_phq9([6, 6, 6, 6], [3, 2, 1, 0])
    report = monitor_cases(parse_cases(data))[0]
    assert not any("phq-9" in str(s.to_dict()) for s in report.signals)
    assert report.alert is None


def test_both_monitoring_paths_ignore_outcome_series_alike() -> None:
    data = _with_phq9([6, 5, 6, 2], [3, 3, 0, 0])
    per_case = [r.to_dict() for r in monitor_cases(parse_cases(data))]
    batch = [r.to_dict() for r in monitor_tables(tables_from_casefile(data))]
    assert batch == per_case
    assert any(s["evidence"].get("instrument") == "pulse-3" for s in per_case[0]["signals"])
    assert not any("phq-9" in str(s) for s in per_case[0]["signals"])
