"""A real SMTP server per test (aiosmtpd, loopback) and a self-signed certificate."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from alliance.testing.smtp import Inbox, LocalSmtpServer, self_signed_certificate

SmtpServer = Callable[..., tuple[Inbox, int]]


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """``smtp_server(inbox=None, **controller_options) -> (inbox, port)``; stopped after."""
    started: list[LocalSmtpServer] = []

    def start(inbox: Inbox | None = None, **options: Any) -> tuple[Inbox, int]:
        server = LocalSmtpServer(inbox, **options).__enter__()
        started.append(server)
        return server.inbox, server.port

    yield start
    for server in started:
        server.__exit__(None, None, None)
