"""Stored practice (issue 13, item 6): sessions kept per trainee, scoped like cases.

A trainee reads and plays only their own sessions; a supervisor reads those of assigned
trainees and plays none; another trainee, an unassigned supervisor, a clinician, an admin
and a researcher get NotFound, exactly as for an id that does not exist.
"""

from __future__ import annotations

import pytest
from tests.web.practice_world import add_trainees

from alliance.errors import InputError, NotFound, PermissionDenied, StoreError, TrainingError
from alliance.store import accounts, audit, practice
from alliance.store.actors import Actor
from alliance.store.database import Database
from alliance.training import load_casebook
from alliance.training.coders import default_coder

CASE = "quiet-homework"


@pytest.fixture
def folks(db: Database, people: dict[str, Actor], password_hash: str) -> dict[str, Actor]:
    return add_trainees(db, people, password_hash)


def _start(db: Database, who: Actor, mode: str = "practice") -> int:
    with db.write() as s:
        return practice.start(s, who, CASE, mode).id


def _play_alternatives(db: Database, who: Actor, practice_id: int) -> None:
    for stage in load_casebook()[CASE].stages:
        with db.write() as s:
            practice.respond(s, who, practice_id, stage.alternative, coder=default_coder())


def test_finished_practice_is_stored_with_scores_and_record(
        db: Database, folks: dict[str, Actor]) -> None:
    pid = _start(db, folks["tia"])
    _play_alternatives(db, folks["tia"], pid)
    with db.read() as s:
        row = practice.get_practice(s, folks["tia"], pid)
        assert row.complete and row.finished_at is not None
        assert row.mode == "practice" and row.training_case == CASE
        assert set(row.competencies) == {"noticing", "repair", "assessment", "intervention"}
        assert row.record["final"] == {"bond": 5, "goal": 4, "task": 3, "marker": None}
        assert row.record["rating"]["scores"]["total"]["raw"] == 48  # docs/training.md


def test_unfinished_practice_is_kept_and_continues(db: Database,
                                                   folks: dict[str, Actor]) -> None:
    pid = _start(db, folks["tia"])
    first = load_casebook()[CASE].stages[0].alternative
    with db.write() as s:
        practice.respond(s, folks["tia"], pid, first, coder=default_coder())
    with db.read() as s:
        view = practice.view(s, folks["tia"], pid)
    assert not view.complete and len(view.record.turns) == 1
    assert view.stage is not None and view.stage.number == 2 and view.can_play


def test_trainee_and_supervisor_read_others_get_not_found(
        db: Database, folks: dict[str, Actor]) -> None:
    pid = _start(db, folks["tia"])
    with db.read() as s:
        assert practice.view(s, folks["tia"], pid).can_play
        assert not practice.view(s, folks["lee"], pid).can_play  # supervisor reads
        for who in ("tom", "dana", "sam", "admin", "rowan"):
            with pytest.raises(NotFound):
                practice.view(s, folks[who], pid)
        for who in ("tia", "lee"):
            with pytest.raises(NotFound):
                practice.view(s, folks[who], pid + 1000)


def test_supervisor_cannot_play_a_trainees_session(db: Database,
                                                   folks: dict[str, Actor]) -> None:
    pid = _start(db, folks["tia"])
    with pytest.raises(PermissionDenied), db.write() as s:
        practice.respond(s, folks["lee"], pid, "What is it like for you?",
                         coder=default_coder())


def test_other_trainee_cannot_play_or_answer(db: Database, folks: dict[str, Actor]) -> None:
    pid = _start(db, folks["tia"])
    eid = _start(db, folks["tia"], "exam")
    with pytest.raises(NotFound), db.write() as s:
        practice.respond(s, folks["tom"], pid, "What is it like for you?",
                         coder=default_coder())
    with pytest.raises(NotFound), db.write() as s:
        practice.answer(s, folks["tom"], eid, 1, {"notice": "B"})


def test_only_trainees_start_sessions(db: Database, folks: dict[str, Actor]) -> None:
    for who in ("dana", "lee", "admin", "rowan"):
        with pytest.raises(NotFound), db.write() as s:
            practice.start(s, folks[who], CASE, "practice")


def test_unknown_case_and_mode_are_refused(db: Database, folks: dict[str, Actor]) -> None:
    with pytest.raises(TrainingError, match="unknown case"), db.write() as s:
        practice.start(s, folks["tia"], "no-such-case", "practice")
    with pytest.raises(InputError, match="mode"), db.write() as s:
        practice.start(s, folks["tia"], CASE, "quiz")


def test_empty_and_oversized_responses_store_nothing(db: Database,
                                                     folks: dict[str, Actor]) -> None:
    pid = _start(db, folks["tia"])
    for bad in ("   ", "x" * 100_000):
        with pytest.raises(TrainingError), db.write() as s:
            practice.respond(s, folks["tia"], pid, bad, coder=default_coder())
    with db.read() as s:
        assert practice.view(s, folks["tia"], pid).record.turns == ()


def test_exam_sections_lock_in_order(db: Database, folks: dict[str, Actor]) -> None:
    case = load_casebook()[CASE]
    eid = _start(db, folks["tia"], "exam")
    second = {i.id: i.key for i in case.stages[1].items}
    with pytest.raises(TrainingError, match="not open yet"), db.write() as s:
        practice.answer(s, folks["tia"], eid, 2, second)
    with pytest.raises(TrainingError, match="not in section 1"), db.write() as s:
        practice.answer(s, folks["tia"], eid, 1, second)
    for stage in case.stages:
        with db.write() as s:
            practice.answer(s, folks["tia"], eid, stage.number,
                            {i.id: i.key for i in stage.items})
        if stage.number == 1:
            with pytest.raises(TrainingError, match="locked"), db.write() as s:
                practice.answer(s, folks["tia"], eid, 1, {i.id: "A" for i in stage.items})
    with db.read() as s:
        view = practice.view(s, folks["tia"], eid)
    assert view.complete and view.exam is not None and view.exam.finished
    assert all(v == 1.0 for v in view.record.competencies.values())


def test_exam_with_a_missing_item_or_bad_answer_stores_nothing(
        db: Database, folks: dict[str, Actor]) -> None:
    eid = _start(db, folks["tia"], "exam")
    with pytest.raises(InputError, match="missing"), db.write() as s:
        practice.answer(s, folks["tia"], eid, 1, {})
    with pytest.raises(TrainingError, match="not one of"), db.write() as s:
        practice.answer(s, folks["tia"], eid, 1, {"notice": "Z"})
    with db.read() as s:
        assert practice.view(s, folks["tia"], eid).record.answers == ()


def test_progress_is_scoped(db: Database, folks: dict[str, Actor]) -> None:
    pid = _start(db, folks["tia"])
    _play_alternatives(db, folks["tia"], pid)
    with db.read() as s:
        own = practice.progress(s, folks["tia"])
        assert [r.id for r in own.sessions] == [pid]
        assert set(own.series) == {"noticing", "repair", "assessment", "intervention"}
        assert practice.progress(s, folks["lee"], folks["tia"].id).latest == own.latest
        assert [t.email for t in practice.trainees(s, folks["lee"])] == ["tia@example.org"]
        with pytest.raises(NotFound):
            practice.progress(s, folks["tom"], folks["tia"].id)
        with pytest.raises(NotFound):
            practice.progress(s, folks["lee"], folks["tom"].id)
        with pytest.raises(NotFound):
            practice.progress(s, folks["lee"], folks["dana"].id)  # a clinician, not a trainee
        for who in ("dana", "admin", "rowan"):
            with pytest.raises(NotFound):
                practice.progress(s, folks[who], folks["tia"].id)
        assert practice.progress(s, folks["tom"]).sessions == []


def test_writes_are_audited(db: Database, folks: dict[str, Actor]) -> None:
    pid = _start(db, folks["tia"])
    _play_alternatives(db, folks["tia"], pid)
    with db.read() as s:
        actions = [e.action for e in audit.browse(s, actor_email="tia@example.org")]
    assert actions.count("practice.respond") == len(load_casebook()[CASE].stages)
    assert "practice.start" in actions


def test_admin_assigns_trainees_to_a_supervisor(db: Database,
                                                folks: dict[str, Actor]) -> None:
    with db.write() as s:
        accounts.set_supervision(s, folks["lee"].id, [folks["tom"].id, folks["dana"].id],
                                 folks["admin"])
    with pytest.raises(StoreError, match="clinicians and trainees"), db.write() as s:
        accounts.set_supervision(s, folks["lee"].id, [folks["admin"].id], folks["admin"])


def test_deleting_a_trainee_removes_their_sessions(db: Database,
                                                   folks: dict[str, Actor]) -> None:
    from sqlalchemy import delete, func, select

    from alliance.store.models import Practice, User

    _start(db, folks["tia"])
    with db.write() as s:
        s.execute(delete(User).where(User.id == folks["tia"].id))
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Practice)) == 0
