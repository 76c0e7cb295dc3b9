"""``alliance backup`` / ``alliance restore`` (issue 11, item 10): a backup is checked
against a manifest of per-table row counts and content hashes; a restore is checked before
and after, refuses to overwrite rows unless forced, and is audited. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text
from tests.web.conftest import PG_ADMIN_URL, make_case, plant_drop

from alliance.cli import main
from alliance.errors import BackupError
from alliance.store import backup as backups
from alliance.store.actors import Actor
from alliance.store.auditchain import verify as verify_chain
from alliance.store.backup import TableDigest, compare, digest_rows
from alliance.store.database import Database
from alliance.store.models import AuditEvent


def require_pg_tools() -> None:
    """PostgreSQL backups need pg_dump and pg_restore; without them (a machine with only the
    server's Python driver) the PostgreSQL cases are skipped, except under CI=true."""
    import os

    try:
        backups.find_pg_tool("pg_dump")
        backups.find_pg_tool("pg_restore")
    except BackupError as exc:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(str(exc))


@pytest.fixture
def clinic_rows(db: Database, owner_db: Database, people: dict[str, Actor]) -> Database:
    """The test clinic (5 accounts, 1 supervision) with one case of 6 sessions, 5 paper
    responses on the last 5, written by the clinic; returned as its owner sees it, since
    backups and restores run as the tables' owner (like migrations)."""
    if not db.is_sqlite:
        require_pg_tools()
    case_id, _ = make_case(db, people["dana"])
    plant_drop(db, people["dana"], case_id)
    return owner_db


@pytest.fixture
def empty_target(db: Database, tmp_path: Path) -> Iterator[str]:
    """The URL of a database that holds nothing yet (SQLite: no file; PostgreSQL: a new
    database on the test server)."""
    if db.is_sqlite:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"backup_scratch_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _digests(url: str) -> dict[str, TableDigest]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return backups.sqlalchemy_digests(conn)
    finally:
        db.dispose()


def _restores(url: str) -> list[AuditEvent]:
    db = Database(url)
    try:
        with db.read() as s:
            return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "db.restore")))
    finally:
        db.dispose()


def test_a_table_hash_is_sha256_over_one_canonical_json_line_per_row() -> None:
    lines = b'[1,"Dana",{"hex":"00ff"},null]\n[2,"Sam",{"hex":""},1.5]\n'
    got = digest_rows([(1, "Dana", b"\x00\xff", None), (2, "Sam", b"", 1.5)])
    assert got == TableDigest(2, hashlib.sha256(lines).hexdigest())


def test_digests_differing_in_rows_or_content_are_named() -> None:
    a = {"cases": TableDigest(2, "x"), "users": TableDigest(5, "y"), "voids": TableDigest(0, "z")}
    b = {"cases": TableDigest(3, "x"), "users": TableDigest(5, "q"), "extra": TableDigest(0, "z")}
    assert compare(a, b) == ["table voids: missing", "table extra: not in the backup",
                             "table cases: 3 rows, expected 2",
                             "table users: same 5 rows, different content"]
    assert compare(a, dict(a)) == []


def test_a_backup_restores_into_an_empty_database_with_the_same_table_hashes(
        clinic_rows: Database, empty_target: str, tmp_path: Path) -> None:
    dest = tmp_path / "clinic.backup"
    done = backups.backup(clinic_rows.url, dest)
    manifest = json.loads(done.manifest_path.read_text())
    assert manifest["tables"]["users"]["rows"] == 5
    assert manifest["tables"]["cases"]["rows"] == 1
    assert manifest["tables"]["sessions"]["rows"] == 6      # 1 + 5 planted
    assert manifest["tables"]["responses"]["rows"] == 5
    assert manifest["engine"] == ("sqlite" if clinic_rows.is_sqlite else "postgresql")
    assert manifest["alembic_revision"] == done.manifest.revision is not None
    assert manifest["file_sha256"] == hashlib.sha256(dest.read_bytes()).hexdigest()
    for path in (dest, done.manifest_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    restored = backups.restore(empty_target, dest)
    assert any("table hashes match" in c for c in restored.checks)
    after = _digests(empty_target)
    del after["audit_events"], after["audit_chain"]      # the restore's own audit row
    expected = dict(done.manifest.tables)
    del expected["audit_events"], expected["audit_chain"]
    assert compare(expected, after) == []
    (event,) = _restores(empty_target)
    assert event.detail["rows"] == done.manifest.rows and event.detail["force"] is False
    target = Database(empty_target)
    try:
        with target.read() as s:
            assert verify_chain(s).intact
    finally:
        target.dispose()


def test_the_backup_itself_is_audited(clinic_rows: Database, tmp_path: Path) -> None:
    backups.backup(clinic_rows.url, tmp_path / "b")
    with clinic_rows.read() as s:
        actions = s.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first()
    assert actions == "db.backup"


def test_restore_over_a_database_with_rows_needs_force(clinic_rows: Database,
                                                       tmp_path: Path) -> None:
    dest = tmp_path / "b"
    done = backups.backup(clinic_rows.url, dest)
    with pytest.raises(BackupError, match=r"is not empty .* only with --force"):
        backups.restore(clinic_rows.url, dest)
    with clinic_rows.write() as s:   # work after the backup, which the restore undoes
        s.execute(text("DELETE FROM responses"))
    backups.restore(clinic_rows.url, dest, force=True)
    found = _digests(clinic_rows.url)
    assert found["responses"] == done.manifest.tables["responses"]
    assert [e.detail["force"] for e in _restores(clinic_rows.url)] == [True]


def test_a_backup_changed_after_it_was_written_is_refused(clinic_rows: Database,
                                                          empty_target: str,
                                                          tmp_path: Path) -> None:
    dest = tmp_path / "b"
    backups.backup(clinic_rows.url, dest)
    data = bytearray(dest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dest.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="has changed since it was written"):
        backups.restore(empty_target, dest)


def test_a_manifest_that_does_not_match_the_copy_is_refused(sqlite_db: Database,
                                                            tmp_path: Path) -> None:
    dest = tmp_path / "b"
    backups.backup(sqlite_db.url, dest)
    path = backups.manifest_path(dest)
    manifest = json.loads(path.read_text())
    manifest["tables"]["alembic_version"]["sha256"] = "0" * 64
    path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match="table alembic_version: same 1 rows, different"):
        backups.verify(dest)


def test_a_backup_without_its_manifest_is_refused(sqlite_db: Database, tmp_path: Path) -> None:
    dest = tmp_path / "b"
    backups.backup(sqlite_db.url, dest)
    backups.manifest_path(dest).unlink()
    with pytest.raises(BackupError, match="manifest is missing"):
        backups.restore(f"sqlite:///{tmp_path / 'r.db'}", dest)


def test_a_backup_never_overwrites_a_file(sqlite_db: Database, tmp_path: Path) -> None:
    dest = tmp_path / "b"
    dest.write_text("keep me")
    with pytest.raises(BackupError, match="already exists"):
        backups.backup(sqlite_db.url, dest)
    assert dest.read_text() == "keep me"


def test_a_backup_of_one_engine_is_not_restored_into_the_other(sqlite_db: Database,
                                                               tmp_path: Path) -> None:
    dest = tmp_path / "b"
    backups.backup(sqlite_db.url, dest)
    with pytest.raises(BackupError, match="is a sqlite backup; the database is postgresql"):
        backups.restore("postgresql+psycopg://nobody@127.0.0.1:1/none", dest)


def test_missing_pg_dump_is_a_readable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    monkeypatch.setattr(backups.glob, "glob", lambda pattern: [])
    with pytest.raises(BackupError, match=r"pg_dump was not found .* postgresql-client"):
        backups.find_pg_tool("pg_dump")


def test_pg_tools_are_found_in_the_newest_server_folder(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setattr(backups.shutil, "which", lambda name: None)
    found = ["/usr/lib/postgresql/9/bin/pg_dump", "/usr/lib/postgresql/16/bin/pg_dump",
             "/usr/lib/postgresql/15/bin/pg_dump"]
    monkeypatch.setattr(backups.glob, "glob", lambda pattern: found)
    assert backups.find_pg_tool("pg_dump") == "/usr/lib/postgresql/16/bin/pg_dump"


def test_the_cli_backs_up_verifies_and_restores(clinic_rows: Database, empty_target: str,
                                                tmp_path: Path) -> None:
    dest = str(tmp_path / "clinic.backup")
    runner = CliRunner()
    made = runner.invoke(main, ["backup", dest, "--database-url", clinic_rows.url])
    assert made.exit_code == 0, made.output
    assert "verified:" in made.output and "manifest:" in made.output
    checked = runner.invoke(main, ["restore", dest, "--verify-only"])
    assert checked.exit_code == 0 and "file SHA-256 matches" in checked.output
    refused = runner.invoke(main, ["restore", dest, "--database-url", clinic_rows.url])
    assert refused.exit_code == 1 and "error: " in refused.output
    assert "--force" in refused.output and "Traceback" not in refused.output
    done = runner.invoke(main, ["restore", dest, "--database-url", empty_target])
    assert done.exit_code == 0 and "restored: " in done.output, done.output


def test_a_pg_password_goes_to_a_private_password_file_never_the_command_line() -> None:
    from urllib.parse import unquote

    from sqlalchemy.engine import make_url

    url = make_url("postgresql+psycopg://clinic:a:b\\c@db.example:5432/alliance")
    with backups._libpq(url) as dsn:
        passfile = Path(unquote(dsn.split("passfile=")[1]))
        assert "a:b" not in dsn and dsn.startswith("postgresql://clinic@db.example:5432/")
        assert passfile.read_text() == "*:*:*:*:a\\:b\\\\c\n"
        assert stat.S_IMODE(passfile.stat().st_mode) == 0o600
    assert not passfile.exists()


def test_a_backup_from_an_older_schema_restores_and_says_to_upgrade(tmp_path: Path) -> None:
    from alliance.store.schema import upgrade

    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(old.engine, "0007_api_tokens")
    old.dispose()
    dest = tmp_path / "old.backup"
    done = backups.backup(old.url, dest)
    assert done.manifest.revision == "0007_api_tokens"
    restored = backups.restore(f"sqlite:///{tmp_path / 'new.db'}", dest)
    assert restored.notes and "alliance db upgrade" in restored.notes[0]


def test_a_target_that_is_not_a_database_is_left_alone(sqlite_db: Database,
                                                       tmp_path: Path) -> None:
    dest = tmp_path / "b"
    backups.backup(sqlite_db.url, dest)
    other = tmp_path / "notes.txt"
    other.write_text("not a database, " * 100)
    with pytest.raises(BackupError, match="is not a SQLite database; move it away"):
        backups.restore(f"sqlite:///{other}", dest, force=True)
    assert other.read_text() == "not a database, " * 100


def test_a_damaged_backup_with_a_forged_checksum_fails_its_checks(sqlite_db: Database,
                                                                  tmp_path: Path) -> None:
    dest = tmp_path / "b"
    backups.backup(sqlite_db.url, dest)
    data = bytearray(dest.read_bytes())
    data[4096 * 3: 4096 * 3 + 64] = b"\xff" * 64      # inside a table's page
    dest.write_bytes(bytes(data))
    path = backups.manifest_path(dest)
    manifest = json.loads(path.read_text())
    manifest["file_sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    path.write_text(json.dumps(manifest))
    with pytest.raises(BackupError, match=r"fails PRAGMA integrity_check|not a readable SQLite"):
        backups.verify(dest)


@pytest.mark.postgres
def test_an_unreachable_postgresql_is_a_readable_error(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="cannot reach the database nowhere"):
        backups.backup("postgresql+psycopg://postgres@127.0.0.1:5432/nowhere", tmp_path / "b")
    assert not (tmp_path / "b").exists()
