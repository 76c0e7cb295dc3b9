"""SMS: a two-method provider interface, two local providers, and plug-ins by name.

``ALLIANCE_SMS_URL`` picks a provider by its scheme: ``file:///var/lib/alliance/sms.jsonl``
appends one JSON line per message (demos, tests), ``console:`` prints a line with the number
masked. A real gateway plugs in under its own scheme, either by calling
:func:`register_sms_provider` or through the ``alliance.sms_providers`` entry point group::

    [project.entry-points."alliance.sms_providers"]
    acme = "acme_alliance:AcmeProvider"     # ALLIANCE_SMS_URL=acme://key@api.acme.example

The factory receives the whole URL and returns an :class:`SmsProvider`. Nothing is sent
anywhere unless the URL is set.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import IO, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from alliance.delivery.messages import Channel, Message
from alliance.delivery.senders import Receipt
from alliance.errors import ConfigError, DeliveryError, DeliveryUnreachable

ENTRY_POINT_GROUP = "alliance.sms_providers"


@runtime_checkable
class SmsProvider(Protocol):
    """Sends one text to one E.164 number; returns the provider's id for it.

    Raise :class:`~alliance.errors.RecipientRefused` for a number the gateway rejects,
    :class:`~alliance.errors.DeliveryUnreachable` when it cannot be reached, and never put
    the number or the text in an error message.
    """

    name: str

    def send_sms(self, to: str, text: str) -> str: ...


def mask_number(number: str) -> str:
    """A phone number with all but the country code's first digit and the last 3 hidden.

    >>> mask_number("+447700900123")
    '+4********123'
    """
    return number[:2] + "*" * max(len(number) - 5, 0) + number[-3:]


@dataclass
class FileSmsProvider:
    """Appends ``{"id", "at", "to", "text"}`` as one JSON line per message (for demos, tests)."""

    path: Path
    name: str = "file"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def send_sms(self, to: str, text: str) -> str:
        ident = secrets.token_hex(8)
        line = json.dumps({"id": ident, "at": dt.datetime.now(dt.UTC).isoformat(),
                           "to": to, "text": text}, ensure_ascii=False)
        try:
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except OSError as exc:
            raise DeliveryUnreachable(f"the SMS file {self.path} cannot be written "
                                      f"({exc.strerror or type(exc).__name__})") from None
        return ident


@dataclass
class ConsoleSmsProvider:
    """Prints each message with the number masked (a demo without a phone)."""

    stream: IO[str] | None = None
    name: str = "console"

    def send_sms(self, to: str, text: str) -> str:
        ident = secrets.token_hex(8)
        print(f"SMS {ident} to {mask_number(to)}: {text}", file=self.stream or sys.stdout,
              flush=True)
        return ident


@dataclass
class SmsSender:
    """The :class:`~alliance.delivery.senders.Sender` for SMS, over any provider."""

    provider: SmsProvider
    channel: Channel = "sms"

    def send(self, message: Message, *, now: dt.datetime) -> Receipt:
        if message.channel != "sms":
            raise DeliveryError("an SMS sender cannot send an e-mail")
        try:
            reference = self.provider.send_sms(message.to, message.text)
        except DeliveryError:
            raise
        except Exception as exc:  # a plug-in's own error: keep its class, drop its text
            raise DeliveryError(f"the SMS provider {self.provider.name!r} failed "
                                f"({type(exc).__name__})") from None
        return Receipt("sent", "sms", now, reference=str(reference))


ProviderFactory = Callable[[str], SmsProvider]


def _file_provider(url: str) -> SmsProvider:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost") or not parts.path:
        raise ConfigError(f"ALLIANCE_SMS_URL={url!r}: write file:///absolute/path.jsonl")
    path = Path(unquote(parts.path))
    if not path.parent.is_dir():
        raise ConfigError(f"ALLIANCE_SMS_URL={url!r}: the folder {path.parent} does not exist")
    return FileSmsProvider(path)


def _console_provider(url: str) -> SmsProvider:
    return ConsoleSmsProvider()


_REGISTRY: dict[str, ProviderFactory] = {"file": _file_provider, "console": _console_provider}


def register_sms_provider(scheme: str, factory: ProviderFactory) -> None:
    """Make ``scheme://…`` in ``ALLIANCE_SMS_URL`` build a provider with ``factory(url)``."""
    if not scheme.isidentifier() or scheme != scheme.lower():
        raise ConfigError(f"an SMS provider scheme is a lower-case name, not {scheme!r}")
    _REGISTRY[scheme] = factory


def sms_provider_names() -> list[str]:
    """Schemes known now: the built-in and registered ones, then installed entry points."""
    found = set(_REGISTRY) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(found)


def sms_provider_from_url(url: str) -> SmsProvider:
    """The provider ``ALLIANCE_SMS_URL`` names (registry first, then entry points).

    >>> sms_provider_from_url("console:").name
    'console'
    >>> sms_provider_from_url("carrier-pigeon://coop")
    Traceback (most recent call last):
    alliance.errors.ConfigError: ALLIANCE_SMS_URL: no SMS provider is called 'carrier-pigeon' (known: console, file)
    """  # noqa: E501
    scheme = urlsplit(url).scheme.lower()
    factory = _REGISTRY.get(scheme)
    if factory is None:
        matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == scheme]
        if not matches:
            raise ConfigError(f"ALLIANCE_SMS_URL: no SMS provider is called {scheme!r} "
                              f"(known: {', '.join(sms_provider_names())})")
        try:
            factory = matches[0].load()
        except Exception as exc:
            raise ConfigError(f"ALLIANCE_SMS_URL: the SMS provider {scheme!r} cannot be "
                              f"loaded ({type(exc).__name__}: {exc})") from None
    provider = factory(url)
    if not isinstance(provider, SmsProvider):
        raise ConfigError(f"ALLIANCE_SMS_URL: the {scheme!r} factory did not return an "
                          "SMS provider (it needs a name and send_sms(to, text))")
    return provider
