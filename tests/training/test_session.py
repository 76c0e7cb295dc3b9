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
