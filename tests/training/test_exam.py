"""Exam mode: sections lock once answered; per-competency results with every rationale."""

from __future__ import annotations

import json

import pytest

from alliance.errors import TrainingError
from alliance.training import ExamSession, PracticeRecord, load_casebook

CASE = load_casebook()["quiet-homework"]


def answer_all(exam: ExamSession, keys: list[str]) -> None:
    for key in keys:
        exam.answer(exam.open_items[0].id, key)


def test_a_section_locks_once_its_items_are_answered() -> None:
    exam = ExamSession(CASE)
    exam.answer("notice", "B")
    assert exam.section.number == 2
    with pytest.raises(TrainingError, match="section 1, which is locked"):
        exam.answer("notice", "C")


def test_a_later_section_cannot_be_answered_ahead() -> None:
    exam = ExamSession(CASE)
    with pytest.raises(TrainingError, match="section 3, which is not open yet"):
        exam.answer("gather", "C")


def test_a_section_with_two_items_stays_open_until_both_are_answered() -> None:
    exam = ExamSession(CASE)
    answer_all(exam, ["B", "C"])
    assert [i.id for i in exam.open_items] == ["gather", "renegotiate"]
    exam.answer("gather", "C")
    assert not exam.finished and [i.id for i in exam.open_items] == ["renegotiate"]
    with pytest.raises(TrainingError, match="locked"):
        exam.answer("gather", "A")
    exam.answer("renegotiate", "a")  # lower case is accepted
    assert exam.finished


@pytest.mark.parametrize("bad", ["E", "", "AB", "1"])
def test_an_answer_outside_a_to_d_is_refused(bad: str) -> None:
    with pytest.raises(TrainingError, match="is not one of A, B, C, D"):
        ExamSession(CASE).answer("notice", bad)


def test_unknown_item_is_refused() -> None:
    with pytest.raises(TrainingError, match="has no item 'q9'"):
        ExamSession(CASE).answer("q9", "A")


def test_results_score_each_competency_and_carry_every_rationale() -> None:
    exam = ExamSession(CASE)
    answer_all(exam, ["B", "A", "C", "A"])  # right, wrong, right, right
    comps = exam.competencies()
    assert comps["noticing"] == {"correct": 1, "total": 1, "share": 1.0}
    assert comps["repair"] == {"correct": 0, "total": 1, "share": 0.0}
    assert comps["assessment"]["correct"] == 1 and comps["intervention"]["correct"] == 1
    for r in exam.results():
        d = r.to_dict()
        assert len(d["options"]) == 4 and all(o["rationale"] for o in d["options"])
    wrong = [r for r in exam.results() if not r.correct]
    assert [(r.item.id, r.chosen, r.item.key) for r in wrong] == [("name-it", "A", "C")]


def test_the_exam_record_round_trips_through_json() -> None:
    exam = ExamSession(CASE)
    answer_all(exam, ["B", "C", "C", "A"])
    rec = exam.record()
    assert rec.mode == "exam" and rec.complete and all(v == 1.0 for v in
                                                       rec.competencies.values())
    again = PracticeRecord.from_dict(json.loads(rec.to_json()))
    assert again == rec


def test_an_unfinished_exam_is_recorded_as_incomplete() -> None:
    exam = ExamSession(CASE)
    exam.answer("notice", "B")
    assert not exam.record().complete
    assert [r.chosen for r in exam.results()] == ["B", None, None, None]
