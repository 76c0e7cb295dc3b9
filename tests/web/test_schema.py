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


def test_audit_rows_cannot_be_updated_or_deleted(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (at, actor_email, action, subject, detail, "
                          "ip) VALUES (CURRENT_TIMESTAMP, 'x@example.org', 'login', '', '{}', "
                          "'')"))
    for statement in ("UPDATE audit_events SET action = 'logout'", "DELETE FROM audit_events"):
        with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
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
