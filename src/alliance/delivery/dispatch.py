"""Carrying out one due send: the senders for the configured channels, compose, deliver.

>>> import datetime as dt
>>> from alliance.delivery.schedule import DueSend
>>> from alliance.delivery.settings import parse_delivery_settings
>>> settings = parse_delivery_settings({})
>>> due = DueSend("link", "email", session_id=7, member_id=None, rater="client",
...               instrument_id="alliance-12", language="de")
>>> receipt = dispatch(due, to="client@example.org", link_url="https://a.example/s/t",
...                    opt_out_url="https://a.example/o/u", settings=settings,
...                    senders=build_senders(settings),
...                    now=dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC))
>>> receipt.status, receipt.reason
('not_configured', 'e-mail (ALLIANCE_SMTP_URL) is not configured')
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from alliance.delivery.messages import CHANNELS, Channel, compose
from alliance.delivery.schedule import DueSend
from alliance.delivery.senders import EmailSender, NullSender, Receipt, Sender, deliver
from alliance.delivery.settings import DeliverySettings
from alliance.delivery.sms import SmsSender, sms_provider_from_url
from alliance.errors import RecipientRefused


def build_senders(settings: DeliverySettings) -> dict[Channel, Sender]:
    """One sender per channel: the configured ones, a :class:`NullSender` for the rest.

    Builds no connection (SMTP connects per message); an unknown SMS provider is a
    :class:`~alliance.errors.ConfigError` here, at start-up, not at the first send.
    """
    senders: dict[Channel, Sender] = {c: NullSender(c) for c in CHANNELS}
    if settings.smtp is not None:
        senders["email"] = EmailSender(settings.smtp)
    if settings.sms_url is not None:
        senders["sms"] = SmsSender(sms_provider_from_url(settings.sms_url))
    return senders


def dispatch(due: DueSend, *, to: str, link_url: str, opt_out_url: str,
             settings: DeliverySettings, senders: Mapping[Channel, Sender],
             now: dt.datetime, automatic: bool = True) -> Receipt:
    """Compose the message ``due`` asks for and deliver it; the receipt is the send row.

    ``to`` is the recipient's decrypted address for ``due.channel``; ``link_url`` the full
    survey URL; ``opt_out_url`` the recipient's opt-out page. An unusable address comes
    back as a ``bounced`` receipt; a configuration fault raises
    :class:`~alliance.errors.ConfigError`.
    """
    sender = senders.get(due.channel) or NullSender(due.channel)
    if isinstance(sender, NullSender):
        return sender.skip(now=now)
    try:
        message = compose(due.kind, due.channel, to=to, link_url=link_url,
                          clinic_name=settings.clinic_name, opt_out_url=opt_out_url, now=now,
                          language=due.language, mail_from=settings.mail_from,
                          automatic=automatic)
    except RecipientRefused as exc:
        return Receipt("bounced", due.channel, now, reason=exc.message, permanent=True)
    return deliver(sender, message, now=now)
