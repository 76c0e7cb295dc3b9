"""The practice session record: serialisable, replayable, scored per competency."""

from __future__ import annotations

import json

import pytest

from alliance.errors import TrainingError
from alliance.training import PracticeRecord, PracticeSession, load_casebook, render_replay

CASE = load_casebook()["just-trying-to"]


def test_record_keeps_the_state_after_every_turn_and_round_trips() -> None:
    s = PracticeSession(CASE)
    for stage in CASE.stages:
        s.respond(stage.alternative)
    rec = s.record()
    assert rec.complete and len(rec.turns) == 3
    assert [t.state_before for t in rec.turns[1:]] == [t.state_after for t in rec.turns[:-1]]
    assert rec.final == rec.turns[-1].state_after
    assert set(rec.competencies) == {"noticing", "repair", "assessment", "intervention"}
    again = PracticeRecord.from_dict(json.loads(rec.to_json()))
    assert again.to_dict() == rec.to_dict()


def test_replay_shows_each_turn_with_its_state_and_the_rating() -> None:
    s = PracticeSession(CASE)
    s.respond("Why are you so defensive about the drinking?")
    text = render_replay(s.record())
    assert "verdict: judgmental" in text
    assert "confrontation.attributes_intent" in text
    assert "simulated alliance-12 total" in text


def test_answering_after_the_last_stage_is_refused() -> None:
    s = PracticeSession(CASE)
    for stage in CASE.stages:
        s.respond(stage.alternative)
    with pytest.raises(TrainingError, match="is finished"):
        s.respond("One more thing.")


def test_a_bad_response_leaves_the_session_where_it_was() -> None:
    s = PracticeSession(CASE)
    with pytest.raises(TrainingError, match="empty"):
        s.respond("  ")
    assert s.turns == [] and s.stage.number == 1


@pytest.mark.parametrize("data", [None, {"schema": "other"}, {"schema":
                                  "alliance.practice-record/1", "case": "x"}])
def test_a_malformed_record_is_a_training_error(data: object) -> None:
    with pytest.raises(TrainingError):
        PracticeRecord.from_dict(data)


def test_a_resumed_session_continues_as_if_uninterrupted() -> None:
    from alliance.training import PracticeRecord, PracticeSession, load_casebook

    case = load_casebook()["quiet-homework"]
    whole = PracticeSession(case)
    for stage in case.stages:
        whole.respond(stage.alternative)
    part = PracticeSession(case)
    part.respond(case.stages[0].alternative)
    stored = PracticeRecord.from_dict(part.record().to_dict())
    resumed = PracticeSession.resume(case, stored)
    for stage in case.stages[1:]:
        resumed.respond(stage.alternative)
    assert resumed.record().to_dict() == whole.record().to_dict()


def test_resuming_another_cases_record_is_refused() -> None:
    import pytest

    from alliance.errors import TrainingError
    from alliance.training import ExamSession, PracticeSession, load_casebook

    book = load_casebook()
    record = PracticeSession(book["quiet-homework"]).record()
    with pytest.raises(TrainingError, match="not a practice session of not-helping"):
        PracticeSession.resume(book["not-helping"], record)
    with pytest.raises(TrainingError, match="not an exam"):
        ExamSession.resume(book["quiet-homework"], record)


def test_an_exam_record_out_of_section_order_is_refused() -> None:
    import dataclasses

    import pytest

    from alliance.errors import TrainingError
    from alliance.training import ExamSession, load_casebook

    case = load_casebook()["quiet-homework"]
    exam = ExamSession(case)
    for item in case.stages[0].items + case.stages[1].items:
        exam.answer(item.id, item.key)
    record = exam.record()
    resumed = ExamSession.resume(case, record)
    assert resumed.section.number == 3
    swapped = dataclasses.replace(record, answers=tuple(reversed(record.answers)))
    with pytest.raises(TrainingError, match="not open yet"):
        ExamSession.resume(case, swapped)
