"""Cases and what hangs off them: members, consent, measures, sessions; archive and delete.

Every function takes the acting :class:`~alliance.store.actors.Actor` and goes through
:func:`~alliance.store.actors.get_case`, so scope is checked once, in one place, and every
write is audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session as DbSession

from alliance.errors import InstrumentError, NotFound, StoreError
from alliance.store import audit, changes, sealing
from alliance.store.actors import Actor, case_scope, get_case
from alliance.store.models import (
    ATTENDANCE,
    CONSENT_KINDS,
    HOMEWORK,
    MAX_MINUTES_LATE,
    MODALITIES,
    NORMATIVE_CUES,
    RATERS,
    Case,
    Consent,
    Measure,
    Member,
    Session,
    SurveyLink,
    utcnow,
)

if TYPE_CHECKING:
    from alliance.instruments import Catalog


@dataclass(frozen=True)
class CaseDraft:
    """What a clinician fills in to open a case."""

    label: str
    modality: str = "individual"
    members: Sequence[str] = ("Client",)
    cultural_notes: str = ""
    normative_cues: Sequence[str] = ()
    consent_measures: bool = True
    consent_transcripts: bool = False
    measures: Sequence[tuple[str, str, int]] = field(default=(("alliance-12", "client", 1),))

    def check(self, catalog: Catalog | None = None) -> None:
        if not self.label.strip():
            raise StoreError("a case needs a label (a pseudonym or initials, not a full name)")
        if len(self.label) > 120:
            raise StoreError("the case label is longer than 120 characters")
        if self.modality not in MODALITIES:
            raise StoreError(f"modality {self.modality!r} is not one of {', '.join(MODALITIES)}")
        names = [m.strip() for m in self.members if m.strip()]
        if not names:
            raise StoreError("a case needs at least one member")
        if self.modality == "individual" and len(names) != 1:
            raise StoreError("an individual case has exactly one member")
        if self.modality != "individual" and len(names) < 2:
            raise StoreError(f"a {self.modality} case needs at least two members")
        bad = sorted(set(self.normative_cues) - set(NORMATIVE_CUES))
        if bad:
            raise StoreError(f"unknown normative cue {bad[0]!r}; known: "
                             f"{', '.join(NORMATIVE_CUES)}")
        seen: set[tuple[str, str]] = set()
        for instrument_id, rater, every in self.measures:
            check_measure(instrument_id, rater, every, catalog)
            if (instrument_id, rater) in seen:
                raise StoreError(f"{instrument_id} ({rater}) is listed twice")
            seen.add((instrument_id, rater))


def check_measure(instrument_id: str, rater: str, every: int,
                  catalog: Catalog | None = None) -> None:
    from alliance.instruments import builtin_catalog

    try:
        inst = (catalog if catalog is not None else builtin_catalog())[instrument_id]
    except InstrumentError as exc:
        raise StoreError(str(exc)) from None
    if rater not in RATERS or rater not in inst.rater_types:
        raise StoreError(f"{instrument_id} has no {rater!r} version; it has "
                         f"{', '.join(inst.rater_types)}")
    if not 1 <= every <= 52:
        raise StoreError("a measure is given every 1 to 52 sessions")


def list_cases(db: DbSession, actor: Actor, *, archived: bool = False) -> Sequence[Case]:
    """The actor's cases by label (sorted here: labels are sealed, the database sees
    ciphertext)."""
    query = select(Case).where(case_scope(actor)).order_by(Case.id)
    query = query.where(Case.archived_at.is_not(None) if archived else Case.archived_at.is_(None))
    return sorted(db.scalars(query).all(), key=lambda c: c.label)


def create_case(db: DbSession, actor: Actor, draft: CaseDraft,
                catalog: Catalog | None = None) -> Case:
    if not actor.writes_cases:
        raise StoreError("only clinicians open cases")
    draft.check(catalog)
    case = Case(label=draft.label.strip(), clinician_id=actor.id, modality=draft.modality,
                cultural_notes=draft.cultural_notes.strip(),
                normative_cues=sorted(set(draft.normative_cues)))
    db.add(case)
    db.flush()
    for name in draft.members:
        if name.strip():
            db.add(Member(case_id=case.id, label=name.strip(), rater="client"))
    for kind, granted in (("measures", draft.consent_measures),
                          ("transcripts", draft.consent_transcripts)):
        db.add(Consent(case_id=case.id, kind=kind, granted=granted, recorded_by=actor.id))
    for instrument_id, rater, every in draft.measures:
        db.add(Measure(case_id=case.id, instrument_id=instrument_id, rater=rater, every=every))
    audit.record(db, actor, "case.create", case_id=case.id)
    changes.touch(db, case.id)
    return case


def update_context(db: DbSession, actor: Actor, case_id: int, *, cultural_notes: str,
                   normative_cues: Sequence[str]) -> Case:
    case = get_case(db, actor, case_id, write=True)
    bad = sorted(set(normative_cues) - set(NORMATIVE_CUES))
    if bad:
        raise StoreError(f"unknown normative cue {bad[0]!r}")
    case.cultural_notes = cultural_notes.strip()
    case.normative_cues = sorted(set(normative_cues))
    audit.record(db, actor, "case.update", case_id=case.id)
    changes.touch(db, case.id)
    return case


def set_archived(db: DbSession, actor: Actor, case_id: int, archived: bool) -> Case:
    case = get_case(db, actor, case_id, write=True)
    case.archived_at = utcnow() if archived else None
    audit.record(db, actor, "case.archive", case_id=case.id, detail={"archived": archived})
    return case


def delete_case(db: DbSession, actor: Actor, case_id: int, *, confirm: str | None = None) -> None:
    """Remove the case and, by ``ON DELETE CASCADE``, every row about the client (its
    monitoring state and alert rows included) and the client's data key with the case row,
    which shreds the client (``docs/security.md``). ``confirm``, when given, must be the
    label. A case on legal hold is not deleted."""
    case = get_case(db, actor, case_id, write=True)
    if confirm is not None and confirm != case.label:
        raise StoreError("type the case label exactly to confirm the deletion")
    if case.legal_hold:
        raise StoreError("this case is on legal hold and cannot be deleted")
    key_id = case.key_id
    db.expunge(case)
    db.execute(delete(Case).where(Case.id == case_id))
    audit.record(db, actor, "case.delete", case_id=case_id)
    sealing.shred(db, key_id)


def record_consent(db: DbSession, actor: Actor, case_id: int, kind: str, granted: bool) -> None:
    """Append a consent decision. Withdrawing consent to measures revokes every open survey
    link of the case in the same transaction (and :func:`alliance.store.surveys.submit`
    checks consent again when the answers arrive)."""
    if kind not in CONSENT_KINDS:
        raise StoreError(f"consent kind {kind!r} is not one of {', '.join(CONSENT_KINDS)}")
    get_case(db, actor, case_id, write=True)
    db.add(Consent(case_id=case_id, kind=kind, granted=granted, recorded_by=actor.id))
    revoked = 0
    if kind == "measures" and not granted:
        revoked = db.execute(update(SurveyLink).where(
            SurveyLink.case_id == case_id, SurveyLink.used_at.is_(None),
            SurveyLink.revoked_at.is_(None)).values(revoked_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount  # type: ignore[attr-defined]
    audit.record(db, actor, "consent.record", case_id=case_id,
                 detail={"kind": kind, "granted": granted, "links_revoked": revoked})


def consents(db: DbSession, case_id: int) -> dict[str, bool]:
    """The consent in force per kind: the latest recorded decision (default: not given)."""
    rows = db.scalars(select(Consent).where(Consent.case_id == case_id)
                      .order_by(Consent.id)).all()
    state = dict.fromkeys(CONSENT_KINDS, False)
    for row in rows:
        state[row.kind] = row.granted
    return state


def consent_history(db: DbSession, case_id: int) -> Sequence[Consent]:
    return db.scalars(select(Consent).where(Consent.case_id == case_id)
                      .order_by(Consent.id)).all()


def require_consent(db: DbSession, case_id: int, kind: str) -> None:
    if not consents(db, case_id)[kind]:
        what = "measures" if kind == "measures" else "transcript analysis"
        raise StoreError(f"the client has not consented to {what}; record consent first")


def set_measure(db: DbSession, actor: Actor, case_id: int, instrument_id: str, rater: str,
                every: int) -> None:
    get_case(db, actor, case_id, write=True)
    check_measure(instrument_id, rater, every)
    row = db.scalars(select(Measure).where(Measure.case_id == case_id,
                                           Measure.instrument_id == instrument_id,
                                           Measure.rater == rater)).first()
    if row is None:
        db.add(Measure(case_id=case_id, instrument_id=instrument_id, rater=rater, every=every))
    else:
        row.every = every
    audit.record(db, actor, "measure.change", case_id=case_id,
                 detail={"instrument": instrument_id, "rater": rater, "every": every})


def remove_measure(db: DbSession, actor: Actor, case_id: int, measure_id: int) -> None:
    get_case(db, actor, case_id, write=True)
    gone = db.execute(delete(Measure).where(Measure.id == measure_id,
                                            Measure.case_id == case_id)).rowcount  # type: ignore[attr-defined]
    if not gone:
        raise NotFound(f"measure {measure_id} is not part of this case")
    audit.record(db, actor, "measure.change", case_id=case_id, detail={"removed": measure_id})


def measures(db: DbSession, case_id: int) -> Sequence[Measure]:
    return db.scalars(select(Measure).where(Measure.case_id == case_id)
                      .order_by(Measure.id)).all()


def members(db: DbSession, case_id: int) -> Sequence[Member]:
    return db.scalars(select(Member).where(Member.case_id == case_id).order_by(Member.id)).all()


def add_session(db: DbSession, actor: Actor, case_id: int, *, date: dt.date,
                attendance: str = "attended", minutes_late: int = 0,
                homework: str = "none") -> Session:
    """Record the next session of the case (numbered 1, 2, …)."""
    get_case(db, actor, case_id, write=True)
    if attendance not in ATTENDANCE:
        raise StoreError(f"attendance {attendance!r} is not one of {', '.join(ATTENDANCE)}")
    if homework not in HOMEWORK:
        raise StoreError(f"homework {homework!r} is not one of {', '.join(HOMEWORK)}")
    if not 0 <= minutes_late <= MAX_MINUTES_LATE:
        raise StoreError(f"minutes late must be between 0 and {MAX_MINUTES_LATE}")
    last = db.scalar(select(func.max(Session.number)).where(Session.case_id == case_id)) or 0
    row = Session(case_id=case_id, number=last + 1, date=date, attendance=attendance,
                  minutes_late=minutes_late if attendance == "late" else 0, homework=homework)
    db.add(row)
    db.flush()
    audit.record(db, actor, "session.create", case_id=case_id, detail={"session": row.number})
    changes.touch(db, case_id)
    return row


def sessions(db: DbSession, case_id: int) -> Sequence[Session]:
    return db.scalars(select(Session).where(Session.case_id == case_id)
                      .order_by(Session.number)).all()


def get_session(db: DbSession, case_id: int, session_id: int) -> Session:
    row = db.get(Session, session_id)
    if row is None or row.case_id != case_id:
        raise NotFound(f"session {session_id} is not part of this case")
    return row
