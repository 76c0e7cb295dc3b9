"""E-mail through a real SMTP server (aiosmtpd on a loopback port), parsed back."""

from __future__ import annotations

import datetime as dt
import socket
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from alliance.delivery import EmailSender, compose, deliver, parse_smtp_url
from alliance.errors import (
    DeliveryAuthError,
    DeliveryUnreachable,
    MessageRejected,
    RecipientRefused,
)
from alliance.testing.smtp import Inbox, free_port
from alliance.testing.smtp import server_tls_context as server_tls

SmtpServer = Any
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)

CLIENT = "ana.lopez@example.org"
LINK = "https://survey.example/s/Zq3-one-time-token"
OPT_OUT = "https://survey.example/opt-out/u7"


def message(kind: str = "link", to: str = CLIENT, **kw: Any) -> Any:
    return compose(kind, "email", to=to, link_url=LINK,  # type: ignore[arg-type]
                   clinic_name="Riverside Clinic", opt_out_url=OPT_OUT, now=NOW,
                   mail_from="care@clinic.example", **kw)


def parsed(inbox: Inbox, index: int = 0) -> EmailMessage:
    return inbox.parsed()[index]


def bodies(msg: EmailMessage) -> tuple[str, str]:
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


def sender(url: str) -> EmailSender:
    return EmailSender(parse_smtp_url(url))


def test_link_message_arrives_with_link_and_clinic_name_and_nothing_about_the_client(
        smtp_server: SmtpServer) -> None:
    inbox, port = smtp_server()
    receipt = sender(f"smtp://127.0.0.1:{port}").send(message(), now=NOW)
    assert receipt.status == "sent"
    mail_from, rcpt, _ = inbox.messages[0]
    assert (mail_from, rcpt) == ("care@clinic.example", [CLIENT])
    msg = parsed(inbox)
    assert msg["Subject"] == "A short questionnaire from Riverside Clinic"
    assert msg["Message-ID"] == receipt.reference
    assert msg["Message-ID"].endswith("@clinic.example>")
    assert msg["Date"] == "Mon, 02 Mar 2026 12:00:00 +0000"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"] == f"<{OPT_OUT}>"
    assert msg.get_content_type() == "multipart/alternative"
    for body in bodies(msg):
        assert LINK in body and OPT_OUT in body and "Riverside Clinic" in body
        # No client name (nor the address's local part), no instrument, nothing clinical.
        words = body.replace(LINK, "").replace(OPT_OUT, "").lower()
        for absent in ("ana", "lopez", "alliance", "therap", "score", "question 1"):
            assert absent not in words, absent


def test_reminder_has_its_own_subject_and_is_marked_auto_submitted(
        smtp_server: SmtpServer) -> None:
    inbox, port = smtp_server()
    sender(f"smtp://127.0.0.1:{port}").send(message("reminder", automatic=False), now=NOW)
    msg = parsed(inbox)
    assert msg["Subject"] == "Reminder: a short questionnaire from Riverside Clinic"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert "still waiting" in bodies(msg)[0]


def test_a_clinicians_manual_send_is_not_marked_auto_submitted(smtp_server: SmtpServer) -> None:
    inbox, port = smtp_server()
    sender(f"smtp://127.0.0.1:{port}").send(message(automatic=False), now=NOW)
    assert parsed(inbox)["Auto-Submitted"] is None


def test_message_arrives_in_the_clients_language(smtp_server: SmtpServer) -> None:
    inbox, port = smtp_server()
    sender(f"smtp://127.0.0.1:{port}").send(message(language="de-AT"), now=NOW)
    msg = parsed(inbox)
    assert msg["Subject"] == "Ein kurzer Fragebogen von Riverside Clinic"
    assert msg["Content-Language"] == "de"
    plain, html = bodies(msg)
    assert "Öffnen Sie diesen persönlichen Link" in plain
    assert '<html lang="de">' in html


def test_refused_recipient_is_a_typed_bounce_that_does_not_repeat_the_address(
        smtp_server: SmtpServer) -> None:
    inbox, port = smtp_server(Inbox(refuse={CLIENT}))
    with pytest.raises(RecipientRefused) as caught:
        sender(f"smtp://127.0.0.1:{port}").send(message(), now=NOW)
    assert caught.value.permanent and "550" in str(caught.value)
    assert "ana" not in str(caught.value).lower()
    receipt = deliver(sender(f"smtp://127.0.0.1:{port}"), message(), now=NOW)
    assert (receipt.status, receipt.permanent, receipt.retryable) == ("bounced", True, False)
    assert "ana" not in receipt.reason and inbox.messages == []


def test_message_refused_at_submission_is_a_bounce(smtp_server: SmtpServer) -> None:
    _, port = smtp_server(Inbox(reject_data=True))
    with pytest.raises(MessageRejected, match="554"):
        sender(f"smtp://127.0.0.1:{port}").send(message(), now=NOW)


def test_server_down_is_unreachable_and_retryable() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(DeliveryUnreachable, match=f"127.0.0.1:{port} is unreachable"):
        sender(f"smtp://127.0.0.1:{port}").send(message(), now=NOW)
    receipt = deliver(sender(f"smtp://127.0.0.1:{port}"), message(), now=NOW)
    assert (receipt.status, receipt.retryable) == ("failed", True)


def test_silent_server_times_out_as_unreachable() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never greets
        port = listener.getsockname()[1]
        with pytest.raises(DeliveryUnreachable, match=r"did not answer within 0\.5 s"):
            sender(f"smtp://127.0.0.1:{port}?timeout=0.5").send(message(), now=NOW)


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                   auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == b"care@clinic.example" and auth_data.password == b"p@ss:word"
    return AuthResult(success=ok, handled=False)


def test_starttls_with_login_delivers(smtp_server: SmtpServer,
                                      certificate: tuple[Path, Path]) -> None:
    inbox, port = smtp_server(tls_context=server_tls(certificate), require_starttls=True,
                              authenticator=_authenticator, auth_required=True)
    url = (f"smtp+starttls://care%40clinic.example:p%40ss%3Aword@127.0.0.1:{port}"
           f"?cafile={certificate[0]}")
    assert sender(url).send(message(), now=NOW).status == "sent"
    assert LINK in bodies(parsed(inbox))[0]


def test_wrong_password_is_an_authentication_error_without_the_password(
        smtp_server: SmtpServer, certificate: tuple[Path, Path]) -> None:
    _, port = smtp_server(tls_context=server_tls(certificate), require_starttls=True,
                          authenticator=_authenticator, auth_required=True)
    url = f"smtp+starttls://care%40clinic.example:guess@127.0.0.1:{port}?cafile={certificate[0]}"
    with pytest.raises(DeliveryAuthError) as caught:
        sender(url).send(message(), now=NOW)
    assert "guess" not in str(caught.value) and "535" in str(caught.value)
    assert "guess" not in repr(sender(url))


def test_starttls_refuses_a_certificate_it_cannot_verify(
        smtp_server: SmtpServer, certificate: tuple[Path, Path]) -> None:
    inbox, port = smtp_server(tls_context=server_tls(certificate), require_starttls=True)
    with pytest.raises(DeliveryUnreachable, match="TLS with the mail server"):
        sender(f"smtp+starttls://127.0.0.1:{port}").send(message(), now=NOW)
    assert inbox.messages == []


def test_starttls_is_not_silently_dropped_when_the_server_lacks_it(
        smtp_server: SmtpServer) -> None:
    inbox, port = smtp_server()
    with pytest.raises(DeliveryUnreachable, match="does not offer STARTTLS"):
        sender(f"smtp+starttls://127.0.0.1:{port}").send(message(), now=NOW)
    assert inbox.messages == []


def test_implicit_tls_delivers(smtp_server: SmtpServer, certificate: tuple[Path, Path]) -> None:
    inbox, port = smtp_server(ssl_context=server_tls(certificate))
    url = f"smtps://127.0.0.1:{port}?cafile={certificate[0]}"
    assert sender(url).send(message(), now=NOW).status == "sent"
    assert len(inbox.messages) == 1


def test_an_international_address_needs_a_server_with_smtputf8(smtp_server: SmtpServer) -> None:
    _, port = smtp_server(enable_SMTPUTF8=False)
    with pytest.raises(MessageRejected, match="SMTPUTF8"):
        sender(f"smtp://127.0.0.1:{port}").send(message(to="zoë@example.org"), now=NOW)
    inbox, port = smtp_server(enable_SMTPUTF8=True)
    assert sender(f"smtp://127.0.0.1:{port}").send(message(to="zoë@example.org"),
                                                   now=NOW).status == "sent"
    assert inbox.messages[0][1] == ["zoë@example.org"]


def test_login_on_a_server_without_auth_is_an_authentication_error(
        smtp_server: SmtpServer) -> None:
    _, port = smtp_server(auth_require_tls=True)
    with pytest.raises(DeliveryAuthError, match="offers no login"):
        sender(f"smtp://user:pw@127.0.0.1:{port}").send(message(), now=NOW)


def test_risk_notice_reaches_the_clinician_marked_urgent_with_only_the_case_link(
        smtp_server: SmtpServer) -> None:
    from alliance.delivery import compose_notice

    inbox, port = smtp_server()
    case_url = "https://clinic.example/cases/17"
    notice = compose_notice("risk", to="dana@clinic.example", case_url=case_url,
                            clinic_name="Riverside Clinic", now=NOW,
                            mail_from="care@clinic.example")
    assert sender(f"smtp://127.0.0.1:{port}").send(notice, now=NOW).status == "sent"
    msg = parsed(inbox)
    assert (msg["Importance"], msg["X-Priority"], msg["Auto-Submitted"]) == (
        "high", "1", "auto-generated")
    assert msg["List-Unsubscribe"] is None
    for body in bodies(msg):
        assert case_url in body and "Riverside Clinic" in body
        assert "risk" not in body.lower() and "suicid" not in body.lower()


def test_feedback_notice_in_the_clinicians_language(smtp_server: SmtpServer) -> None:
    from alliance.delivery import compose_notice

    inbox, port = smtp_server()
    notice = compose_notice("feedback", to="dana@clinic.example",
                            case_url="https://clinic.example/cases/17",
                            clinic_name="Clínica Ribera", now=NOW,
                            mail_from="care@clinic.example", language="es")
    sender(f"smtp://127.0.0.1:{port}").send(notice, now=NOW)
    msg = parsed(inbox)
    assert msg["Subject"] == "Un cliente le ha dejado un mensaje (Clínica Ribera)"
    assert msg["Importance"] is None


def test_an_unreadable_cafile_fails_when_the_sender_is_built(tmp_path: Path) -> None:
    from alliance.errors import ConfigError

    (tmp_path / "junk.pem").write_text("not a certificate", encoding="utf-8")
    for cafile in (tmp_path / "missing.pem", tmp_path / "junk.pem"):
        with pytest.raises(ConfigError, match="cannot be read as PEM"):
            sender(f"smtps://mail.example?cafile={cafile}")


def test_check_logs_in_and_sends_nothing(smtp_server: SmtpServer,
                                         certificate: tuple[Path, Path]) -> None:
    inbox, port = smtp_server(tls_context=server_tls(certificate), require_starttls=True,
                              authenticator=_authenticator, auth_required=True)
    base = f"127.0.0.1:{port}?cafile={certificate[0]}"
    sender(f"smtp+starttls://care%40clinic.example:p%40ss%3Aword@{base}").check()
    assert inbox.messages == []
    with pytest.raises(DeliveryAuthError):
        sender(f"smtp+starttls://care%40clinic.example:guess@{base}").check()
    with pytest.raises(DeliveryUnreachable):
        sender(f"smtp://127.0.0.1:{free_port()}").check()
