"""Composing a survey-link message: the clinic's name, the one-time link, an opt-out link.

A message says nothing else. No client name (the address already reaches the client; a
name adds nothing but risk when an inbox or phone is shared), no questionnaire name and
nothing clinical: "a few short questions about your recent appointment". The words live in
``messages.yaml`` (English, Spanish, French, German, written by this project); a language
without words falls back to English.

>>> import datetime as dt
>>> m = compose("link", "email", to="client@example.org",
...             link_url="https://alliance.example/s/abc", clinic_name="Riverside Clinic",
...             opt_out_url="https://alliance.example/opt-out/xyz", language="es-MX",
...             mail_from="care@clinic.example", now=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
>>> m.language, m.subject
('es', 'Un breve cuestionario de Riverside Clinic')
>>> dict(m.headers)["Date"], dict(m.headers)["Auto-Submitted"]
('Mon, 02 Mar 2026 09:00:00 +0000', 'auto-generated')
>>> "https://alliance.example/s/abc" in m.text and "opt-out/xyz" in m.text
True
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as _default_policy
from email.utils import format_datetime, make_msgid
from functools import cache
from importlib import resources
from typing import Literal
from urllib.parse import urlsplit

from alliance.delivery.settings import check_clinic_name, is_email_address
from alliance.errors import ConfigError, RecipientRefused
from alliance.instruments.languages import best_match
from alliance.yamltext import load_yaml

Channel = Literal["email", "sms"]
Kind = Literal["link", "reminder"]
NoticeKind = Literal["risk", "feedback"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")
KEYS = ("subject", "reminder_subject", "greeting", "body", "reminder_body", "link_intro",
        "ignore", "opt_out", "sms", "sms_reminder", "risk_subject", "risk_body",
        "feedback_subject", "feedback_body", "case_intro", "notice_footer")
FALLBACK_LANGUAGE = "en"
# E.164: a plus sign and up to 15 digits, the first not zero (ITU-T E.164).
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


@cache
def texts() -> dict[str, dict[str, str]]:
    """The message words per language, as shipped."""
    raw = (resources.files("alliance.delivery") / "messages.yaml").read_text("utf-8")
    data = load_yaml(raw, "messages.yaml", ConfigError)
    return {lang: {k: str(v) for k, v in words.items()} for lang, words in data.items()}


def message_language(requested: str | None) -> str:
    """The shipped language that serves ``requested`` best, else English.

    >>> message_language("fr-CA"), message_language("it"), message_language(None)
    ('fr', 'en', 'en')
    """
    return best_match(requested or "", texts()) or FALLBACK_LANGUAGE


def is_phone_number(text: str) -> bool:
    """Whether ``text`` is an international number in E.164 form (``+`` and digits).

    >>> is_phone_number("+447700900123"), is_phone_number("07700 900123")
    (True, False)
    """
    return _PHONE.match(text) is not None


def check_recipient(channel: Channel, to: str) -> str:
    """``to`` if it is a usable address for ``channel``; the error never repeats it."""
    if channel == "email" and is_email_address(to):
        return to
    if channel == "sms" and is_phone_number(to):
        return to
    what = "e-mail address" if channel == "email" else "phone number (E.164, e.g. +447700900123)"
    raise RecipientRefused(f"the recipient's {what} is not valid")


def _check_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000
            or any(ch.isspace() or ord(ch) < 32 for ch in url)):
        raise ConfigError(f"the {name} must be an http(s) URL without spaces")
    return url


@dataclass(frozen=True)
class Message:
    """A composed message, ready for a :class:`~alliance.delivery.senders.Sender`.

    ``repr`` leaves out the recipient and the body (they end up in logs otherwise).
    """

    channel: Channel
    kind: Kind | NoticeKind
    language: str
    to: str = field(repr=False)
    text: str = field(repr=False)
    subject: str = ""
    html: str | None = field(default=None, repr=False)
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def message_id(self) -> str | None:
        """The ``Message-ID`` header of an e-mail, ``None`` for an SMS."""
        return dict(self.headers).get("Message-ID")

    def to_email(self) -> EmailMessage:
        """The e-mail: plain text with a minimal HTML alternative."""
        if self.channel != "email":
            raise ConfigError("only an e-mail message converts to an e-mail")
        msg = EmailMessage(policy=MAIL_POLICY)
        msg.set_content(self.text)
        if self.html is not None:
            msg.add_alternative(self.html, subtype="html")
        # After the content: setting content clears every Content-* header.
        for name, value in self.headers:
            msg[name] = value
        msg["To"] = self.to
        msg["Subject"] = self.subject
        return msg


#: Headers are not folded before RFC 5322's hard limit of 998 characters. The standard
#: library folds at 78 and, in a long subject that mixes ASCII with other characters, can
#: fold at a space between two encoded words, where a reader must drop it (RFC 2047): a
#: clinic named "Café ¡Hola!" lost a space on the way. A subject holds at most a 120-character
#: clinic name (settings) in a one-line template, so it never reaches the limit.
MAIL_POLICY = _default_policy.clone(max_line_length=998)


def _html(words: dict[str, str], clinic: str, link: str, opt_out: str, lang: str,
          kind: Kind) -> str:
    e = html.escape
    body = e(words["reminder_body" if kind == "reminder" else "body"].format(clinic=clinic))
    return (f'<!doctype html>\n<html lang="{lang}"><body>\n'
            f"<p>{e(words['greeting'])}</p>\n<p>{body}</p>\n"
            f"<p>{e(words['link_intro'])}<br>"
            f'<a href="{e(link)}">{e(link)}</a></p>\n'
            f"<p>{e(words['ignore'])}</p>\n"
            f'<p><small>{e(words["opt_out"].format(opt_out="")).rstrip()} '
            f'<a href="{e(opt_out)}">{e(opt_out)}</a></small></p>\n'
            "</body></html>\n")


def _email_headers(mail_from: str, now: dt.datetime, lang: str) -> list[tuple[str, str]]:
    if not is_email_address(mail_from):
        raise ConfigError("an e-mail needs a From address (ALLIANCE_MAIL_FROM)")
    when = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    return [("From", mail_from),
            ("Date", format_datetime(when.astimezone(dt.UTC))),
            ("Message-ID", make_msgid(domain=mail_from.rsplit("@", 1)[1])),
            ("Content-Language", lang)]


# RFC 3834: marks what a program sends on its own, so auto-responders stay quiet; the
# second header asks the same of Microsoft Exchange.
_AUTOMATIC = [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All")]


def compose(kind: Kind, channel: Channel, *, to: str, link_url: str, clinic_name: str,
            opt_out_url: str, now: dt.datetime, language: str | None = None,
            mail_from: str = "", automatic: bool = True) -> Message:
    """The message inviting one rater to one link (``kind="link"``) or reminding them.

    ``automatic`` marks what the worker sends on its own (``Auto-Submitted: auto-generated``,
    RFC 3834, so auto-responders stay quiet); a clinician's "send now" passes ``False``.
    A reminder is always automatic. ``opt_out_url`` is the caller's link to stop messages.
    """
    check_recipient(channel, to)
    clinic = check_clinic_name(clinic_name)
    link = _check_url("survey link", link_url)
    opt_out = _check_url("opt-out link", opt_out_url)
    lang = message_language(language)
    words = texts()[lang]
    if channel == "sms":
        template = words["sms_reminder" if kind == "reminder" else "sms"]
        return Message(channel, kind, lang, to,
                       template.format(clinic=clinic, link=link, opt_out=opt_out))
    headers = _email_headers(mail_from, now, lang)
    body = words["reminder_body" if kind == "reminder" else "body"].format(clinic=clinic)
    text = "\n\n".join([words["greeting"], body, f"{words['link_intro']}\n{link}",
                        words["ignore"]])
    # "-- " on its own line starts a signature block (RFC 3676): the opt-out line sits there.
    text += "\n\n-- \n" + words["opt_out"].format(opt_out=opt_out) + "\n"
    # RFC 2369: mail clients show their own "unsubscribe" button for this header.
    headers.append(("List-Unsubscribe", f"<{opt_out}>"))
    if automatic or kind == "reminder":
        headers += _AUTOMATIC
    subject = words["reminder_subject" if kind == "reminder" else "subject"].format(clinic=clinic)
    return Message(channel, kind, lang, to, text, subject,
                   _html(words, clinic, link, opt_out, lang, kind), tuple(headers))


def compose_notice(kind: NoticeKind, *, to: str, case_url: str, clinic_name: str,
                   now: dt.datetime, mail_from: str, language: str | None = None) -> Message:
    """An e-mail telling a clinician to open a case: a risk answer (``"risk"``, marked
    high importance) or a client's message (``"feedback"``).

    It carries the case page's URL (behind the clinic's log-in) and the clinic's name only:
    not the client, not the answer, not the message; those stay behind the log-in.

    >>> import datetime as dt
    >>> m = compose_notice("risk", to="dana@clinic.example", clinic_name="Riverside Clinic",
    ...                    case_url="https://alliance.clinic.example/cases/17",
    ...                    now=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC),
    ...                    mail_from="care@clinic.example")
    >>> m.subject, dict(m.headers)["Importance"]
    ('Please check a case today (Riverside Clinic)', 'high')
    """
    check_recipient("email", to)
    clinic = check_clinic_name(clinic_name)
    url = _check_url("case URL", case_url)
    lang = message_language(language)
    words = texts()[lang]
    headers = _email_headers(mail_from, now, lang) + _AUTOMATIC
    if kind == "risk":
        headers += [("Importance", "high"), ("X-Priority", "1")]
    body = words[f"{kind}_body"].format(clinic=clinic)
    text = "\n\n".join([words["greeting"], body, f"{words['case_intro']}\n{url}"])
    text += "\n\n-- \n" + words["notice_footer"] + "\n"
    e = html.escape
    page = (f'<!doctype html>\n<html lang="{lang}"><body>\n'
            f"<p>{e(words['greeting'])}</p>\n<p>{e(body)}</p>\n"
            f'<p>{e(words["case_intro"])}<br><a href="{e(url)}">{e(url)}</a></p>\n'
            f"<p><small>{e(words['notice_footer'])}</small></p>\n</body></html>\n")
    return Message("email", kind, lang, to, text, words[f"{kind}_subject"].format(clinic=clinic),
                   page, tuple(headers))
