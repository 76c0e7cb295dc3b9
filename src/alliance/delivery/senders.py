"""Senders: the injectable boundary between alliance and the outside world.

A :class:`Sender` takes a composed :class:`~alliance.delivery.messages.Message` and hands it
to a mail server or SMS provider, returning a :class:`Receipt` or raising a
:class:`~alliance.errors.DeliveryError`. :func:`deliver` turns either into a receipt whose
``status`` is what the store writes as the send row:

=================  =========================================================
``sent``           accepted by the server or provider (not yet read, maybe not delivered)
``bounced``        refused at submission for good (recipient or message rejected)
``failed``         not handed over (server down, login refused, temporary refusal)
``not_configured`` the channel has no configuration: nothing left the machine
=================  =========================================================

Tests and demos inject :class:`NullSender` or an SMS file provider, like httpx's
``MockTransport``; nothing reaches the network unless ``ALLIANCE_SMTP_URL`` (or an SMS URL)
is set.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from alliance.delivery.messages import Channel, Message
from alliance.delivery.settings import SmtpConfig
from alliance.errors import (
    ConfigError,
    DeliveryAuthError,
    DeliveryError,
    DeliveryUnreachable,
    MessageRejected,
    RecipientRefused,
)

Status = Literal["sent", "failed", "bounced", "not_configured"]
STATUSES: tuple[Status, ...] = ("sent", "failed", "bounced", "not_configured")


@dataclass(frozen=True)
class Receipt:
    """What became of one message; safe to store and show (no address, no body)."""

    status: Status
    channel: Channel
    at: dt.datetime
    reference: str | None = None   # Message-ID or the provider's id, when sent
    reason: str = ""               # why it was not sent, in plain words
    permanent: bool = False        # True: trying this recipient again cannot help

    @property
    def retryable(self) -> bool:
        return self.status == "failed" and not self.permanent


@runtime_checkable
class Sender(Protocol):
    """Hands one message to one channel; raises :class:`DeliveryError` when it cannot."""

    channel: Channel

    def send(self, message: Message, *, now: dt.datetime) -> Receipt: ...


@dataclass
class NullSender:
    """The sender of an unconfigured channel: sends nothing, says so, remembers the count."""

    channel: Channel
    attempts: int = 0

    def send(self, message: Message, *, now: dt.datetime) -> Receipt:
        return self.skip(now=now)

    def skip(self, *, now: dt.datetime) -> Receipt:
        """The receipt of a message this channel would have sent."""
        self.attempts += 1
        what = "e-mail (ALLIANCE_SMTP_URL)" if self.channel == "email" else "SMS (ALLIANCE_SMS_URL)"
        return Receipt("not_configured", self.channel, now, reason=f"{what} is not configured")


def _refusal(code: int, what: str, where: str) -> DeliveryError:
    # 5xx is a permanent refusal, 4xx a temporary one (RFC 5321 section 4.2.1).
    if 500 <= code < 600:
        cls: type[DeliveryError] = RecipientRefused if what == "recipient" else MessageRejected
        return cls(f"the mail server at {where} refused the {what} ({code})", code=code)
    return DeliveryError(f"the mail server at {where} deferred the {what} ({code}); "
                         "it may accept it later", code=code)


SmtpFactory = Callable[[SmtpConfig, ssl.SSLContext], smtplib.SMTP]


def tls_context(config: SmtpConfig) -> ssl.SSLContext:
    """The client TLS context: the system's trust store, or ``cafile``; always verified."""
    try:
        return ssl.create_default_context(cafile=config.cafile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"ALLIANCE_SMTP_URL: the cafile {config.cafile} cannot be read as "
                          f"PEM certificates ({type(exc).__name__})") from None


def _connect(config: SmtpConfig, context: ssl.SSLContext) -> smtplib.SMTP:
    if config.security == "tls":
        return smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout,
                                context=context)
    smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    if config.security == "starttls":
        try:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise DeliveryUnreachable(f"the mail server at {config.where} does not offer "
                                          "STARTTLS; refusing to send in clear")
            smtp.starttls(context=context)
            smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
    return smtp


class EmailSender:
    """Submits e-mail over SMTP, one connection per message (the worker sends few)."""

    channel: Channel = "email"

    def __init__(self, config: SmtpConfig, *, connect: SmtpFactory = _connect) -> None:
        self.config = config
        self._connect = connect
        self._context = tls_context(config)  # a bad cafile fails at start-up, not at a send

    def __repr__(self) -> str:
        return f"EmailSender({self.config!r})"

    def _session(self) -> smtplib.SMTP:
        """A connected, secured and logged-in SMTP session."""
        smtp = self._connect(self.config, self._context)
        if self.config.username:
            try:
                smtp.login(self.config.username, self.config.password or "")
            except smtplib.SMTPNotSupportedError:
                smtp.close()
                raise DeliveryAuthError(f"the mail server at {self.config.where} offers no "
                                        "login over this connection (use smtp+starttls:// "
                                        "or smtps://)") from None
            except BaseException:
                smtp.close()
                raise
        return smtp

    def check(self) -> None:
        """Connect, secure, log in and leave, sending nothing: a configuration check.

        Raises the same :class:`DeliveryError` subclasses as :meth:`send`.
        """
        with _smtp_errors(self.config):
            _close(self._session())

    def send(self, message: Message, *, now: dt.datetime) -> Receipt:
        if message.channel != "email":
            raise DeliveryError("an e-mail sender cannot send an SMS")
        email = message.to_email()
        with _smtp_errors(self.config):
            smtp = self._session()
            try:
                refused = smtp.send_message(email)
            finally:
                _close(smtp)
        if refused:  # only with several recipients; ours have one
            code = next(iter(refused.values()))[0]
            raise _refusal(code, "recipient", self.config.where)
        return Receipt("sent", "email", now, reference=message.message_id)


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


@contextmanager
def _smtp_errors(config: SmtpConfig) -> Iterator[None]:
    """Turn what smtplib, ssl and sockets raise into typed delivery errors.

    Messages name the server and the SMTP code, never the server's free text (it often
    quotes the address).
    """
    where = config.where
    try:
        yield
    except DeliveryError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryAuthError(f"the mail server at {where} refused the login "
                                f"({exc.smtp_code})") from None
    except smtplib.SMTPNotSupportedError:
        # The one unsupported extension left is SMTPUTF8, for a non-ASCII address.
        raise MessageRejected(f"the mail server at {where} does not accept international "
                              "(non-ASCII) addresses (no SMTPUTF8)") from None
    except smtplib.SMTPRecipientsRefused as exc:
        code = next(iter(exc.recipients.values()))[0] if exc.recipients else 550
        raise _refusal(code, "recipient", where) from None
    except smtplib.SMTPSenderRefused as exc:
        raise _refusal(exc.smtp_code, "sender address", where) from None
    except smtplib.SMTPDataError as exc:
        raise _refusal(exc.smtp_code, "message", where) from None
    except (smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected,
            smtplib.SMTPHeloError) as exc:
        if isinstance(exc.__context__, TimeoutError):  # smtplib reports it as a hang-up
            raise DeliveryUnreachable(f"the mail server at {where} did not answer within "
                                      f"{config.timeout:g} s") from None
        raise DeliveryUnreachable(f"the mail server at {where} did not accept a "
                                  f"connection ({type(exc).__name__})") from None
    # smtplib's errors are OSErrors too: the generic OSError comes last.
    except ssl.SSLError as exc:
        raise DeliveryUnreachable(f"TLS with the mail server at {where} failed "
                                  f"({exc.reason or type(exc).__name__})") from None
    except TimeoutError:
        raise DeliveryUnreachable(f"the mail server at {where} did not answer within "
                                  f"{config.timeout:g} s") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"the mail server at {where} failed "
                            f"({type(exc).__name__})") from None
    except OSError as exc:
        raise DeliveryUnreachable(f"the mail server at {where} is unreachable "
                                  f"({exc.strerror or type(exc).__name__})") from None


def deliver(sender: Sender, message: Message, *, now: dt.datetime) -> Receipt:
    """Send ``message`` and say what happened, never raising a :class:`DeliveryError`.

    >>> import datetime as dt
    >>> from alliance.delivery.messages import compose
    >>> now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    >>> m = compose("link", "sms", to="+447700900123", link_url="https://a.example/s/t",
    ...             clinic_name="Riverside Clinic", opt_out_url="https://a.example/o/u", now=now)
    >>> deliver(NullSender("sms"), m, now=now).status
    'not_configured'
    """
    if sender.channel != message.channel:
        return Receipt("failed", message.channel, now, permanent=True,
                       reason=f"no {message.channel} sender was given")
    try:
        return sender.send(message, now=now)
    except (RecipientRefused, MessageRejected) as exc:
        return Receipt("bounced", message.channel, now, reason=exc.message, permanent=True)
    except DeliveryError as exc:
        return Receipt("failed", message.channel, now, reason=exc.message,
                       permanent=exc.permanent)
