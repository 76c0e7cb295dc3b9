"""Delivery settings from env-like strings: defaults, every channel, readable errors."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from alliance.delivery import parse_delivery_settings, parse_smtp_url
from alliance.errors import ConfigError

BASE = {"ALLIANCE_MAIL_FROM": "care@clinic.example", "ALLIANCE_CLINIC_NAME": "Riverside Clinic"}


def test_nothing_configured_means_no_channel() -> None:
    settings = parse_delivery_settings({"ALLIANCE_SMTP_URL": "", "ALLIANCE_SMS_URL": " "})
    assert settings.channels == () and settings.smtp is None
    assert settings.reminder_delay == dt.timedelta(hours=48)
    assert settings.send_window == dt.timedelta(days=3)


def test_both_channels_and_durations() -> None:
    settings = parse_delivery_settings({**BASE, "ALLIANCE_SMTP_URL": "smtps://mail.example",
                                        "ALLIANCE_SMS_URL": "console:",
                                        "ALLIANCE_REMINDER_DELAY": "90m",
                                        "ALLIANCE_SEND_WINDOW": "1.5d"})
    assert settings.channels == ("email", "sms")
    assert settings.reminder_delay == dt.timedelta(minutes=90)
    assert settings.send_window == dt.timedelta(hours=36)


def test_quiet_hours_and_time_zone() -> None:
    settings = parse_delivery_settings({"ALLIANCE_QUIET_HOURS": " 7:30 - 22:15 ",
                                        "ALLIANCE_TIMEZONE": "Europe/Berlin"})
    assert settings.quiet_hours == (dt.time(7, 30), dt.time(22, 15))
    assert settings.timezone == "Europe/Berlin"
    assert parse_delivery_settings({}).quiet_hours is None


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://127.0.0.1:1025", ("127.0.0.1", 1025, "plain", None)),
    ("smtp://mail.example", ("mail.example", 25, "plain", None)),
    ("smtp+starttls://u@mail.example", ("mail.example", 587, "starttls", "u")),
    ("SMTPS://u:p@mail.example:2465/", ("mail.example", 2465, "tls", "u")),
    ("smtp://u:p@localhost:1025", ("localhost", 1025, "plain", "u")),
    ("smtp://[::1]:1025", ("::1", 1025, "plain", None)),
])
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    c = parse_smtp_url(url)
    assert (c.host, c.port, c.security, c.username) == expected


def test_percent_encoded_login_and_options() -> None:
    c = parse_smtp_url("smtps://me%40x.example:a%2Fb%3Ac@mail.example?timeout=2.5&cafile=/ca.pem")
    assert (c.username, c.password, c.timeout, c.cafile) == ("me@x.example", "a/b:c", 2.5,
                                                             "/ca.pem")
    assert "a/b:c" not in repr(c) and "a%2Fb" not in repr(c)


@pytest.mark.parametrize(("url", "message"), [
    ("http://mail.example", "the scheme must be smtp, smtp+starttls or smtps"),
    ("mail.example:25", "the scheme must be"),
    ("smtp://", "no host name"),
    ("smtp://mail.example:99999", "the port must be a number"),
    ("smtp://mail.example:port", "the port must be a number"),
    ("smtp://mail.example/inbox", "an SMTP URL has no path"),
    ("smtps://:secret@mail.example", "a password needs a user name"),
    ("smtp://u:secret@mail.example", "would send the password in clear"),
    ("smtps://mail.example?tls=yes", "unknown option 'tls'"),
    ("smtps://mail.example?timeout=soon", "timeout must be a number"),
    ("smtps://mail.example?timeout=0", "timeout must be between"),
    ("smtp://127.0.0.1?cafile=/ca.pem", "cafile only applies"),
    ("smtp://mail .example", "spaces or control characters"),
])
def test_malformed_smtp_urls_are_readable_config_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        parse_delivery_settings({**BASE, "ALLIANCE_SMTP_URL": url})
    assert str(caught.value).startswith("ALLIANCE_SMTP_URL=")
    assert "secret" not in str(caught.value)


def test_a_password_never_shows_in_an_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_smtp_url("smtps://user:hunter2@mail.example:notaport")
    assert "hunter2" not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize(("env", "message"), [
    ({"ALLIANCE_SMTP_URL": "smtp://127.0.0.1:1025", "ALLIANCE_CLINIC_NAME": "C"},
     "ALLIANCE_MAIL_FROM is required"),
    ({**BASE, "ALLIANCE_MAIL_FROM": "Care <care@clinic.example>"}, "is not an e-mail address"),
    ({"ALLIANCE_SMS_URL": "console:"}, "ALLIANCE_CLINIC_NAME is required"),
    ({**BASE, "ALLIANCE_SMS_URL": "sms.jsonl"}, "needs a provider scheme"),
    ({**BASE, "ALLIANCE_CLINIC_NAME": "Riverside\nBcc: x@y.example"}, "printable characters"),
    ({**BASE, "ALLIANCE_CLINIC_NAME": "x" * 121}, "1 to 120"),
    ({**BASE, "ALLIANCE_REMINDER_DELAY": "two days"}, "ALLIANCE_REMINDER_DELAY='two days'"),
    ({**BASE, "ALLIANCE_REMINDER_DELAY": "0h"}, "is not a duration"),
    ({**BASE, "ALLIANCE_SEND_WINDOW": "3 weeks"}, "ALLIANCE_SEND_WINDOW"),
    ({**BASE, "ALLIANCE_QUIET_HOURS": "9pm-8am"}, "is not a span of hours"),
    ({**BASE, "ALLIANCE_QUIET_HOURS": "21:00-21:00"}, "is not a span of hours"),
    ({**BASE, "ALLIANCE_QUIET_HOURS": "24:00-08:00"}, "is not a span of hours"),
    ({**BASE, "ALLIANCE_TIMEZONE": "CET+1"}, "not a known time zone"),
    ({**BASE, "ALLIANCE_TIMEZONE": "../etc/passwd"}, "not a known time zone"),
])
def test_other_settings_errors_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_delivery_settings(env)
