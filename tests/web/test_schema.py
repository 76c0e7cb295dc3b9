"""Migrations build exactly the models' schema, on SQLite and PostgreSQL; audit is append-only."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from alliance.store import Database, current_revision, head_revision
from alliance.store.models import Base
from alliance.store.schema import downgrade, upgrade


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []
    assert current_revision(db.engine) == head_revision()


def test_downgrade_to_base_and_back(sqlite_db: Database) -> None:
    downgrade(sqlite_db.engine, "base")
    assert current_revision(sqlite_db.engine) is None
    upgrade(sqlite_db.engine)
    assert current_revision(sqlite_db.engine) == head_revision()


def test_audit_rows_cannot_be_updated_or_deleted(db: Database, owner_db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (at, actor_email, action, subject, detail, "
                          "ip) VALUES (CURRENT_TIMESTAMP, 'x@example.org', 'login', '', '{}', "
                          "'')"))
    for statement in ("UPDATE audit_events SET action = 'logout'", "DELETE FROM audit_events"):
        # the trigger stops even the owner; on PostgreSQL the app role lacks the right too
        with pytest.raises(DatabaseError, match="append-only"), owner_db.engine.begin() as conn:
            conn.execute(text(statement))
        refusal = "append-only" if db.is_sqlite else "InsufficientPrivilege"
        with pytest.raises(DatabaseError, match=refusal), db.engine.begin() as conn:
            conn.execute(text(statement))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_events")).scalar_one() == "login"


def test_sqlite_runs_wal_with_full_sync(sqlite_db: Database) -> None:
    with sqlite_db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_unsupported_database_url_is_a_config_error() -> None:
    from alliance.errors import ConfigError

    with pytest.raises(ConfigError, match="only sqlite and postgresql"):
        Database("mysql://localhost/x")
    with pytest.raises(ConfigError, match="not a valid SQLAlchemy URL"):
        Database("not a url")


def test_upgrading_a_populated_database_keeps_its_rows_and_stops_id_reuse(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """0002 -> 0003 rebuilds the SQLite tables as AUTOINCREMENT without losing a row or a
    child row (foreign keys are off during the rebuild), and queues every case for the
    alert worker."""
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db.engine, "0002")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, name, role, password_hash, active, "
                          "created_at) VALUES (1, 'd@example.org', 'D', 'clinician', 'x', 1, "
                          "CURRENT_TIMESTAMP)"))
        for case_id in (1, 2):
            conn.execute(text("INSERT INTO cases (id, label, clinician_id, modality, "
                              "cultural_notes, normative_cues, created_at) VALUES (:i, 'c', 1, "
                              "'individual', '', '[]', CURRENT_TIMESTAMP)"), {"i": case_id})
            conn.execute(text("INSERT INTO sessions (case_id, number, date, attendance, "
                              "minutes_late, homework) VALUES (:i, 1, '2026-01-05', "
                              "'attended', 0, 'none')"), {"i": case_id})
    upgrade(db.engine)
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM sessions")).scalar_one() == 2
        assert conn.execute(text("SELECT case_id FROM case_monitor ORDER BY case_id")
                            ).scalars().all() == [1, 2]
        assert "AUTOINCREMENT" in conn.execute(text(
            "SELECT sql FROM sqlite_master WHERE name = 'cases'")).scalar_one()
        conn.execute(text("DELETE FROM cases WHERE id = 2"))
        assert conn.execute(text("SELECT count(*) FROM sessions")).scalar_one() == 1
        conn.execute(text("INSERT INTO cases (label, clinician_id, modality, cultural_notes, "
                          "normative_cues, created_at) VALUES ('new', 1, 'individual', '', "
                          "'[]', CURRENT_TIMESTAMP)"))
        assert conn.execute(text("SELECT max(id) FROM cases")).scalar_one() == 3
        assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    db.dispose()
