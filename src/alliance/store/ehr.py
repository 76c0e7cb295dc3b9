"""What an electronic health record reads and writes through the API, scoped to the actor.

Each function goes through :func:`~alliance.store.actors.get_case` first, so a foreign or
unknown case is :class:`~alliance.errors.NotFound`, and reuses the functions the pages use:
a response from an EHR-side form is entered by :func:`alliance.store.surveys.enter_paper`
(same validation, consent check and supersede rule as the paper and link forms).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from alliance.errors import InstrumentError, NotFound
from alliance.instruments import Catalog
from alliance.store import surveys
from alliance.store.actors import Actor, get_case
from alliance.store.models import Response, Session


@dataclass(frozen=True)
class Point:
    """One current score of one rater on one instrument after one session."""

    session_number: int
    date: dt.date
    instrument: str
    kind: str  # "alliance" or "outcome"
    rater: str
    member_id: int | None
    total: float | None
    scores: dict[str, Any]
    response_id: int


def trajectory(db: DbSession, actor: Actor, case_id: int, catalog: Catalog) -> list[Point]:
    """The case's current scores (voided and superseded answers left out), by session."""
    get_case(db, actor, case_id)
    dead = surveys.voided_sessions(db, [case_id])
    sessions = {s.id: s for s in db.scalars(select(Session).where(Session.case_id == case_id))
                if s.id not in dead}
    out = []
    for r in surveys.current_responses(db, [case_id]).get(case_id, []):
        s = sessions.get(r.session_id)
        if s is None:
            continue
        try:
            kind = str(getattr(catalog[r.instrument_id], "kind", "alliance"))
        except InstrumentError:  # an instrument since removed from the catalogue
            kind = "unknown"
        out.append(Point(s.number, s.date, r.instrument_id, kind, r.rater, r.member_id,
                         r.total, dict(r.scores), r.id))
    return sorted(out, key=lambda p: (p.session_number, p.instrument, p.response_id))


def session_by_number(db: DbSession, actor: Actor, case_id: int, number: int) -> Session:
    get_case(db, actor, case_id)
    row = db.scalars(select(Session).where(Session.case_id == case_id,
                                           Session.number == number)).first()
    if row is None:
        raise NotFound(f"session {number} is not part of this case")
    return row


def enter_response(db: DbSession, actor: Actor, case_id: int, session_number: int, *,
                   instrument_id: str, rater: str, member_id: int | None,
                   answers: Mapping[str, Any], catalog: Catalog,
                   source: str = "api") -> tuple[Response, bool]:
    """Store an EHR-side form's answers; also says whether it supersedes an earlier answer."""
    get_case(db, actor, case_id, write=True)
    session = session_by_number(db, actor, case_id, session_number)
    supersedes = surveys.answered(db, session.id, instrument_id, rater, member_id)
    response = surveys.enter_paper(db, actor, case_id, session.id, instrument_id=instrument_id,
                                   rater=rater, member_id=member_id, answers=answers,
                                   catalog=catalog, source=source)
    return response, supersedes
