"""Load benchmark of the clinic web app on SQLite (issue 5, performance).

1. Seeds a temporary SQLite clinic: 4 clinicians x 25 cases x 100 sessions, and one
   one-time survey link per session (10,000 links).
2. Starts ``uvicorn`` in a separate process on 127.0.0.1 (one worker).
3. 100 simulated clients (asyncio + httpx) each work through 100 links as a phone would:
   open the link (token swapped for a cookie, redirect), load the form, submit, on an
   open-loop schedule that offers ``--rate`` submissions per second in all (60). The
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
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
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


def cookie_from(response: httpx.Response, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(name + "="):
            return header.split(";", 1)[0].split("=", 1)[1]
    raise RuntimeError(f"no {name} cookie in {response.status_code} response")


async def client_run(base: str, tokens: list[str], lat: list[float], acked: list[str],
                     errors: list[str], *, start: float, interval: float) -> None:
    """One phone after another: submission k of this client is due at start + k*interval
    (an open-loop schedule, so a slow server shows up as latency, not as a slower load)."""
    import hashlib

    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for k, token in enumerate(tokens):
            delay = start + k * interval - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                r = await http.get(f"/s/{token}")
                if r.status_code != 303:
                    errors.append(f"open {r.status_code}")
                    continue
                form_cookie = cookie_from(r, "__Host-alliance-survey")
                headers = {"cookie": f"__Host-alliance-survey={form_cookie}"}
                page = await http.get("/survey", headers=headers)
                if page.status_code != 200:
                    errors.append(f"form {page.status_code}")
                    continue
                csrf = hashlib.sha256(b"alliance-survey-csrf:" + form_cookie.encode()).hexdigest()
                assert csrf in page.text
                data = {"csrf": csrf, **{f"item_{k}": v for k, v in ANSWERS.items()}}
                t0 = time.perf_counter()
                r = await http.post("/survey", data=data, headers=headers)
                lat.append(time.perf_counter() - t0)
                if r.status_code == 303 and r.headers["location"] == "/survey/thanks":
                    acked.append(token)
                else:
                    errors.append(f"submit {r.status_code}")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)


async def dashboard_run(base: str, session_token: str, n: int, lat: list[float],
                        errors: list[str]) -> None:
    headers = {"cookie": f"__Host-alliance-session={session_token}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for _ in range(n):
            t0 = time.perf_counter()
            r = await http.get("/dashboard", headers=headers)
            lat.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors.append(f"dashboard {r.status_code}")


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
    parser.add_argument("--rate", type=float, default=60.0,
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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "ALLIANCE_DATABASE_URL": url,
           "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    env.pop("ALLIANCE_ENCRYPTION_KEY", None)
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "alliance.web.app:create_app",
                               "--factory", "--host", "127.0.0.1", "--port", str(port),
                               "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        lat: list[float] = []
        acked: list[str] = []
        errors: list[str] = []
        per = args.per_client

        async def load() -> None:
            # 100 clients share the target rate; client i starts i/rate seconds in
            interval = args.clients / args.rate
            t_start = asyncio.get_running_loop().time()
            await asyncio.gather(*(client_run(base, tokens[i * per:(i + 1) * per], lat, acked,
                                              errors, start=t_start + i / args.rate,
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
            await asyncio.gather(*(dashboard_run(base, session_token, k, dlat, derr)
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
