"""Retention, legal hold and crypto-shredding of clients (issue 11).

* :func:`shred_case` deletes a case and everything about the client (``ON DELETE CASCADE``),
  including the row that holds the client's wrapped data key, audited as ``case.shred``;
  on SQLite ``secure_delete`` overwrites the freed pages and a checkpoint
  (:func:`purge_wal`) clears the copies left in the write-ahead log.
* :class:`Retention` is the clinic's policy (``retention:`` in the clinic's policy file,
  read by :class:`alliance.clinic.Clinic`): an archived (closed) case is shredded once it has
  been archived for longer than ``archived_days``, unless it is on legal hold.
* :func:`set_hold` puts a case on legal hold or lifts it (audited ``case.hold``); a case on
  hold is never shredded, by retention or by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from alliance.errors import ConfigError, NotFound, StoreError
from alliance.store import audit, sealing
from alliance.store.actors import Actor
from alliance.store.models import Case, utcnow


@dataclass(frozen=True)
class Retention:
    """How long an archived case is kept; ``None``: kept until deleted by hand."""

    archived_days: int | None = None

    @classmethod
    def from_mapping(cls, raw: Any, origin: str = "policy") -> Retention:
        """The ``retention:`` section of a policy file (``{archived_days: 2555}``)."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping) or set(raw) - {"archived_days", "source"}:
            raise ConfigError(f"{origin}: retention: expected a mapping with archived_days "
                              "(and an optional source)")
        days = raw.get("archived_days")
        if days is None:
            return cls()
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ConfigError(f"{origin}: retention.archived_days: {days!r} is not a whole "
                              "number of days (1 or more)")
        return cls(days)

    def due(self, archived_at: dt.datetime | None, now: dt.datetime) -> bool:
        """Archived for longer than the period (exactly the period: kept one more day)."""
        if self.archived_days is None or archived_at is None:
            return False
        if archived_at.tzinfo is None:
            archived_at = archived_at.replace(tzinfo=dt.UTC)
        return now - archived_at > dt.timedelta(days=self.archived_days)


@dataclass(frozen=True)
class Candidate:
    case_id: int
    archived_at: dt.datetime
    held: bool


def candidates(db: DbSession, policy: Retention, now: dt.datetime) -> list[Candidate]:
    """Archived cases past the period, held ones included (flagged) so a dry run shows them."""
    rows = db.execute(select(Case.id, Case.archived_at, Case.legal_hold)
                      .where(Case.archived_at.is_not(None)).order_by(Case.id)).all()
    return [Candidate(r.id, r.archived_at, bool(r.legal_hold)) for r in rows
            if policy.due(r.archived_at, now)]


def shred_case(db: DbSession, actor: Actor | None, case_id: int, *, reason: str,
               at: dt.datetime | None = None) -> None:
    """Delete the case, its rows and its data key; refused while on legal hold."""
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    if case.legal_hold:
        raise StoreError(f"case {case_id} is on legal hold; lift the hold first")
    key_id = case.key_id
    db.execute(delete(Case).where(Case.id == case_id))
    db.expunge(case)
    audit.record(db, actor, "case.shred", case_id=case_id, at=at,
                 detail={"reason": reason, "data_key": key_id or ""})
    sealing.shred(db, key_id)


def set_hold(db: DbSession, actor: Actor | None, case_id: int, held: bool) -> None:
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound(f"case {case_id} not found")
    case.legal_hold = held
    audit.record(db, actor, "case.hold", case_id=case_id, detail={"hold": held})


@dataclass(frozen=True)
class Hold:
    case_id: int
    since: dt.datetime | None   # the audited ``case.hold`` that placed it (None: not audited)
    by: str


def held(db: DbSession) -> list[Hold]:
    """The cases on legal hold, ids only, with when and by whom each hold was placed (from
    the audit log: the last ``case.hold`` of a held case is the one that placed it)."""
    from alliance.store.models import AuditEvent

    ids = db.scalars(select(Case.id).where(Case.legal_hold.is_(True)).order_by(Case.id)).all()
    placed: dict[int, AuditEvent] = {}
    if ids:
        for event in db.scalars(select(AuditEvent).where(
                AuditEvent.action == "case.hold", AuditEvent.case_id.in_(ids))
                .order_by(AuditEvent.id)):
            if event.case_id is not None:
                placed[event.case_id] = event
    return [Hold(i, placed[i].at if i in placed else None,
                 placed[i].actor_email if i in placed else "") for i in ids]


@dataclass(frozen=True)
class Applied:
    shredded: Sequence[int]
    held: Sequence[int]


def apply(db: Any, policy: Retention, *, now: dt.datetime | None = None,
          dry_run: bool = False) -> Applied:
    """Shred every archived case past the period and not on hold (one transaction each);
    audited once as ``retention.apply`` with the counts, a dry run included."""
    now = now or utcnow()
    with db.read() as s:
        found = candidates(s, policy, now)
    due = [c.case_id for c in found if not c.held]
    held = [c.case_id for c in found if c.held]
    done: list[int] = []
    if not dry_run:
        for case_id in due:
            with db.write() as s:
                shred_case(s, None, case_id, reason="retention", at=now)
            done.append(case_id)
        purge_wal(db)
    with db.write() as s:
        audit.record(s, None, "retention.apply", at=now, subject="cli",
                     detail={"dry_run": dry_run, "shredded": len(done), "due": len(due),
                             "held": len(held), "archived_days": policy.archived_days})
    return Applied(due if dry_run else done, held)


def purge_wal(db: Any) -> None:
    """SQLite: copy the write-ahead log into the database and truncate it, so deleted rows'
    old pages (overwritten in the database by ``secure_delete``) leave the log too."""
    if db.is_sqlite:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
