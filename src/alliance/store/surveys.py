"""One-time survey links, the token-for-cookie swap, submissions and paper entry.

Life of a link (issue 5, feature 3):

1. :func:`create_link` draws a 256-bit token, stores only its SHA-256, and an expiry
   (7 days by default). The clinician hands the URL (or its QR code) to the rater.
2. :func:`open_link` checks the token; the web layer moves it from the URL into a
   short-lived cookie (:data:`FORM_TTL`) and redirects to a URL without it, so the token
   leaves the address bar, the history and any referer.
3. :func:`submit` stores the answers and consumes the link **in the same transaction**:
   a conditional UPDATE (``used_at IS NULL AND revoked_at IS NULL``) that must touch
   exactly one row, so two concurrent submissions cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from alliance.errors import (
    AuthError,
    InstrumentError,
    LinkGone,
    NotFound,
    ScoringError,
    StoreError,
)
from alliance.instruments import Catalog, Instrument, builtin_catalog, score_response
from alliance.instruments.scoring import check_value
from alliance.store import audit, changes, signals
from alliance.store.actors import Actor, get_case
from alliance.store.cases import consents, get_session, require_consent
from alliance.store.models import Member, Response, Session, SurveyLink, Void, utcnow
from alliance.store.tokens import new_token, token_hash

LINK_TTL = dt.timedelta(days=7)
FORM_TTL = dt.timedelta(minutes=60)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _instrument(instrument_id: str, catalog: Catalog | None = None) -> Instrument:
    try:
        return (catalog if catalog is not None else builtin_catalog())[instrument_id]
    except InstrumentError as exc:
        raise StoreError(str(exc)) from None


def _member(db: DbSession, case_id: int, member_id: int | None) -> Member | None:
    if member_id is None:
        return None
    member = db.get(Member, member_id)
    if member is None or member.case_id != case_id:
        raise NotFound(f"member {member_id} is not part of this case")
    return member


def _rater_matches(inst: Instrument, rater: str, member_id: int | None,
                   what: str) -> int | None:
    """The member id that fits the questionnaire's rater, or a clear refusal: a therapist
    version is never given to a member (the member would read the therapist's wording), and
    a member's version always names its member."""
    if rater not in inst.rater_types:
        raise StoreError(f"{inst.title} has no {rater!r} version")
    if rater == "therapist":
        if member_id is not None:
            raise StoreError(f"the therapist version of {inst.title} is answered by the "
                             f"therapist, not a member; choose \"(therapist)\" or the "
                             f"{inst.title} version for members")
        return None
    if member_id is None:
        raise StoreError(f"choose which member {what}: the {rater.replace('_', ' ')} version "
                         f"of {inst.title} is answered by a member, not the therapist")
    return member_id


@dataclass(frozen=True)
class IssuedLink:
    link: SurveyLink
    token: str
    supersedes: bool = False  # the session already has an answer from this rater


def create_link(db: DbSession, actor: Actor, case_id: int, session_id: int, *,
                instrument_id: str, rater: str = "client", member_id: int | None = None,
                ttl: dt.timedelta = LINK_TTL, now: dt.datetime | None = None,
                catalog: Catalog | None = None) -> IssuedLink:
    """Issue a link for one rater; the token is returned once and never stored."""
    now = now or utcnow()
    get_case(db, actor, case_id, write=True)
    require_consent(db, case_id, "measures")
    get_session(db, case_id, session_id)
    inst = _instrument(instrument_id, catalog)
    if not inst.has_text:
        raise StoreError(f"{inst.title} is structure-only (no licensed wording installed), so "
                         "it cannot be shown as a form; enter it from paper instead")
    member_id = _rater_matches(inst, rater, member_id, "the link is for")
    _member(db, case_id, member_id)
    if not dt.timedelta(minutes=10) <= ttl <= dt.timedelta(days=30):
        raise StoreError("a link lives between 10 minutes and 30 days")
    token = new_token()
    link = SurveyLink(case_id=case_id, session_id=session_id, member_id=member_id, rater=rater,
                      instrument_id=instrument_id, token_hash=token_hash(token), created_at=now,
                      created_by=actor.id, expires_at=now + ttl)
    db.add(link)
    db.flush()
    audit.record(db, actor, "link.create", case_id=case_id,
                 detail={"link": link.id, "instrument": instrument_id, "rater": rater})
    return IssuedLink(link, token, supersedes=answered(db, session_id, instrument_id, rater,
                                                      member_id))


def answered(db: DbSession, session_id: int, instrument_id: str, rater: str,
             member_id: int | None) -> bool:
    """Whether this rater already answered this questionnaire for this session (a new
    answer would then supersede it)."""
    found = db.scalars(select(Response.id).where(
        Response.session_id == session_id, Response.rater == rater,
        Response.instrument_id == instrument_id,
        Response.member_id.is_(None) if member_id is None else Response.member_id == member_id
    ).limit(1)).first()
    return found is not None


def links(db: DbSession, case_id: int) -> Sequence[SurveyLink]:
    return db.scalars(select(SurveyLink).where(SurveyLink.case_id == case_id)
                      .order_by(SurveyLink.id.desc())).all()


def link_state(link: SurveyLink, now: dt.datetime | None = None) -> str:
    """``used``, ``revoked``, ``expired`` or ``open``."""
    now = now or utcnow()
    if link.used_at is not None:
        return "used"
    if link.revoked_at is not None:
        return "revoked"
    if _aware(link.expires_at) <= now:
        return "expired"
    return "open"


_REFUSALS = {
    "used": "This link has already been used. Thank you, your answers were received.",
    "revoked": "This link has been withdrawn. Please ask your therapist for a new one.",
    "expired": "This link has expired. Please ask your therapist for a new one.",
}


def _live(link: SurveyLink | None, now: dt.datetime) -> SurveyLink:
    if link is None:
        raise AuthError("This link is not valid. Please check it or ask your therapist for a "
                        "new one.")
    state = link_state(link, now)
    if state != "open":
        raise LinkGone(_REFUSALS[state], state=state)
    return link


def open_link(db: DbSession, token: str, *, now: dt.datetime | None = None) -> SurveyLink:
    """The live link behind ``token``, or :class:`AuthError` saying why it cannot be used.

    Opening changes no link: the web layer moves the token from the URL into a short-lived
    cookie and redirects; its only write is the ``link.open`` audit row, committed with
    other phones' writes (:meth:`~alliance.store.database.Database.write_grouped`).
    """
    now = now or utcnow()
    return _live(db.scalars(select(SurveyLink).where(
        SurveyLink.token_hash == token_hash(token))).first(), now)


form_link = open_link  # the form page and the submission find the link the same way


def _scored(inst: Instrument, answers: Mapping[str, Any]) -> tuple[dict[str, float | None],
                                                                   dict[str, Any], float | None]:
    unknown = sorted(set(answers) - set(inst.item_ids))
    if unknown:
        raise ScoringError(f"{inst.id}: no item {unknown[0]!r}", item=unknown[0])
    clean = {i.id: check_value(i, answers.get(i.id)) for i in inst.items}
    if all(v is None for v in clean.values()):
        raise ScoringError("no question was answered")
    score = score_response(inst, clean)
    scores = {name: {"raw": s.raw, "pom": s.pom, "status": s.status}
              for name, s in score.scores.items()}
    return clean, scores, score.total.raw


def score_answers(instrument_id: str, answers: Mapping[str, Any],
                  catalog: Catalog | None = None) -> tuple[dict[str, float | None],
                                                           dict[str, Any], float | None]:
    """Checked answers, scale scores and total, as every stored response holds them."""
    return _scored(_instrument(instrument_id, catalog), answers)


def submit(db: DbSession, token: str, answers: Mapping[str, Any], *,
           now: dt.datetime | None = None, catalog: Catalog | None = None) -> Response:
    """Store the answers and consume the link atomically; raises if already used, or if
    consent to measures was withdrawn since the link was issued (checked here, in the
    transaction that stores the answers)."""
    now = now or utcnow()
    link = open_link(db, token, now=now)
    if not consents(db, link.case_id)["measures"]:
        raise LinkGone(_REFUSALS["revoked"], state="revoked")
    clean, scores, total = _scored(_instrument(link.instrument_id, catalog), answers)
    consumed = db.execute(
        update(SurveyLink)
        .where(SurveyLink.id == link.id, SurveyLink.used_at.is_(None),
               SurveyLink.revoked_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False))
    if consumed.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkGone(_REFUSALS["used"], state="used")
    response = Response(case_id=link.case_id, session_id=link.session_id,
                        member_id=link.member_id, rater=link.rater,
                        instrument_id=link.instrument_id, answers=clean, scores=scores,
                        total=total, source="link", link_id=link.id, created_at=now)
    db.add(response)
    audit.record(db, None, "response.submit", case_id=link.case_id, at=now,
                 detail={"link": link.id, "instrument": link.instrument_id})
    signals.note_risk(db, response, _instrument(link.instrument_id, catalog), now)
    changes.touch(db, link.case_id)
    return response


def revoke_link(db: DbSession, actor: Actor, case_id: int, link_id: int) -> None:
    get_case(db, actor, case_id, write=True)
    link = db.get(SurveyLink, link_id)
    if link is None or link.case_id != case_id:
        raise NotFound(f"link {link_id} is not part of this case")
    if link.used_at is not None:
        raise StoreError("this link has already been used")
    link.revoked_at = link.revoked_at or utcnow()
    audit.record(db, actor, "link.revoke", case_id=case_id, detail={"link": link_id})


def enter_paper(db: DbSession, actor: Actor, case_id: int, session_id: int, *,
                instrument_id: str, rater: str, member_id: int | None,
                answers: Mapping[str, Any], catalog: Catalog | None = None,
                source: str = "paper") -> Response:
    """A clinician types in a paper form (structure-only instruments included); the API
    and the bulk import enter answers the same way, with their own ``source``."""
    get_case(db, actor, case_id, write=True)
    require_consent(db, case_id, "measures")
    get_session(db, case_id, session_id)
    inst = _instrument(instrument_id, catalog)
    member_id = _rater_matches(inst, rater, member_id, "filled in the form")
    _member(db, case_id, member_id)
    clean, scores, total = _scored(inst, answers)
    response = Response(case_id=case_id, session_id=session_id, member_id=member_id,
                        rater=rater, instrument_id=instrument_id, answers=clean, scores=scores,
                        total=total, source=source, entered_by=actor.id)
    db.add(response)
    db.flush()
    audit.record(db, actor, "response.paper", case_id=case_id,
                 detail={"response": response.id, "instrument": instrument_id,
                         **({"source": source} if source != "paper" else {})})
    signals.note_risk(db, response, inst)
    changes.touch(db, case_id)
    return response


def responses(db: DbSession, case_id: int) -> Sequence[Response]:
    return db.scalars(select(Response).where(Response.case_id == case_id)
                      .order_by(Response.session_id, Response.id)).all()


# -- corrections: a later answer supersedes, a void removes; both leave the history -------

def voids(db: DbSession, case_id: int) -> Sequence[Void]:
    return db.scalars(select(Void).where(Void.case_id == case_id).order_by(Void.id)).all()


def voided_sessions(db: DbSession, case_ids: Sequence[int]) -> set[int]:
    return {v for v in db.scalars(select(Void.session_id).where(
        Void.case_id.in_(list(case_ids)), Void.session_id.is_not(None))) if v is not None}


def _voided_responses(db: DbSession, case_ids: Sequence[int]) -> set[int]:
    return {v for v in db.scalars(select(Void.response_id).where(
        Void.case_id.in_(list(case_ids)), Void.response_id.is_not(None))) if v is not None}


def response_states(db: DbSession, case_id: int) -> dict[int, str]:
    """Per response id: ``current``, ``superseded`` (a later answer by the same rater to
    the same questionnaire for the same session counts instead) or ``voided``."""
    rows = responses(db, case_id)
    dead_sessions = voided_sessions(db, [case_id])
    dead = _voided_responses(db, [case_id])
    state: dict[int, str] = {}
    latest: dict[tuple[Any, ...], int] = {}
    for r in sorted(rows, key=lambda r: r.id):
        if r.id in dead or r.session_id in dead_sessions:
            state[r.id] = "voided"
            continue
        key = (r.session_id, r.rater, r.member_id, r.instrument_id)
        if key in latest:
            state[latest[key]] = "superseded"
        latest[key] = r.id
        state[r.id] = "current"
    return state


def current_responses(db: DbSession, case_ids: Sequence[int]) -> dict[int, list[Response]]:
    """Per case: the responses that count (not voided, not superseded), by session and id.

    The rule (issue 9, defect 2): a later answer by the same rater to the same questionnaire
    for the same session supersedes the earlier one, which stays in the history."""
    ids = list(case_ids)
    dead_sessions = voided_sessions(db, ids)
    dead = _voided_responses(db, ids)
    latest: dict[tuple[Any, ...], Response] = {}
    for r in db.scalars(select(Response).where(Response.case_id.in_(ids))
                        .order_by(Response.id)):
        if r.id in dead or r.session_id in dead_sessions:
            continue
        latest[(r.case_id, r.session_id, r.rater, r.member_id, r.instrument_id)] = r
    out: dict[int, list[Response]] = {}
    for r in sorted(latest.values(), key=lambda r: (r.session_id, r.id)):
        out.setdefault(r.case_id, []).append(r)
    return out


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise StoreError("say why it is voided (the reason is kept with the record)")
    if len(text) > 1000:
        raise StoreError("the reason is longer than 1000 characters")
    return text


def _add_void(db: DbSession, actor: Actor, case_id: int, reason: str, action: str,
              detail: dict[str, Any], **target: int) -> Void:
    """The void row for a response or a session, its audit event, and the case marked changed."""
    void = Void(case_id=case_id, reason=_reason(reason), actor_id=actor.id, **target)
    db.add(void)
    db.flush()
    audit.record(db, actor, action, case_id=case_id, detail={**detail, "void": void.id})
    changes.touch(db, case_id)
    return void


def void_response(db: DbSession, actor: Actor, case_id: int, response_id: int,
                  reason: str) -> Void:
    """Void one response (entered for the wrong person, wrong session…): a row, audited."""
    get_case(db, actor, case_id, write=True)
    row = db.get(Response, response_id)
    if row is None or row.case_id != case_id:
        raise NotFound(f"response {response_id} is not part of this case")
    if response_id in _voided_responses(db, [case_id]):
        raise StoreError("this response is already voided")
    return _add_void(db, actor, case_id, reason, "response.void", {"response": response_id},
                     response_id=response_id)


def void_session(db: DbSession, actor: Actor, case_id: int, session_id: int,
                 reason: str) -> Void:
    """Void one session and with it every answer given for it: a row, audited."""
    get_case(db, actor, case_id, write=True)
    session = db.get(Session, session_id)
    if session is None or session.case_id != case_id:
        raise NotFound(f"session {session_id} is not part of this case")
    if session_id in voided_sessions(db, [case_id]):
        raise StoreError("this session is already voided")
    return _add_void(db, actor, case_id, reason, "session.void", {"session": session.number},
                     session_id=session_id)
