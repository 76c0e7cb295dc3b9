"""Two-step log-in in a real headless browser (issue 11, item 9): a clinic that requires it
sends a clinician to the set-up page after the password; the QR code renders; the first code
turns it on and shows the recovery codes; the next log-in asks for a code after the password.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alliance.clinic import Clinic, Settings
from alliance.store import Box, Database, accounts, generate_key, mfa, upgrade
from alliance.store.models import utcnow
from alliance.web.app import create_app

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "browser-mfa-password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `make browser` (apt-get install chromium)")
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('mfa') / 'mfa.db'}")
    upgrade(db.engine)
    clinic = Clinic(Settings(database_url=db.url, box=Box.from_text(generate_key()),
                             run_worker=False, transcript_coder="rules",
                             instruments_dir=None, require_mfa=True), db)
    with db.write() as s:
        accounts.create_user(s, "dana@example.org", "Dana", "clinician", PASSWORD)
    app = create_app(clinic=clinic)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()


def _password_step(browser: object, base: str) -> object:
    page = browser.new_context().new_page()  # type: ignore[attr-defined]
    page.goto(f"{base}/login")
    page.fill("#email", "dana@example.org")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_enrolment_with_the_qr_code_then_log_in_with_a_code(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = _password_step(browser, server)
            assert page.url.endswith("/account/mfa")  # type: ignore[attr-defined]
            qr_width = page.eval_on_selector("#mfa-qr", "img => img.naturalWidth")  # type: ignore[attr-defined]
            assert qr_width > 0  # the SVG data URI loads under the CSP
            secret = page.inner_text("#mfa-secret").strip()  # type: ignore[attr-defined]
            step = mfa.step_of(utcnow())
            page.fill("#code", mfa.code_at(secret, step))  # type: ignore[attr-defined]
            page.click("text=Turn on two-step log-in")  # type: ignore[attr-defined]
            page.wait_for_load_state()  # type: ignore[attr-defined]
            codes = page.inner_text("#recovery-codes").split()  # type: ignore[attr-defined]
            assert len(codes) == mfa.RECOVERY_COUNT
            page.click("text=I have kept them")  # type: ignore[attr-defined]
            page.wait_for_load_state()  # type: ignore[attr-defined]
            assert page.url.endswith("/dashboard")  # type: ignore[attr-defined]

            again = _password_step(browser, server)
            assert again.url.endswith("/login/mfa")  # type: ignore[attr-defined]
            # the next step's code (within the drift window): the used one would be refused
            again.fill("#code", mfa.code_at(secret, step + 1))  # type: ignore[attr-defined]
            again.click("text=Continue")  # type: ignore[attr-defined]
            again.wait_for_load_state()  # type: ignore[attr-defined]
            assert again.url.endswith("/dashboard")  # type: ignore[attr-defined]
            assert "Caseload" in again.inner_text("nav")  # type: ignore[attr-defined]
        finally:
            browser.close()
