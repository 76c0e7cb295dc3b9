"""Backups that prove themselves: ``alliance backup`` and ``alliance restore``.

A backup is one file plus a manifest beside it (``DEST.manifest.json``): the tables, their
row counts and content hashes, the alembic revision, when and by which version it was made,
and the SHA-256 of the backup file. Every hash is taken **in the same snapshot** as the copy,
so the manifest says what the live database held at that instant, not what the copy holds:

* SQLite: one read transaction on the source hashes every table, then the online backup
  API copies the database from that same transaction (writers carry on in the WAL). The
  copy is switched to a single-file journal, checked with ``PRAGMA integrity_check`` and
  hashed again; any difference is a :class:`~alliance.errors.BackupError`.
* PostgreSQL: a ``REPEATABLE READ`` transaction exports its snapshot, hashes every table,
  and ``pg_dump --format=custom --snapshot=…`` dumps exactly that snapshot. The dump is
  checked with ``pg_restore --list`` (every table's data is in it).

A table's hash is SHA-256 over its rows in primary-key order, each row a canonical JSON
line, so two databases hash alike exactly when they hold the same rows. Restoring checks
the file against its manifest first, copies it into the configured database (refusing
one that holds rows unless forced), hashes the result against the manifest again and
appends a ``db.restore`` audit row. Backup files and manifests are created 0600.
"""

from __future__ import annotations

import datetime as dt
import decimal
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from alliance.errors import BackupError

MANIFEST_FORMAT = 1
MANIFEST_SUFFIX = ".manifest.json"
SKIPPED = re.compile(r"^sqlite_")  # SQLite's own bookkeeping (sqlite_sequence, …)


@dataclass(frozen=True)
class TableDigest:
    rows: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds; written as JSON beside the backup file."""

    engine: str
    file: str
    file_sha256: str
    created_at: str
    tool: str
    revision: str | None
    tables: dict[str, TableDigest]

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def to_json(self) -> str:
        data = {"format": MANIFEST_FORMAT, "engine": self.engine, "file": self.file,
                "file_sha256": self.file_sha256, "created_at": self.created_at,
                "tool": self.tool, "alembic_revision": self.revision,
                "tables": {name: {"rows": t.rows, "sha256": t.sha256}
                           for name, t in sorted(self.tables.items())}}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != MANIFEST_FORMAT:
                raise BackupError(f"{path}: manifest format {data.get('format')!r} is not "
                                  f"{MANIFEST_FORMAT}")
            return cls(engine=str(data["engine"]), file=str(data["file"]),
                       file_sha256=str(data["file_sha256"]),
                       created_at=str(data["created_at"]), tool=str(data["tool"]),
                       revision=data["alembic_revision"],
                       tables={str(k): TableDigest(int(v["rows"]), str(v["sha256"]))
                               for k, v in data["tables"].items()})
        except FileNotFoundError:
            raise BackupError(f"{path}: the backup's manifest is missing; a backup is "
                              "restored only with the manifest written beside it") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupError(f"{path}: not a readable backup manifest "
                              f"({type(exc).__name__})") from None


@dataclass(frozen=True)
class Outcome:
    """What a backup or restore did (for the CLI and the drill)."""

    path: Path
    manifest_path: Path
    manifest: Manifest
    checks: tuple[str, ...]
    notes: tuple[str, ...] = ()


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + MANIFEST_SUFFIX)


# ---------------------------------------------------------------- hashing tables


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"hex": bytes(value).hex()}
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, dt.timedelta)):
        return str(value)
    raise TypeError(type(value).__name__)


def digest_rows(rows: Iterable[Sequence[Any]]) -> TableDigest:
    """The hash of rows (already in key order): SHA-256 over one canonical JSON line each."""
    h = hashlib.sha256()
    n = 0
    for row in rows:
        h.update(json.dumps(list(row), default=_plain, sort_keys=True, ensure_ascii=False,
                            separators=(",", ":")).encode("utf-8", "surrogatepass"))
        h.update(b"\n")
        n += 1
    return TableDigest(n, h.hexdigest())


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    cols = ", ".join(_quote(c) for c in columns)
    order = ", ".join(_quote(c) for c in (key or columns))
    return f"SELECT {cols} FROM {_quote(table)} ORDER BY {order}"


def sqlite_digests(conn: sqlite3.Connection) -> dict[str, TableDigest]:
    """Every table's digest, read through ``conn`` (in its current transaction)."""
    names = [n for (n,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if not SKIPPED.match(n)]
    out = {}
    for name in names:
        info = conn.execute(f"PRAGMA table_info({_quote(name)})").fetchall()
        columns = [r[1] for r in info]
        key = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        out[name] = digest_rows(conn.execute(_select(name, columns, key)))
    return out


def sqlalchemy_digests(conn: Connection) -> dict[str, TableDigest]:
    """Every table's digest, read through a SQLAlchemy connection (PostgreSQL)."""
    found = inspect(conn)
    out = {}
    for name in sorted(found.get_table_names()):
        if SKIPPED.match(name):
            continue
        columns = [c["name"] for c in found.get_columns(name)]
        key = list(found.get_pk_constraint(name).get("constrained_columns") or [])
        out[name] = digest_rows(conn.execute(text(_select(name, columns, key))))
    return out


def compare(expected: dict[str, TableDigest], found: dict[str, TableDigest]) -> list[str]:
    """Each difference between two sets of table digests, in words (empty: identical)."""
    problems = [f"table {n}: missing" for n in sorted(set(expected) - set(found))]
    problems += [f"table {n}: not in the backup" for n in sorted(set(found) - set(expected))]
    for name in sorted(set(expected) & set(found)):
        a, b = expected[name], found[name]
        if a.rows != b.rows:
            problems.append(f"table {name}: {b.rows} rows, expected {a.rows}")
        elif a.sha256 != b.sha256:
            problems.append(f"table {name}: same {a.rows} rows, different content")
    return problems


def _require_same(expected: dict[str, TableDigest], found: dict[str, TableDigest],
                  what: str) -> None:
    problems = compare(expected, found)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; … {len(problems) - 5} more"
                                            if len(problems) > 5 else "")
        raise BackupError(f"{what} does not match its manifest: {shown}")


# ---------------------------------------------------------------- files


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600; refuse to overwrite anything."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise BackupError(f"{path} already exists; choose a new file name") from None
    except OSError as exc:
        raise BackupError(f"cannot create {path}: {exc.strerror}") from None
    os.close(fd)
    os.chmod(path, 0o600)  # whatever the umask


def write_private(path: str | Path, text: str) -> None:
    """Write ``text`` to a new file of mode 0600 (a backup's manifest, a client file)."""
    target = Path(path)
    _create_private(target)
    target.write_text(text, encoding="utf-8")


def _write_manifest(manifest: Manifest, path: Path) -> Path:
    target = manifest_path(path)
    write_private(target, manifest.to_json())
    return target


def _tool() -> str:
    from alliance import __version__

    return f"alliance {__version__}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _revision(query: Callable[[str], Any], tables: dict[str, TableDigest]) -> str | None:
    """The alembic revision (``None`` for a database never migrated)."""
    if not tables.get("alembic_version", TableDigest(0, "")).rows:
        return None
    return str(query("SELECT version_num FROM alembic_version"))


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError("only a SQLite database in a file can be backed up or restored "
                          f"(database {url.database!r})")
    return Path(url.database)


@contextmanager
def _sqlite(path: Path, *, readonly: bool = False) -> Iterator[sqlite3.Connection]:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}") from None
    with closing(conn):
        yield conn


def _integrity(conn: sqlite3.Connection, what: str) -> None:
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{what} is not a readable SQLite database ({exc})") from None
    if result != ["ok"]:
        raise BackupError(f"{what} fails PRAGMA integrity_check: {result[0]}"
                          + (f" (and {len(result) - 1} more)" if len(result) > 1 else ""))


# ---------------------------------------------------------------- SQLite


def _backup_sqlite(source: Path, dest: Path) -> Outcome:
    if not source.exists():
        raise BackupError(f"the database {source} does not exist")
    _create_private(dest)
    try:
        with _sqlite(source) as src, _sqlite(dest) as out:
            src.execute("BEGIN")  # one snapshot for the hashes and the copy
            try:
                expected = sqlite_digests(src)
                revision = _revision(lambda q: src.execute(q).fetchone()[0], expected)
                src.backup(out)
            finally:
                src.execute("COMMIT")
            out.execute("PRAGMA journal_mode=DELETE")  # a single file, no -wal beside it
    except (sqlite3.Error, BackupError) as exc:
        dest.unlink(missing_ok=True)
        if isinstance(exc, BackupError):
            raise
        raise BackupError(f"backing up {source} failed: {exc}") from None
    checks = _check_sqlite_copy(dest, expected, "the backup")
    manifest = Manifest("sqlite", dest.name, file_sha256(dest), _now(), _tool(), revision,
                        expected)
    written = _write_manifest(manifest, dest)
    return Outcome(dest, written, manifest, checks)


def _check_sqlite_copy(path: Path, expected: dict[str, TableDigest], what: str
                       ) -> tuple[str, ...]:
    with _sqlite(path, readonly=True) as conn:
        _integrity(conn, what)
        conn.execute("BEGIN")
        found = sqlite_digests(conn)
        conn.execute("COMMIT")
    _require_same(expected, found, what)
    return ("integrity_check ok", f"{len(found)} table hashes match")


def _verify_file(path: Path, manifest: Manifest, engine: str) -> None:
    if manifest.engine != engine:
        raise BackupError(f"{path} is a {manifest.engine} backup; the database is {engine}")
    if file_sha256(path) != manifest.file_sha256:
        raise BackupError(f"{path} has changed since it was written: its SHA-256 does not "
                          "match the manifest")


def _has_rows(names_and_counts: Iterable[tuple[str, int]]) -> list[str]:
    return sorted(n for n, c in names_and_counts if c and n != "alembic_version")


def _restore_sqlite(source: Path, target: Path, manifest: Manifest, force: bool) -> Outcome:
    _verify_file(source, manifest, "sqlite")
    checks = _check_sqlite_copy(source, manifest.tables, f"the backup {source}")
    if target.exists() and target.stat().st_size:
        try:
            with _sqlite(target) as conn:
                full = _has_rows((n, d.rows) for n, d in sqlite_digests(conn).items())
        except sqlite3.DatabaseError:
            raise BackupError(f"{target} is not a SQLite database; move it away before "
                              "restoring there") from None
        if full and not force:
            raise BackupError(f"the database {target} is not empty (rows in "
                              f"{', '.join(full[:4])}{', …' if len(full) > 4 else ''}); "
                              "restore over it only with --force")
    elif not target.exists():
        _create_private(target)
    with _sqlite(source, readonly=True) as src, _sqlite(target) as out:
        try:
            src.backup(out)
        except sqlite3.Error as exc:
            raise BackupError(f"restoring into {target} failed: {exc} (is the server "
                              "still running? stop it first)") from None
        _integrity(out, f"the restored database {target}")
        out.execute("BEGIN")
        found = sqlite_digests(out)
        out.execute("COMMIT")
    _require_same(manifest.tables, found, f"the restored database {target}")
    return Outcome(target, manifest_path(source), manifest,
                   (*checks, "restored: integrity_check ok",
                    f"restored: {len(found)} table hashes match"))


# ---------------------------------------------------------------- PostgreSQL


def find_pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore``: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found

    def major(path: str) -> int:
        part = Path(path).parts[-3]
        return int(part) if part.isdigit() else 0

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=major)
    if candidates:
        return candidates[-1]
    raise BackupError(f"{name} was not found on PATH or in /usr/lib/postgresql/*/bin; "
                      "install the PostgreSQL client tools of the server's major version "
                      "(e.g. apt-get install postgresql-client)")


@contextmanager
def _libpq(url: URL) -> Iterator[str]:
    """A libpq connection string for the PostgreSQL tools. A password never goes on the
    command line (other users see it in ``ps``): it goes into a 0600 password file named
    by the string, removed afterwards."""
    plain = url._replace(drivername="postgresql", password=None)
    if not url.password:
        yield plain.render_as_string(hide_password=False)
        return
    escaped = str(url.password).replace("\\", "\\\\").replace(":", "\\:")
    fd, name = tempfile.mkstemp(prefix="alliance-pgpass-")   # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"*:*:*:*:{escaped}\n")
        query = {**plain.query, "passfile": name}
        yield plain.set(query=query).render_as_string(hide_password=False)
    finally:
        os.unlink(name)


def _run_pg(argv: list[str], what: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        # only the first error line: DETAIL and "Command was" lines may quote values
        lines = [ln for ln in done.stderr.splitlines()
                 if "error" in ln.lower() and not ln.lstrip().startswith(("DETAIL", "Command"))]
        reason = (lines[0] if lines else f"exit code {done.returncode}")[:300]
        if "row-level security" in reason:
            reason += (" (run backups and restores as the tables' owner, the role migrations "
                       "run as: the application role sees only its own clinic's rows)")
        raise BackupError(f"{what} failed: {reason}")
    return done.stdout


def _pg_listed_tables(dump: Path) -> set[str]:
    listing = _run_pg([find_pg_tool("pg_restore"), "--list", str(dump)],
                      f"pg_restore --list {dump}")
    return {m.group(1) for m in re.finditer(r"TABLE DATA \S+ (\S+) ", listing)}


def _check_pg_listing(dump: Path, manifest: Manifest) -> str:
    listed = _pg_listed_tables(dump)
    missing = sorted(set(manifest.tables) - listed)
    if missing:
        raise BackupError(f"{dump}: pg_restore --list shows no data for "
                          f"{', '.join(missing[:5])}")
    return f"pg_restore --list: data of all {len(manifest.tables)} tables"


@contextmanager
def _reaching(url: URL) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0][:200]
        raise BackupError(f"cannot reach the database {url.database}: {first}") from None


def _pg_digests(url: URL) -> tuple[dict[str, TableDigest], str | None]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with _reaching(url), engine.connect() as conn:
            found = sqlalchemy_digests(conn)
            revision = _revision(lambda q: conn.execute(text(q)).scalar(), found)
            conn.rollback()
        return found, revision
    finally:
        engine.dispose()


def _backup_pg(url: URL, dest: Path) -> Outcome:
    pg_dump = find_pg_tool("pg_dump")
    _create_private(dest)
    engine = create_engine(url, poolclass=NullPool,
                           execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        with _reaching(url), engine.connect() as conn:
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            expected = sqlalchemy_digests(conn)
            revision = _revision(lambda q: conn.execute(text(q)).scalar(), expected)
            with _libpq(url) as dsn:
                _run_pg([pg_dump, "--format=custom", f"--snapshot={snapshot}", "--file",
                         str(dest), "--dbname", dsn], "pg_dump")
            conn.rollback()
    except BackupError:
        dest.unlink(missing_ok=True)
        raise
    finally:
        engine.dispose()
    os.chmod(dest, 0o600)
    manifest = Manifest("postgresql", dest.name, file_sha256(dest), _now(), _tool(),
                        revision, expected)
    check = _check_pg_listing(dest, manifest)
    written = _write_manifest(manifest, dest)
    return Outcome(dest, written, manifest, (check,))


def _restore_pg(source: Path, url: URL, manifest: Manifest, force: bool) -> Outcome:
    _verify_file(source, manifest, "postgresql")
    checks = [_check_pg_listing(source, manifest)]
    current, _ = _pg_digests(url)
    full = _has_rows((n, d.rows) for n, d in current.items())
    if full and not force:
        raise BackupError(f"the database {url.database} is not empty (rows in "
                          f"{', '.join(full[:4])}{', …' if len(full) > 4 else ''}); "
                          "restore over it only with --force")
    with _libpq(url) as dsn:
        _run_pg([find_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                 "--single-transaction", "--exit-on-error", "--dbname", dsn, str(source)],
                "pg_restore")
    found, _ = _pg_digests(url)
    _require_same(manifest.tables, found, f"the restored database {url.database}")
    checks.append(f"restored: {len(found)} table hashes match")
    return Outcome(source, manifest_path(source), manifest, tuple(checks))


# ---------------------------------------------------------------- entry points


def _url(database_url: str) -> URL:
    from alliance.store.database import make_engine

    make_engine(database_url).dispose()  # a malformed or unsupported URL: ConfigError
    return make_url(database_url)


def backup(database_url: str, dest: str | Path) -> Outcome:
    """Back up the database at ``database_url`` into ``dest`` (a new file), write its
    manifest beside it and verify the copy against it."""
    url, target = _url(database_url), Path(dest)
    if url.get_backend_name() == "sqlite":
        outcome = _backup_sqlite(_sqlite_path(url), target)
    else:
        outcome = _backup_pg(url, target)
    _audit(database_url, "db.backup", outcome.manifest)  # every case's data left the database
    return outcome


def verify(src: str | Path) -> Outcome:
    """Check a backup file against its manifest without restoring it."""
    path = Path(src)
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    manifest = Manifest.read(manifest_path(path))
    _verify_file(path, manifest, manifest.engine)
    if manifest.engine == "sqlite":
        checks = _check_sqlite_copy(path, manifest.tables, f"the backup {path}")
    else:
        checks = (_check_pg_listing(path, manifest),)
    return Outcome(path, manifest_path(path), manifest, ("file SHA-256 matches", *checks))


def restore(database_url: str, src: str | Path, *, force: bool = False) -> Outcome:
    """Restore the backup ``src`` into the database at ``database_url``, checking the
    backup against its manifest before and the restored database after; audited."""
    url, path = _url(database_url), Path(src)
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    manifest = Manifest.read(manifest_path(path))
    if url.get_backend_name() == "sqlite":
        outcome = _restore_sqlite(path, _sqlite_path(url), manifest, force)
    else:
        outcome = _restore_pg(path, url, manifest, force)
    if not _audit(database_url, "db.restore", manifest, force=force):
        return replace(outcome, notes=(f"the schema is at {manifest.revision}, not this "
                                       "version's: run `alliance db upgrade`; the restore "
                                       "was not audited",))
    return outcome


def _audit(database_url: str, action: str, manifest: Manifest, **extra: Any) -> bool:
    """Append the audit row when the schema is current (an older backup is audited by
    nobody until ``alliance db upgrade``); returns whether it was written."""
    from alliance.store import audit
    from alliance.store.database import Database
    from alliance.store.schema import head_revision

    if manifest.revision != head_revision():
        return False
    db = Database(database_url)
    try:
        with db.write() as s:
            audit.record(s, None, action, subject="cli",
                         detail={"file": manifest.file, "created_at": manifest.created_at,
                                 "tables": len(manifest.tables), "rows": manifest.rows,
                                 **extra})
    finally:
        db.dispose()
    return True

