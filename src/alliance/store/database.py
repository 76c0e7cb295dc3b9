"""Connecting to the database: SQLite by default, PostgreSQL by URL.

SQLite runs in WAL mode with ``synchronous=FULL`` (a COMMIT is on disk before it returns,
so an acknowledged submission survives a power cut) and foreign keys on. SQLite allows one
writer at a time; rather than let threads spin on ``SQLITE_BUSY``, :meth:`Database.write`
serialises writers behind one in-process lock. PostgreSQL needs no such lock.

Each COMMIT waits for the disk (an ``fsync``), and under load that wait, taken behind the
writer lock, is what queues requests. :meth:`Database.write_grouped` is a group commit for
small, frequent writes (survey submissions, the audit row of an opened link): the works of
the threads waiting for the lock run one after the other in one transaction, each in a
SAVEPOINT of its own (one that raises is rolled back alone), and share one COMMIT; each
caller returns only after that COMMIT, so what it acknowledges is on disk, as with
:meth:`Database.write`.

The SQLite file, and so its ``-wal`` and ``-shm`` files (SQLite gives them the database's
mode), is created readable by the owner only (0600), and an existing one is narrowed to
0600 on connect; ``secure_delete`` overwrites deleted content (a shredded client's rows and
data key) instead of leaving it in free pages.

Engines hide bound parameters (``hide_parameters=True``): a database error's message, and
so every log line and traceback quoting it, never carries the values (notes, labels, names).
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError
from sqlalchemy.orm import Session, sessionmaker

from alliance.errors import ConfigError, InputError

DEFAULT_URL = "sqlite:///alliance.db"


PRIVATE = 0o600


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA secure_delete=ON")
    path = cur.execute("PRAGMA database_list").fetchone()[2]
    cur.close()
    if path:
        for name in (path, path + "-wal", path + "-shm"):
            _narrow(name)


def _narrow(path: str) -> None:
    """Make an existing file of ours owner-only (0600)."""
    try:
        if os.stat(path).st_mode & 0o777 != PRIVATE:
            os.chmod(path, PRIVATE)
    except OSError:  # not there (yet), or not ours: SQLite reports what matters
        pass


def _create_private(database: str | None) -> None:
    """Create the SQLite file 0600 before SQLite does (it would use the umask, 0644)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists() or not path.parent.is_dir():
        return
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE))


def _withhold_values(context: Any) -> None:
    """PostgreSQL's error messages quote values ("Key (email)=(…) already exists", "Failing
    row contains (…)"); keep only the SQLSTATE and the names of table, column, constraint."""
    orig = context.original_exception
    diag = getattr(orig, "diag", None)
    if diag is None or diag.sqlstate is None:  # a client-side error quotes no row
        return
    names = (("table", diag.table_name), ("column", diag.column_name),
             ("constraint", diag.constraint_name))
    message = "SQLSTATE " + str(diag.sqlstate) + "".join(
        f", {kind} {name}" for kind, name in names if name) + " (values withheld)"
    if str(diag.sqlstate).startswith("P0"):  # raised by our own triggers: no values quoted
        message += f": {diag.message_primary}"
    orig.args = (message,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(orig).__module__}.{type(orig).__name__}) {message}",)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; raises :class:`ConfigError` for a malformed or unsupported URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database URL {url!r} is not a valid SQLAlchemy URL, e.g. "
                          "sqlite:///alliance.db or postgresql+psycopg://user@host/db") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _create_private(parsed.database)
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        engine = create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20,
                               hide_parameters=True)
        event.listen(engine, "handle_error", _withhold_values)
        return engine
    raise ConfigError(f"database URL {url!r}: only sqlite and postgresql are supported")


@contextmanager
def _unstorable() -> Iterator[None]:
    """A value the database cannot hold (an integer past its range, a NUL character in text
    on PostgreSQL) is the input's fault: :class:`InputError`, never a server error."""
    try:
        yield
    except (DataError, OverflowError):
        raise InputError("a value is out of range or cannot be stored") from None


T = TypeVar("T")


class _Work(Generic[T]):
    """One caller's part of a group commit: its work, run in the caller's context (the
    audit row's client address is a context variable), and what came of it."""

    def __init__(self, work: Callable[[Session], T]) -> None:
        self.work = work
        self.context = contextvars.copy_context()
        self.done = False
        self.value: T | None = None
        self.error: BaseException | None = None

    def run(self, session: Session) -> None:
        try:
            with session.begin_nested(), _unstorable():
                self.value = self.context.run(self.work, session)
        except Exception as exc:  # rolled back to its savepoint; raised to its caller
            self.error = exc

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


@dataclass
class Database:
    """An engine plus a session factory and the SQLite writer lock."""

    url: str
    engine: Engine = field(init=False)
    _factory: sessionmaker[Session] = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _waiting: list[_Work[Any]] = field(init=False, default_factory=list)
    _group: threading.Condition = field(init=False, default_factory=threading.Condition)
    _leading: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closed (its transaction discarded) at the end.

        Closing, unlike rolling back, leaves loaded objects readable after the block.
        """
        with self._factory() as session, _unstorable():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose work is committed on success, rolled back on any exception.

        The block returns only after COMMIT, so a caller that then acknowledges (HTTP 200,
        a redirect) never acknowledges unsaved data.
        """
        lock = self._lock if self.is_sqlite else None
        if lock is not None:
            lock.acquire()
        try:
            with self._factory() as session, _unstorable():
                try:
                    if lock is not None:
                        # take SQLite's write lock now: a deferred transaction that read
                        # first fails at once ("database is locked") when another process
                        # wrote since its snapshot; an immediate one waits its turn
                        session.execute(text("BEGIN IMMEDIATE"))
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if lock is not None:
                lock.release()

    def write_grouped(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` committed, possibly in one transaction with other threads'
        grouped works (the module's group commit); returns its value, or raises its
        exception, only after the COMMIT that holds it (or its rollback).

        ``work`` must not commit, roll back or keep the session; on PostgreSQL (no writer
        lock) it runs in a transaction of its own."""
        if not self.is_sqlite:
            with self.write() as session:
                return work(session)
        mine = _Work(work)
        with self._group:
            self._waiting.append(mine)
            while self._leading and not mine.done:  # a leader may take this work along
                self._group.wait()
            if mine.done:  # it did: return at once, not after the next group's COMMIT
                return mine.outcome()
            self._leading = True
        try:
            with self._lock:  # shared with write(): a plain writer goes first or after
                with self._group:
                    group, self._waiting = self._waiting, []
                self._commit_group(group)
        finally:
            with self._group:
                self._leading = False
                self._group.notify_all()
        return mine.outcome()

    def _commit_group(self, group: list[_Work[Any]]) -> None:
        """Run ``group`` in one transaction under the writer lock (held by the caller)."""
        try:
            with self._factory() as session:
                try:
                    session.execute(text("BEGIN IMMEDIATE"))
                    for item in group:
                        item.run(session)
                    session.commit()
                except BaseException as exc:
                    session.rollback()
                    for item in group:  # nothing of the group was committed
                        item.error = item.error or exc
                    if not isinstance(exc, Exception):
                        raise
        finally:
            for item in group:
                item.done = True

    def dispose(self) -> None:
        self.engine.dispose()
