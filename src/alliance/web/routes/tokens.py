"""The user's own API tokens: listed, and revoked, on ``/account/tokens`` (any role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alliance.store import apitokens
from alliance.web import forms
from alliance.web.deps import clinic_of
from alliance.web.rendering import render
from alliance.web.security import Visit, authenticate

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]


@router.get("/account/tokens")
def token_list(request: Request, visit: Auth) -> HTMLResponse:
    clinic = clinic_of(request)
    with clinic.db.read() as s:
        rows = apitokens.list_tokens(s, visit.actor)
    now = clinic.clock()
    return render(request, "tokens.html", tokens=rows,
                  states={t.id: apitokens.token_state(t, now) for t in rows})


@router.post("/account/tokens/{token_id}/revoke")
async def revoke(request: Request, visit: Auth, token_id: int) -> Response:
    await forms.read(request, visit)  # checks the CSRF token

    def work() -> None:
        with clinic_of(request).db.write() as s:
            apitokens.revoke_token(s, visit.actor, token_id)

    await run_in_threadpool(work)
    return RedirectResponse("/account/tokens", status_code=303)
