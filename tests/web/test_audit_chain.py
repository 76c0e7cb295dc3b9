"""The audit log's hash chain (issue 11, item 5): every kind of tampering is caught, on
SQLite and PostgreSQL, and parallel writers never fork the chain."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from alliance.cli import main
from alliance.store import audit
from alliance.store.actors import Actor
from alliance.store.auditchain import verify
from alliance.store.database import Database

ACTOR = Actor(1, "dana@example.org", "clinician")


def _fill(db: Database, n: int = 6) -> None:
    for i in range(n):
        with db.write() as s:
            audit.record(s, ACTOR, "case.read", case_id=i + 1, ip="198.51.100.20")


@contextmanager
def _tampering(db: Database) -> Iterator[None]:
    """What an intruder with the database's owner role can do: lift the append-only trigger
    (``db`` connects as the owner)."""
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            conn.exec_driver_sql("DROP TRIGGER audit_events_no_delete")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_events DISABLE TRIGGER "
                                 "audit_events_append_only")
    yield


def _problems(db: Database) -> list[str]:
    with db.read() as s:
        return verify(s).problems


def test_an_untouched_log_verifies(db: Database) -> None:
    _fill(db)
    with db.read() as s:
        found = verify(s)
    assert found.intact and found.rows == 6 and len(found.head_hash) == 64


def test_an_edited_row_is_caught(db: Database, owner_db: Database) -> None:
    _fill(db)
    with _tampering(owner_db), owner_db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET case_id = 99 WHERE id = 3"))
    assert _problems(db) == ["row 3: its content was changed"]


def test_a_backdated_row_is_caught(db: Database, owner_db: Database) -> None:
    _fill(db)
    with _tampering(owner_db), owner_db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET at = :t WHERE id = 2"),
                     {"t": "2020-01-01 00:00:00"})
    assert _problems(db) == ["row 2: its content was changed"]


def test_a_deleted_row_is_caught(db: Database, owner_db: Database) -> None:
    _fill(db)
    with _tampering(owner_db), owner_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 3"))
    assert _problems(db) == ["row 4: does not follow row 2 (rows deleted, inserted or "
                             "reordered)"]


def test_rows_deleted_at_either_end_are_caught(db: Database, owner_db: Database) -> None:
    _fill(db)
    with _tampering(owner_db), owner_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 6"))
    assert any("ends at row 6" in p for p in _problems(db))
    with owner_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 1"))
    assert "row 2: the rows before it were deleted" in _problems(db)


def test_inserted_rows_are_caught(db: Database) -> None:
    _fill(db)
    with db.engine.begin() as conn:  # an INSERT needs no tampering with the trigger
        conn.execute(text("INSERT INTO audit_events (id, at, actor_email, action, subject, "
                          "detail, ip, prev_hash, hash) VALUES (100, :t, 'x@y.z', 'case.read', "
                          "'', '{}', '', '', '')"), {"t": "2020-01-01 00:00:00"})
    assert _problems(db)[0].startswith("row 100: not chained")


def test_an_inserted_row_with_a_forged_hash_is_caught(db: Database) -> None:
    from alliance.store.auditchain import chain_hash
    from alliance.store.models import AuditEvent

    _fill(db)
    with db.read() as s:
        last = s.get(AuditEvent, 6)
        assert last is not None
        forged = AuditEvent(id=7, at=last.at, actor_id=None, actor_email="x@y.z",
                            action="case.read", case_id=None, subject="", detail={}, ip="",
                            prev_hash=last.hash)
        forged.hash = chain_hash(last.hash, forged)
    with db.engine.begin() as conn:
        conn.execute(AuditEvent.__table__.insert().values(  # type: ignore[attr-defined]
            id=7, at=forged.at, actor_email="x@y.z", action="case.read", subject="",
            detail={}, ip="", prev_hash=forged.prev_hash, hash=forged.hash))
    assert any("ends at row 6 but the log at row 7" in p for p in _problems(db))


def test_reordered_rows_are_caught(db: Database, owner_db: Database) -> None:
    from alliance.store.models import AuditEvent

    _fill(db)
    table = AuditEvent.__table__
    cols = [c for c in table.columns if c.name != "id"]  # type: ignore[attr-defined]
    with _tampering(owner_db), owner_db.engine.begin() as conn:
        rows = {r.id: r for r in conn.execute(table.select().where(  # type: ignore[attr-defined]
            table.c.id.in_([2, 3])))}  # type: ignore[attr-defined]
        for target, source in ((2, 3), (3, 2)):
            conn.execute(table.update().where(table.c.id == target).values(  # type: ignore[attr-defined]
                {c.name: getattr(rows[source], c.name) for c in cols}))
    problems = _problems(db)
    assert problems and all("does not follow" in p for p in problems)


@pytest.mark.parametrize("grouped", [False, True], ids=["write", "write_grouped"])
def test_parallel_writers_never_fork_the_chain(db: Database, grouped: bool) -> None:
    start = threading.Barrier(8)

    def writer(k: int) -> None:
        start.wait(timeout=10)
        for i in range(25):
            if grouped:  # group commit: rows of several threads under one COMMIT
                db.write_grouped(lambda s, i=i: audit.record(s, ACTOR, "case.read",
                                                             case_id=k * 100 + i))
                continue
            with db.write() as s:
                audit.record(s, ACTOR, "case.read", case_id=k * 100 + i)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.read() as s:
        found = verify(s)
    assert found.rows == 200 and found.intact, found.problems[:3]


def test_the_cli_says_intact_or_names_the_break(db: Database, owner_db: Database) -> None:
    _fill(db)
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify", "--database-url", db.url])
    assert ok.exit_code == 0 and "audit log intact: 6 rows" in ok.output
    with _tampering(owner_db), owner_db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE id = 3"))
    broken = runner.invoke(main, ["audit", "verify", "--database-url", db.url])
    assert broken.exit_code == 1
    assert "row 4: does not follow row 2" in broken.output
    assert "error: the audit log is not intact: 1 breaks in 5 rows" in broken.output


@pytest.fixture(autouse=True)
def _restore_triggers(owner_db: Database) -> Iterator[None]:
    """PostgreSQL's database is shared by the run: put the trigger back after each test."""
    yield
    if not owner_db.is_sqlite:
        with owner_db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE audit_events ENABLE TRIGGER "
                                 "audit_events_append_only")
