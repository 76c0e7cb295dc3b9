"""Security plumbing: headers on every response, log-in sessions, CSRF.

* Headers (every response): a Content-Security-Policy without inline script
  (``script-src 'self'``), ``X-Content-Type-Options: nosniff``, ``frame-ancestors 'none'``
  (and ``X-Frame-Options: DENY`` for old browsers), ``Referrer-Policy: no-referrer``, and
  ``Cache-Control: no-store`` on everything but static files, since pages carry health data.
* Sessions: ``__Host-`` cookies (Secure, HttpOnly, SameSite=Lax, Path=/, no Domain), a new
  token at every log-in, idle and absolute timeouts enforced server-side.
* CSRF: a per-session synchroniser token in every form, compared in constant time on every
  state-changing request; the log-in form uses a double-submit cookie, and the client
  survey form a token derived from its own cookie.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from alliance.errors import CsrfError
from alliance.store import accounts, audit
from alliance.store.actors import Actor, load_actor
from alliance.store.database import Database
from alliance.store.models import UserSession
from alliance.store.tokens import same, token_hash

SESSION_COOKIE = "__Host-alliance-session"
LOGIN_COOKIE = "__Host-alliance-login"
SURVEY_COOKIE = "__Host-alliance-survey"

# No inline script anywhere. Inline *styles* are allowed because plotly.js writes style
# attributes and <style> elements at run time to lay out the trajectory chart; scripts, the
# real injection risk, stay restricted to our own files.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

_BASE_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"strict-transport-security", b"max-age=31536000"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]],
                    Callable[[Message], Awaitable[None]]], Awaitable[None]]


class SecurityHeaders:
    """Pure ASGI middleware (cheaper than ``BaseHTTPMiddleware``) adding the headers above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", [])
                           if h[0].lower() != b"cache-control" or static]
                headers.extend(_BASE_HEADERS)
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AuditAddress:
    """Pure ASGI middleware: every audit row written while serving a request carries the
    client's address (:func:`client_ip`, proxy-aware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = audit.request_ip.set(client_ip(Request(scope)))
        try:
            await self.app(scope, receive, send)
        finally:
            audit.request_ip.reset(token)


class LoginRequired(Exception):
    """Raised by :func:`authenticate` for pages that need a log-in; answered by a redirect."""


# Where a log-in that is not complete goes next (accounts.first_stage): the code, the
# enrolment the clinic requires, the change of a temporary password.
STAGE_PAGES = {"mfa": "/login/mfa", "enrol": "/account/mfa", "password": "/account/password"}


class StageRequired(Exception):
    """A session whose log-in is not complete asked for another page; answered by a
    redirect to :data:`STAGE_PAGES` of its stage."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage


@dataclass(frozen=True)
class Visit:
    """The authenticated actor of one request, with the session's CSRF token and the stage
    of its log-in (``full`` on every page but the log-in steps)."""

    actor: Actor
    csrf: str
    stage: str = "full"


def client_ip(request: Request) -> str:
    """The client's address: the peer's, or, when the peer is a trusted reverse proxy
    (``Settings.trusted_proxies``), the nearest untrusted address in ``X-Forwarded-For``."""
    peer = request.client.host if request.client else ""
    proxies = _networks(request.app.state.settings.trusted_proxies)
    if not proxies or not _within(peer, proxies):
        return peer
    chain = [a.strip() for a in request.headers.get("x-forwarded-for", "").split(",")]
    for address in reversed([a for a in chain if a]):
        if not _within(address, proxies):
            return address[:64]
    return peer


def forwarded_https(request: Request) -> bool:
    """Whether a trusted proxy says the client came over HTTPS (``X-Forwarded-Proto``)."""
    peer = request.client.host if request.client else ""
    proxies = _networks(request.app.state.settings.trusted_proxies)
    return bool(proxies) and _within(peer, proxies) and request.headers.get(
        "x-forwarded-proto", "").strip().lower() == "https"


@functools.cache
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network,
                                                 ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _within(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
            ) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def cookie_options(max_age: int | None = None) -> dict[str, Any]:
    return {"secure": True, "httponly": True, "samesite": "lax", "path": "/",
            "max_age": max_age}


def authenticate(request: Request) -> Visit:
    """FastAPI dependency: the live, complete session's actor, or :class:`LoginRequired`
    (no session) or :class:`StageRequired` (a log-in step is still due)."""
    visit = resume(request)
    if visit.stage != "full":
        raise StageRequired(visit.stage)
    return visit


def at_stage(*stages: str) -> Callable[[Request], Visit]:
    """FastAPI dependency for the pages of the log-in steps: a session complete or at one of
    ``stages`` (others are sent to their own step)."""

    def dependency(request: Request) -> Visit:
        visit = resume(request)
        if visit.stage != "full" and visit.stage not in stages:
            raise StageRequired(visit.stage)
        return visit

    return dependency


def resume(request: Request) -> Visit:
    """The session's actor at whatever stage its log-in is, or :class:`LoginRequired`."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired()
    clinic = request.app.state.clinic
    db: Database = clinic.db
    settings = clinic.settings
    now = clinic.clock()
    with db.read() as s:
        found = accounts.resume_session(s, token, now=now, idle=settings.idle_timeout,
                                        absolute=settings.absolute_timeout, touch=False)
        if found is None:
            expired = True
        else:
            expired = False
            user, row = found
            actor = load_actor(s, user)
            csrf, stage = row.csrf_token, row.stage
            stale = (now - accounts._aware(row.last_seen)).total_seconds() > 60
    if expired:
        with db.write() as s:  # removes the dead session row
            accounts.resume_session(s, token, now=now, idle=settings.idle_timeout,
                                    absolute=settings.absolute_timeout)
        raise LoginRequired()
    if stale:
        with db.write() as s:
            row2 = s.get(UserSession, token_hash(token))
            if row2 is not None:
                row2.last_seen = now
    visit = Visit(actor, csrf, stage)
    request.state.visit = visit
    return visit


def check_csrf(visit: Visit, submitted: str | None) -> None:
    if not submitted or not same(submitted, visit.csrf):
        raise CsrfError("the form has expired or did not come from this site; reload the page "
                        "and try again")


def survey_csrf(form_token: str) -> str:
    """The CSRF value of a survey form: bound to its cookie, unreadable to other sites."""
    return hashlib.sha256(b"alliance-survey-csrf:" + form_token.encode()).hexdigest()
