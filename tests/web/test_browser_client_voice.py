"""The client's pages in a real headless browser (Debian's chromium, Playwright): a
Spanish-speaking client answers on a phone-sized screen and leaves a message; a risk
answer brings up the clinic's safety text on the thank-you page."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from alliance.clinic import Clinic, Settings
from alliance.interop.specfiles import load_catalog
from alliance.store import Box, Database, cases, delivery, generate_key, surveys, upgrade
from alliance.store.models import CaseSignal
from alliance.testing.server import serve
from alliance.web import client_text
from alliance.web.app import create_app

from .conftest import add_people
from .test_browser import DOCS_SHOTS

pytestmark = pytest.mark.browser
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def clinic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Clinic,
                                                                               dict[str, Any]]]:

    from alliance.store.passwords import hash_password

    db = Database(f"sqlite:///{tmp_path_factory.mktemp('voice') / 'voice.db'}")
    upgrade(db.engine)
    clinic = Clinic(Settings(database_url=db.url, box=Box.from_text(generate_key()),
                             run_worker=False, transcript_coder="rules", instruments_dir=DATA),
                    db, catalog=load_catalog(DATA))
    people = add_people(db, hash_password("browser-voice-pw"))
    app = create_app(clinic=clinic)
    with serve(app) as base:
        yield base, clinic, people
    db.dispose()



def _link(clinic: Clinic, people: dict[str, Any], instrument: str, language: str) -> str:
    dana = people["dana"]
    with clinic.db.write() as s:
        case = cases.create_case(s, dana, cases.CaseDraft(
            label=f"{instrument}-{language}", members=["Client"],
            measures=[(instrument, "client", 1)]), clinic.catalog)
        member = cases.members(s, case.id)[0]
        delivery.set_contact(s, dana, clinic.box, case.id, member.id, language=language)
        session = cases.add_session(s, dana, case.id, date=dt.date(2026, 3, 2))
        return surveys.create_link(s, dana, case.id, session.id, instrument_id=instrument,
                                   member_id=member.id, catalog=clinic.catalog).token


def _phone(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 390, "height": 844}, locale="es-ES").new_page()


def _shots(tmp_path: Path) -> Path:
    return DOCS_SHOTS if os.environ.get("ALLIANCE_UPDATE_SCREENSHOTS") else tmp_path


def test_a_spanish_client_answers_in_spanish_and_leaves_a_message(
        clinic_server: tuple[str, Clinic, dict[str, Any]], browser: Any, tmp_path: Path) -> None:
    base, clinic, people = clinic_server
    es = client_text.words("es")
    page = _phone(browser)
    page.goto(f"{base}/s/{_link(clinic, people, 'alliance-12', 'es')}")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == es["survey_title"]
    spanish = clinic.catalog["alliance-12"].wording("client", "es")
    assert page.get_by_text(spanish.text("b1") or "", exact=False).count() == 1
    for item in clinic.catalog["alliance-12"].items:
        page.locator(f"input[name=item_{item.id}][value='4']").check()
    page.get_by_role("button", name=es["send"]).click()
    page.wait_for_url("**/survey/thanks")
    assert page.get_by_role("heading", name=es["voice_title"]).is_visible()
    assert page.get_by_role("alert").count() == 0  # no safety text without a risk answer
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(_shots(tmp_path) / "survey-thanks-es.png"), full_page=True)
    page.get_by_label(es["voice_label"]).fill("Me gustaría hablar más de mi familia.")
    page.get_by_role("button", name=es["voice_send"]).click()
    assert page.get_by_role("status").inner_text() == es["voice_sent"]
    with clinic.db.read() as s:
        assert s.scalars(select(CaseSignal.kind)).all() == ["client_feedback"]


def test_a_risk_answer_shows_the_safety_text_on_the_thank_you_page(
        clinic_server: tuple[str, Clinic, dict[str, Any]], browser: Any, tmp_path: Path) -> None:
    base, clinic, people = clinic_server
    es = client_text.words("es")
    page = _phone(browser)
    page.goto(f"{base}/s/{_link(clinic, people, 'mood-check', 'es')}")
    page.locator("input[name=item_low][value='1']").check()
    page.locator("input[name=item_harm][value='2']").check()
    page.get_by_role("button", name=es["send"]).click()
    page.wait_for_url("**/survey/thanks")
    safety = page.get_by_role("alert")
    assert safety.is_visible()
    assert es["safety_title"] in safety.inner_text()
    assert es["safety_default"] in safety.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(_shots(tmp_path) / "survey-risk-es.png"), full_page=True)
