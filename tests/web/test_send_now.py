"""Send now (the case page's button) through a real local SMTP server, and the SMS path end to
end through the web app with the file provider: a session recorded on the page, the worker
sends, the send is listed on the case page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import select

from alliance.store import Box, Database, delivery
from alliance.store.models import AuditEvent, DeliverySend, SurveyLink
from alliance.testing.smtp import LocalSmtpServer

from .conftest import add_people
from .test_client_voice import PUBLIC, VoiceWeb, a_case, vw  # noqa: F401  (fixture)


def smtp(port: int) -> dict[str, str]:
    return {"ALLIANCE_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "ALLIANCE_MAIL_FROM": "care@clinic.example", "ALLIANCE_CLINIC_NAME": "Riverside Clinic"}


def send_now(client: Any, case_id: int, session_id: int, member_id: int | str,
             csrf: str | None = None) -> Any:
    return client.post(f"/cases/{case_id}/links/send", data={
        "csrf": client.csrf if csrf is None else csrf, "session_id": session_id,
        "measure": "alliance-12:client", "member_id": member_id})


def links(w: VoiceWeb, case_id: int) -> list[SurveyLink]:
    with w.db.read() as s:
        return list(s.scalars(select(SurveyLink).where(SurveyLink.case_id == case_id)))


def test_send_now_e_mails_a_link_that_opens_and_lists_the_send(
        sqlite_db: Database, password_hash: str, box: Box) -> None:
    people = add_people(sqlite_db, password_hash)
    with LocalSmtpServer() as server:
        w = VoiceWeb(sqlite_db, people, box, smtp(server.port))
        case_id, member_id, session_id = a_case(w)
        dana = w.session_for("dana")
        assert "Send now" in dana.get(f"/cases/{case_id}").text
        r = send_now(dana, case_id, session_id, member_id)
        assert r.status_code == 303 and r.headers["location"].endswith("#outreach")
        (mail,) = server.inbox.parsed()
        assert mail["To"] == "c@example.org"
        assert "Auto-Submitted" not in mail          # a clinician sent it, not the schedule
        body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        token = re.search(rf"{re.escape(PUBLIC)}/s/([A-Za-z0-9_\-]+)", body)
        assert token and "V.C." not in body           # the link and the clinic's name only
        assert w.anonymous().get(f"/s/{token.group(1)}").status_code == 303   # it opens
        # the scheduler sees the link: no second alliance-12 link for that session
        w.worker.deliver_once()
        assert [k.instrument_id for k in links(w, case_id)].count("alliance-12") == 1
        page = dana.get(f"/cases/{case_id}").text
    with w.db.read() as s:
        (row,) = s.scalars(select(DeliverySend).where(
            DeliverySend.link_id == links(w, case_id)[0].id))
        assert (row.kind, row.channel, row.status) == ("link", "email", "sent")
        actions = s.scalars(select(AuditEvent.action).where(
            AuditEvent.case_id == case_id, AuditEvent.actor_id == people["dana"].id)).all()
    assert "link.create" in actions
    assert re.search(r"<td>link</td><td>email</td><td>1</td><td>sent</td>", page)


def test_send_now_respects_the_opt_out_and_sends_nothing(
        sqlite_db: Database, password_hash: str, box: Box) -> None:
    people = add_people(sqlite_db, password_hash)
    with LocalSmtpServer() as server:
        w = VoiceWeb(sqlite_db, people, box, smtp(server.port))
        case_id, member_id, session_id = a_case(w)
        with w.db.write() as s:
            delivery.set_contact(s, people["dana"], box, case_id, member_id,
                                 email="c@example.org", opted_out=True)
        dana = w.session_for("dana")
        r = send_now(dana, case_id, session_id, member_id)
        assert r.status_code == 400
        assert "opted out" in html.unescape(r.text)
        assert server.inbox.messages == [] and links(w, case_id) == []


def test_send_now_needs_the_csrf_token_and_the_case_owner(
        sqlite_db: Database, password_hash: str, box: Box) -> None:
    people = add_people(sqlite_db, password_hash)
    with LocalSmtpServer() as server:
        w = VoiceWeb(sqlite_db, people, box, smtp(server.port))
        case_id, member_id, session_id = a_case(w)
        dana = w.session_for("dana")
        assert send_now(dana, case_id, session_id, member_id, csrf="forged").status_code == 403
        assert send_now(w.session_for("lee"), case_id, session_id,
                        member_id).status_code == 403      # the supervisor reads only
        assert send_now(w.session_for("sam"), case_id, session_id,
                        member_id).status_code == 404      # not sam's case
        assert send_now(dana, case_id, session_id, "").status_code == 400   # the therapist
        assert server.inbox.messages == [] and links(w, case_id) == []


def test_without_a_channel_there_is_no_button_and_a_send_is_refused(
        vw: VoiceWeb) -> None:  # noqa: F811
    case_id, member_id, session_id = a_case(vw)
    dana = vw.session_for("dana")
    assert "Send now" not in dana.get(f"/cases/{case_id}").text
    r = send_now(dana, case_id, session_id, member_id)
    assert r.status_code == 400 and "no e-mail or SMS is configured" in html.unescape(r.text)
    assert links(vw, case_id) == []


def test_a_session_recorded_on_the_page_is_texted_and_listed_on_the_case_page(
        sqlite_db: Database, password_hash: str, box: Box, tmp_path: Path) -> None:
    people = add_people(sqlite_db, password_hash)
    outbox = tmp_path / "sms.jsonl"
    w = VoiceWeb(sqlite_db, people, box, {"ALLIANCE_SMS_URL": f"file://{outbox}",
                                          "ALLIANCE_CLINIC_NAME": "Riverside Clinic"})
    case_id, member_id, _ = a_case(w, measures=(("alliance-12", "client", 1),))
    with w.db.write() as s:
        delivery.set_contact(s, people["dana"], box, case_id, member_id,
                             phone="+447700900456", preferred="sms")
    w.worker.drain()          # a_case's session is weeks old: past the send window, no text
    assert not outbox.exists()
    dana = w.session_for("dana")
    today = w.clinic.clock().date().isoformat()
    r = dana.post(f"/cases/{case_id}/sessions", data={
        "csrf": dana.csrf, "date": today, "attendance": "attended",
        "homework": "none"})
    assert r.status_code == 303
    w.worker.drain()
    (text,) = [json.loads(line) for line in outbox.read_text("utf-8").splitlines()]
    assert text["to"] == "+447700900456"
    assert text["text"].startswith("Riverside Clinic") and f"{PUBLIC}/s/" in text["text"]
    page = dana.get(f"/cases/{case_id}").text
    assert len(re.findall(r"<td>link</td><td>sms</td><td>1</td><td>sent</td>", page)) == 1
    assert page.count("+447700900456") == 1        # in the clinician's form, nowhere else
