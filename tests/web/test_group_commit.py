"""Group commit on SQLite (``Database.write_grouped``): the works of threads waiting for the
writer lock share one COMMIT; each caller returns after that COMMIT, a work that raises is
rolled back alone, a failed COMMIT fails the whole group, and the audit chain stays intact."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from alliance.store import audit
from alliance.store.auditchain import verify
from alliance.store.database import Database
from alliance.store.models import AuditEvent


def _commits(db: Database) -> list[int]:
    seen: list[int] = []
    event.listen(db.engine, "commit", lambda conn: seen.append(1))
    return seen


def _group_behind_a_held_lock(db: Database, works: list[Any]) -> list[Any]:
    """Start one thread per work while a first grouped work holds the writer lock, so
    that the others queue; returns each work's value or exception, in order."""
    release = threading.Event()
    outcomes: list[Any] = [None] * len(works)

    def first(s: Session) -> None:
        audit.record(s, None, "link.open", case_id=1000)
        assert release.wait(timeout=30)

    def call(i: int, work: Any) -> None:
        try:
            outcomes[i] = db.write_grouped(work)
        except Exception as exc:
            outcomes[i] = exc

    holder = threading.Thread(target=db.write_grouped, args=(first,))
    holder.start()
    while not db._lock.locked():
        time.sleep(0.005)
    threads = [threading.Thread(target=call, args=(i, w)) for i, w in enumerate(works)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(db._waiting) < len(works) and time.monotonic() < deadline:
        time.sleep(0.005)
    release.set()
    for t in [holder, *threads]:
        t.join(timeout=30)
    return outcomes


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
    outcomes = _group_behind_a_held_lock(sqlite_db, [_record(k) for k in range(1, 8)])
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
    outcomes = _group_behind_a_held_lock(sqlite_db, works)
    assert outcomes[:2] == [1, 2] and outcomes[3] == 3
    assert isinstance(outcomes[2], ValueError)
    assert 99 not in _events(sqlite_db)
    assert sorted(c for c in _events(sqlite_db) if c != 1000) == [1, 2, 3]
    with sqlite_db.read() as s:
        found = verify(s)
    assert found.intact and found.rows == 4, found.problems


def test_a_failed_commit_fails_every_work_of_its_group_and_stores_none(
        sqlite_db: Database) -> None:
    failures = {"left": 0}

    def refuse(conn: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("disk full")

    event.listen(sqlite_db.engine, "commit", refuse)
    release_first = threading.Event()

    def arm(s: Session) -> None:  # the holder's commit succeeds; the group's fails
        assert release_first.wait(timeout=30)

    holder = threading.Thread(target=sqlite_db.write_grouped, args=(arm,))
    holder.start()
    while not sqlite_db._lock.locked():
        time.sleep(0.005)
    outcomes: list[Any] = [None] * 3

    def call(i: int) -> None:
        try:
            outcomes[i] = sqlite_db.write_grouped(_record(i + 1))
        except Exception as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    while len(sqlite_db._waiting) < 3:
        time.sleep(0.005)
    release_first.set()
    holder.join(timeout=30)
    failures["left"] = 1
    for t in threads:
        t.join(timeout=30)
    assert all(isinstance(o, OSError) for o in outcomes), outcomes
    assert _events(sqlite_db) == []


def test_each_audit_row_carries_its_own_callers_address(sqlite_db: Database) -> None:
    """The group's leader runs the others' works in its thread: each in its caller's
    context, so the client address the app sets per request is the caller's."""
    addresses = [f"203.0.113.{k}" for k in range(1, 6)]

    def work(s: Session) -> None:
        audit.record(s, None, "link.open", case_id=7)

    release = threading.Event()

    def hold(s: Session) -> None:
        assert release.wait(timeout=30)

    def client(address: str) -> None:
        audit.request_ip.set(address)  # as the app's middleware does for each request
        sqlite_db.write_grouped(work)

    holder = threading.Thread(target=sqlite_db.write_grouped, args=(hold,))
    holder.start()
    while not sqlite_db._lock.locked():
        time.sleep(0.005)
    threads = [threading.Thread(target=client, args=(a,)) for a in addresses]
    for t in threads:
        t.start()
    while len(sqlite_db._waiting) < len(addresses):
        time.sleep(0.005)
    release.set()
    for t in [holder, *threads]:
        t.join(timeout=30)
    with sqlite_db.read() as s:
        stored = sorted(s.scalars(select(AuditEvent.ip)))
        assert s.scalar(select(func.count(AuditEvent.id))) == len(addresses)
    assert stored == addresses


@pytest.mark.parametrize("n", [1, 40])
def test_grouped_writes_from_many_threads_keep_the_chain_intact(sqlite_db: Database,
                                                                n: int) -> None:
    start = threading.Barrier(n)

    def writer(k: int) -> None:
        start.wait(timeout=10)
        for i in range(5):
            sqlite_db.write_grouped(_record(k * 100 + i))

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with sqlite_db.read() as s:
        found = verify(s)
    assert found.rows == 5 * n and found.intact, found.problems[:3]
