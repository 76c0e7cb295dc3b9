"""What a client said that the clinician must see: risk answers and the client's own message.

* **Risk** (issue 12, item 11). A response that answers an item flagged ``risk: true`` in
  its instrument's spec (PHQ-9 item 9, or a deployer's own) above the item's floor appends
  a ``risk`` signal in the same transaction as the answers: the caseload puts the case at
  the top until the clinician acknowledges it, and the worker e-mails the clinician
  (:func:`notify_due`). Nothing is inferred beyond the answer: no score, no wording, no
  other item raises it.
* **The client's voice** (item 12). After submitting, the client may leave a message for
  the therapist; it becomes a ``client_feedback`` signal, its text sealed with the clinic's
  key (``b"signal:<id>"``), audited without its text.

Each signal carries its own e-mail notice state (one notice per signal, claimed with a
lease, so two workers never send it twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from alliance.delivery import Sender, compose_notice, deliver
from alliance.delivery.messages import NoticeKind
from alliance.delivery.senders import NullSender
from alliance.errors import ConfigError, InputError, LinkGone, NotFound
from alliance.instruments import Instrument
from alliance.monitoring.safety import risk_answers
from alliance.store import audit, changes, sealing
from alliance.store.actors import Actor, get_case
from alliance.store.crypto import Box
from alliance.store.models import Case, CaseSignal, Response, SafetyText, SurveyLink, User
from alliance.store.tokens import token_hash

KINDS = ("risk", "client_feedback")
MAX_MESSAGE = 2000
# How long after submitting the client may still leave a message (the form page's lifetime).
FEEDBACK_WINDOW = dt.timedelta(minutes=60)


def _aad(signal_id: int) -> bytes:
    return f"signal:{signal_id}".encode()


def risk_items(inst: Instrument, answers: Mapping[str, Any]) -> list[str]:
    """The risk items answered above their floor (the rule is
    :func:`alliance.monitoring.safety.risk_answers`).

    >>> from alliance.instruments import get_instrument
    >>> phq = get_instrument("phq-9")
    >>> risk_items(phq, {"phq9": 1}), risk_items(phq, {"phq9": 0}), risk_items(phq, {"phq1": 3})
    (['phq9'], [], [])
    """
    return list(risk_answers(inst, answers))


def note_risk(db: DbSession, response: Response, inst: Instrument,
              now: dt.datetime | None = None) -> CaseSignal | None:
    """Append a ``risk`` signal when ``response`` answers a risk item above its floor."""
    items = risk_items(inst, response.answers)
    if not items:
        return None
    db.flush()
    signal = CaseSignal(case_id=response.case_id, kind="risk", session_id=response.session_id,
                        response_id=response.id, items=items,
                        at=now or dt.datetime.now(dt.UTC), notice_status="", notice_reason="")
    db.add(signal)
    db.flush()
    audit.record(db, None, "signal.risk", case_id=response.case_id, at=signal.at,
                 detail={"signal": signal.id, "response": response.id, "items": items})
    return signal


def _recent_link(db: DbSession, token: str, now: dt.datetime) -> SurveyLink:
    link = db.scalars(select(SurveyLink).where(SurveyLink.token_hash == token_hash(token))
                      ).first()
    if link is None or link.used_at is None:
        raise NotFound("no answered questionnaire behind this page")
    used = link.used_at if link.used_at.tzinfo else link.used_at.replace(tzinfo=dt.UTC)
    if now - used > FEEDBACK_WINDOW:
        raise LinkGone("This page has expired. You can tell your therapist at your next "
                       "appointment.", state="expired")
    return link


@dataclass(frozen=True)
class Receipt:
    """What the thank-you page needs to know about the submission behind its cookie."""

    case_id: int
    member_id: int | None
    risk: bool
    feedback_sent: bool


def after_submit(db: DbSession, token: str, *, now: dt.datetime) -> Receipt:
    """The submission behind ``token`` (the link's token, kept by the thank-you page)."""
    link = _recent_link(db, token, now)
    response = db.scalars(select(Response.id).where(Response.link_id == link.id)).first()
    risk = response is not None and db.scalars(select(CaseSignal.id).where(
        CaseSignal.response_id == response, CaseSignal.kind == "risk")).first() is not None
    return Receipt(link.case_id, link.member_id, risk, _feedback_of(db, link) is not None)


def _feedback_of(db: DbSession, link: SurveyLink) -> int | None:
    # JSON has no equality operator on PostgreSQL: compare the few rows in Python.
    for signal_id, items in db.execute(select(CaseSignal.id, CaseSignal.items).where(
            CaseSignal.case_id == link.case_id, CaseSignal.kind == "client_feedback")):
        if items == [f"link:{link.id}"]:
            return int(signal_id)
    return None


def leave_feedback(db: DbSession, box: Box | None, token: str, message: str, *,
                   now: dt.datetime) -> CaseSignal:
    """The client's message after a submission, once per link, sealed."""
    text = message.strip()
    if not text:
        raise InputError("the message is empty")
    if len(text) > MAX_MESSAGE:
        raise InputError(f"the message is longer than {MAX_MESSAGE} characters")
    if box is None:
        raise ConfigError("messages are stored encrypted and no key is configured")
    link = _recent_link(db, token, now)
    if _feedback_of(db, link) is not None:
        raise InputError("a message was already sent after this questionnaire")
    signal = CaseSignal(case_id=link.case_id, kind="client_feedback",
                        session_id=link.session_id, items=[f"link:{link.id}"], at=now,
                        notice_status="", notice_reason="")
    db.add(signal)
    db.flush()
    signal.message = sealing.seal_bytes(db, box, signal.case_id, text.encode(), _aad(signal.id))
    audit.record(db, None, "signal.feedback", case_id=link.case_id, at=now,
                 detail={"signal": signal.id, "link": link.id})
    changes.touch(db, link.case_id)
    return signal


# -- what the clinician sees -----------------------------------------------------------

@dataclass(frozen=True)
class SignalView:
    id: int
    kind: str
    at: dt.datetime
    session_id: int | None
    items: Sequence[str]
    message: str
    acknowledged: bool
    notice_status: str
    notice_reason: str


def case_signals(db: DbSession, box: Box | None, case_id: int) -> list[SignalView]:
    """The case's signals, newest first, messages decrypted (the caller checked access)."""
    out = []
    for s in db.scalars(select(CaseSignal).where(CaseSignal.case_id == case_id)
                        .order_by(CaseSignal.id.desc())):
        text = ""
        if s.message is not None:
            text = (sealing.open_bytes(db, box, s.message, _aad(s.id)).decode()
                    if box is not None
                    else "(encrypted; no key configured)")
        out.append(SignalView(s.id, s.kind, s.at, s.session_id,
                              [] if s.kind == "client_feedback" else list(s.items), text,
                              s.acknowledged_at is not None, s.notice_status, s.notice_reason))
    return out


def open_risks(db: DbSession, case_ids: Sequence[int]) -> set[int]:
    """The cases among ``case_ids`` with a risk answer nobody has acknowledged yet."""
    if not case_ids:
        return set()
    return set(db.scalars(select(CaseSignal.case_id).where(
        CaseSignal.case_id.in_(list(case_ids)), CaseSignal.kind == "risk",
        CaseSignal.acknowledged_at.is_(None))))


def acknowledge(db: DbSession, actor: Actor, case_id: int, signal_id: int) -> None:
    """The clinician has seen the signal (and acted on it): a row change, audited."""
    get_case(db, actor, case_id, write=True)
    signal = db.get(CaseSignal, signal_id)
    if signal is None or signal.case_id != case_id:
        raise NotFound(f"signal {signal_id} is not part of this case")
    if signal.acknowledged_at is None:
        signal.acknowledged_at = dt.datetime.now(dt.UTC)
        signal.acknowledged_by = actor.id
        audit.record(db, actor, "signal.acknowledge", case_id=case_id,
                     detail={"signal": signal_id, "kind": signal.kind})


# -- the e-mail notice (worker) ---------------------------------------------------------

def notify_due(db: Any, *, sender: Sender, clinic_name: str, mail_from: str, public_url: str,
               now: dt.datetime, lease: dt.timedelta, limit: int = 20) -> int:
    """Send the e-mail notice of each new signal once; returns how many were handled.

    Each signal is claimed by a conditional UPDATE (``notice_status = ''`` and no live
    lease), so two workers never notify twice; the receipt's status is stored on the row
    (``not_configured`` when e-mail is off: the caseload banner is then the notice)."""
    with db.read() as s:
        ids = list(s.scalars(select(CaseSignal.id).where(
            CaseSignal.notice_status == "",
            CaseSignal.lease_until.is_(None) | (CaseSignal.lease_until < now))
            .order_by(CaseSignal.id).limit(limit)))
    done = 0
    for signal_id in ids:
        with db.write() as s:
            got = s.execute(update(CaseSignal).where(
                CaseSignal.id == signal_id, CaseSignal.notice_status == "",
                CaseSignal.lease_until.is_(None) | (CaseSignal.lease_until < now))
                .values(lease_until=now + lease).execution_options(synchronize_session=False))
            if got.rowcount != 1:
                continue
            row = s.get(CaseSignal, signal_id)
            assert row is not None
            case = s.get(Case, row.case_id)
            user = s.get(User, case.clinician_id) if case is not None else None
            kind: NoticeKind = "risk" if row.kind == "risk" else "feedback"
            case_id = row.case_id
        if isinstance(sender, NullSender) or not public_url or user is None:
            status, reason = "not_configured", "e-mail (ALLIANCE_SMTP_URL) is not configured"
        else:
            notice = compose_notice(kind, to=user.email, case_url=f"{public_url}/cases/{case_id}",
                                    clinic_name=clinic_name, now=now, mail_from=mail_from)
            receipt = deliver(sender, notice, now=now)
            status, reason = receipt.status, receipt.reason
        with db.write() as s:
            s.execute(update(CaseSignal).where(CaseSignal.id == signal_id).values(
                notice_status=status, notice_reason=reason, notice_at=now, lease_until=None)
                .execution_options(synchronize_session=False))
        done += 1
    return done


# -- the clinic's safety text ------------------------------------------------------------

def safety_text(db: DbSession, language: str) -> str | None:
    """The clinic's own safety text in ``language``, ``None`` when it has not written one."""
    row = db.get(SafetyText, language)
    return row.text if row is not None else None


def set_safety_text(db: DbSession, actor: Actor, language: str, text: str) -> None:
    """The clinic admin writes the safety text for one language (empty: back to default)."""
    from alliance.store.actors import require_role
    from alliance.vocabulary import LANGUAGES

    require_role(actor, "admin")
    if language not in LANGUAGES:
        raise InputError(f"the language is one of {', '.join(LANGUAGES)}")
    body = text.strip()
    if len(body) > 4000:
        raise InputError("the safety text is longer than 4000 characters")
    row = db.get(SafetyText, language)
    if not body:
        if row is not None:
            db.delete(row)
    elif row is None:
        db.add(SafetyText(language=language, text=body, updated_by=actor.id))
    else:
        row.text, row.updated_by, row.updated_at = body, actor.id, dt.datetime.now(dt.UTC)
    audit.record(db, actor, "safety_text.update", detail={"language": language,
                                                          "default": not body})
