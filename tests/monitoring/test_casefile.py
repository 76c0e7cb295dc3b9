"""The case file: schema, semantic checks, readable errors naming the path."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from alliance.errors import CaseFileError, InputFileError
from alliance.interop.casefiles import load_case_file
from alliance.monitoring import case_file_schema, case_to_mapping, parse_cases, synthetic
from alliance.monitoring.casefile import quick_valid

from .conftest import case_dict


def test_valid_case_file_parses_with_sessions_sorted_and_scored() -> None:
    data = case_dict([5, 6])
    data["cases"][0]["sessions"].reverse()
    case = parse_cases(data)[0]
    assert [s.number for s in case.sessions] == [1, 2]
    assert case.sessions[1].ratings[0].score.total.raw == 6.0


def test_bad_attendance_names_the_path_and_the_allowed_values() -> None:
    data = case_dict([5, 5, 5, 5])
    data["cases"][0]["sessions"][3]["attendance"] = "absent"
    with pytest.raises(CaseFileError) as err:
        parse_cases(data, origin="x.json")
    assert str(err.value).startswith("x.json: cases[0].sessions[3].attendance: 'absent' is not "
                                     "one of ['attended'")


def test_unknown_field_is_rejected_with_its_path() -> None:
    data = case_dict([5])
    data["cases"][0]["sessions"][0]["mood"] = "fine"
    with pytest.raises(CaseFileError, match=r"cases\[0\]\.sessions\[0\]: unknown field 'mood'"):
        parse_cases(data)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["cases"][0]["sessions"].append(dict(d["cases"][0]["sessions"][0])),
     "session number 1 appears twice"),
    (lambda d: d["cases"][0]["sessions"][0]["ratings"][0].update(rater="m9"),
     "'m9' is neither a member"),
    (lambda d: d["cases"][0]["sessions"][0].update(attendance="no_show"),
     "the session was no_show, so it cannot have ratings"),
    (lambda d: d["cases"][0]["sessions"][0]["ratings"][0]["items"].update(bond=9),
     r"cases\[0\]\.sessions\[0\]\.ratings\[0\]\.items: item 'bond': 9 is out of range"),
    (lambda d: d["cases"][0]["sessions"][0]["ratings"][0].update(instrument="wai-x"),
     "unknown instrument 'wai-x'"),
    (lambda d: d["cases"][0].update(modality="couple"), "a couple case has exactly two members"),
    (lambda d: d["cases"].append(copy.deepcopy(d["cases"][0])), "case 'c1' appears twice"),
    (lambda d: d["cases"][0]["members"][0].update(id="therapist"), "reserved"),
    (lambda d: d["cases"][0]["sessions"][0].update(minutes_late=5),
     "only a session with attendance 'late'"),
    (lambda d: d["cases"][0]["sessions"][0].update(date="2026-02-30"),
     r"cases\[0\]\.sessions\[0\]\.date: '2026-02-30' is not a calendar date"),
])
def test_semantic_problems_raise_case_file_errors(mutate: Any, message: str) -> None:
    data = case_dict([5, 6])
    mutate(data)
    with pytest.raises(CaseFileError, match=message):
        parse_cases(data)


def test_not_a_mapping_is_a_case_file_error() -> None:
    with pytest.raises(CaseFileError, match="must be a JSON object"):
        parse_cases([1, 2])  # type: ignore[arg-type]


def test_case_round_trips_through_its_mapping() -> None:
    data, _ = synthetic.generate(5, 3)
    cases = parse_cases(data)
    again = parse_cases({"cases": [case_to_mapping(c) for c in cases]})
    assert [case_to_mapping(c) for c in again] == [case_to_mapping(c) for c in cases]


MUTATIONS = [
    lambda d: d["cases"][0].update(id=""),
    lambda d: d["cases"][0].update(id="has space"),
    lambda d: d["cases"][0]["sessions"][0].update(number=0),
    lambda d: d["cases"][0]["sessions"][0].update(number=True),
    lambda d: d["cases"][0]["sessions"][0].update(date="5 Jan"),
    lambda d: d["cases"][0]["sessions"][0].update(minutes_late=-1),
    lambda d: d["cases"][0]["sessions"][0].update(homework="some"),
    lambda d: d["cases"][0]["sessions"][0].update(transcript_summary={"withdrawal": -1}),
    lambda d: d["cases"][0]["sessions"][0].update(transcript_summary={"cues": ["Bad Cue"]}),
    lambda d: d["cases"][0]["sessions"][0]["ratings"][0]["items"].update(bond="4"),
    lambda d: d["cases"][0]["sessions"][0]["ratings"][0]["items"].update(bond=True),
    lambda d: d["cases"][0]["sessions"][0]["ratings"][0].update(items={}),
    lambda d: d["cases"][0].update(members=[]),
    lambda d: d["cases"][0].update(context={"normative_cues": ["silence", "silence"]}),
    lambda d: d.update(extra=1),
]


@pytest.mark.parametrize("mutate", MUTATIONS)
def test_fast_check_never_accepts_what_the_schema_rejects(mutate: Any) -> None:
    data = case_dict([5, 6])
    mutate(data)
    schema_ok = jsonschema.Draft202012Validator(case_file_schema()).is_valid(data)
    assert not schema_ok
    assert not quick_valid(data)
    with pytest.raises(CaseFileError):
        parse_cases(data)


def test_fast_check_accepts_generated_files_the_schema_accepts() -> None:
    data, _ = synthetic.generate(30, 11)
    assert jsonschema.Draft202012Validator(case_file_schema()).is_valid(data)
    assert quick_valid(data)


def test_load_case_file_reports_missing_and_malformed_files(tmp_path: Any) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        load_case_file(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{\"cases\": [", encoding="utf-8")
    with pytest.raises(InputFileError, match="line 1: invalid JSON"):
        load_case_file(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(case_dict([5])), encoding="utf-8")
    assert load_case_file(good)[0].id == "c1"
