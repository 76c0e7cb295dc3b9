"""One-time survey links: hashed, expiring, single use, revocable; paper entry."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import text
from tests.web.conftest import ALL_FOUR, make_case

from alliance.errors import AuthError, ScoringError, StoreError
from alliance.store import cases, surveys
from alliance.store.actors import Actor
from alliance.store.database import Database
from alliance.store.models import utcnow


def _link(db: Database, actor: Actor, **kw: object) -> tuple[int, str]:
    case_id, (session_id,) = make_case(db, actor)
    with db.write() as s:
        member = cases.members(s, case_id)[0]
        issued = surveys.create_link(s, actor, case_id, session_id, instrument_id="alliance-12",
                                     member_id=member.id, **kw)  # type: ignore[arg-type]
        return case_id, issued.token


def test_token_is_256_bits_and_stored_only_as_hash(db: Database,
                                                   people: dict[str, Actor]) -> None:
    _, token = _link(db, people["dana"])
    assert len(token) >= 43  # 32 bytes in URL-safe base64
    with db.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM survey_links"))
                        for v in row)
    assert token not in dump


def test_submission_stores_scores_and_consumes_the_link(db: Database,
                                                        people: dict[str, Actor]) -> None:
    case_id, token = _link(db, people["dana"])
    with db.write() as s:
        surveys.open_link(s, token)
    with db.write() as s:
        response = surveys.submit(s, token, {k: str(v) for k, v in ALL_FOUR.items()})
        assert response.total == 48.0
    with db.read() as s:
        (link,) = surveys.links(s, case_id)
        assert surveys.link_state(link) == "used"
    with db.write() as s, pytest.raises(AuthError, match="already been used"):
        surveys.submit(s, token, ALL_FOUR)
    with db.write() as s, pytest.raises(AuthError, match="already been used"):
        surveys.open_link(s, token)


def test_expired_link_is_refused(db: Database, people: dict[str, Actor]) -> None:
    _, token = _link(db, people["dana"], ttl=dt.timedelta(minutes=10))
    with db.write() as s, pytest.raises(AuthError, match="expired"):
        surveys.open_link(s, token, now=utcnow() + dt.timedelta(minutes=11))


def test_revoked_link_is_refused_even_with_an_open_form(db: Database,
                                                         people: dict[str, Actor]) -> None:
    case_id, token = _link(db, people["dana"])
    with db.write() as s:
        surveys.open_link(s, token)
    with db.write() as s:
        (link,) = surveys.links(s, case_id)
        surveys.revoke_link(s, people["dana"], case_id, link.id)
    with db.write() as s, pytest.raises(AuthError, match="withdrawn"):
        surveys.submit(s, token, ALL_FOUR)


def test_unknown_token_is_refused(db: Database, people: dict[str, Actor]) -> None:
    with db.write() as s, pytest.raises(AuthError, match="not valid"):
        surveys.open_link(s, "x" * 43)


def test_bad_answer_stores_nothing_and_keeps_the_link(db: Database,
                                                      people: dict[str, Actor]) -> None:
    case_id, token = _link(db, people["dana"])
    with db.write() as s:
        surveys.open_link(s, token)
    with db.write() as s, pytest.raises(ScoringError, match="out of range"):
        surveys.submit(s, token, {**ALL_FOUR, "b1": "9"})
    with db.read() as s:
        assert surveys.responses(s, case_id) == []
        assert surveys.link_state(surveys.links(s, case_id)[0]) == "open"


def test_two_concurrent_submissions_store_one_response(sqlite_db: Database,
                                                       password_hash: str) -> None:
    from tests.web.conftest import add_people

    people = add_people(sqlite_db, password_hash)
    case_id, token = _link(sqlite_db, people["dana"])
    with sqlite_db.write() as s:
        surveys.open_link(s, token)
    outcomes: list[str] = []

    def attempt() -> None:
        try:
            with sqlite_db.write() as s:
                surveys.submit(s, token, ALL_FOUR)
            outcomes.append("stored")
        except AuthError:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 3 + ["stored"]
    with sqlite_db.read() as s:
        assert len(surveys.responses(s, case_id)) == 1


def test_links_need_measure_consent(db: Database, people: dict[str, Actor]) -> None:
    case_id, (session_id,) = make_case(db, people["dana"])
    with db.write() as s:
        cases.record_consent(s, people["dana"], case_id, "measures", False)
    with db.write() as s, pytest.raises(StoreError, match="not consented"):
        surveys.create_link(s, people["dana"], case_id, session_id, instrument_id="alliance-12",
                            member_id=cases.members(s, case_id)[0].id)


def test_structure_only_instrument_has_no_link_but_takes_paper(
        db: Database, people: dict[str, Actor]) -> None:
    case_id, (session_id,) = make_case(db, people["dana"])
    with db.write() as s:
        member_id = cases.members(s, case_id)[0].id
        with pytest.raises(StoreError, match="structure-only"):
            surveys.create_link(s, people["dana"], case_id, session_id, instrument_id="wai-sr",
                                member_id=member_id)
    answers = {str(i): 4 for i in range(1, 13)}
    with db.write() as s:
        response = surveys.enter_paper(s, people["dana"], case_id, session_id,
                                       instrument_id="wai-sr", rater="client",
                                       member_id=member_id, answers=answers)
        assert response.total is not None and response.source == "paper"


def test_supervisor_cannot_issue_links(db: Database, people: dict[str, Actor]) -> None:
    from alliance.errors import PermissionDenied

    case_id, (session_id,) = make_case(db, people["dana"])
    with db.write() as s, pytest.raises(PermissionDenied):
        surveys.create_link(s, people["lee"], case_id, session_id, instrument_id="alliance-12",
                            member_id=cases.members(s, case_id)[0].id)
