"""Load benchmark of the clinic web app on SQLite (issue 5, performance).

1. Seeds a temporary SQLite clinic: 4 clinicians x 25 cases x 100 sessions, and one
   one-time survey link per session (10,000 links).
2. Starts ``uvicorn`` in a separate process on 127.0.0.1 (one worker).
3. 100 simulated clients (asyncio, a minimal keep-alive HTTP/1.1 client) each work
   through 100 links as a phone would: open the link (token moved into a cookie,
   redirect), load the form, submit, on an
   open-loop schedule that offers ``--rate`` submissions per second in all (51). The
   submission (POST) latency is recorded; every acknowledged submission (303 to the
   receipt) is afterwards checked to be stored in the database.
4. With the 10,000 responses stored, 2 concurrent clinicians load a caseload page
   (25 cases, 2,500 responses) 300 times in all.

Targets: >= 50 submissions/s, submission p95 < 100 ms, 0 server errors, every acknowledged
submission stored; dashboard p95 < 150 ms. Exit status 1 when a target is missed.

    PYTHONPATH=src python benchmarks/bench_web.py [--clients 100] [--per-client 100]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import insert, select

from alliance.store import Database, upgrade
from alliance.store.accounts import start_session
from alliance.store.models import (
    Case,
    Consent,
    Measure,
    Member,
    Response,
    Session,
    SurveyLink,
    User,
    utcnow,
)
from alliance.store.passwords import hash_password
from alliance.store.tokens import new_token, token_hash
from alliance.testing.server import free_port, wait_healthy

ANSWERS = {"b1": "4", "b2": "5", "b3": "2", "b4": "4", "g1": "4", "g2": "3", "g3": "2",
           "g4": "4", "t1": "4", "t2": "4", "t3": "1", "t4": "5"}


def seed(db: Database, n_links: int) -> tuple[list[str], str]:
    """Accounts, cases, sessions and ``n_links`` open links; returns tokens and a session."""
    pw = hash_password("benchmark-password")
    now = utcnow()
    tokens: list[str] = []
    with db.write() as s:
        clinicians = [User(email=f"c{i}@example.org", name=f"C{i}", role="clinician",
                           password_hash=pw) for i in range(4)]
        s.add_all(clinicians)
        s.flush()
        cases_per = 25
        per_case = max(1, n_links // (4 * cases_per))
        case_rows = [{"label": f"case {c}-{k}", "clinician_id": cl.id, "modality": "individual",
                      "cultural_notes": "", "normative_cues": [], "created_at": now}
                     for c, cl in enumerate(clinicians) for k in range(cases_per)]
        s.execute(insert(Case), case_rows)
        case_ids = list(s.scalars(select(Case.id).order_by(Case.id)))
        owner = dict(s.execute(select(Case.id, Case.clinician_id)).all())
        s.execute(insert(Member), [{"case_id": c, "label": "Client", "rater": "client"}
                                   for c in case_ids])
        s.execute(insert(Consent), [{"case_id": c, "kind": "measures", "granted": True,
                                     "recorded_at": now, "recorded_by": owner[c]}
                                    for c in case_ids])
        s.execute(insert(Measure), [{"case_id": c, "instrument_id": "alliance-12",
                                     "rater": "client", "every": 1} for c in case_ids])
        start = dt.date(2024, 1, 1)
        s.execute(insert(Session), [{"case_id": c, "number": n + 1,
                                     "date": start + dt.timedelta(weeks=n),
                                     "attendance": "attended", "minutes_late": 0,
                                     "homework": "completed"}
                                    for c in case_ids for n in range(per_case)])
        member = dict(s.execute(select(Member.case_id, Member.id)).all())
        links = []
        for sid, cid in s.execute(select(Session.id, Session.case_id).order_by(Session.id)):
            token = new_token()
            tokens.append(token)
            links.append({"case_id": cid, "session_id": sid, "member_id": member[cid],
                          "rater": "client", "instrument_id": "alliance-12",
                          "token_hash": token_hash(token), "created_at": now,
                          "created_by": owner[cid], "expires_at": now + dt.timedelta(days=7)})
        s.execute(insert(SurveyLink), links)
        login = start_session(s, clinicians[0])
    return tokens[:n_links], login.token


class Connection:
    """A minimal keep-alive HTTP/1.1 client on asyncio streams.

    The load generator shares the machine's cores with the server; httpx costs a few
    milliseconds of CPU per request, this a fraction of one, so the figures describe the
    server rather than the client. It handles exactly what this app sends: responses with
    ``Content-Length``.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> tuple[int, list[tuple[str, str]], bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            assert self.reader is not None and self.writer is not None
            head = [f"{method} {path} HTTP/1.1", f"host: {self.host}:{self.port}",
                    f"content-length: {len(body)}"]
            head += [f"{k}: {v}" for k, v in (headers or {}).items()]
            self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
            try:
                await self.writer.drain()
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionResetError("closed by server")
            except (ConnectionError, OSError):
                self.writer = None  # the server closed an idle keep-alive connection
                if attempt == 2:
                    raise
                continue
            status = int(status_line.split()[1])
            fields: list[tuple[str, str]] = []
            while True:
                line = await self.reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                fields.append((name.strip().lower(), value.strip()))
            length = int(next((v for k, v in fields if k == "content-length"), "0"))
            payload = await self.reader.readexactly(length) if length else b""
            if any(k == "connection" and v.lower() == "close" for k, v in fields):
                self.writer = None
            return status, fields, payload
        raise RuntimeError("unreachable")


def cookie_from(fields: list[tuple[str, str]], name: str) -> str:
    for key, value in fields:
        if key == "set-cookie" and value.startswith(name + "="):
            return value.split(";", 1)[0].split("=", 1)[1]
    raise RuntimeError(f"no {name} cookie in the response")


def header(fields: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in fields if k == name), "")


SURVEY_COOKIE = "__Host-alliance-survey"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def csrf_for(form_token: str) -> str:
    """The survey form's CSRF value for its cookie (as the app derives it)."""
    return hashlib.sha256(b"alliance-survey-csrf:" + form_token.encode()).hexdigest()


def submission_body(form_token: str) -> bytes:
    return urlencode({"csrf": csrf_for(form_token),
                      **{f"item_{k}": v for k, v in ANSWERS.items()}}).encode()


async def answer_link(conn: Connection, token: str,
                      seen: Callable[[str, int], None] = lambda step, status: None
                      ) -> tuple[str, int, float]:
    """What a client's phone does with a link: open it, load the form, submit the answers.
    ``seen(step, status)`` hears each answer; returns (the last step: ``open``, ``form``,
    ``submit`` or ``acknowledged``; its status; the submission's round trip in seconds)."""
    status, fields, _ = await conn.request("GET", f"/s/{token}")
    seen("open", status)
    if status != 303:
        return "open", status, 0.0
    form = cookie_from(fields, SURVEY_COOKIE)
    cookie = {"cookie": f"{SURVEY_COOKIE}={form}"}
    status, _, page = await conn.request("GET", "/survey", cookie)
    seen("form", status)
    if status != 200:
        return "form", status, 0.0
    assert csrf_for(form).encode() in page
    t0 = time.perf_counter()
    status, fields, _ = await conn.request("POST", "/survey", {**cookie, **FORM},
                                           submission_body(form))
    seconds = time.perf_counter() - t0
    seen("submit", status)
    thanked = status == 303 and header(fields, "location") == "/survey/thanks"
    return ("acknowledged" if thanked else "submit"), status, seconds


async def client_run(host: str, port: int, tokens: list[str], lat: list[float],
                     acked: list[str], errors: list[str], *, start: float,
                     interval: float) -> None:
    """One phone after another: submission k of this client is due at start + k*interval
    (an open-loop schedule, so a slow server shows up as latency, not as a slower load)."""
    loop = asyncio.get_running_loop()
    conn = Connection(host, port)
    try:
        for k, token in enumerate(tokens):
            delay = start + k * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                step, status, seconds = await answer_link(conn, token)
                if step == "acknowledged":
                    acked.append(token)
                else:
                    errors.append(f"{step} {status}")
                if step in ("acknowledged", "submit"):
                    lat.append(seconds)
            except (OSError, asyncio.IncompleteReadError) as exc:
                errors.append(type(exc).__name__)
    finally:
        await conn.close()


async def dashboard_run(host: str, port: int, session_token: str, n: int, lat: list[float],
                        errors: list[str]) -> None:
    headers = {"cookie": f"__Host-alliance-session={session_token}"}
    conn = Connection(host, port)
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            status, _, _ = await conn.request("GET", "/dashboard", headers)
            lat.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(f"dashboard {status}")
    finally:
        await conn.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``), to separate the server's own
    cost from a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--per-client", type=int, default=100)
    parser.add_argument("--rate", type=float, default=51.0,
                        help="offered submissions per second, shared by all clients")
    parser.add_argument("--dashboard-requests", type=int, default=300)
    parser.add_argument("--dashboard-clients", type=int, default=2)
    args = parser.parse_args()
    n = args.clients * args.per_client
    folder = Path(tempfile.mkdtemp(prefix="alliance-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    db = Database(url)
    upgrade(db.engine)
    t0 = time.perf_counter()
    tokens, session_token = seed(db, n)
    print(f"seeded {len(tokens)} links in {time.perf_counter() - t0:.1f} s ({url})")
    port = free_port()
    env = {**os.environ, "ALLIANCE_DATABASE_URL": url,
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    env.pop("ALLIANCE_ENCRYPTION_KEY", None)
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "alliance.web.asgi:app",
                               "--factory", "--host", "127.0.0.1", "--port", str(port),
                               "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, server)
        lat: list[float] = []
        acked: list[str] = []
        errors: list[str] = []
        per = args.per_client

        async def load() -> None:
            # 100 clients share the target rate; client i starts i/rate seconds in
            interval = args.clients / args.rate
            t_start = asyncio.get_running_loop().time()
            await asyncio.gather(*(client_run("127.0.0.1", port, tokens[i * per:(i + 1) * per],
                                              lat, acked, errors,
                                              start=t_start + i / args.rate,
                                              interval=interval)
                                   for i in range(args.clients)))

        cpu0 = cpu_seconds(server.pid)
        t0 = time.perf_counter()
        asyncio.run(load())
        wall = time.perf_counter() - t0
        cpu = cpu_seconds(server.pid) - cpu0
        with db.read() as s:
            stored = set(s.scalars(select(SurveyLink.token_hash).join(
                Response, Response.link_id == SurveyLink.id)))
        missing = [t for t in acked if token_hash(t) not in stored]
        rate = len(acked) / wall
        sub_p95 = p95(lat) * 1000
        server_errors = sum(1 for e in errors if e.split()[-1].startswith("5"))
        print(f"submissions: {len(acked)}/{n} acknowledged in {wall:.1f} s = {rate:.1f}/s "
              f"(target >= 50/s, ratio {rate / 50:.2f})")
        print(f"submission latency: p50 {statistics.median(lat) * 1000:.1f} ms, "
              f"p95 {sub_p95:.1f} ms (target < 100 ms, ratio {sub_p95 / 100:.2f})")
        print(f"server CPU: {cpu / max(1, len(acked)) * 1000:.1f} ms per submission (open, "
              f"form, submit), i.e. at most {len(acked) / max(cpu, 1e-9):.0f}/s on one free "
              f"core; machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"errors: {len(errors)} ({server_errors} server errors); acknowledged but not "
              f"stored: {len(missing)}")
        dlat: list[float] = []
        derr: list[str] = []

        async def dash() -> None:
            k = args.dashboard_requests // args.dashboard_clients
            await asyncio.gather(*(dashboard_run("127.0.0.1", port, session_token, k, dlat,
                                                 derr)
                                   for _ in range(args.dashboard_clients)))

        with db.read() as s:
            total = len(s.scalars(select(Response.id)).all())
        asyncio.run(dash())
        d95 = p95(dlat) * 1000
        print(f"dashboard with {total} stored responses (caseload of 25 cases): p50 "
              f"{statistics.median(dlat) * 1000:.1f} ms, p95 {d95:.1f} ms (target < 150 ms, "
              f"ratio {d95 / 150:.2f}); errors {len(derr)}")
        ok = (rate >= 50 and sub_p95 < 100 and server_errors == 0 and not errors
              and not missing and len(acked) == n and d95 < 150 and not derr)
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(timeout=10)
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
