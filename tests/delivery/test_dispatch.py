"""The worker's path end to end: settings, due sends, dispatch, receipts as send rows."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from alliance.delivery import (
    CaseDelivery,
    MeasurePlan,
    NullSender,
    Recipient,
    RecordedSession,
    SchedulePolicy,
    build_senders,
    dispatch,
    due_sends,
    parse_delivery_settings,
)
from alliance.delivery.schedule import DueSend

NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
CONTACTS = {1: {"email": "first@example.org"}, 2: {"sms": "+4915112345678"}}


def snapshot() -> CaseDelivery:
    return CaseDelivery(
        measures=(MeasurePlan("alliance-12"),),
        sessions=(RecordedSession(40, 1, NOW.date()),),
        recipients=(Recipient(1, channels=("email",), language="fr"),
                    Recipient(2, channels=("sms",), language="de")))


def run_worker(env: dict[str, str]) -> list[Any]:
    settings = parse_delivery_settings(env)
    senders = build_senders(settings)
    receipts = []
    for due in due_sends(snapshot(), now=NOW, policy=SchedulePolicy.from_settings(settings),
                         channels=settings.channels):
        receipts.append(dispatch(due, to=CONTACTS[due.member_id or 0][due.channel],
                                 link_url=f"https://survey.example/s/{due.member_id}",
                                 opt_out_url="https://survey.example/o/x", settings=settings,
                                 senders=senders, now=NOW))
    return receipts


def test_a_recorded_session_sends_each_member_their_link_on_their_channel(
        smtp_server: Any, tmp_path: Path) -> None:
    inbox, port = smtp_server()
    sms_file = tmp_path / "sms.jsonl"
    receipts = run_worker({"ALLIANCE_SMTP_URL": f"smtp://127.0.0.1:{port}",
                           "ALLIANCE_MAIL_FROM": "care@clinic.example",
                           "ALLIANCE_SMS_URL": f"file://{sms_file}",
                           "ALLIANCE_CLINIC_NAME": "Riverside Clinic"})
    assert [(r.status, r.channel) for r in receipts] == [("sent", "email"), ("sent", "sms")]
    mail = inbox.parsed()[0]
    assert mail["To"] == "first@example.org" and mail["Content-Language"] == "fr"
    assert "https://survey.example/s/1" in mail.get_body(("plain",)).get_content()
    line = json.loads(sms_file.read_text(encoding="utf-8"))
    assert line["to"] == "+4915112345678" and "https://survey.example/s/2" in line["text"]
    assert line["text"].startswith("Riverside Clinic: einige kurze Fragen")


def test_with_only_email_configured_the_sms_member_gets_nothing(smtp_server: Any) -> None:
    inbox, port = smtp_server()
    receipts = run_worker({"ALLIANCE_SMTP_URL": f"smtp://127.0.0.1:{port}",
                           "ALLIANCE_MAIL_FROM": "care@clinic.example",
                           "ALLIANCE_CLINIC_NAME": "Riverside Clinic"})
    assert [(r.status, r.channel) for r in receipts] == [("sent", "email")]
    assert len(inbox.messages) == 1


def test_nothing_configured_sends_nothing() -> None:
    assert run_worker({}) == []


def test_an_unconfigured_channel_records_not_configured() -> None:
    settings = parse_delivery_settings({})
    senders = build_senders(settings)
    assert all(isinstance(s, NullSender) for s in senders.values())
    due = DueSend("link", "sms", 40, 2, "client", "alliance-12", "de")
    receipt = dispatch(due, to="+4915112345678", link_url="https://s.example/s/t",
                       opt_out_url="https://s.example/o", settings=settings, senders=senders,
                       now=NOW)
    assert (receipt.status, receipt.reason) == ("not_configured",
                                                "SMS (ALLIANCE_SMS_URL) is not configured")
    assert senders["sms"].attempts == 1  # type: ignore[attr-defined]


def test_an_unusable_stored_address_comes_back_as_a_bounce(smtp_server: Any) -> None:
    inbox, port = smtp_server()
    settings = parse_delivery_settings({"ALLIANCE_SMTP_URL": f"smtp://127.0.0.1:{port}",
                                        "ALLIANCE_MAIL_FROM": "care@clinic.example",
                                        "ALLIANCE_CLINIC_NAME": "Riverside Clinic"})
    due = DueSend("reminder", "email", 40, 1, "client", "alliance-12", None, link_id=3)
    receipt = dispatch(due, to="first at example.org", link_url="https://s.example/s/t",
                       opt_out_url="https://s.example/o", settings=settings,
                       senders=build_senders(settings), now=NOW)
    assert (receipt.status, receipt.permanent) == ("bounced", True)
    assert "first" not in receipt.reason and inbox.messages == []
