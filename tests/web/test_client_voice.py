"""Risk answers, the client's message, the clinic's safety text, the survey in the client's
language and the opt-out page, through the web app (issue 12, items 8, 11 and 12)."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alliance.clinic import Clinic, Settings
from alliance.delivery import parse_delivery_settings
from alliance.errors import LinkGone
from alliance.interop.specfiles import load_catalog
from alliance.store import Box, Database, cases, delivery, signals, surveys
from alliance.store.actors import Actor
from alliance.store.models import AuditEvent, CaseSignal
from alliance.store.tokens import new_token
from alliance.testing.smtp import LocalSmtpServer
from alliance.web import client_text
from alliance.web.app import create_app
from alliance.worker import Worker

from .conftest import ALL_FOUR, Web, add_people, rules_coder

DATA = Path(__file__).parent / "data"
PUBLIC = "https://clinic.example"


class VoiceWeb(Web):
    """The test clinic with the test instrument (a safety item) and, optionally, e-mail."""

    def __init__(self, db: Database, people: dict[str, Actor], box: Box,
                 env: dict[str, str] | None = None) -> None:
        self.db, self.people, self.box = db, people, box
        settings = Settings(database_url=db.url, box=box, run_worker=False,
                            transcript_coder="rules", instruments_dir=DATA, public_url=PUBLIC,
                            delivery=parse_delivery_settings(env or {}))
        self.clinic = Clinic(settings, db, coder_factory=rules_coder,
                             catalog=load_catalog(DATA))
        self.worker = Worker(self.clinic)
        self.app = create_app(clinic=self.clinic)


@pytest.fixture
def vw(sqlite_db: Database, password_hash: str, box: Box) -> VoiceWeb:
    return VoiceWeb(sqlite_db, add_people(sqlite_db, password_hash), box)


def a_case(w: VoiceWeb, *, language: str = "en",
           measures: tuple[tuple[str, str, int], ...] = (("mood-check", "client", 1),
                                                         ("alliance-12", "client", 1))
           ) -> tuple[int, int, int]:
    dana = w.people["dana"]
    with w.db.write() as s:
        case = cases.create_case(s, dana, cases.CaseDraft(label="V.C.", members=["Client"],
                                                          measures=list(measures)),
                                 w.clinic.catalog)
        member = cases.members(s, case.id)[0]
        delivery.set_contact(s, dana, w.box, case.id, member.id, email="c@example.org",
                             language=language)
        session = cases.add_session(s, dana, case.id, date=dt.date(2026, 3, 2))
        return case.id, member.id, session.id


def open_form(w: VoiceWeb, case_id: int, member_id: int, session_id: int,
              instrument: str = "mood-check") -> tuple[TestClient, str]:
    with w.db.write() as s:
        issued = surveys.create_link(s, w.people["dana"], case_id, session_id,
                                     instrument_id=instrument, member_id=member_id,
                                     catalog=w.clinic.catalog)
    client = w.anonymous()
    assert client.get(f"/s/{issued.token}").status_code == 303
    page = client.get("/survey")
    assert page.status_code == 200
    return client, page.text


def submit(client: TestClient, page: str, answers: dict[str, Any]) -> Any:
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post("/survey", data={"csrf": csrf, **{f"item_{k}": v
                                                     for k, v in answers.items()}})
    assert r.status_code == 303, r.text
    return client.get(r.headers["location"])


# -- words ------------------------------------------------------------------------------

def test_every_language_has_every_page_text() -> None:
    keys = set(client_text.words("en"))
    for lang in client_text.LANGUAGES:
        assert set(client_text.words(lang)) == keys, lang
        assert all(client_text.words(lang).values())


def test_the_default_safety_text_names_no_phone_number() -> None:
    for lang in client_text.LANGUAGES:
        assert not re.search(r"\d{3}", client_text.words(lang)["safety_default"])


# -- risk -------------------------------------------------------------------------------

def test_a_risk_answer_shows_the_safety_text_and_tops_the_caseload(vw: VoiceWeb) -> None:
    other, _, _ = a_case(vw)  # a case without risk, created first (sorts first by label)
    case_id, member_id, session_id = a_case(vw)
    client, page = open_form(vw, case_id, member_id, session_id)
    thanks = submit(client, page, {"low": 0, "harm": 1})
    assert client_text.words("en")["safety_title"] in thanks.text
    assert "emergency" in thanks.text
    dana = vw.session_for("dana")
    board = dana.get("/dashboard").text
    assert "A client answered a safety question" in board
    assert board.index(f"/cases/{case_id}\"") < board.index(f"/cases/{other}\"")
    case_page = dana.get(f"/cases/{case_id}").text
    assert "A safety question was answered" in case_page and "harm" in case_page
    with vw.db.read() as s:
        sig = s.scalars(select(CaseSignal)).one()
        assert (sig.kind, sig.items) == ("risk", ["harm"])
        assert s.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "signal.risk")).all() == ["signal.risk"]


def test_an_answer_at_the_floor_or_on_another_item_raises_nothing(vw: VoiceWeb) -> None:
    case_id, member_id, session_id = a_case(vw)
    client, page = open_form(vw, case_id, member_id, session_id)
    thanks = submit(client, page, {"low": 3, "harm": 0})
    assert client_text.words("en")["safety_title"] not in thanks.text
    with vw.db.read() as s:
        assert s.scalars(select(CaseSignal)).all() == []


def test_a_paper_phq9_with_item_9_above_zero_raises_a_risk_signal(vw: VoiceWeb) -> None:
    case_id, member_id, session_id = a_case(vw, measures=(("phq-9", "client", 1),))
    answers = {f"phq{i}": 1 for i in range(1, 9)} | {"phq9": 2}
    with vw.db.write() as s:
        surveys.enter_paper(s, vw.people["dana"], case_id, session_id, instrument_id="phq-9",
                            rater="client", member_id=member_id, answers=answers,
                            catalog=vw.clinic.catalog)
    with vw.db.read() as s:
        assert signals.open_risks(s, [case_id]) == {case_id}


def test_acknowledging_the_risk_takes_the_case_off_the_top(vw: VoiceWeb) -> None:
    case_id, member_id, session_id = a_case(vw)
    client, page = open_form(vw, case_id, member_id, session_id)
    submit(client, page, {"low": 0, "harm": 2})
    with vw.db.read() as s:
        sig_id = s.scalars(select(CaseSignal.id)).one()
    sam = vw.session_for("sam")  # not sam's case: it is not there for sam
    assert sam.post(f"/cases/{case_id}/signals/{sig_id}/acknowledge",
                    data={"csrf": sam.csrf}).status_code == 404  # type: ignore[attr-defined]
    dana = vw.session_for("dana")
    r = dana.post(f"/cases/{case_id}/signals/{sig_id}/acknowledge",
                  data={"csrf": dana.csrf})  # type: ignore[attr-defined]
    assert r.status_code == 303
    assert "A client answered a safety question" not in dana.get("/dashboard").text
    with vw.db.read() as s:
        assert signals.open_risks(s, [case_id]) == set()


def test_the_risk_notice_is_e_mailed_to_the_clinician_once(
        sqlite_db: Database, password_hash: str, box: Box) -> None:
    people = add_people(sqlite_db, password_hash)
    with LocalSmtpServer() as server:
        env = {"ALLIANCE_SMTP_URL": f"smtp://127.0.0.1:{server.port}",
               "ALLIANCE_MAIL_FROM": "care@clinic.example",
               "ALLIANCE_CLINIC_NAME": "Riverside Clinic"}
        w = VoiceWeb(sqlite_db, people, box, env)
        case_id, member_id, session_id = a_case(w)
        client, page = open_form(w, case_id, member_id, session_id)
        submit(client, page, {"low": 0, "harm": 3})
        w.worker.deliver_once()
        w.worker.deliver_once()
        notices = [m for m in server.inbox.parsed() if m["To"] == "dana@example.org"]
    assert len(notices) == 1
    assert notices[0]["Importance"] == "high"
    body = notices[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{PUBLIC}/cases/{case_id}" in body and "V.C." not in body and "harm" not in body
    with sqlite_db.read() as s:
        assert s.scalars(select(CaseSignal.notice_status)).one() == "sent"


def test_without_e_mail_the_notice_row_says_not_configured(vw: VoiceWeb) -> None:
    case_id, member_id, session_id = a_case(vw)
    client, page = open_form(vw, case_id, member_id, session_id)
    submit(client, page, {"low": 0, "harm": 1})
    vw.worker.deliver_once()
    with vw.db.read() as s:
        assert s.scalars(select(CaseSignal.notice_status)).one() == "not_configured"
    assert "E-mail notice: not_configured" in vw.session_for("dana").get(
        f"/cases/{case_id}").text


def test_the_clinic_writes_its_own_safety_text_per_language(vw: VoiceWeb) -> None:
    admin = vw.session_for("admin")
    r = admin.post("/admin/safety", data={"csrf": admin.csrf,  # type: ignore[attr-defined]
                                          "language": "es",
                                          "text": "Llame a la clínica Ribera: le atendemos hoy."})
    assert r.status_code == 303
    assert "Llame a la clínica Ribera" in admin.get("/admin/safety").text
    dana = vw.session_for("dana")
    assert dana.get("/admin/safety").status_code == 404
    assert dana.post("/admin/safety", data={"csrf": dana.csrf, "language": "es",  # type: ignore[attr-defined]
                                            "text": "x"}).status_code == 404
    bad = admin.post("/admin/safety", data={"csrf": admin.csrf,  # type: ignore[attr-defined]
                                            "language": "it", "text": "x"})
    assert bad.status_code == 400 and "language is one of" in bad.text
    case_id, member_id, session_id = a_case(vw, language="es")
    client, page = open_form(vw, case_id, member_id, session_id)
    thanks = submit(client, page, {"low": 0, "harm": 1})
    assert "Llame a la clínica Ribera" in thanks.text
    assert client_text.words("es")["safety_default"] not in thanks.text
    assert 'lang="es"' in thanks.text
    with vw.db.read() as s:
        assert s.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "safety_text.update")).all() == ["safety_text.update"]


# -- the client's voice ------------------------------------------------------------------

def test_the_clients_message_reaches_the_case_sealed_and_audited(vw: VoiceWeb) -> None:
    case_id, member_id, session_id = a_case(vw)
    client, page = open_form(vw, case_id, member_id, session_id, "alliance-12")
    thanks = submit(client, page, ALL_FOUR)
    assert client_text.words("en")["voice_title"] in thanks.text
    assert client_text.words("en")["safety_title"] not in thanks.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', thanks.text).group(1)  # type: ignore[union-attr]
    r = client.post("/survey/feedback", data={"csrf": csrf,
                                              "message": "We keep talking about work; "
                                                         "I want to talk about my sister."})
    assert r.status_code == 200 and client_text.words("en")["voice_sent"] in r.text
    again = client.post("/survey/feedback", data={"csrf": csrf, "message": "Another"})
    assert again.status_code == 400 and "already sent" in again.text
    with vw.db.read() as s:
        sig = s.scalars(select(CaseSignal)).one()
        assert sig.kind == "client_feedback" and b"sister" not in (sig.message or b"")
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "signal.feedback")).one()
        assert "sister" not in str(event.detail)
    page_text = vw.session_for("dana").get(f"/cases/{case_id}").text
    assert "I want to talk about my sister." in page_text and "client_feedback" in page_text
    assert "I want to talk" not in vw.session_for("sam").get(f"/cases/{case_id}").text


@pytest.mark.parametrize("message", ["", "   ", "x" * 2001])
def test_an_empty_or_overlong_message_is_refused(vw: VoiceWeb, message: str) -> None:
    case_id, member_id, session_id = a_case(vw)
    client, page = open_form(vw, case_id, member_id, session_id, "alliance-12")
    thanks = submit(client, page, ALL_FOUR)
    csrf = re.search(r'name="csrf" value="([^"]+)"', thanks.text).group(1)  # type: ignore[union-attr]
    r = client.post("/survey/feedback", data={"csrf": csrf, "message": message})
    assert r.status_code == 400
    with vw.db.read() as s:
        assert s.scalars(select(CaseSignal)).all() == []


def test_a_message_without_the_thank_you_cookie_is_refused(vw: VoiceWeb) -> None:
    r = vw.anonymous().post("/survey/feedback", data={"csrf": "x", "message": "hello"})
    assert r.status_code == 403


def test_the_message_window_closes_an_hour_after_submitting(vw: VoiceWeb) -> None:
    case_id, member_id, session_id = a_case(vw)
    client, page = open_form(vw, case_id, member_id, session_id, "alliance-12")
    submit(client, page, ALL_FOUR)
    token = client.cookies.get("__Host-alliance-thanks")
    assert token
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    with vw.db.write() as s, pytest.raises(LinkGone, match="expired"):
        signals.leave_feedback(s, vw.box, token, "late", now=later)


# -- languages ----------------------------------------------------------------------------

def test_the_survey_page_is_in_the_members_language(vw: VoiceWeb) -> None:
    case_id, member_id, session_id = a_case(vw, language="es")
    client, page = open_form(vw, case_id, member_id, session_id, "alliance-12")
    es = client_text.words("es")
    assert 'lang="es"' in page and es["privacy"] in page and es["send"] in page
    spanish = vw.clinic.catalog["alliance-12"].wording("client", "es")
    assert spanish.text("b1") in page  # the project's own Spanish wording
    thanks = submit(client, page, ALL_FOUR)
    assert es["thanks"] in thanks.text and es["voice_body"] in thanks.text


def test_an_instrument_without_a_translation_falls_back_with_a_note(vw: VoiceWeb) -> None:
    case_id, member_id, session_id = a_case(vw, language="de")
    _, page = open_form(vw, case_id, member_id, session_id)
    assert "I thought about hurting myself." in page  # English items
    assert client_text.words("de")["send"] in page  # German page words
    case_page = vw.session_for("dana").get(f"/cases/{case_id}").text
    assert "no German version of mood-check: shown in English" in case_page


# -- contact details and opt-out on the web ------------------------------------------------

def test_contact_details_are_edited_on_the_case_page(vw: VoiceWeb) -> None:
    case_id, member_id, _ = a_case(vw)
    dana = vw.session_for("dana")
    r = dana.post(f"/cases/{case_id}/members/{member_id}/contact",
                  data={"csrf": dana.csrf, "email": "new@example.org",  # type: ignore[attr-defined]
                        "phone": "+447700900123", "preferred": "sms", "language": "fr"})
    assert r.status_code == 303
    page = dana.get(f"/cases/{case_id}").text
    assert 'value="new@example.org"' in page and 'value="+447700900123"' in page
    bad = dana.post(f"/cases/{case_id}/members/{member_id}/contact",
                    data={"csrf": dana.csrf, "email": "nope"})  # type: ignore[attr-defined]
    assert bad.status_code == 400 and "plain address" in bad.text
    lee = vw.session_for("lee")  # the supervisor reads, without the addresses, and cannot edit
    assert "new@example.org" not in lee.get(f"/cases/{case_id}").text
    assert lee.post(f"/cases/{case_id}/members/{member_id}/contact",
                    data={"csrf": lee.csrf, "email": "x@example.org"}  # type: ignore[attr-defined]
                    ).status_code in (403, 404)


def test_the_opt_out_page_asks_then_records(vw: VoiceWeb) -> None:
    case_id, member_id, _ = a_case(vw, language="fr")
    with vw.db.read() as s:
        token = delivery.contacts(s, vw.box, case_id)[member_id].opt_out_token
    client = vw.anonymous()
    page = client.get(f"/opt-out/{token}")
    assert page.status_code == 200 and client_text.words("fr")["optout_button"] in page.text
    with vw.db.read() as s:
        assert not delivery.contacts(s, vw.box, case_id)[member_id].opted_out
    done = client.post(f"/opt-out/{token}")
    assert done.status_code == 200
    assert client_text.words("fr")["optout_done"] in html.unescape(done.text)
    with vw.db.read() as s:
        assert delivery.contacts(s, vw.box, case_id)[member_id].opted_out
    assert client.get(f"/opt-out/{new_token()}").status_code == 404


def test_the_clients_message_is_e_mailed_as_a_notice_without_its_text(
        sqlite_db: Database, password_hash: str, box: Box) -> None:
    people = add_people(sqlite_db, password_hash)
    with LocalSmtpServer() as server:
        env = {"ALLIANCE_SMTP_URL": f"smtp://127.0.0.1:{server.port}",
               "ALLIANCE_MAIL_FROM": "care@clinic.example",
               "ALLIANCE_CLINIC_NAME": "Riverside Clinic"}
        w = VoiceWeb(sqlite_db, people, box, env)
        case_id, member_id, session_id = a_case(w)
        client, page = open_form(w, case_id, member_id, session_id, "alliance-12")
        thanks = submit(client, page, ALL_FOUR)
        csrf = re.search(r'name="csrf" value="([^"]+)"', thanks.text).group(1)  # type: ignore[union-attr]
        client.post("/survey/feedback", data={"csrf": csrf, "message": "Too fast for me."})
        w.worker.deliver_once()
        notices = [m for m in server.inbox.parsed() if m["To"] == "dana@example.org"]
    assert len(notices) == 1 and "Importance" not in notices[0]
    body = notices[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"{PUBLIC}/cases/{case_id}" in body and "Too fast" not in body
