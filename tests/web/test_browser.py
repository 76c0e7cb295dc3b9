"""End to end in a real headless browser (Debian's chromium driven by Playwright).

The scenario of issue 5: a clinician logs in, opens a case and a survey link; the client
opens the link on a phone-sized screen and submits; the case page shows the new point, and
an alert after a planted drop; the supervisor sees but cannot edit; a second clinician gets
404 for the first one's case. Screenshots of the main pages are written to
``docs/screenshots/`` when ALLIANCE_UPDATE_SCREENSHOTS=1 (else to a temporary folder).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from alliance.clinic import Clinic, Settings
from alliance.store import Box, Database, generate_key, upgrade
from alliance.store.demo import seed_demo
from alliance.testing.server import serve
from alliance.web.app import create_app

pytestmark = pytest.mark.browser
# Screenshots are taken on every run (they exercise rendering), but written over the
# README's copies in docs/screenshots/ only on request: ALLIANCE_UPDATE_SCREENSHOTS=1.
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "browser-test-pw"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "transcripts"


@contextmanager
def demo_server(folder: Path, seed: Callable[[Clinic], None] | None = None,
                **settings: Any) -> Iterator[str]:
    """The demo clinic served on a free local port (``settings``: more clinic settings;
    ``seed``: more data after the demo's)."""
    db = Database(f"sqlite:///{folder / 'demo.db'}")
    upgrade(db.engine)
    box = Box.from_text(generate_key())
    clinic = Clinic(Settings(database_url=db.url, box=box, worker_interval=0.2,
                             transcript_coder="rules", instruments_dir=None, **settings), db)
    seed_demo(clinic, password=PASSWORD, today=dt.date(2026, 11, 20))
    if seed is not None:
        seed(clinic)
    app = create_app(clinic=clinic)
    with serve(app) as base:
        yield base
    db.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(tmp_path_factory.mktemp("e2e")) as base:
        yield base

def _login(browser: object, base: str, email: str, **ctx: object) -> object:
    context = browser.new_context(**ctx)  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_clinic_scenario_end_to_end(server: str, browser: object, tmp_path: Path) -> None:
    SHOTS = DOCS_SHOTS if os.environ.get("ALLIANCE_UPDATE_SCREENSHOTS") else tmp_path
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = server
    # the clinician: caseload, then a new case with two sessions
    dana = _login(browser, base, "dana@example.org", viewport={"width": 1280, "height": 900})
    assert dana.url.endswith("/dashboard")
    dana.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    dana.goto(f"{base}/cases/new")
    dana.fill("#label", "E2E case")
    dana.fill("#members", "Robin")
    dana.click("text=Open case")
    dana.wait_for_url("**/cases/*")
    case_url = dana.url.split("#")[0]
    days = ("2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09")
    dana.goto(case_url + "#sessions")      # the case page shows one section at a time
    for day in days:
        dana.fill("input[name=date]", day)
        dana.click("text=Record session")
        dana.wait_for_load_state()
    # sessions 1-3 from paper: "agree" throughout (the reverse-keyed items answered 2)
    for number, day in enumerate(days[:3], start=1):
        dana.goto(case_url + "#links")
        form = dana.locator("form[action$='/paper']")
        form.locator("select[name=session_id]").select_option(label=f"{number} ({day})")
        form.locator("button").click()
        dana.wait_for_load_state()
        for item in ("b1", "b2", "b4", "g1", "g2", "g4", "t1", "t2", "t4"):
            dana.check(f"input[name=item_{item}][value='4']")
        for item in ("b3", "g3", "t3"):
            dana.check(f"input[name=item_{item}][value='2']")
        dana.click("text=Save paper form")
        dana.wait_for_load_state()
    dana.goto(case_url + "#links")
    # a one-time link for the newest session
    dana.click("text=Create one-time link")
    dana.wait_for_load_state()
    url = dana.input_value("#survey-url")
    assert "/s/" in url and dana.locator("figure.qr svg").count() == 1
    dana.screenshot(path=str(SHOTS / "survey-link.png"))
    # the client on a phone
    phone = browser.new_context(viewport={"width": 390, "height": 844},  # type: ignore[attr-defined]
                                is_mobile=True, has_touch=True)
    client = phone.new_page()
    client.goto(url)
    assert client.url.endswith("/survey"), "the token must leave the address bar"
    assert "confidential" not in client.url
    client.screenshot(path=str(SHOTS / "survey-phone.png"), full_page=True)
    for item in ("b1", "b2", "b4", "g1", "g2", "g4", "t1", "t2", "t4"):
        client.check(f"input[name=item_{item}][value='2']")
    for item in ("b3", "g3", "t3"):
        client.check(f"input[name=item_{item}][value='4']")
    client.click("text=Send my answers")
    client.wait_for_url("**/survey/thanks")
    assert "received" in client.text_content("main")
    client.goto(url)  # the link is single use
    assert "already been used" in client.text_content("main")
    phone.close()
    # the new point is on the case page (table and chart)
    dana.goto(case_url)
    dana.click("text=Scores as a table")
    assert dana.locator("table.scores tbody tr").count() == 4
    assert "24.0" in dana.text_content("table.scores")  # the client's point, session 4
    dana.wait_for_selector("#chart[data-ready='1']", timeout=15000)
    assert dana.errors == [], dana.errors  # no CSP violations, no script errors
    # the planted drop (48 -> 24) opens an alert with repair steps, once the alert worker
    # (a thread of the server, every 0.2 s) has assessed the new data
    for _ in range(60):
        if not dana.locator(".pending").count():
            break
        time.sleep(0.25)
        dana.reload()
    assert dana.locator(".alert").count() == 1
    assert "Repair steps" in dana.text_content("#alert")
    dana.goto(f"{base}/dashboard")
    row = dana.locator("table.caseload tbody tr", has_text="E2E case")
    assert row.locator(".badge").count() == 1, "the new case carries its alert on the caseload"
    # a case of the demo clinic with a planted unrepaired drop shows its alert
    dana.goto(f"{base}/dashboard")
    first = dana.locator("table.caseload tbody tr td a").first
    first.click()
    dana.wait_for_selector("#chart[data-ready='1']", timeout=15000)
    dana.screenshot(path=str(SHOTS / "case.png"), full_page=True)
    assert dana.locator(".alert").count() == 1
    # the supervisor reads dana's case but has no forms to change it
    lee = _login(browser, base, "lee@example.org")
    lee.goto(case_url)
    assert "E2E case" in lee.text_content("h1")
    assert "read-only" in lee.text_content("main")
    assert lee.locator("text=Record session").count() == 0
    assert lee.locator("text=Create one-time link").count() == 0
    # another clinician: 404, no data
    sam = _login(browser, base, "sam@example.org")
    response = sam.goto(case_url)
    assert response.status == 404
    assert "E2E case" not in sam.content()
    # the admin's audit log shows what happened
    admin = _login(browser, base, "admin@example.org", viewport={"width": 1280, "height": 900})
    admin.goto(f"{base}/admin/audit?action=response.submit")
    assert admin.locator("table.audit tbody tr").count() >= 1
    admin.screenshot(path=str(SHOTS / "audit-log.png"))
    # the admin puts dana's new case on legal hold by its number, and dana sees it kept
    case_number = case_url.rstrip("/").rsplit("/", 1)[1]
    admin.click("text=Legal holds")
    admin.fill("input[name=case]", case_number)
    admin.click("text=Place on hold")
    assert admin.locator(f"td:text-is('{case_number}')").count() == 1
    assert "E2E case" not in admin.content()
    dana.goto(case_url)
    assert "legal hold" in dana.text_content("h1")
    admin.click("text=Lift the hold")
    assert "No case is on legal hold" in admin.text_content("main")
    login_page = browser.new_page()  # type: ignore[attr-defined]
    login_page.goto(f"{base}/login")
    login_page.screenshot(path=str(SHOTS / "login.png"))


def _until(page: object, url: str, text: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        page.goto(url)  # type: ignore[attr-defined]
        if text in page.text_content("main"):  # type: ignore[attr-defined]
            return
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared on {url}")


def test_corrections_and_diarised_transcripts_in_the_browser(server: str, browser: object
                                                             ) -> None:
    base = server
    dana = _login(browser, base, "dana@example.org", viewport={"width": 1280, "height": 900})
    dana.goto(f"{base}/cases/new")
    dana.fill("#label", "Corrections case")
    dana.check("input[name=consent_transcripts]")
    dana.check("input[name='measures[]'][value='alliance-12:therapist']")
    dana.click("text=Open case")
    dana.wait_for_url("**/cases/*")
    case_url = dana.url.split("#")[0]
    dana.goto(case_url + "#sessions")
    dana.fill("input[name=date]", "2026-11-16")
    dana.click("text=Record session")
    dana.wait_for_load_state()
    # the therapist's own paper form opens (it once failed on the empty member field)
    dana.goto(case_url + "#links")
    form = dana.locator("form[action$='/paper']")
    form.locator("select[name=measure]").select_option("alliance-12:therapist")
    form.locator("select[name=member_id]").select_option(label="(therapist)")
    form.locator("button").click()
    dana.wait_for_load_state()
    for item in ("b1", "b2", "b4", "g1", "g2", "g4", "t1", "t2", "t4"):
        dana.check(f"input[name=item_{item}][value='4']")
    for item in ("b3", "g3", "t3"):
        dana.check(f"input[name=item_{item}][value='2']")
    dana.click("text=Save paper form")
    dana.wait_for_load_state()
    # a correction: the answer is voided with a reason, and stays in the history
    dana.goto(case_url)  # with three sessions or fewer the table is open
    row = dana.locator("table.scores tbody tr").first
    row.locator("input[name=reason]").fill("entered twice by mistake")
    row.locator("text=Void").click()
    dana.wait_for_load_state()
    assert "entered twice by mistake" in dana.text_content("#sessions")
    # a diarised transcript: the clinician names the speakers, the worker analyses it
    dana.goto(case_url + "#transcripts")
    dana.set_input_files("input[type=file]", str(EXAMPLES / "whisperx.vtt"))
    dana.click("text=Upload transcript")
    dana.wait_for_load_state()
    link = dana.locator("#transcripts a", has_text="whisperx.vtt")
    report_url = base + link.get_attribute("href")
    _until(dana, report_url, "Status: failed")
    selects = dana.locator("#roles select")
    assert selects.count() >= 2
    selects.nth(0).select_option("therapist")
    for i in range(1, selects.count()):
        selects.nth(i).select_option("client")
    dana.click("text=Save roles and analyse again")
    _until(dana, report_url, "Status: done")
    assert "Utterances" in dana.text_content("main")
    dana.click("text=Delete this transcript")
    dana.wait_for_load_state()
    assert "whisperx.vtt" not in dana.text_content("#transcripts")
    assert dana.errors == [], dana.errors
