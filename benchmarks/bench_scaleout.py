"""Submissions per second with 1 and with 2 web processes on PostgreSQL (issue 9, scale-out).

For each process count N: a fresh PostgreSQL database is seeded with one-time survey links
(as in ``bench_web.py``), ``alliance serve --workers N --no-worker`` starts, and
``--clients`` simulated phones work through the links back to back (closed loop: each
opens its link, loads the form and submits, then takes the next), so the figure is the
server's throughput. Every acknowledged submission is checked to be stored.

Target: 2 processes >= 1.8x the submissions/s of 1. The load generator runs on the same
machine; with 2 cores shared by server processes, PostgreSQL and the clients, the ratio
is bounded by the cores, so the machine's core count and load are printed with the figures.

    PYTHONPATH=src python benchmarks/bench_scaleout.py [--links 3000] [--clients 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, select, text

sys.path.insert(0, str(Path(__file__).parent))
from bench_web import client_run, cpu_seconds, seed

from alliance.store import Database, upgrade
from alliance.store.models import Response, SurveyLink
from alliance.store.tokens import token_hash
from alliance.testing.server import free_port, wait_healthy

SRC = Path(__file__).resolve().parents[1] / "src"


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``)."""
    out = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            out.extend(tree(int(child)))
    return out


def tree_cpu(pid: int) -> float:
    total = 0.0
    for p in tree(pid):
        with contextlib.suppress(OSError):  # a process that just exited
            total += cpu_seconds(p)
    return total


def run(url: str, processes: int, links: int, clients: int) -> tuple[float, int, int, float]:
    """(submissions/s, acknowledged, acknowledged but not stored, server CPU seconds per
    submission) for one process count."""
    db = Database(url)
    upgrade(db.engine)
    tokens, _ = seed(db, links)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), "ALLIANCE_DATABASE_URL": url}
    env.pop("ALLIANCE_ENCRYPTION_KEY", None)
    env.pop("ALLIANCE_ENCRYPTION_KEY_FILE", None)
    server = subprocess.Popen([sys.executable, "-m", "alliance", "serve", "--workers",
                               str(processes), "--no-worker", "--port", str(port)], env=env)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server)
        lat: list[float] = []
        acked: list[str] = []
        errors: list[str] = []
        per = len(tokens) // clients

        async def load() -> None:
            start = asyncio.get_running_loop().time()
            await asyncio.gather(*(client_run("127.0.0.1", port, tokens[i * per:(i + 1) * per],
                                              lat, acked, errors, start=start, interval=0.0)
                                   for i in range(clients)))

        cpu0 = tree_cpu(server.pid)
        t0 = time.perf_counter()
        asyncio.run(load())
        wall = time.perf_counter() - t0
        cpu = tree_cpu(server.pid) - cpu0
        with db.read() as s:
            stored = set(s.scalars(select(SurveyLink.token_hash).join(
                Response, Response.link_id == SurveyLink.id)))
        missing = sum(1 for t in acked if token_hash(t) not in stored)
        if errors:
            print(f"  errors: {len(errors)} (first: {errors[:3]})")
        return len(acked) / wall, len(acked), missing, cpu / max(1, len(acked))
    finally:
        server.terminate()
        server.wait(timeout=30)
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--admin-url", default=os.environ.get(
        "ALLIANCE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--links", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1,
                        help="alternate 1 and 2 processes this many times; report medians "
                             "(a shared machine's load drifts between runs)")
    args = parser.parse_args()
    admin = create_engine(args.admin_url, isolation_level="AUTOCOMMIT")
    measured: dict[int, list[float]] = {1: [], 2: []}
    try:
        for processes in [1, 2] * args.rounds:
            name = f"alliance_bench_{secrets.token_hex(4)}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = args.admin_url.rsplit("/", 1)[0] + f"/{name}"
            try:
                rate, acked, missing, cpu = run(url, processes, args.links, args.clients)
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            measured[processes].append(rate)
            print(f"{processes} web process(es): {acked} submissions acknowledged, "
                  f"{rate:.1f}/s; acknowledged but not stored: {missing}; server CPU "
                  f"{cpu * 1000:.1f} ms per submission (open, form, submit)")
    finally:
        admin.dispose()
    rates = {n: statistics.median(v) for n, v in measured.items()}
    ratio = rates[2] / rates[1]
    print(f"median submissions/s over {args.rounds} round(s): 1 process {rates[1]:.1f}, "
          f"2 processes {rates[2]:.1f}")
    print(f"ratio 2/1 processes: {ratio:.2f} (target >= 1.8); {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f} (the clients and PostgreSQL share those cores)")
    print("PASS" if ratio >= 1.8 else "FAIL")
    return 0 if ratio >= 1.8 else 1


if __name__ == "__main__":
    sys.exit(main())
