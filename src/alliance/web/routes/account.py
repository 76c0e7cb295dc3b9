"""The user's own account: two-step log-in (set-up with a QR code, recovery codes), password
change, and the sessions page (see and end one's sessions). Any role."""

from __future__ import annotations

import base64
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alliance.errors import AuthError, NotFound
from alliance.store import accounts, audit, mfa
from alliance.store.models import User
from alliance.store.tokens import token_hash
from alliance.web import forms
from alliance.web.deps import Auth, clinic_of
from alliance.web.rendering import render
from alliance.web.security import SESSION_COOKIE, Visit, at_stage, cookie_options

router = APIRouter()
Enrolling = Annotated[Visit, Depends(at_stage("enrol"))]
Changing = Annotated[Visit, Depends(at_stage("password"))]


def _qr_svg(uri: str) -> str:
    """The provisioning URI as an SVG data URI (``img-src data:`` is allowed by the CSP)."""
    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def _user(s: Any, visit: Visit) -> User:
    user: User | None = s.get(User, visit.actor.id)
    if user is None:
        raise NotFound("no such account")
    return user


@router.get("/account/mfa")
def mfa_page(request: Request, visit: Enrolling) -> HTMLResponse:
    """Two-step log-in: its state, or the set-up (a pending secret as a QR code)."""
    clinic = clinic_of(request)
    with clinic.db.write() as s:
        user = _user(s, visit)
        if user.mfa_enabled:
            left = mfa.recovery_left(s, user.id)
            return render(request, "account_mfa.html", enabled=True, left=left, error="",
                          required=clinic.settings.require_mfa)
        secret = (mfa.pending_secret(clinic.box, user) if user.mfa_secret is not None
                  else mfa.begin_enrolment(s, clinic.box, user))
        uri = mfa.provisioning_uri(secret, user.email)
    return render(request, "account_mfa.html", enabled=False, secret=secret, qr=_qr_svg(uri),
                  error="", required=clinic.settings.require_mfa)


@router.post("/account/mfa")
async def mfa_confirm(request: Request, visit: Enrolling) -> Response:
    """The first code from the app turns two-step log-in on; the recovery codes, shown once."""
    form = await forms.read(request, visit)
    code = forms.text(form, "code", 20)
    clinic = clinic_of(request)
    token = request.cookies.get(SESSION_COOKIE, "")

    def work() -> tuple[list[str], str]:
        with clinic.db.write() as s:
            user = _user(s, visit)
            codes = mfa.confirm_enrolment(s, clinic.box, user, code, now=clinic.clock())
            accounts.end_all_sessions(s, user.id, keep=token)
            if visit.stage != "enrol":
                return codes, ""
            stage = "password" if user.must_change_password else "full"
            return codes, accounts.advance(s, token, stage, now=clinic.clock()).token

    try:
        codes, new_token = await run_in_threadpool(work)
    except AuthError as failure:
        with clinic.db.read() as s:
            user = _user(s, visit)
            if user.mfa_enabled or user.mfa_secret is None:
                raise
            secret = mfa.pending_secret(clinic.box, user)
        return render(request, "account_mfa.html", status_code=400, enabled=False,
                      secret=secret, qr=_qr_svg(mfa.provisioning_uri(secret, user.email)),
                      error=str(failure), required=clinic.settings.require_mfa)
    page = render(request, "account_recovery.html", codes=codes, next_url="/")
    if new_token:  # the log-in's next step (or home) under a new session token
        page.set_cookie(SESSION_COOKIE, new_token, **cookie_options())
    return page


@router.post("/account/mfa/recovery")
async def mfa_new_codes(request: Request, visit: Auth) -> Response:
    """New recovery codes (the old ones stop working), on a current code from the app."""
    form = await forms.read(request, visit)
    code = forms.text(form, "code", 20)
    clinic = clinic_of(request)

    def work() -> list[str]:
        with clinic.db.write() as s:
            user = _user(s, visit)
            if mfa.verify(s, clinic.box, user, code, now=clinic.clock()) != "totp":
                raise AuthError("use a code from the app, not a recovery code")
            audit.record(s, visit.actor, "mfa.enable", subject=user.email,
                         detail={"recovery_codes": "renewed"})
            return mfa.new_recovery_codes(s, user, now=clinic.clock())

    try:
        codes = await run_in_threadpool(work)
    except AuthError as failure:
        with clinic.db.read() as s:
            left = mfa.recovery_left(s, visit.actor.id)
        return render(request, "account_mfa.html", status_code=400, enabled=True, left=left,
                      error=str(failure), required=clinic.settings.require_mfa)
    return render(request, "account_recovery.html", codes=codes, next_url="/account/mfa")


@router.get("/account/password")
def password_page(request: Request, visit: Changing) -> HTMLResponse:
    return render(request, "account_password.html", error="", done=False)


@router.post("/account/password")
async def password_change(request: Request, visit: Changing) -> Response:
    """Change one's password (the current one is asked); every other session ends."""
    form = await forms.read(request, visit)
    current = str(form.get("current") or "")
    new, again = str(form.get("password") or ""), str(form.get("again") or "")
    clinic = clinic_of(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if new != again:
        return render(request, "account_password.html", status_code=400, done=False,
                      error="The two new passwords differ.")
    try:
        await run_in_threadpool(accounts.change_password, clinic.db, visit.actor.id,
                                current[:200], new[:200], keep_token=token,
                                now=clinic.clock())
    except AuthError as failure:
        return render(request, "account_password.html", status_code=400, done=False,
                      error=str(failure))
    if visit.stage == "password":
        return RedirectResponse("/", status_code=303)
    return render(request, "account_password.html", error="", done=True)


@router.get("/account/sessions")
def sessions_page(request: Request, visit: Auth) -> HTMLResponse:
    """The user's sessions: when each began, was last used, from where and with what."""
    clinic = clinic_of(request)
    mine = token_hash(request.cookies.get(SESSION_COOKIE, ""))
    with clinic.db.read() as s:
        rows = accounts.user_sessions(s, visit.actor.id)
        listed = [{"id": r.token_hash, "created": r.created_at, "seen": r.last_seen,
                   "ip": r.ip, "agent": r.user_agent, "stage": r.stage,
                   "current": r.token_hash == mine} for r in rows]
    return render(request, "account_sessions.html", sessions=listed)


@router.post("/account/sessions/{login_id}/revoke")
async def session_revoke(request: Request, visit: Auth, login_id: str) -> Response:
    """End one of one's own sessions (``login_id``: the stored hash the page lists)."""
    await forms.read(request, visit)

    def work() -> None:
        with clinic_of(request).db.write() as s:
            accounts.revoke_session(s, visit.actor, login_id[:64])

    await run_in_threadpool(work)
    return RedirectResponse("/account/sessions", status_code=303)


@router.post("/account/sessions/revoke-others")
async def sessions_revoke_others(request: Request, visit: Auth) -> Response:
    await forms.read(request, visit)
    token = request.cookies.get(SESSION_COOKIE, "")

    def work() -> None:
        with clinic_of(request).db.write() as s:
            ended = accounts.end_all_sessions(s, visit.actor.id, keep=token)
            audit.record(s, visit.actor, "session.revoke", detail={"count": ended})

    await run_in_threadpool(work)
    return RedirectResponse("/account/sessions", status_code=303)
