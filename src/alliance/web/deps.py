"""What every route receives: the clinic of the app and the authenticated visit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from alliance.clinic import Clinic
from alliance.store import audit
from alliance.store.actors import Actor
from alliance.web.security import Visit, authenticate, client_ip, forwarded_https

Auth = Annotated[Visit, Depends(authenticate)]


def clinic_of(request: Request) -> Clinic:
    """The :class:`~alliance.clinic.Clinic` the app was built on."""
    clinic: Clinic = request.app.state.clinic
    return clinic


def record(request: Request, actor: Actor, action: str, **detail: Any) -> None:
    """Append the audit row of a page that only read (its own short write, after the read,
    and before the response leaves)."""
    with clinic_of(request).db.write() as s:
        audit.record(s, actor, action, ip=client_ip(request), **detail)


def public_base(request: Request) -> str:
    """The base of absolute links (survey links, QR codes, reset links): the configured
    public URL (required in production); the request's own address only in development,
    where nobody else chooses the Host header."""
    public = clinic_of(request).settings.public_url
    if public:
        return public
    base = str(request.base_url).rstrip("/")
    return "https://" + base.partition("://")[2] if forwarded_https(request) else base
