"""Integration pages in a real headless browser. Send now: the clinician enters the client's
phone number on the case page, presses Send now, and the text leaves through the SMS file
provider and is listed under "Messages sent". API tokens: the user's tokens are listed and
one is revoked on the page. Screenshots go to docs/screenshots/ with
ALLIANCE_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alliance.clinic import Clinic
from alliance.delivery import parse_delivery_settings
from alliance.store import apitokens
from alliance.store.models import User

from .test_browser import DOCS_SHOTS, _login, demo_server

pytestmark = pytest.mark.browser
NUMBER = "+447700900789"


def _tokens(clinic: Clinic) -> None:
    """Two of dana's API tokens: one for the EHR (write), one for a report script (read)."""
    from sqlalchemy import select

    with clinic.db.write() as s:
        dana = s.scalars(select(User).where(User.email == "dana@example.org")).one()
        apitokens.create_token(s, dana, scope="write", days=30, name="ehr")
        apitokens.create_token(s, dana, scope="read", days=90, name="weekly report script")


@pytest.fixture(scope="module")
def texting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("sms")
    outbox = folder / "sms.jsonl"
    env = {"ALLIANCE_SMS_URL": f"file://{outbox}", "ALLIANCE_CLINIC_NAME": "Riverside Clinic"}
    with demo_server(folder, seed=_tokens, public_url="https://clinic.example",
                     delivery=parse_delivery_settings(env)) as base:
        yield base, outbox


def test_send_now_texts_the_link_and_lists_the_send(
        texting: tuple[str, Path], browser: Any, tmp_path: Path) -> None:
    base, outbox = texting
    shots = DOCS_SHOTS if os.environ.get("ALLIANCE_UPDATE_SCREENSHOTS") else tmp_path
    dana = _login(browser, base, "dana@example.org", viewport={"width": 1280, "height": 900})
    dana.goto(f"{base}/dashboard")
    dana.locator("table.caseload tbody tr td a").first.click()
    dana.wait_for_load_state()
    dana.click("nav.tabs >> text=Measures and links")
    row = dana.locator("#outreach tbody tr").first
    row.locator("input[name=phone]").fill(NUMBER)
    row.locator("select[name=preferred]").select_option("sms")
    row.locator("button", has_text="Save").click()
    dana.wait_for_load_state()
    dana.click("nav.tabs >> text=Measures and links")
    dana.click("#links button:has-text('Send now')")
    dana.wait_for_load_state()
    sends = dana.locator("#outreach table", has_text="Status").last.inner_text()
    assert "sms" in sends and "sent" in sends, sends
    (text,) = [json.loads(line) for line in outbox.read_text("utf-8").splitlines()]
    assert text["to"] == NUMBER and "https://clinic.example/s/" in text["text"]
    assert dana.errors == [], dana.errors
    dana.locator("#outreach").screenshot(path=str(shots / "delivery-sends.png"))


def test_api_tokens_page_lists_the_users_tokens_and_revokes_one(
        texting: tuple[str, Path], browser: Any, tmp_path: Path) -> None:
    base, _ = texting
    shots = DOCS_SHOTS if os.environ.get("ALLIANCE_UPDATE_SCREENSHOTS") else tmp_path
    dana = _login(browser, base, "dana@example.org", viewport={"width": 1100, "height": 700})
    dana.goto(f"{base}/account/tokens")
    rows = dana.locator("main table tbody tr")
    assert rows.count() == 2
    rows.filter(has_text="weekly report script").locator("button", has_text="Revoke").click()
    dana.wait_for_load_state()
    states = dana.locator("main table tbody tr").all_inner_texts()
    assert any("weekly report script" in r and "revoked" in r for r in states), states
    assert any("ehr" in r and "active" in r for r in states), states
    dana.screenshot(path=str(shots / "api-tokens.png"))
