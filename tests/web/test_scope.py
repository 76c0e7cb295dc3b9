"""Every case query is scoped to the actor: foreign cases are absent, supervisors read only."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.web.conftest import make_case

from alliance.errors import NotFound, PermissionDenied, StoreError
from alliance.store import cases
from alliance.store.actors import Actor, get_case
from alliance.store.database import Database


def test_foreign_case_is_not_found_for_another_clinician(db: Database,
                                                         people: dict[str, Actor]) -> None:
    case_id, _ = make_case(db, people["dana"])
    with db.read() as s, pytest.raises(NotFound):
        get_case(s, people["sam"], case_id)


def test_supervisor_reads_supervisees_case_but_cannot_change_it(
        db: Database, people: dict[str, Actor]) -> None:
    case_id, _ = make_case(db, people["dana"])
    with db.read() as s:
        assert get_case(s, people["lee"], case_id).id == case_id
    with db.write() as s, pytest.raises(PermissionDenied):
        cases.add_session(s, people["lee"], case_id, date=dt.date(2026, 2, 1))


def test_supervisor_does_not_see_cases_of_clinicians_outside_supervision(
        db: Database, people: dict[str, Actor]) -> None:
    case_id, _ = make_case(db, people["sam"])
    with db.read() as s, pytest.raises(NotFound):
        get_case(s, people["lee"], case_id)


@pytest.mark.parametrize("who", ["admin", "rowan"])
def test_admin_and_researcher_see_no_cases(db: Database, people: dict[str, Actor],
                                           who: str) -> None:
    make_case(db, people["dana"])
    with db.read() as s:
        assert cases.list_cases(s, people[who]) == []


def test_caseload_lists_only_own_cases(db: Database, people: dict[str, Actor]) -> None:
    mine, _ = make_case(db, people["dana"], label="mine")
    make_case(db, people["sam"], label="theirs")
    with db.read() as s:
        assert [c.id for c in cases.list_cases(s, people["dana"])] == [mine]


def test_archived_cases_leave_the_active_caseload(db: Database,
                                                   people: dict[str, Actor]) -> None:
    case_id, _ = make_case(db, people["dana"])
    with db.write() as s:
        cases.set_archived(s, people["dana"], case_id, True)
    with db.read() as s:
        assert cases.list_cases(s, people["dana"]) == []
        assert [c.id for c in cases.list_cases(s, people["dana"], archived=True)] == [case_id]


@pytest.mark.parametrize(("modality", "members", "message"), [
    ("individual", ("A", "B"), "exactly one member"),
    ("couple", ("A",), "at least two members"),
    ("dyad", ("A",), "modality 'dyad'"),
])
def test_bad_case_drafts_are_refused(db: Database, people: dict[str, Actor], modality: str,
                                     members: tuple[str, ...], message: str) -> None:
    with db.write() as s, pytest.raises(StoreError, match=message):
        cases.create_case(s, people["dana"], cases.CaseDraft(label="X", modality=modality,
                                                             members=members))


def test_consent_is_the_latest_decision(db: Database, people: dict[str, Actor]) -> None:
    case_id, _ = make_case(db, people["dana"], transcripts=False)
    with db.write() as s:
        cases.record_consent(s, people["dana"], case_id, "transcripts", True)
        cases.record_consent(s, people["dana"], case_id, "transcripts", False)
    with db.read() as s:
        assert cases.consents(s, case_id) == {"measures": True, "transcripts": False}
        assert len(cases.consent_history(s, case_id)) == 4
