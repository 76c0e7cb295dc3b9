"""The audit log's hash chain: edited, deleted, inserted or reordered rows are detected.

Each row stores ``prev_hash`` (the hash of the row before it) and ``hash`` =
``sha256(prev_hash + canonical content)``, the content being the row's time, actor, action,
case, subject, detail and IP (:func:`canonical`). The one :class:`AuditChainHead` row names
the last row and its hash; every append locks it (``SELECT … FOR UPDATE`` on PostgreSQL; the
writer lock serialises SQLite) before its id is drawn, so parallel writers append one after
the other and the chain never forks.

:func:`verify` walks the rows by id and reports every break: a row whose content no longer
gives its hash (edited), a row whose ``prev_hash`` is not the hash of the row before it
(deleted, inserted or reordered rows), and a head that does not name the last row (rows
deleted at the end). The chain is not keyed: someone who can write the database could
rebuild it all; keep the head hash that ``alliance audit verify`` prints somewhere else
(a ticket, a printout) to detect that too.

Rows written before the chain existed have an empty hash and are counted as unchained.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from alliance.store.models import AuditChainHead, AuditEvent

HEAD_ID = 1


def _utc(t: dt.datetime) -> str:
    t = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(event: AuditEvent) -> bytes:
    """The hashed content of a row (everything but its id and the hashes), as JSON."""
    return json.dumps([_utc(event.at), event.actor_id, event.actor_email or "", event.action,
                       event.case_id, event.subject or "", event.detail or {}, event.ip or ""],
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(event)).hexdigest()


def _head(session: Session) -> AuditChainHead:
    """The chain head, created when missing, locked for this transaction."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(AuditChainHead).values(id=HEAD_ID, last_id=0, last_hash="")
                    .on_conflict_do_nothing(index_elements=["id"]))
    return session.scalars(select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
                           .with_for_update().execution_options(populate_existing=True)).one()


def append(session: Session, event: AuditEvent) -> None:
    """Add ``event`` after the chain's last row, in the caller's transaction."""
    head = _head(session)
    event.prev_hash = head.last_hash
    event.hash = chain_hash(head.last_hash, event)
    session.add(event)
    session.flush()  # draws the id while the head is locked
    head.last_id, head.last_hash = event.id, event.hash


@dataclass
class Verification:
    """What :func:`verify` found: rows checked, unchained old rows, and every break."""

    rows: int = 0
    unchained: int = 0
    head_hash: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(session: Session, batch: int = 2000) -> Verification:
    """Walk the whole log by id and report every break of the chain (module docs)."""
    found = Verification()
    expected: str | None = None  # the hash the next row must point back to
    last_id = 0
    query = select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=batch)
    for event in session.scalars(query):
        found.rows += 1
        if not event.hash:
            if expected is None:
                found.unchained += 1
            else:
                found.problems.append(f"row {event.id}: not chained (inserted after the chain "
                                      "began)")
            last_id = event.id
            continue
        if expected is not None and event.prev_hash != expected:
            found.problems.append(f"row {event.id}: does not follow row {last_id} (rows "
                                  "deleted, inserted or reordered)")
        elif expected is None and event.prev_hash:
            found.problems.append(f"row {event.id}: the rows before it were deleted")
        if chain_hash(event.prev_hash, event) != event.hash:
            found.problems.append(f"row {event.id}: its content was changed")
        expected, last_id = event.hash, event.id
    head = session.get(AuditChainHead, HEAD_ID)
    if head is not None and head.last_id:
        if head.last_id != last_id or head.last_hash != (expected or ""):
            found.problems.append(f"the chain ends at row {head.last_id} but the log at row "
                                  f"{last_id} (rows deleted or added at the end)")
    elif expected is not None:
        found.problems.append("the chain head is missing")
    found.head_hash = expected or ""
    return found
