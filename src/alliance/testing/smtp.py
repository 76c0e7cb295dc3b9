"""A real SMTP server for tests: aiosmtpd on a free loopback port, and a self-signed cert.

Used by the delivery tests and by anything that sends mail (the worker's tests). Needs the
``dev`` extra (``aiosmtpd``); ``cryptography`` comes with the ``web`` extra.

    with LocalSmtpServer() as server:
        ...send to 127.0.0.1:server.port...
        server.inbox.parsed()[0]["Subject"]
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from types import TracebackType
from typing import Any


@dataclass
class Inbox:
    """Records what the server accepted; refuses the recipients in ``refuse`` (550) and,
    with ``reject_data``, every message (554)."""

    refuse: set[str] = field(default_factory=set)
    reject_data: bool = False
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.reject_data:
            return "554 5.7.1 message refused by policy"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              envelope.original_content))
        return "250 Message accepted for delivery"

    def parsed(self) -> list[EmailMessage]:
        """The accepted messages, parsed back with the modern e-mail policy."""
        return [email.message_from_bytes(raw, policy=default)
                for _, _, raw in self.messages]


def free_port() -> int:
    """A loopback TCP port nothing listens on (at the moment of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalSmtpServer:
    """aiosmtpd on 127.0.0.1 and a free port; ``options`` go to aiosmtpd's ``Controller``
    (``tls_context``, ``require_starttls``, ``authenticator``, ``auth_required``,
    ``ssl_context`` for implicit TLS)."""

    def __init__(self, inbox: Inbox | None = None, **options: Any) -> None:
        self.inbox = inbox or Inbox()
        self.port = free_port()
        self._options = options
        self._controller: Any = None

    def __enter__(self) -> LocalSmtpServer:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                      **self._options)
        self._controller.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Write a one-day certificate for ``localhost`` and ``127.0.0.1``: (cert, key) PEMs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_tls_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A server-side TLS context presenting ``certificate``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context
