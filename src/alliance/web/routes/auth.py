"""Log-in (password, then the code of two-step log-in), log-out, the one-time password-reset
link, and the landing redirect."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alliance.errors import AuthError, Throttled
from alliance.store import accounts, audit, mfa
from alliance.store.tokens import new_token, same
from alliance.web.deps import clinic_of
from alliance.web.rendering import render
from alliance.web.security import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    STAGE_PAGES,
    Visit,
    at_stage,
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


def _login_page(request: Request, error: str = "", status: int = 200,
                notice: str = "") -> HTMLResponse:
    token = new_token()
    page = render(request, "login.html", status_code=status, login_csrf=token, error=error,
                  notice=notice)
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
    clinic = clinic_of(request)
    try:
        user, started = accounts.log_in(
            clinic.db, email, password, ip=client_ip(request), now=clinic.clock(),
            user_agent=request.headers.get("user-agent", ""),
            require_mfa=clinic.settings.require_mfa)
    except AuthError as failure:
        status = 429 if isinstance(failure, Throttled) else 401
        return _login_page(request, str(failure), status=status)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        with clinic.db.write() as s:
            accounts.end_session(s, old)
    response = RedirectResponse(next_page(user.role, started.stage), status_code=303)
    response.set_cookie(SESSION_COOKIE, started.token, **cookie_options())
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


def next_page(role: str, stage: str) -> str:
    """Where a log-in goes after a step: the next step's page, or the role's home."""
    return STAGE_PAGES.get(stage, HOME[role])


MfaStage = Annotated[Visit, Depends(at_stage("mfa"))]


@router.get("/login/mfa")
def mfa_form(request: Request, visit: MfaStage) -> Response:
    if visit.stage == "full":
        return RedirectResponse(HOME[visit.actor.role], status_code=303)
    return render(request, "login_mfa.html", error="")


@router.post("/login/mfa")
def mfa_check(request: Request, visit: MfaStage, code: Annotated[str, Form()] = "",
              csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(visit, csrf)
    if visit.stage == "full":
        return RedirectResponse(HOME[visit.actor.role], status_code=303)
    clinic = clinic_of(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    try:
        user, started = mfa.second_factor(clinic.db, clinic.box, token, code[:40],
                                               now=clinic.clock(),
                                               idle=clinic.settings.idle_timeout)
    except AuthError as failure:
        status = 429 if isinstance(failure, Throttled) else 401
        if "log in again" in str(failure):
            return _login_page(request, str(failure), status=status)
        return render(request, "login_mfa.html", status_code=status, error=str(failure))
    response = RedirectResponse(next_page(user.role, started.stage), status_code=303)
    response.set_cookie(SESSION_COOKIE, started.token, **cookie_options())
    return response


def _reset_page(request: Request, token: str, error: str = "", status: int = 200,
                email: str = "") -> HTMLResponse:
    form = new_token()
    page = render(request, "reset.html", status_code=status, login_csrf=form, error=error,
                  token=token, email=email)
    page.set_cookie(LOGIN_COOKIE, form, **cookie_options(max_age=3600))
    return page


@router.get("/reset/{token}")
def reset_form(request: Request, token: str) -> HTMLResponse:
    clinic = clinic_of(request)
    try:
        with clinic.db.read() as s:
            email = accounts.reset_target(s, token[:100], clinic.clock()).email
    except AuthError as failure:
        return _reset_page(request, "", str(failure), status=410)
    return _reset_page(request, token, email=email)


@router.post("/reset/{token}")
def reset(request: Request, token: str, password: Annotated[str, Form()] = "",
          again: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "") -> Response:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not csrf or not cookie or not same(csrf, cookie):
        return _reset_page(request, token, "The form expired; please try again.", status=403)
    if password != again:
        return _reset_page(request, token, "The two passwords differ.", status=400)
    clinic = clinic_of(request)
    try:
        with clinic.db.write() as s:
            accounts.complete_reset(s, token[:100], password, now=clinic.clock())
    except AuthError as failure:
        return _reset_page(request, token, str(failure), status=400)
    return _login_page(request, notice="Your password is set; log in with it.")


AnyStage = Annotated[Visit, Depends(at_stage("mfa", "enrol", "password"))]


@router.post("/logout")
def logout(request: Request, visit: AnyStage,
           csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(visit, csrf)
    token = request.cookies.get(SESSION_COOKIE, "")
    with request.app.state.db.write() as s:
        accounts.end_session(s, token)
        audit.record(s, visit.actor, "logout", ip=client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response
