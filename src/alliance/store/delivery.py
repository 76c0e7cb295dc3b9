"""Contact details, the delivery worker's job and the opt-out (issue 12, items 1 and 8).

Contact details (e-mail, phone, preferred channel, language, and the member's opt-out
token) are one JSON object sealed with the clinic's key, the associated data binding it to
its member (``b"contact:<member id>"``), exactly as transcripts are; the opt-out flag is in
clear so that the opt-out page records it without the key, and the page finds the row by
the SHA-256 of its token.

The worker step :func:`send_due` follows ``docs/delivery.md`` ("Integration"): it claims
cases with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) whose data changed since it
last looked or whose next reminder or retry has come, reads each into a
:class:`~alliance.delivery.CaseDelivery`, and for each due send commits the link first,
sends outside any transaction, then appends the send row: at most once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from alliance.delivery import (
    CaseDelivery,
    DeliverySettings,
    DueSend,
    LinkState,
    MeasurePlan,
    Recipient,
    RecordedSession,
    SchedulePolicy,
    Sender,
    SendState,
    dispatch,
    due_sends,
    held_links,
    is_email_address,
    is_phone_number,
)
from alliance.delivery.messages import CHANNELS, Channel
from alliance.errors import ConfigError, InputError, NotFound
from alliance.instruments import Catalog
from alliance.instruments.languages import best_match
from alliance.monitoring.casefile import HELD
from alliance.store import audit, changes, sealing, surveys
from alliance.store.actors import Actor, get_case
from alliance.store.cases import consents
from alliance.store.crypto import Box
from alliance.store.models import (
    Case,
    CaseMonitor,
    DeliverySend,
    DeliveryState,
    LinkToken,
    Measure,
    Member,
    MemberContact,
    Session,
    SurveyLink,
)
from alliance.store.tokens import new_token, token_hash
from alliance.vocabulary import LANGUAGES as LANGUAGES  # defined once


@dataclass(frozen=True)
class Contact:
    """A member's contact details, decrypted (never logged, never in an audit row)."""

    email: str = ""
    phone: str = ""
    preferred: str = "email"
    language: str = "en"
    opted_out: bool = False
    opt_out_token: str = ""

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels with details on file, preferred first."""
        have = [c for c, v in (("email", self.email), ("sms", self.phone)) if v]
        return tuple(sorted(have, key=lambda c: c != self.preferred))


def _aad(member_id: int) -> bytes:
    return f"contact:{member_id}".encode()


def _need_box(box: Box | None) -> Box:
    if box is None:
        raise ConfigError("contact details are stored encrypted: configure "
                          "ALLIANCE_ENCRYPTION_KEY (or _FILE) first")
    return box


def _open(db: DbSession, box: Box, row: MemberContact) -> Contact:
    data = json.loads(sealing.open_bytes(db, box, row.sealed, _aad(row.member_id)))
    return Contact(email=data.get("email", ""), phone=data.get("phone", ""),
                   preferred=data.get("preferred", "email"),
                   language=data.get("language", "en"), opted_out=row.opted_out,
                   opt_out_token=data.get("opt_out", ""))


def language_of(value: str | None) -> str:
    """One of :data:`LANGUAGES` for a tag (``es-MX`` → ``es``); English otherwise.

    >>> language_of("es-MX"), language_of("it"), language_of(None)
    ('es', 'en', 'en')
    """
    if not value:
        return "en"
    try:
        return best_match(value, LANGUAGES) or "en"
    except Exception:  # a malformed tag is English, not an error on a client's page
        return "en"


def set_contact(db: DbSession, actor: Actor, box: Box | None, case_id: int, member_id: int, *,
                email: str = "", phone: str = "", preferred: str = "email",
                language: str = "en", opted_out: bool | None = None) -> None:
    """Store (replace) a member's contact details; audited by field name, never value."""
    sealer = _need_box(box)
    get_case(db, actor, case_id, write=True)
    member = db.get(Member, member_id)
    if member is None or member.case_id != case_id:
        raise NotFound(f"member {member_id} is not part of this case")
    email, phone = email.strip(), phone.strip().replace(" ", "")
    if email and not is_email_address(email):
        raise InputError("the e-mail address is not a plain address like name@example.org")
    if phone and not is_phone_number(phone):
        raise InputError("write the phone number in international form, e.g. +447700900123")
    if preferred not in CHANNELS:
        raise InputError(f"the preferred channel is one of {', '.join(CHANNELS)}")
    if language not in LANGUAGES:
        raise InputError(f"the language is one of {', '.join(LANGUAGES)}")
    row = db.get(MemberContact, member_id)
    token = _open(db, sealer, row).opt_out_token if row is not None else new_token()
    payload = json.dumps({"email": email, "phone": phone, "preferred": preferred,
                          "language": language, "opt_out": token}).encode()
    if row is None:
        row = MemberContact(member_id=member_id, case_id=case_id, opted_out=False,
                            opt_out_hash=token_hash(token), sealed=b"")
        db.add(row)
    row.sealed = sealing.seal_bytes(db, sealer, case_id, payload, _aad(member_id))
    row.updated_at = dt.datetime.now(dt.UTC)
    if opted_out is not None:
        row.opted_out = opted_out
    audit.record(db, actor, "contact.update", case_id=case_id,
                 detail={"member": member_id, "email": bool(email), "phone": bool(phone),
                         "preferred": preferred, "language": language,
                         "opted_out": row.opted_out})


def contacts(db: DbSession, box: Box | None, case_id: int) -> dict[int, Contact]:
    """The case's contact details by member id (empty without a key)."""
    if box is None:
        return {}
    rows = db.scalars(select(MemberContact).where(MemberContact.case_id == case_id))
    return {r.member_id: _open(db, box, r) for r in rows}


def member_language(db: DbSession, box: Box | None, member_id: int | None) -> str:
    """The language a member reads (English without details on file)."""
    if member_id is None or box is None:
        return "en"
    row = db.get(MemberContact, member_id)
    return _open(db, box, row).language if row is not None else "en"


def opt_out(db: DbSession, token: str, *, now: dt.datetime) -> None:
    """Record the opt-out behind a message's token; :class:`NotFound` for an unknown token."""
    row = db.scalars(select(MemberContact).where(
        MemberContact.opt_out_hash == token_hash(token))).first()
    if row is None:
        raise NotFound("unknown opt-out token")
    if not row.opted_out:
        row.opted_out = True
        row.updated_at = now
        audit.record(db, None, "contact.opt_out", case_id=row.case_id, at=now,
                     detail={"member": row.member_id})


def opt_out_language(db: DbSession, box: Box | None, token: str) -> str:
    """The language of the member behind an opt-out token (:class:`NotFound` if unknown)."""
    row = db.scalars(select(MemberContact).where(
        MemberContact.opt_out_hash == token_hash(token))).first()
    if row is None:
        raise NotFound("unknown opt-out token")
    return _open(db, box, row).language if box is not None else "en"


def sends(db: DbSession, case_id: int) -> Sequence[DeliverySend]:
    """The case's send rows, newest first (the case page's "Messages sent")."""
    return db.scalars(select(DeliverySend).where(DeliverySend.case_id == case_id)
                      .order_by(DeliverySend.id.desc())).all()


# -- the snapshot the scheduler reads -----------------------------------------------------

def snapshot(db: DbSession, box: Box, case_id: int, catalog: Catalog) -> CaseDelivery:
    """The case as :func:`alliance.delivery.due_sends` sees it (no addresses)."""
    def has_form(instrument_id: str) -> bool:
        return instrument_id in catalog and catalog[instrument_id].has_text

    measures = tuple(MeasurePlan(m.instrument_id, m.rater, m.every, has_form(m.instrument_id))
                     for m in db.scalars(select(Measure).where(Measure.case_id == case_id)))
    sessions = tuple(RecordedSession(s.id, s.number, s.date, s.attendance in HELD)
                     for s in db.scalars(select(Session).where(Session.case_id == case_id)))
    details = contacts(db, box, case_id)
    recipients = []
    for m in db.scalars(select(Member).where(Member.case_id == case_id)):
        c = details.get(m.id, Contact())
        recipients.append(Recipient(m.id, m.rater, c.channels,  # type: ignore[arg-type]
                                    c.opted_out, c.language))
    links = tuple(LinkState(k.id, k.session_id, k.member_id, k.rater, k.instrument_id,
                            _aware(k.expires_at), k.used_at is not None,
                            k.revoked_at is not None)
                  for k in db.scalars(select(SurveyLink).where(SurveyLink.case_id == case_id)))
    rows = tuple(SendState(r.link_id, r.kind, r.channel, r.status,  # type: ignore[arg-type]
                           _aware(r.at), r.permanent) for r in sends(db, case_id))
    return CaseDelivery(measures, sessions, tuple(recipients), links, rows,
                        consent=consents(db, case_id)["measures"])


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def held(db: DbSession, box: Box | None, case_id: int, catalog: Catalog, *,
         settings: DeliverySettings, now: dt.datetime) -> list[Any]:
    """Why links the latest session calls for are not going out (for the case page)."""
    if box is None:
        return []
    return held_links(snapshot(db, box, case_id, catalog), now=now,
                      policy=SchedulePolicy.from_settings(settings),
                      channels=settings.channels)  # type: ignore[arg-type]


# -- the worker step ------------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    """What the worker needs to send: built once by the composition root."""

    settings: DeliverySettings
    senders: Mapping[Channel, Sender]
    policy: SchedulePolicy
    public_url: str
    link_ttl: dt.timedelta


def _claim(db: Any, now: dt.datetime, lease: dt.timedelta, owner: str,
           limit: int) -> dict[int, int]:
    with db.write() as s:
        query = (select(CaseMonitor.case_id, CaseMonitor.version)
                 .join(Case, Case.id == CaseMonitor.case_id)
                 .outerjoin(DeliveryState, DeliveryState.case_id == CaseMonitor.case_id)
                 .where(Case.archived_at.is_(None),
                        DeliveryState.case_id.is_(None)
                        | (DeliveryState.seen_version < CaseMonitor.version)
                        | (DeliveryState.next_at <= now),
                        DeliveryState.lease_until.is_(None) | (DeliveryState.lease_until < now))
                 .order_by(CaseMonitor.case_id).limit(limit))
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=CaseMonitor)
        claimed = {cid: version for cid, version in s.execute(query)}
        for cid in claimed:
            state = s.get(DeliveryState, cid)
            if state is None:
                state = DeliveryState(case_id=cid, seen_version=0)
                s.add(state)
            state.lease_until, state.lease_owner = now + lease, owner[:80]
    return claimed


def _link_for(s: DbSession, box: Box, case_id: int, due: DueSend, delivery: Delivery,
              now: dt.datetime) -> tuple[int, str]:
    """Transaction 1: the link exists from now on; returns (link id, token)."""
    if due.link_id is not None:
        sealed = s.get(LinkToken, due.link_id)
        if sealed is None:  # a link handed over by hand: its token was never kept
            raise NotFound(f"link {due.link_id} has no stored token")
        return due.link_id, sealing.open_bytes(s, box, sealed.sealed,
                                               f"link-token:{due.link_id}".encode()).decode()
    case = s.get(Case, case_id)
    assert case is not None
    token = new_token()
    link = SurveyLink(case_id=case_id, session_id=due.session_id, member_id=due.member_id,
                      rater=due.rater, instrument_id=due.instrument_id,
                      token_hash=token_hash(token), created_at=now,
                      created_by=case.clinician_id, expires_at=now + delivery.link_ttl)
    s.add(link)
    s.flush()
    _seal(s, box, link.id, case_id, token)
    audit.record(s, None, "link.send", case_id=case_id, at=now,
                 detail={"link": link.id, "instrument": due.instrument_id, "rater": due.rater})
    return link.id, token


def _seal(s: DbSession, box: Box, link_id: int, case_id: int, token: str) -> None:
    """Keep the link's token sealed, so a reminder carries the same link."""
    s.add(LinkToken(link_id=link_id, case_id=case_id,
                    sealed=sealing.seal_bytes(s, box, case_id, token.encode(),
                                              f"link-token:{link_id}".encode())))


def _address(contact: Contact, channel: str) -> str:
    return contact.email if channel == "email" else contact.phone


def _record_send(db: Any, case_id: int, link_id: int, item: DueSend, receipt: Any) -> None:
    with db.write() as s:  # transaction 2: one row per attempt
        s.add(DeliverySend(case_id=case_id, link_id=link_id, member_id=item.member_id,
                           kind=item.kind, channel=item.channel, attempt=item.attempt,
                           status=receipt.status, reference=receipt.reference or "",
                           reason=receipt.reason, permanent=receipt.permanent,
                           at=receipt.at))


def send_now(db: Any, box: Box | None, actor: Actor, case_id: int, session_id: int, *,
             instrument_id: str, rater: str, member_id: int | None, catalog: Catalog,
             delivery: Delivery, now: dt.datetime) -> str:
    """The clinician's "Send now": a new link for one member, sent at once on the member's
    channel (the preferred one when configured), whatever the schedule says; returns the
    send's status (``sent``, ``failed``, ``bounced``).

    The same checks as a link made by hand (the case is the actor's to change, consent to
    measures, an instrument with wording), then the member's: contact details on file, not
    opted out, a configured channel among theirs. Like the worker, the link (and its sealed
    token, for the one reminder) is committed before the message leaves and the send row
    after; the link is audited as ``link.create`` by the clinician.
    """
    channels = delivery.settings.channels
    with db.write() as s:
        get_case(s, actor, case_id, write=True)          # 404 / 403 before anything else
        if not channels:
            raise InputError("no e-mail or SMS is configured for this clinic, so nothing can "
                             "be sent; create a link and hand it over instead")
        if member_id is None:
            raise InputError("links are sent to clients and family members, not to the "
                             "therapist")
        need = _need_box(box)
        member = s.get(Member, member_id)
        if member is None or member.case_id != case_id:
            raise NotFound(f"member {member_id} is not part of this case")
        contact = contacts(s, need, case_id).get(member_id)
        if contact is None or not contact.channels:
            raise InputError(f"there are no contact details for {member.label}; enter an "
                             "e-mail address or a phone number first")
        if contact.opted_out:
            raise InputError(f"{member.label} has opted out of messages: nothing was sent")
        usable = [c for c in contact.channels if c in channels]
        if not usable:
            raise InputError(f"{member.label} can be reached by {', '.join(contact.channels)} "
                             f"only, and the clinic sends by {', '.join(channels)}")
        issued = surveys.create_link(s, actor, case_id, session_id, instrument_id=instrument_id,
                                     rater=rater, member_id=member_id, ttl=delivery.link_ttl,
                                     now=now, catalog=catalog)
        _seal(s, need, issued.link.id, case_id, issued.token)
        link_id = issued.link.id
        changes.touch(s, case_id)    # the worker looks again: the one reminder follows
    item = DueSend("link", usable[0], session_id, member_id, rater,  # type: ignore[arg-type]
                   instrument_id, contact.language, link_id=link_id)
    base = delivery.public_url.rstrip("/")
    receipt = dispatch(item, to=_address(contact, item.channel),
                       link_url=f"{base}/s/{issued.token}",
                       opt_out_url=f"{base}/opt-out/{contact.opt_out_token}",
                       settings=delivery.settings, senders=delivery.senders, now=now,
                       automatic=False)
    _record_send(db, case_id, link_id, item, receipt)
    return str(receipt.status)


def send_case(db: Any, box: Box, case_id: int, *, catalog: Catalog, delivery: Delivery,
              now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """Carry out what is due for one case; returns (sends made, when to look again)."""
    with db.read() as s:
        case = snapshot(s, box, case_id, catalog)
        details = contacts(s, box, case_id)
    due = due_sends(case, now=now, policy=delivery.policy,
                    channels=delivery.settings.channels)  # type: ignore[arg-type]
    base = delivery.public_url.rstrip("/")
    done = 0
    for item in due:
        contact = details.get(item.member_id or -1, Contact())
        with db.write() as s:
            try:
                link_id, token = _link_for(s, box, case_id, item, delivery, now)
            except NotFound:
                continue
        receipt = dispatch(item, to=_address(contact, item.channel),
                           link_url=f"{base}/s/{token}",
                           opt_out_url=f"{base}/opt-out/{contact.opt_out_token}",
                           settings=delivery.settings, senders=delivery.senders,
                           now=now)
        _record_send(db, case_id, link_id, item, receipt)
        done += 1
    return done, _next_look(case, due, now, delivery.policy)


def _next_look(case: CaseDelivery, due: Sequence[DueSend], now: dt.datetime,
               policy: SchedulePolicy) -> dt.datetime | None:
    """When a reminder, a retry or the end of quiet hours may make something due."""
    open_links = [k for k in case.links if not (k.answered or k.revoked) and k.expires_at > now]
    if not (open_links or due) and not policy.is_quiet(now):
        return None
    step = max(min(policy.retry_after, policy.reminder_delay), dt.timedelta(minutes=5))
    return now + step


def send_due(db: Any, box: Box | None, *, catalog: Catalog, delivery: Delivery,
             now: dt.datetime, lease: dt.timedelta, owner: str, limit: int = 20) -> int:
    """The worker's delivery step over up to ``limit`` claimed cases; returns sends made.

    Does nothing without a configured channel or without the key (no contact details)."""
    if box is None or not delivery.settings.channels:
        return 0
    claimed = _claim(db, now, lease, owner, limit)
    made = 0
    for case_id, version in claimed.items():
        next_at: dt.datetime | None = None
        try:
            count, next_at = send_case(db, box, case_id, catalog=catalog, delivery=delivery,
                                       now=now)
            made += count
        finally:
            with db.write() as s:
                s.execute(update(DeliveryState).where(
                    DeliveryState.case_id == case_id, DeliveryState.lease_owner == owner[:80])
                    .values(seen_version=version, next_at=next_at, lease_until=None,
                            lease_owner="").execution_options(synchronize_session=False))
    return made


# -- what the case page shows ---------------------------------------------------------------

@dataclass(frozen=True)
class OutreachView:
    """The case page's "Contact and messages" and "From the client" parts."""

    contacts: dict[int, Contact]
    sends: Sequence[DeliverySend]
    held: list[Any]
    language_notes: list[str]
    configured: tuple[str, ...]
    has_key: bool


def case_outreach(db: DbSession, box: Box | None, case_id: int, *, catalog: Catalog,
                  settings: DeliverySettings, now: dt.datetime) -> OutreachView:
    """Contact details, send rows, held links and, per member whose
    language an instrument lacks, the note that it is shown in English (the caller has
    already checked the actor may read the case)."""
    details = contacts(db, box, case_id)
    notes = []
    measures = list(db.scalars(select(Measure).where(Measure.case_id == case_id)))
    for member in db.scalars(select(Member).where(Member.case_id == case_id)):
        lang = details[member.id].language if member.id in details else "en"
        for m in measures:
            if m.rater == "therapist" or m.instrument_id not in catalog:
                continue
            inst = catalog[m.instrument_id]
            if not inst.has_text or m.rater not in inst.rater_types:
                continue
            wording = inst.wording(m.rater, lang)
            if wording.fallback:
                notes.append(f"{member.label}: {wording.note}")
    return OutreachView(details, sends(db, case_id),
                        held(db, box, case_id, catalog, settings=settings, now=now),
                        notes, settings.channels,
                        box is not None)
