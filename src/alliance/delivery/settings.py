"""Delivery configuration: parsed once, by the composition root, from env-like strings.

| variable                    | default      | meaning                                           |
|-----------------------------|--------------|---------------------------------------------------|
| ``ALLIANCE_SMTP_URL``       | (none: off)  | ``smtp://``, ``smtp+starttls://`` or ``smtps://`` |
| ``ALLIANCE_MAIL_FROM``      | (required with SMTP) | the From address of every message         |
| ``ALLIANCE_SMS_URL``        | (none: off)  | ``file:///path.jsonl``, ``console:`` or a plug-in |
| ``ALLIANCE_CLINIC_NAME``    | (required with a channel) | the one name a message shows         |
| ``ALLIANCE_REMINDER_DELAY`` | ``48h``      | wait before the one reminder (``90m``, ``2d``)    |
| ``ALLIANCE_SEND_WINDOW``    | ``3d``       | sessions held longer ago get no automatic link    |
| ``ALLIANCE_QUIET_HOURS``    | (none)       | no sends in these local hours (``21:00-08:00``)   |
| ``ALLIANCE_TIMEZONE``       | ``UTC``      | the clinic's IANA time zone (``Europe/Madrid``)   |

Nothing is sent unless a channel's URL is set. An SMTP URL reads
``scheme://[user[:password]@]host[:port][?timeout=S&cafile=PATH]``; user and password are
percent-decoded. A password is never shown in an error message.

>>> s = parse_delivery_settings({"ALLIANCE_SMTP_URL": "smtp://127.0.0.1:1025",
...                              "ALLIANCE_MAIL_FROM": "care@clinic.example",
...                              "ALLIANCE_CLINIC_NAME": "Riverside Clinic"})
>>> s.smtp.host, s.smtp.port, s.smtp.security, s.smtp.timeout, s.channels
('127.0.0.1', 1025, 'plain', 10.0, ('email',))
>>> parse_delivery_settings({}).channels
()
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alliance.errors import ConfigError

Security = Literal["plain", "starttls", "tls"]

# Scheme -> (security, default port). 25 is plain SMTP relay, 587 submission with STARTTLS
# (RFC 6409), 465 submission over implicit TLS (RFC 8314).
_SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_HOURS = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to submit e-mail. ``repr`` hides the password."""

    host: str
    port: int
    security: Security = "plain"
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    cafile: str | None = None

    def __repr__(self) -> str:
        login = f", username={self.username!r}, password='***'" if self.username else ""
        return (f"SmtpConfig(host={self.host!r}, port={self.port}, "
                f"security={self.security!r}{login}, timeout={self.timeout})")

    @property
    def where(self) -> str:
        """``host:port``, for messages (never the login)."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class DeliverySettings:
    """Everything the sending layer needs; see the module docstring for the variables."""

    smtp: SmtpConfig | None = None
    mail_from: str = ""
    sms_url: str | None = None
    clinic_name: str = ""
    reminder_delay: dt.timedelta = dt.timedelta(hours=48)
    send_window: dt.timedelta = dt.timedelta(days=3)
    quiet_hours: tuple[dt.time, dt.time] | None = None
    timezone: str = "UTC"

    @property
    def channels(self) -> tuple[str, ...]:
        """The configured channels, e-mail first."""
        return tuple(c for c, on in (("email", self.smtp), ("sms", self.sms_url)) if on)


def _redacted(url: str) -> str:
    """The URL with any password replaced, safe to put in an error message."""
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_smtp_url(url: str) -> SmtpConfig:
    """Parse ``ALLIANCE_SMTP_URL``; a malformed URL is a readable :class:`ConfigError`.

    >>> parse_smtp_url("smtps://care%40clinic.example:s3cret@mail.example")
    SmtpConfig(host='mail.example', port=465, security='tls', username='care@clinic.example', password='***', timeout=10.0)
    >>> parse_smtp_url("smtp+starttls://mail.example?timeout=5").port
    587
    >>> parse_smtp_url("http://mail.example")
    Traceback (most recent call last):
    alliance.errors.ConfigError: ALLIANCE_SMTP_URL='http://mail.example': the scheme must be smtp, smtp+starttls or smtps
    """  # noqa: E501
    shown = f"ALLIANCE_SMTP_URL={_redacted(url)!r}"
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ConfigError(f"{shown}: the URL contains spaces or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ConfigError(f"{shown}: the scheme must be smtp, smtp+starttls or smtps")
    security, default_port = _SCHEMES[scheme]
    host = parts.hostname
    if not host:
        raise ConfigError(f"{shown}: no host name (expected e.g. smtp://127.0.0.1:1025)")
    try:
        port = parts.port or default_port
    except ValueError:
        raise ConfigError(f"{shown}: the port must be a number from 1 to 65535") from None
    if parts.path not in ("", "/"):
        raise ConfigError(f"{shown}: an SMTP URL has no path")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ConfigError(f"{shown}: a password needs a user name (smtps://user:password@host)")
    if username and security == "plain" and not _is_loopback(host):
        raise ConfigError(f"{shown}: a login over plain smtp:// would send the password in "
                          "clear; use smtp+starttls:// or smtps://")
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"timeout", "cafile"})
    if unknown:
        raise ConfigError(f"{shown}: unknown option {unknown[0]!r} (known: timeout, cafile)")
    timeout = 10.0
    if "timeout" in query:
        try:
            timeout = float(query["timeout"][-1])
        except ValueError:
            raise ConfigError(f"{shown}: timeout must be a number of seconds") from None
        if not 0 < timeout <= 600:
            raise ConfigError(f"{shown}: timeout must be between 0 and 600 seconds")
    cafile = query["cafile"][-1] if "cafile" in query else None
    if cafile is not None and security == "plain":
        raise ConfigError(f"{shown}: cafile only applies to smtp+starttls:// or smtps://")
    return SmtpConfig(host=host, port=port, security=security, username=username,
                      password=password, timeout=timeout, cafile=cafile)


def parse_quiet_hours(text: str) -> tuple[dt.time, dt.time]:
    """Local hours without sends, ``HH:MM-HH:MM``; the span may cross midnight.

    >>> parse_quiet_hours("21:00-08:00")
    (datetime.time(21, 0), datetime.time(8, 0))
    """
    match = _HOURS.match(text)
    start = end = None
    if match:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = dt.time(h1, m1), dt.time(h2, m2)
    if start is None or end is None or start == end:
        raise ConfigError(f"ALLIANCE_QUIET_HOURS={text!r} is not a span of hours "
                          "(write e.g. 21:00-08:00)")
    return start, end


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone this machine knows (``Europe/Madrid``)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"ALLIANCE_TIMEZONE={name!r} is not a known time zone "
                          "(write an IANA name such as Europe/Madrid or America/Toronto)") from None
    return name


def parse_duration(name: str, text: str) -> dt.timedelta:
    """A positive duration written ``90m``, ``48h``, ``2d`` or ``30s``.

    >>> parse_duration("ALLIANCE_REMINDER_DELAY", "2d")
    datetime.timedelta(days=2)
    >>> parse_duration("ALLIANCE_REMINDER_DELAY", "soon")
    Traceback (most recent call last):
    alliance.errors.ConfigError: ALLIANCE_REMINDER_DELAY='soon' is not a duration (write e.g. 90m, 48h or 2d)
    """  # noqa: E501
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(f"{name}={text!r} is not a duration (write e.g. 90m, 48h or 2d)")
    return dt.timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def is_email_address(text: str) -> bool:
    """Whether ``text`` is a plain ``local@domain`` address (no display name, no comments).

    >>> is_email_address("care@clinic.example"), is_email_address("Care <care@x.example>")
    (True, False)
    """
    return len(text) <= 254 and _ADDRESS.match(text) is not None


def parse_delivery_settings(env: Mapping[str, str]) -> DeliverySettings:
    """Read :class:`DeliverySettings` from a mapping such as ``os.environ``.

    Empty values count as unset. Raises :class:`ConfigError` naming the variable at fault.
    """
    def get(name: str) -> str:
        return (env.get(name) or "").strip()

    smtp = parse_smtp_url(get("ALLIANCE_SMTP_URL")) if get("ALLIANCE_SMTP_URL") else None
    mail_from = get("ALLIANCE_MAIL_FROM")
    if smtp is not None and not mail_from:
        raise ConfigError("ALLIANCE_MAIL_FROM is required with ALLIANCE_SMTP_URL "
                          "(the From address, e.g. care@clinic.example)")
    if mail_from and not is_email_address(mail_from):
        raise ConfigError(f"ALLIANCE_MAIL_FROM={mail_from!r} is not an e-mail address "
                          "(write the bare address, e.g. care@clinic.example)")
    sms_url = get("ALLIANCE_SMS_URL") or None
    if sms_url is not None and ":" not in sms_url:
        raise ConfigError(f"ALLIANCE_SMS_URL={sms_url!r} needs a provider scheme "
                          "(e.g. file:///var/lib/alliance/sms.jsonl or console:)")
    clinic = get("ALLIANCE_CLINIC_NAME")
    if (smtp or sms_url) and not clinic:
        raise ConfigError("ALLIANCE_CLINIC_NAME is required when a delivery channel is set "
                          "(messages carry the clinic's name and the link, nothing else)")
    if clinic:
        check_clinic_name(clinic)
    delay = get("ALLIANCE_REMINDER_DELAY")
    window = get("ALLIANCE_SEND_WINDOW")
    quiet = get("ALLIANCE_QUIET_HOURS")
    return DeliverySettings(
        smtp=smtp, mail_from=mail_from, sms_url=sms_url, clinic_name=clinic,
        reminder_delay=(parse_duration("ALLIANCE_REMINDER_DELAY", delay) if delay
                        else DeliverySettings.reminder_delay),
        send_window=(parse_duration("ALLIANCE_SEND_WINDOW", window) if window
                     else DeliverySettings.send_window),
        quiet_hours=parse_quiet_hours(quiet) if quiet else None,
        timezone=check_timezone(get("ALLIANCE_TIMEZONE") or "UTC"),
    )


def check_clinic_name(name: str) -> str:
    """The clinic's name as messages show it: 1 to 120 printable characters on one line.

    Control characters and line or paragraph separators are refused: the name goes into
    the Subject header, where a line break would start a header of its own.
    """
    if (not name.strip() or len(name) > 120
            or any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in name)):
        raise ConfigError("the clinic name must be 1 to 120 printable characters on one line")
    return name.strip()
