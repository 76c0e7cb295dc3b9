"""On PostgreSQL the application connects as a role that owns no table (issue 11, item 5).

The tables belong to the migration role; ``alliance db grant-app-role`` gives the
application role the rights it needs and nothing on the audit log beyond reading and
appending. Each test connects as that role and tries what an attacker holding its password
would try.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from tests.web.conftest import Web, _truncate_pg, add_people, make_case

from alliance.cli import main
from alliance.errors import ConfigError
from alliance.store import Database
from alliance.store.approle import grant_app_role, table_rights
from alliance.store.auditchain import verify

pytestmark = pytest.mark.postgres


def drop_role(owner_url: str, role: str, *, missing_ok: bool = False) -> None:
    admin = create_engine(owner_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                              {"r": role}).first()
        assert exists or missing_ok, f"role {role} was not created"
        if exists:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')  # its grants, here and on the db
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
    admin.dispose()


def url_as(url: str, role: str) -> str:
    return make_url(url).set(username=role).render_as_string(hide_password=False)


@pytest.fixture
def app_role(pg_server_url: str) -> Iterator[str]:
    """A fresh application role, granted on the (emptied) test database."""
    role = f"alliance_app_{secrets.token_hex(4)}"
    owner = Database(pg_server_url)
    _truncate_pg(owner)
    grant_app_role(owner.engine, role)
    owner.dispose()
    yield role
    drop_role(pg_server_url, role)


def refused(conn_engine: Database, statement: str) -> str:
    """The SQLSTATE with which ``statement`` fails for the engine's role."""
    with pytest.raises(DBAPIError) as caught, conn_engine.engine.begin() as conn:
        conn.exec_driver_sql(statement)
    return str(getattr(caught.value.orig, "sqlstate", ""))


TAMPERING = ["TRUNCATE audit_events", "DELETE FROM audit_events",
             "UPDATE audit_events SET action = 'logout'",
             "ALTER TABLE audit_events DISABLE TRIGGER ALL",
             "DROP TRIGGER audit_events_append_only ON audit_events",
             "ALTER TABLE cases ADD COLUMN extra integer", "DROP TABLE audit_chain",
             "SET session_replication_role = replica", "TRUNCATE cases CASCADE",
             "UPDATE alembic_version SET version_num = 'x'",
             "CREATE TABLE intruder (id integer)"]


@pytest.mark.parametrize("statement", TAMPERING)
def test_the_app_role_cannot_tamper_with_the_audit_log_or_the_schema(
        pg_server_url: str, app_role: str, statement: str) -> None:
    app = Database(url_as(pg_server_url, app_role))
    try:
        with app.engine.begin() as conn:  # it can append to the audit log and read it
            conn.execute(text("INSERT INTO audit_events (at, actor_email, action, subject, "
                              "detail, ip) VALUES (now(), 'x@example.org', 'login', '', "
                              "'{}', '')"))
            assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 1
        # 42501: insufficient privilege (not the owner, or not a superuser)
        assert refused(app, statement) == "42501"
        with app.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 1
    finally:
        app.dispose()


def test_the_app_role_owns_nothing_and_holds_only_read_and_append_on_the_audit_log(
        pg_server_url: str, app_role: str) -> None:
    owner = Database(pg_server_url)
    with owner.engine.connect() as conn:
        owned = conn.execute(text("SELECT count(*) FROM pg_tables WHERE tableowner = :r"),
                             {"r": app_role}).scalar_one()
        rights = conn.execute(text(
            "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) "
            "FROM information_schema.role_table_grants WHERE grantee = :r "
            "GROUP BY table_name"), {"r": app_role}).all()
    owner.dispose()
    assert owned == 0
    by_table = dict(rights)
    assert by_table["audit_events"] == "INSERT,SELECT"
    assert by_table["alembic_version"] == "SELECT"
    assert by_table["cases"] == "DELETE,INSERT,SELECT,UPDATE"
    assert table_rights("responses") == "SELECT, INSERT, UPDATE, DELETE"


def test_the_clinic_runs_as_the_app_role_and_its_audit_chain_stays_intact(
        pg_server_url: str, app_role: str, password_hash: str, box: object) -> None:
    app = Database(url_as(pg_server_url, app_role))
    try:
        web = Web(app, add_people(app, password_hash), box)  # type: ignore[arg-type]
        case_id, _ = make_case(web, web.people["dana"])
        client = web.login("dana")
        assert client.get(f"/cases/{case_id}").status_code == 200
        assert client.post(f"/cases/{case_id}/archive",
                           data={"archived": "yes", "csrf": client.csrf}  # type: ignore[attr-defined]
                           ).status_code == 303
        with app.read() as s:
            found = verify(s)
        assert found.intact and found.rows >= 3
    finally:
        app.dispose()


def test_granting_refuses_the_connected_owner_a_bad_name_and_sqlite(
        pg_server_url: str, tmp_path: Path) -> None:
    owner = Database(pg_server_url)
    try:
        with pytest.raises(ConfigError, match="connected as"):
            grant_app_role(owner.engine, "postgres")
        with pytest.raises(ConfigError, match="lower-case"):
            grant_app_role(owner.engine, 'x"; DROP TABLE cases; --')
    finally:
        owner.dispose()
    sqlite = Database(f"sqlite:///{tmp_path / 'c.db'}")
    with pytest.raises(ConfigError, match="SQLite has no roles"):
        grant_app_role(sqlite.engine, "alliance_app")
    sqlite.dispose()


def test_grant_app_role_command_creates_the_role_once_and_regrants(pg_server_url: str) -> None:
    role = f"alliance_app_{secrets.token_hex(4)}"
    runner = CliRunner()
    try:
        first = runner.invoke(main, ["db", "grant-app-role", role, "--database-url",
                                     pg_server_url])
        again = runner.invoke(main, ["db", "grant-app-role", role, "--database-url",
                                     pg_server_url])
    finally:
        drop_role(pg_server_url, role)
    assert first.exit_code == 0 and f"role {role} created and granted" in first.output
    assert again.exit_code == 0 and f"role {role} granted on" in again.output
    assert "clinic 1" in first.output


def test_upgrade_with_app_role_migrates_then_grants(pg_server_url: str) -> None:
    role = f"alliance_app_{secrets.token_hex(4)}"
    try:
        result = CliRunner().invoke(main, ["db", "upgrade", "--database-url", pg_server_url,
                                           "--app-role", role])
    finally:
        drop_role(pg_server_url, role, missing_ok=True)
    assert result.exit_code == 0, result.output
    assert "schema at" in result.output and f"role {role} created and granted" in result.output
