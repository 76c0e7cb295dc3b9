"""Write latency under a flood of log-ins, with the argon2 hash inside the SQLite writer lock
(the old path, ``accounts.authenticate`` in one write transaction) and outside it
(``accounts.log_in``), with the hashing threads at the lowest priority (nice 19, as shipped)
and at normal priority; and the answer time of a disabled against an enabled account.

    PYTHONPATH=src python benchmarks/bench_login_flood.py [--threads 16] [--writes 30]

Prints p50/p95/max of one small write transaction while the flood runs, for each path.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from alliance.errors import AuthError
from alliance.store import Database, accounts, audit, passwords, upgrade
from alliance.store.actors import Actor
from alliance.store.models import User
from alliance.store.passwords import hash_password


def _setup(folder: Path) -> Database:
    db = Database(f"sqlite:///{folder / 'flood.db'}")
    upgrade(db.engine)
    stored = hash_password("correct-horse-battery")
    with db.write() as s:
        s.add(User(email="dana@example.org", name="Dana", role="clinician",
                   password_hash=stored, active=True))
        s.add(User(email="off@example.org", name="Off", role="clinician",
                   password_hash=stored, active=False))
    return db


def _old(db: Database, ip: str) -> None:
    with db.write() as s, contextlib.suppress(AuthError):
        accounts.authenticate(s, "dana@example.org", "wrong password", ip=ip)


def _new(db: Database, ip: str) -> None:
    with contextlib.suppress(AuthError):
        accounts.log_in(db, "dana@example.org", "wrong password", ip=ip)


def _flood(db: Database, attempt, threads: int, writes: int) -> list[float]:  # type: ignore[no-untyped-def]
    stop = threading.Event()

    def flood(k: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            attempt(db, f"10.{k}.{n // 250}.{n % 250}")  # a fresh address: never throttled

    pool = [threading.Thread(target=flood, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    time.sleep(1.0)
    actor = Actor(1, "dana@example.org", "clinician")
    latencies = []
    for i in range(writes):
        start = time.perf_counter()
        with db.write() as s:
            audit.record(s, actor, "case.read", case_id=i)
        latencies.append((time.perf_counter() - start) * 1000)
        time.sleep(0.01)
    stop.set()
    for t in pool:
        t.join()
    return latencies


def _hashing_priority(nice: int) -> None:
    """Fresh hashing threads at ``nice`` (the pool is made on first use)."""
    passwords._hashing().shutdown(wait=True)
    passwords._hashing.cache_clear()
    passwords._lower_priority = lambda: os.setpriority(os.PRIO_PROCESS, 0, nice)  # type: ignore[assignment]
    passwords._hashing()


def _summary(ms: list[float]) -> str:
    ordered = sorted(ms)
    p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return f"p50 {p(0.5):.1f} ms, p95 {p(0.95):.1f} ms, max {ordered[-1]:.1f} ms"


def _answer_ms(db: Database, email: str, n: int) -> float:
    times = []
    for i in range(n):
        start = time.perf_counter()
        with contextlib.suppress(AuthError):
            accounts.log_in(db, email, "wrong password", ip=f"192.0.2.{i}")
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--writes", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = _setup(Path(tmp))
        quiet = _flood(db, lambda db, ip: time.sleep(0.05), 1, args.writes)
        print(f"no flood:                       {_summary(quiet)}")
        old = _flood(db, _old, args.threads, args.writes)
        print(f"flood, hash inside the lock:    {_summary(old)}")
        new = _flood(db, _new, args.threads, args.writes)
        print(f"flood, hash outside, nice 19:   {_summary(new)}")
        _hashing_priority(0)  # the same with the hashing threads at normal priority
        normal = _flood(db, _new, args.threads, args.writes)
        print(f"flood, hash outside, nice 0:    {_summary(normal)}")
        _hashing_priority(passwords.LOW_PRIORITY)
        enabled = _answer_ms(db, "dana@example.org", 20)
        disabled = _answer_ms(db, "off@example.org", 20)
        print(f"wrong-password answer, median of 20: enabled {enabled:.1f} ms, "
              f"disabled {disabled:.1f} ms (ratio {disabled / enabled:.2f})")
        db.dispose()


if __name__ == "__main__":
    main()
