"""What every route receives: the clinic of the app and the authenticated visit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from alliance.clinic import Clinic
from alliance.store import audit
from alliance.store.actors import Actor
from alliance.web.security import Visit, authenticate, client_ip

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
