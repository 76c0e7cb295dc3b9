"""Several processes writing one SQLite file (the server and a CLI command beside it): each
write transaction takes the write lock when it begins, so what it read is still true when it
writes (a link checked unused is still unused when the answer is stored), and no writer
fails with "database is locked"."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from sqlalchemy import text

from alliance.store import Database

WRITES = 150


def _writer(url: str, who: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    db = Database(url)
    failures = 0
    for _ in range(WRITES):
        try:
            with db.write() as s:  # read, then write: the pattern of every submission
                n = s.execute(text("SELECT count(*) FROM tally")).scalar_one()
                time.sleep(0.002)  # the work between the read and the write (scoring, ...)
                s.execute(text("INSERT INTO tally (who, seen) VALUES (:w, :n)"),
                          {"w": who, "n": n})
        except Exception:
            failures += 1
    db.dispose()
    out.put(failures)


def test_three_processes_reading_then_writing_are_serial_and_lose_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    db = Database(url)
    with db.write() as s:
        s.execute(text("CREATE TABLE tally (id INTEGER PRIMARY KEY, who INT, seen INT)"))
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, w, out)) for w in range(3)]
    for p in procs:
        p.start()
    failures = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    with db.read() as s:
        stored = s.execute(text("SELECT count(*) FROM tally")).scalar_one()
        distinct = s.execute(text("SELECT count(DISTINCT seen) FROM tally")).scalar_one()
    db.dispose()
    assert failures == [0, 0, 0]
    assert stored == 3 * WRITES
    assert distinct == stored  # every writer saw every earlier write: serial, not interleaved
