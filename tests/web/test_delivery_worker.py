"""The worker sends survey links and one reminder by e-mail through a real local SMTP server,
records every attempt as a row, respects the opt-out, and sends nothing unless configured."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import select

from alliance.clinic import Clinic, Settings
from alliance.delivery import parse_delivery_settings
from alliance.errors import ConfigError, InputError, StoreError
from alliance.store import Box, Database, cases, delivery, generate_key, surveys
from alliance.store.actors import Actor
from alliance.store.models import AuditEvent, DeliverySend, MemberContact, SurveyLink
from alliance.testing.smtp import LocalSmtpServer
from alliance.worker import Worker

from .conftest import ALL_FOUR, add_people, rules_coder

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
PUBLIC = "https://clinic.example"


@pytest.fixture
def staff(sqlite_db: Database, password_hash: str) -> dict[str, Actor]:
    return add_people(sqlite_db, password_hash)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def clinic_on(db: Database, box: Box | None, env: dict[str, str], clock: Clock) -> Clinic:
    settings = Settings(database_url=db.url, box=box, run_worker=False, transcript_coder="rules",
                        instruments_dir=None, public_url=PUBLIC,
                        delivery=parse_delivery_settings(env))
    return Clinic(settings, db, clock=clock, coder_factory=rules_coder)


def smtp_env(port: int) -> dict[str, str]:
    return {"ALLIANCE_SMTP_URL": f"smtp://127.0.0.1:{port}",
            "ALLIANCE_MAIL_FROM": "care@clinic.example", "ALLIANCE_CLINIC_NAME": "Riverside Clinic",
            "ALLIANCE_REMINDER_DELAY": "48h"}


def case_with_session(db: Database, actor: Actor, box: Box | None, *, email: str = "",
                      language: str = "en") -> tuple[int, int, int]:
    """A case whose client has contact details, with one session held today."""
    with db.write() as s:
        case = cases.create_case(s, actor, cases.CaseDraft(
            label="R.S.", members=["Client"], measures=[("alliance-12", "client", 1)]))
        member = cases.members(s, case.id)[0]
        if email:
            delivery.set_contact(s, actor, box, case.id, member.id, email=email,
                                 language=language)
        session = cases.add_session(s, actor, case.id, date=NOW.date())
        return case.id, member.id, session.id


def token_in(text: str, path: str) -> str:
    match = re.search(rf"{re.escape(PUBLIC)}/{path}/([A-Za-z0-9_\-]+)", text)
    assert match, f"no /{path}/ link in the message"
    return match.group(1)


def test_a_recorded_session_sends_its_link_and_one_reminder_later(
        sqlite_db: Database, staff: Any, box: Box) -> None:
    clock = Clock()
    with LocalSmtpServer() as server:
        clinic = clinic_on(sqlite_db, box, smtp_env(server.port), clock)
        worker = Worker(clinic)
        case_with_session(sqlite_db, staff["dana"], box,
                          email="client@example.org")
        worker.drain()
        assert len(server.inbox.messages) == 1
        mail = server.inbox.parsed()[0]
        assert mail["To"] == "client@example.org"
        body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Riverside Clinic" in body and "R.S." not in body
        link_token = token_in(body, "s")
        clock.now = NOW + dt.timedelta(hours=24)
        worker.drain()
        assert len(server.inbox.messages) == 1  # too early for the reminder
        clock.now = NOW + dt.timedelta(hours=49)
        worker.drain()
        worker.drain()
        assert len(server.inbox.messages) == 2  # exactly one reminder
        reminder = server.inbox.parsed()[1]
        assert reminder["Subject"].startswith("Reminder")
        assert token_in(reminder.get_body(("plain",)).get_content(), "s") == link_token  # type: ignore[union-attr]
    with sqlite_db.read() as s:
        rows = s.scalars(select(DeliverySend).order_by(DeliverySend.id)).all()
        assert [(r.kind, r.status, r.channel) for r in rows] == [
            ("link", "sent", "email"), ("reminder", "sent", "email")]
        assert all(r.reference for r in rows)
        link = s.scalars(select(SurveyLink)).one()
        assert surveys.open_link(s, link_token, now=clock.now).id == link.id


def test_an_answered_link_gets_no_reminder(sqlite_db: Database, staff: Any, box: Box) -> None:
    clock = Clock()
    with LocalSmtpServer() as server:
        worker = Worker(clinic_on(sqlite_db, box, smtp_env(server.port), clock))
        case_with_session(sqlite_db, staff["dana"], box, email="client@example.org")
        worker.drain()
        token = token_in(server.inbox.parsed()[0].get_body(("plain",)).get_content(), "s")  # type: ignore[union-attr]
        with sqlite_db.write() as s:
            surveys.submit(s, token, ALL_FOUR, now=NOW + dt.timedelta(hours=1))
        clock.now = NOW + dt.timedelta(days=3)
        worker.drain()
        assert len(server.inbox.messages) == 1


def test_the_opt_out_link_stops_the_reminder(sqlite_db: Database, staff: Any, box: Box) -> None:
    clock = Clock()
    with LocalSmtpServer() as server:
        worker = Worker(clinic_on(sqlite_db, box, smtp_env(server.port), clock))
        _, member_id, _ = case_with_session(sqlite_db, staff["dana"], box,
                                                  email="client@example.org")
        worker.drain()
        mail = server.inbox.parsed()[0]
        opt_token = token_in(mail.get_body(("plain",)).get_content(), "opt-out")  # type: ignore[union-attr]
        assert opt_token in mail["List-Unsubscribe"]
        with sqlite_db.write() as s:
            delivery.opt_out(s, opt_token, now=NOW + dt.timedelta(hours=1))
        clock.now = NOW + dt.timedelta(days=3)
        worker.drain()
        assert len(server.inbox.messages) == 1
    with sqlite_db.read() as s:
        assert s.get(MemberContact, member_id).opted_out  # type: ignore[union-attr]
        assert s.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "contact.opt_out")).all() == ["contact.opt_out"]


def test_a_refused_recipient_is_a_bounced_row_and_nothing_more_is_sent(
        sqlite_db: Database, staff: Any, box: Box) -> None:
    clock = Clock()
    with LocalSmtpServer() as server:
        server.inbox.refuse.add("gone@example.org")
        worker = Worker(clinic_on(sqlite_db, box, smtp_env(server.port), clock))
        case_with_session(sqlite_db, staff["dana"], box, email="gone@example.org")
        worker.drain()
        clock.now = NOW + dt.timedelta(days=3)
        worker.drain()
    with sqlite_db.read() as s:
        rows = s.scalars(select(DeliverySend)).all()
        assert [(r.status, r.permanent) for r in rows] == [("bounced", True)]
        assert "refused the recipient" in rows[0].reason and "gone@" not in rows[0].reason


def test_a_server_that_is_down_is_a_failed_row_retried_later(
        sqlite_db: Database, staff: Any, box: Box) -> None:
    from alliance.testing.smtp import free_port

    clock = Clock()
    port = free_port()
    worker = Worker(clinic_on(sqlite_db, box, smtp_env(port), clock))
    case_with_session(sqlite_db, staff["dana"], box, email="client@example.org")
    worker.drain()
    clock.now = NOW + dt.timedelta(minutes=10)  # before the retry delay: nothing
    worker.drain()
    clock.now = NOW + dt.timedelta(minutes=45)
    worker.drain()
    with sqlite_db.read() as s:
        rows = s.scalars(select(DeliverySend).order_by(DeliverySend.id)).all()
        assert [(r.status, r.attempt, r.permanent) for r in rows] == [
            ("failed", 1, False), ("failed", 2, False)]


def test_nothing_is_sent_or_recorded_unless_configured(
        sqlite_db: Database, staff: Any, box: Box) -> None:
    clock = Clock()
    worker = Worker(clinic_on(sqlite_db, box, {}, clock))
    case_with_session(sqlite_db, staff["dana"], box, email="client@example.org")
    worker.drain()
    with sqlite_db.read() as s:
        assert s.scalars(select(DeliverySend)).all() == []
        assert s.scalars(select(SurveyLink)).all() == []


def test_contact_details_are_stored_encrypted_and_audited_without_values(
        sqlite_db: Database, staff: Any, box: Box) -> None:
    case_id, member_id, _ = case_with_session(sqlite_db, staff["dana"], box,
                                              email="secret.client@example.org", language="es")
    with sqlite_db.read() as s:
        row = s.get(MemberContact, member_id)
        assert row is not None and b"secret.client" not in row.sealed
        assert delivery.contacts(s, box, case_id)[member_id].language == "es"
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "contact.update")).all()
        assert len(events) == 1 and "secret" not in str(events[0].detail)
    other = Box.from_text(generate_key())
    with sqlite_db.read() as s, pytest.raises(StoreError, match="does not decrypt"):
        delivery.contacts(s, other, case_id)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("email", "not an address", "plain address"),
    ("phone", "0770 090", "international form"),
    ("language", "it", "language is one of"),
    ("preferred", "fax", "preferred channel"),
])
def test_bad_contact_details_are_input_errors(sqlite_db: Database, staff: Any, box: Box,
                                              field: str, value: str, message: str) -> None:
    case_id, member_id, _ = case_with_session(sqlite_db, staff["dana"], box)
    with sqlite_db.write() as s, pytest.raises(InputError, match=message):
        delivery.set_contact(s, staff["dana"], box, case_id, member_id,
                             **{field: value})  # type: ignore[arg-type]


def test_contact_details_need_the_key(sqlite_db: Database, staff: Any) -> None:
    case_id, member_id, _ = case_with_session(sqlite_db, staff["dana"], None)
    with sqlite_db.write() as s, pytest.raises(ConfigError, match="stored encrypted"):
        delivery.set_contact(s, staff["dana"], None, case_id, member_id, email="a@b.example")


def test_a_configured_channel_needs_the_public_url() -> None:
    with pytest.raises(ConfigError, match="ALLIANCE_PUBLIC_URL"):
        Settings.from_environment({"ALLIANCE_SMTP_URL": "smtp://127.0.0.1:1025",
                                   "ALLIANCE_MAIL_FROM": "care@clinic.example",
                                   "ALLIANCE_CLINIC_NAME": "Riverside Clinic"})
    settings = Settings.from_environment({"ALLIANCE_SMTP_URL": "smtp://127.0.0.1:1025",
                                          "ALLIANCE_MAIL_FROM": "care@clinic.example",
                                          "ALLIANCE_CLINIC_NAME": "Riverside Clinic",
                                          "ALLIANCE_PUBLIC_URL": PUBLIC})
    assert settings.delivery.channels == ("email",)


def test_the_delivery_step_claims_and_sends_on_each_database(
        db: Database, password_hash: str, box: Box) -> None:
    """SQLite, then PostgreSQL (FOR UPDATE SKIP LOCKED on the claim)."""
    people = add_people(db, password_hash)
    clock = Clock()
    with LocalSmtpServer() as server:
        worker = Worker(clinic_on(db, box, smtp_env(server.port), clock))
        other = Worker(worker.clinic, name="second-worker")
        case_with_session(db, people["dana"], box, email="client@example.org")
        assert worker.deliver_once() + other.deliver_once() == 1
        clock.now = NOW + dt.timedelta(hours=49)
        assert other.deliver_once() + worker.deliver_once() == 1
        assert len(server.inbox.messages) == 2
    with db.read() as s:
        assert [r.kind for r in s.scalars(select(DeliverySend).order_by(DeliverySend.id))] == [
            "link", "reminder"]
