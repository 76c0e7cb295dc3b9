"""Log-in, log-out and the landing redirect."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alliance.errors import AuthError, Throttled
from alliance.store import accounts
from alliance.store.tokens import new_token, same
from alliance.web.rendering import render
from alliance.web.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Visit,
    authenticate,
    check_csrf,
    client_ip,
    cookie_options,
)

router = APIRouter()

HOME = {"clinician": "/dashboard", "supervisor": "/dashboard", "admin": "/admin/users",
        "researcher": "/research", "trainee": "/practice"}


@router.get("/")
def home(visit: Annotated[Visit, Depends(authenticate)]) -> Response:
    return RedirectResponse(HOME[visit.actor.role], status_code=303)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _login_page(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    token = new_token()
    page = render(request, "login.html", status_code=status, login_csrf=token, error=error)
    page.set_cookie(LOGIN_COOKIE, token, **cookie_options(max_age=3600))
    return page


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
def login(request: Request, email: Annotated[str, Form()], password: Annotated[str, Form()],
          csrf: Annotated[str, Form()] = "") -> Response:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not csrf or not cookie or not same(csrf, cookie):
        return _login_page(request, "The form expired; please try again.", status=403)
    db = request.app.state.db
    try:
        user, started = accounts.log_in(db, email, password, ip=client_ip(request),
                                        now=request.app.state.clinic.clock())
    except AuthError as failure:
        status = 429 if isinstance(failure, Throttled) else 401
        return _login_page(request, str(failure), status=status)
    role = user.role
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        with db.write() as s:
            accounts.end_session(s, old)
    response = RedirectResponse(HOME[role], status_code=303)
    response.set_cookie(SESSION_COOKIE, started.token, **cookie_options())
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


@router.post("/logout")
def logout(request: Request, visit: Annotated[Visit, Depends(authenticate)],
           csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(visit, csrf)
    token = request.cookies.get(SESSION_COOKIE, "")
    with request.app.state.db.write() as s:
        accounts.end_session(s, token)
        from alliance.store import audit

        audit.record(s, visit.actor, "logout", ip=client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response
