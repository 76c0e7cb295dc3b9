"""What every route receives: the clinic of the app and the authenticated visit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from alliance.clinic import Clinic
from alliance.web.security import Visit, authenticate

Auth = Annotated[Visit, Depends(authenticate)]


def clinic_of(request: Request) -> Clinic:
    """The :class:`~alliance.clinic.Clinic` the app was built on."""
    clinic: Clinic = request.app.state.clinic
    return clinic
