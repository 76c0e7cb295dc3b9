"""Backup drill under write load (issue 11, item 10; docs/reliability.md, Backup and restore).

1. Seeds a temporary SQLite clinic with one-time survey links (``bench_web.seed``).
2. Starts a server-like process with ``--writers`` threads, each submitting its share of
   the links through :func:`alliance.store.surveys.submit` (the store call behind
   ``POST /survey``) on one shared :class:`~alliance.store.Database`, as ``alliance serve``
   does on SQLite (one process; its writers queue on its lock).
3. While they write, the main process (as ``alliance backup`` run beside the server)
   takes backups back to back with
   :func:`alliance.store.backup.backup` (hashes and copy in one snapshot, the copy
   verified), and restores each into a fresh file with :func:`alliance.store.backup.restore`
   (the file checked against its manifest, then ``integrity_check`` and every table's hash
   of the restored database against the manifest).
4. When the writers are done, one last backup is taken and restored, and every
   acknowledged submission must be in it.

Prints the figures; exit status 1 on any mismatch, integrity failure, lost submission or
writer error.

    PYTHONPATH=src python benchmarks/drill_backup.py                 # the figures
    PYTHONPATH=src python benchmarks/drill_backup.py --short         # the quick check
    PYTHONPATH=src python benchmarks/drill_backup.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing as mp
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).parent))
from bench_web import ANSWERS, seed

from alliance.errors import AllianceError, BackupError
from alliance.store import Database, upgrade
from alliance.store import backup as backups
from alliance.store.models import Response, SurveyLink
from alliance.store.tokens import token_hash


def server(url: str, shares: list[list[str]], out: Any) -> None:
    """One process with one writer thread per share, on one :class:`Database` (the layout
    of ``alliance serve`` on SQLite: one process, writers behind its lock). Reports the
    acknowledged token hashes and the errors."""
    from alliance.store import surveys

    answers = {k: int(v) for k, v in ANSWERS.items()}
    db = Database(url)
    acked: list[str] = []
    errors: list[str] = []

    def submit_all(tokens: list[str]) -> None:
        for token in tokens:
            try:
                with db.write() as s:
                    surveys.submit(s, token, answers)
                acked.append(token_hash(token))   # write() returned: committed
            except Exception as exc:  # counted and reported, never hidden
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=submit_all, args=(share,)) for share in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.dispose()
    out.put((acked, errors))


class Places:
    """Where the drill's databases live: files in a folder, or (``--pg``) databases created
    on a PostgreSQL server and dropped at the end."""

    def __init__(self, folder: Path, pg_admin: str | None) -> None:
        self.folder = folder
        self.pg_admin = pg_admin
        self.tag = secrets.token_hex(3)
        self.made: list[str] = []

    def new(self, name: str) -> str:
        if self.pg_admin is None:
            return f"sqlite:///{self.folder / f'{name}.db'}"
        db_name = f"drill_{self.tag}_{name}"
        self._admin(f'CREATE DATABASE "{db_name}"')
        self.made.append(db_name)
        return self.pg_admin.rsplit("/", 1)[0] + f"/{db_name}"

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        if self.pg_admin is None:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self, sql: str) -> None:
        assert self.pg_admin is not None
        engine = create_engine(self.pg_admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(sql))
        engine.dispose()


def _restore_check(dest: Path, url: str) -> tuple[float, str]:
    """Restore ``dest`` into the empty database ``url``; '' when it matched, else why."""
    start = time.perf_counter()
    try:
        backups.restore(url, dest)
        return time.perf_counter() - start, ""
    except BackupError as exc:
        return time.perf_counter() - start, str(exc)


def drill(links: int, writers: int, places: Places) -> int:
    folder = places.folder
    url = places.new("clinic")
    db = Database(url)
    upgrade(db.engine)
    tokens, _ = seed(db, links)
    db.dispose()
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=server, args=(url, [tokens[i::writers]
                                                    for i in range(writers)], out))]
    started = time.perf_counter()
    for p in procs:
        p.start()
    backup_s: list[float] = []
    restore_s: list[float] = []
    rows: list[int] = []
    responses: list[int] = []
    problems: list[str] = []
    results: list[tuple[list[str], list[str]]] = []
    k = 0
    while True:
        running = any(p.is_alive() for p in procs) or len(results) < len(procs)
        while not out.empty():
            results.append(out.get())
        k += 1
        dest = folder / f"backup-{k}.db"
        t0 = time.perf_counter()
        try:
            done = backups.backup(url, dest)
        except AllianceError as exc:
            print(f"backup {k} failed: {exc}")
            for p in procs:
                p.terminate()
            return 1
        backup_s.append(time.perf_counter() - t0)
        rows.append(done.manifest.rows)
        responses.append(done.manifest.tables["responses"].rows)
        restored = places.new(f"restored_{k}")
        seconds, why = _restore_check(dest, restored)
        restore_s.append(seconds)
        if why:
            problems.append(f"backup {k}: {why}")
        if not running:
            break
        for path in (dest, backups.manifest_path(dest)):   # keep only the last backup
            path.unlink()
        places.drop(restored)
    for p in procs:
        p.join()
    writing_s = time.perf_counter() - started
    acked = {h for a, _ in results for h in a}
    errors = [e for _, es in results for e in es]
    check = Database(restored)
    with check.read() as s:
        stored = set(s.scalars(select(SurveyLink.token_hash).join(
            Response, Response.link_id == SurveyLink.id)))
    check.dispose()
    lost = len(acked - stored)
    grew = all(a <= b for a, b in itertools.pairwise(responses))
    print(f"{'PostgreSQL' if places.pg_admin else 'SQLite'}; "
          f"writers: {writers} threads in one process, {links} links; acknowledged {len(acked)}, "
          f"writer errors {len(errors)}; {writing_s:.1f} s in all")
    print(f"backups: {k - 1} taken while writing, 1 after (responses per backup "
          f"{responses[0]}..{responses[-1]}, never fewer than the one before: {grew})")
    print(f"rows in the last backup: {rows[-1]}")
    print(f"backup seconds: median {statistics.median(backup_s):.3f}, max {max(backup_s):.3f}; "
          f"restore+check seconds: median {statistics.median(restore_s):.3f}, "
          f"max {max(restore_s):.3f}")
    print(f"mismatches {len(problems)} (integrity_check or table hash against the manifest); "
          f"acknowledged submissions missing from the final backup: {lost}")
    for line in (problems + errors)[:10]:
        print("  " + line)
    return 0 if not problems and not errors and not lost and grew and acked else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=4000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--short", action="store_true",
                        help="the quick check: 2 writers, 200 links")
    parser.add_argument("--pg", metavar="ADMIN_URL", default=None,
                        help="drill on PostgreSQL: a URL of a database on the server (e.g. "
                             "postgresql+psycopg://postgres@127.0.0.1:5432/test); the drill "
                             "creates and drops its own databases there")
    args = parser.parse_args()
    links, writers = (200, 2) if args.short else (args.links, args.writers)
    with tempfile.TemporaryDirectory(prefix="alliance-drill-") as tmp:
        places = Places(Path(tmp), args.pg)
        try:
            return drill(links, writers, places)
        finally:
            places.close()


if __name__ == "__main__":
    sys.exit(main())
