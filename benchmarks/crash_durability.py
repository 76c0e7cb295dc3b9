"""Crash durability: ``kill -9`` of the clinic server while it takes survey submissions and
analyses transcripts, round after round (issue 11, "Prove").

One temporary SQLite clinic (WAL), seeded with one-time survey links (as in
``bench_web.py``) and an encryption key. Each round:

1. tops the worker's backlog up to 5 transcripts (through the store's own upload,
   encrypted);
2. starts ``alliance serve`` (one process; its worker thread claims transcripts with a lease
   of ``--lease`` seconds and re-assesses the cases the submissions change);
3. 2 to 4 writers (the count varies by round) submit survey links back to back, each as a
   phone does (open the link, load the form, submit);
4. a random 0–1.5 s after the first submission is acknowledged, ``SIGKILL``s the server
   (no clean-up of any kind);
5. checks the database file as the next process finds it: ``PRAGMA integrity_check`` is
   ``ok``, every submission acknowledged so far (303 to the receipt, in this or any earlier
   round) is stored, no link has two responses; counts the transcripts the kill left
   claimed (``running``), i.e. rounds that killed an analysis in progress.

After the last round the server is started once more and left to drain: no transcript may
stay claimed (the dead workers' leases run out and another claim finishes the job) and
every case is re-assessed. Exit status 1 on any failure.

    PYTHONPATH=src python benchmarks/crash_durability.py --rounds 200 [--report out.json]

``--rounds 3`` is the short mode ``tests/web/test_crash_durability.py`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from bench_web import Connection, answer_link, seed

from alliance.store import Box, Database, generate_key, transcripts, upgrade
from alliance.store.actors import load_actor
from alliance.store.models import Case, Consent, Session, User, utcnow
from alliance.store.tokens import token_hash
from alliance.testing.server import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "examples" / "transcripts" / "rupture-repair.txt").read_bytes()
# 40 copies: about 150 ms of analysis with the rules coder, so kills land inside analyses
TRANSCRIPT = b"\n".join([SAMPLE] * 40)
BACKLOG = 5  # transcripts waiting for the worker at the start of each round


@dataclass
class Figures:
    rounds: int = 0
    acknowledged: int = 0
    lost: int = 0
    duplicates: int = 0
    integrity_failures: int = 0
    server_errors: int = 0
    rounds_with_acknowledged: int = 0
    kills_during_analysis: int = 0
    transcripts_queued: int = 0
    transcripts_left_claimed: int = 0
    transcripts_reclaimed: int = 0
    cases_not_reassessed: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        server = subprocess.Popen([sys.executable, "-m", "alliance", "serve", "--port",
                                   str(port)], env=env, stdout=out, stderr=out)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server, timeout=120)
    except RuntimeError as exc:
        server.kill()
        raise RuntimeError(f"{exc}; see {log}") from None
    return server


async def writer(port: int, pool: list[str], acked: list[str], errors: list[str],
                 serving: asyncio.Event) -> None:
    """Submit links back to back until the pool is empty or the server dies."""
    conn = Connection("127.0.0.1", port)
    try:
        while pool:
            token = pool.pop()
            try:
                step, status, _ = await answer_link(conn, token)
                if step == "acknowledged":
                    acked.append(token)
                    serving.set()
                else:
                    errors.append(f"{step} {status}")
            except (OSError, asyncio.IncompleteReadError, RuntimeError, ValueError,
                    IndexError):
                return  # killed: the answer to this token is unknown, so it is not counted
    finally:
        await conn.close()


async def load_then_kill(port: int, pid: int, pool: list[str], writers: int, delay: float,
                         acked: list[str], errors: list[str]) -> None:
    serving = asyncio.Event()

    async def killer() -> None:
        # the clock starts at the first acknowledgement, so that on a slow machine the kill
        # still lands among submissions, not before the first one
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(serving.wait(), timeout=60)
        await asyncio.sleep(delay)
        os.kill(pid, signal.SIGKILL)

    await asyncio.gather(killer(), *(writer(port, pool, acked, errors, serving)
                                     for _ in range(writers)))


def queue_transcripts(url: str, box: Box, n: int) -> int:
    """``n`` transcripts uploaded through the store (encrypted, queued), server down."""
    db = Database(url)
    try:
        with db.write() as s:
            for _ in range(n):
                case_id, clinician = s.execute(select(Case.id, Case.clinician_id)
                                               .order_by(Case.id).limit(1)).one()
                session_id = s.scalars(select(Session.id).where(Session.case_id == case_id)
                                       .limit(1)).one()
                user = s.get(User, clinician)
                assert user is not None
                transcripts.upload(s, box, load_actor(s, user), case_id, session_id,
                                   "session.txt", TRANSCRIPT)
    finally:
        db.dispose()
    return n


def check(path: Path, acked_hashes: set[str]) -> tuple[str, int, int, dict[str, int]]:
    """(integrity_check result, acknowledged but missing, links answered twice, transcript
    states) as a fresh process opening the file finds it."""
    conn = sqlite3.connect(path)
    try:
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"
            return f"unreadable: {exc}", len(acked_hashes), 0, {}
        stored = {h for (h,) in conn.execute(
            "SELECT l.token_hash FROM survey_links l JOIN responses r ON r.link_id = l.id")}
        twice = conn.execute("SELECT COUNT(*) FROM (SELECT link_id FROM responses WHERE "
                             "link_id IS NOT NULL GROUP BY link_id HAVING COUNT(*) > 1)"
                             ).fetchone()[0]
        states = dict(conn.execute("SELECT status, COUNT(*) FROM transcripts GROUP BY status"))
    finally:
        conn.close()
    return result, len(acked_hashes - stored), int(twice), states


def drain(env: dict[str, str], port: int, log: Path, path: Path, timeout: float) -> tuple[
        dict[str, int], int, int]:
    """Start the server once more and wait until no transcript is queued or claimed and
    every case is assessed, failing after ``timeout`` seconds without progress; (transcript
    states, cases behind, transcripts reclaimed)."""
    server = start_server(env, port, log)
    deadline = time.monotonic() + timeout
    last = None
    try:
        while True:
            conn = sqlite3.connect(path)
            try:
                states = dict(conn.execute(
                    "SELECT status, COUNT(*) FROM transcripts GROUP BY status"))
                behind = conn.execute("SELECT COUNT(*) FROM case_monitor WHERE "
                                      "assessed_version < version").fetchone()[0]
                retried = conn.execute("SELECT COUNT(*) FROM transcripts WHERE attempts > 1"
                                       ).fetchone()[0]
            finally:
                conn.close()
            waiting = states.get("queued", 0) + states.get("running", 0)
            if (waiting == 0 and behind == 0) or time.monotonic() > deadline:
                return states, int(behind), int(retried)
            if (waiting, behind) != last:  # progress: the deadline counts from here
                last, deadline = (waiting, behind), time.monotonic() + timeout
            time.sleep(0.5)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def run(rounds: int, *, lease: float, seed_value: int, folder: Path,
        minutes: float | None = None, per_round: int = 120) -> Figures:
    rng = random.Random(seed_value)
    path = folder / "crash.db"
    url = f"sqlite:///{path}"
    db = Database(url)
    upgrade(db.engine)
    tokens, _ = seed(db, max(400, rounds * per_round))
    with db.write() as s:  # the transcript case consents to transcripts
        first = s.scalars(select(Case.id).order_by(Case.id).limit(1)).one()
        s.add(Consent(case_id=first, kind="transcripts", granted=True, recorded_at=utcnow(),
                      recorded_by=s.scalars(select(User.id).limit(1)).one()))
    db.dispose()
    key_file = folder / "key"
    key_file.write_text(generate_key())
    key_file.chmod(0o600)
    box = Box.from_text(key_file.read_text())
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "ALLIANCE_DATABASE_URL": url,
           "ALLIANCE_ENCRYPTION_KEY_FILE": str(key_file),
           "ALLIANCE_JOB_LEASE_SECONDS": str(lease), "ALLIANCE_TRANSCRIPT_CODER": "rules"}
    env.pop("ALLIANCE_ENCRYPTION_KEY", None)
    log = folder / "server.log"
    pool = list(reversed(tokens))
    figures = Figures()
    acked_hashes: set[str] = set()
    t0 = time.perf_counter()
    waiting = 0
    for r in range(1, rounds + 1):
        # keep BACKLOG transcripts waiting, so every round's worker has analyses to do and
        # the backlog left for the final drain stays small
        figures.transcripts_queued += queue_transcripts(url, box, max(0, BACKLOG - waiting))
        port = free_port()
        server = start_server(env, port, log)
        writers = rng.randint(2, 4)
        delay = rng.uniform(0.0, 1.5)
        acked: list[str] = []
        errors: list[str] = []
        asyncio.run(load_then_kill(port, server.pid, pool, writers, delay, acked, errors))
        server.wait(timeout=30)
        acked_hashes.update(token_hash(t) for t in acked)
        integrity, missing, twice, states = check(path, acked_hashes)
        figures.rounds = r
        figures.acknowledged = len(acked_hashes)
        figures.lost = max(figures.lost, missing)
        figures.duplicates = max(figures.duplicates, twice)
        figures.server_errors += sum(1 for e in errors if e.split()[-1].startswith("5"))
        running = states.get("running", 0)
        waiting = running + states.get("queued", 0)
        figures.kills_during_analysis += running > 0
        figures.rounds_with_acknowledged += bool(acked)
        if integrity != "ok":
            figures.integrity_failures += 1
            figures.failures.append(f"round {r}: integrity_check says {integrity[:200]}")
        if missing or twice:
            figures.failures.append(f"round {r}: {missing} acknowledged submissions missing, "
                                    f"{twice} links answered twice")
        print(f"round {r}/{rounds}: {writers} writers, killed {delay:.2f} s after the first "
              f"acknowledgement, "
              f"{len(acked)} acknowledged ({len(acked_hashes)} in all), integrity {integrity}, "
              f"missing {missing}, transcripts claimed at the kill {running}", flush=True)
        if not pool:
            figures.failures.append(f"round {r}: out of survey links; seed more")
            break
        if minutes is not None and time.perf_counter() - t0 > minutes * 60:
            print(f"time budget of {minutes:g} min spent after {r} rounds", flush=True)
            break
    states, behind, retried = drain(env, free_port(), log, path, timeout=lease * 3 + 120)
    figures.transcripts_left_claimed = states.get("running", 0) + states.get("queued", 0)
    figures.transcripts_reclaimed = retried
    figures.cases_not_reassessed = behind
    if figures.transcripts_left_claimed:
        figures.failures.append(f"after restart: transcripts not finished {states}")
    if behind:
        figures.failures.append(f"after restart: {behind} cases not re-assessed")
    if figures.server_errors:
        figures.failures.append(f"{figures.server_errors} answers were server errors")
    figures.seconds = round(time.perf_counter() - t0, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--lease", type=float, default=2.0,
                        help="the worker's job lease in seconds (ALLIANCE_JOB_LEASE_SECONDS)")
    parser.add_argument("--minutes", type=float,
                        help="start no new round after this many minutes (a busy machine)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--report", type=Path, help="write the figures as JSON here")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        figures = run(args.rounds, lease=args.lease, seed_value=args.seed, folder=args.keep,
                      minutes=args.minutes)
    else:
        with tempfile.TemporaryDirectory(prefix="alliance-crash-") as tmp:
            figures = run(args.rounds, lease=args.lease, seed_value=args.seed,
                          folder=Path(tmp), minutes=args.minutes)
    print(f"{figures.rounds} rounds of kill -9 in {figures.seconds:.0f} s: "
          f"{figures.acknowledged} submissions acknowledged, {figures.lost} lost, "
          f"{figures.duplicates} duplicates, {figures.integrity_failures} integrity failures, "
          f"{figures.server_errors} server errors")
    print(f"rounds whose kill came after submissions were acknowledged: "
          f"{figures.rounds_with_acknowledged}")
    print(f"transcripts: {figures.transcripts_queued} queued, {figures.kills_during_analysis} "
          f"kills during an analysis, {figures.transcripts_reclaimed} re-claimed after their "
          f"lease ran out, {figures.transcripts_left_claimed} left claimed or queued after "
          f"restart; cases not re-assessed: {figures.cases_not_reassessed}")
    if args.report:
        args.report.write_text(json.dumps(asdict(figures), indent=2), encoding="utf-8")
    for failure in figures.failures:
        print("FAIL:", failure)
    ok = not figures.failures and figures.rounds == args.rounds
    if not figures.failures and figures.rounds < args.rounds:
        print(f"no failure, but {figures.rounds} of {args.rounds} rounds run (time budget)")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
