"""Delivery: survey links and one reminder, by e-mail or SMS, to clients who have not opted out.

An adapter around the core (it imports the standard library's ``smtplib`` and ``email``,
never the store, the web app or the CLI). The worker uses four steps::

    settings = parse_delivery_settings(os.environ)     # once, in the composition root
    senders = build_senders(settings)                   # NullSender where not configured
    for due in due_sends(snapshot, now=clock(), policy=SchedulePolicy.from_settings(settings),
                         channels=settings.channels):
        receipt = dispatch(due, to=..., link_url=..., opt_out_url=..., settings=settings,
                           senders=senders, now=clock())   # -> one send row

Modules: :mod:`~alliance.delivery.settings` (``ALLIANCE_SMTP_URL`` and friends),
:mod:`~alliance.delivery.messages` (what a message says, per language),
:mod:`~alliance.delivery.senders` (the :class:`Sender` boundary, SMTP),
:mod:`~alliance.delivery.sms` (SMS providers and plug-ins),
:mod:`~alliance.delivery.schedule` (what is due now) and
:mod:`~alliance.delivery.dispatch` (carrying one out). See ``docs/delivery.md``.
"""

from __future__ import annotations

from alliance.delivery.dispatch import build_senders, dispatch
from alliance.delivery.messages import (
    Message,
    compose,
    compose_notice,
    is_phone_number,
    message_language,
)
from alliance.delivery.schedule import (
    CaseDelivery,
    DueSend,
    HeldLink,
    LinkState,
    MeasurePlan,
    Recipient,
    RecordedSession,
    SchedulePolicy,
    SendState,
    due_sends,
    held_links,
)
from alliance.delivery.senders import EmailSender, NullSender, Receipt, Sender, deliver
from alliance.delivery.settings import (
    DeliverySettings,
    SmtpConfig,
    is_email_address,
    parse_delivery_settings,
    parse_smtp_url,
)
from alliance.delivery.sms import (
    ConsoleSmsProvider,
    FileSmsProvider,
    SmsProvider,
    SmsSender,
    register_sms_provider,
    sms_provider_from_url,
)

__all__ = [
    "CaseDelivery",
    "ConsoleSmsProvider",
    "DeliverySettings",
    "DueSend",
    "EmailSender",
    "FileSmsProvider",
    "HeldLink",
    "LinkState",
    "MeasurePlan",
    "Message",
    "NullSender",
    "Receipt",
    "Recipient",
    "RecordedSession",
    "SchedulePolicy",
    "SendState",
    "Sender",
    "SmsProvider",
    "SmsSender",
    "SmtpConfig",
    "build_senders",
    "compose",
    "compose_notice",
    "deliver",
    "dispatch",
    "due_sends",
    "held_links",
    "is_email_address",
    "is_phone_number",
    "message_language",
    "parse_delivery_settings",
    "parse_smtp_url",
    "register_sms_provider",
    "sms_provider_from_url",
]
