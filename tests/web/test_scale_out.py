"""Scale-out on PostgreSQL: two web processes and two worker processes share the jobs.

``alliance serve --workers 2 --no-worker`` and two ``alliance worker`` processes run against
one PostgreSQL database while survey answers arrive through the web; afterwards every case
has been assessed, every transcript analysed exactly once, and no alert row is doubled.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from tests.web.conftest import ALL_FOUR, _truncate_pg, add_people, make_case, plant_drop

from alliance.store import Box, Database, cases, generate_key, surveys, transcripts
from alliance.store.models import AlertFlip, AuditEvent, CaseMonitor, Response, Transcript
from alliance.testing.server import free_port, wait_healthy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
SRC = Path(__file__).parents[2] / "src"


def _submit(base: str, token: str) -> int:
    """Open a link, load the form and submit it, as a phone does."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as http:
        opened = http.get(f"/s/{token}")
        assert opened.status_code == 303, opened.text
        cookie = {"cookie": opened.headers["set-cookie"].split(";", 1)[0]}
        assert http.get("/survey", headers=cookie).status_code == 200
        csrf = hashlib.sha256(b"alliance-survey-csrf:" + token.encode()).hexdigest()
        done = http.post("/survey", headers=cookie,
                         data={"csrf": csrf, **{f"item_{k}": str(v)
                                                for k, v in ALL_FOUR.items()}})
        return done.status_code


def test_two_web_and_two_worker_processes_never_do_a_job_twice(
        pg_server_url: str, pg_app_url: str, password_hash: str, tmp_path: Path) -> None:
    owner = Database(pg_server_url)
    _truncate_pg(owner)
    owner.dispose()
    db = Database(pg_app_url)  # the processes run as the clinic's application role
    people = add_people(db, password_hash)
    dana = people["dana"]
    key = generate_key()
    (tmp_path / "key").write_text(key)
    box = Box.from_text(key)
    tokens: list[str] = []
    n_cases, n_transcripts = 10, 6
    for i in range(n_cases):
        case_id, (first,) = make_case(db, dana, label=f"case {i}")
        plant_drop(db, dana, case_id, low=2 if i % 2 else 4)
        with db.write() as s:
            member = cases.members(s, case_id)[0].id
            for _ in range(2):
                tokens.append(surveys.create_link(s, dana, case_id, first,
                                                  instrument_id="alliance-12",
                                                  member_id=member).token)
            if i < n_transcripts:
                transcripts.upload(s, box, dana, case_id, first, f"t{i}.txt",
                                   b"T: How was the week?\nC: Fine. I guess.\n")
    env = {**os.environ, "PYTHONPATH": str(SRC), "ALLIANCE_ENCRYPTION_KEY_FILE":
           str(tmp_path / "key"), "ALLIANCE_TRANSCRIPT_CODER": "rules",
           "ALLIANCE_DATABASE_URL": pg_app_url}
    env.pop("ALLIANCE_ENCRYPTION_KEY", None)
    port = free_port()
    alliance = [sys.executable, "-m", "alliance"]
    procs = [subprocess.Popen([*alliance, "serve", "--workers", "2", "--no-worker", "--port",
                               str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT)]
    procs += [subprocess.Popen([*alliance, "worker"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT) for _ in range(2)]
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, procs[0])
        statuses = Counter(_submit(base, t) for t in tokens)
        assert statuses == {303: len(tokens)}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with db.read() as s:
                behind = s.scalar(select(func.count()).select_from(CaseMonitor).where(
                    CaseMonitor.version > CaseMonitor.assessed_version))
                queued = s.scalar(select(func.count()).select_from(Transcript).where(
                    Transcript.status != "done"))
            if not behind and not queued:
                break
            time.sleep(0.5)
        assert not behind and not queued, "the workers did not finish the jobs"
    finally:
        for p in procs:
            p.terminate()
        logs = [p.communicate(timeout=30)[0].decode(errors="replace") for p in procs]
    assert all("Traceback" not in log for log in logs), "\n".join(logs)
    assert "2 web process(es)" in logs[0]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Response)) >= len(tokens)
        rows = s.scalars(select(Transcript)).all()
        assert [r.attempts for r in rows] == [1] * n_transcripts, "each analysed once"
        analysed = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "transcript.analyse"))
        assert analysed == n_transcripts
        flips = s.scalars(select(AlertFlip).order_by(AlertFlip.id)).all()
    open_now: dict[int, set[str]] = {}
    for f in flips:
        current = open_now.setdefault(f.case_id, set())
        if f.change == "opened":
            assert f.alert_id not in current, f"alert {f.alert_id} opened twice"
            current.add(f.alert_id)
        elif f.change == "cleared":
            assert f.alert_id in current, f"alert {f.alert_id} cleared but never opened"
            current.discard(f.alert_id)
    opened = {f.case_id for f in flips if f.change == "opened"}
    assert len(opened) >= n_cases // 2, "the planted drops opened their alerts"
    db.dispose()
