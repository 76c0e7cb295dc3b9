"""Group commit on SQLite (``Database.write_grouped``): the works of threads waiting for the
writer lock share one COMMIT; each caller returns after that COMMIT, a work that raises is
rolled back alone, a failed COMMIT fails the whole group, and the audit chain stays intact."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from alliance.store import audit
from alliance.store.auditchain import verify
from alliance.store.database import Database
from alliance.store.models import AuditEvent


def _commits(db: Database) -> list[int]:
    seen: list[int] = []
    event.listen(db.engine, "commit", lambda conn: seen.append(1))
    return seen


def _behind_a_held_lock(db: Database, calls: list[Any]) -> list[Any]:
    """Run each of ``calls`` (which call ``write_grouped``) in a thread of its own while a
    first grouped work holds the writer lock, so that they all queue behind it; returns
    each call's value or exception, in order."""
    release = threading.Event()
    outcomes: list[Any] = [None] * len(calls)

    def first(s: Session) -> None:
        audit.record(s, None, "link.open", case_id=1000)
        assert release.wait(timeout=30)

    def call(i: int) -> None:
        try:
            outcomes[i] = calls[i]()
        except Exception as exc:
            outcomes[i] = exc

    holder = threading.Thread(target=db.write_grouped, args=(first,))
    holder.start()
    while not db._lock.locked():
        time.sleep(0.005)
    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(db._waiting) < len(calls) and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for t in [holder, *threads]:
        t.join(timeout=30)
    return outcomes


def _grouped(db: Database, works: list[Any]) -> list[Any]:
    return _behind_a_held_lock(db, [lambda w=w: db.write_grouped(w) for w in works])


def _record(case_id: int) -> Any:
    def work(s: Session) -> int:
        audit.record(s, None, "response.submit", case_id=case_id)
        return case_id
    return work


def _events(db: Database) -> list[int | None]:
    with db.read() as s:
        return list(s.scalars(select(AuditEvent.case_id).order_by(AuditEvent.id)))


def test_waiting_writes_share_one_commit_and_each_returns_its_value(
        sqlite_db: Database) -> None:
    commits = _commits(sqlite_db)
    outcomes = _grouped(sqlite_db, [_record(k) for k in range(1, 8)])
    assert outcomes == list(range(1, 8))
    assert len(commits) == 2  # the holder's, then one for the seven that waited
    assert sorted(c for c in _events(sqlite_db) if c != 1000) == list(range(1, 8))
    with sqlite_db.read() as s:
        assert verify(s).intact


def test_a_work_that_raises_is_rolled_back_alone(sqlite_db: Database) -> None:
    def failing(s: Session) -> None:
        audit.record(s, None, "response.submit", case_id=99)
        s.flush()
        raise ValueError("refused after writing")

    works = [_record(1), _record(2), failing, _record(3)]
    outcomes = _grouped(sqlite_db, works)
    assert outcomes[:2] == [1, 2] and outcomes[3] == 3
    assert isinstance(outcomes[2], ValueError)
    assert 99 not in _events(sqlite_db)
    assert sorted(c for c in _events(sqlite_db) if c != 1000) == [1, 2, 3]
    with sqlite_db.read() as s:
        found = verify(s)
    assert found.intact and found.rows == 4, found.problems


def test_a_failed_commit_fails_every_work_of_its_group_and_stores_none(
        sqlite_db: Database) -> None:
    commits: list[int] = []

    def refuse_after_the_first(conn: Any) -> None:  # the holder's commits; the group's fails
        commits.append(1)
        if len(commits) > 1:
            raise OSError("disk full")

    event.listen(sqlite_db.engine, "commit", refuse_after_the_first)
    outcomes = _grouped(sqlite_db, [_record(k) for k in range(1, 4)])
    assert all(isinstance(o, OSError) for o in outcomes), outcomes
    assert _events(sqlite_db) == [1000]  # the holder's row only


def test_each_audit_row_carries_its_own_callers_address(sqlite_db: Database) -> None:
    """The group's leader runs the others' works in its thread: each in its caller's
    context, so the client address the app sets per request is the caller's."""
    addresses = [f"203.0.113.{k}" for k in range(1, 6)]

    def work(s: Session) -> None:
        audit.record(s, None, "link.open", case_id=7)

    def client(address: str) -> None:
        audit.request_ip.set(address)  # as the app's middleware does for each request
        sqlite_db.write_grouped(work)

    _behind_a_held_lock(sqlite_db, [lambda a=a: client(a) for a in addresses])
    with sqlite_db.read() as s:
        stored = sorted(s.scalars(select(AuditEvent.ip).where(AuditEvent.case_id == 7)))
    assert stored == addresses
