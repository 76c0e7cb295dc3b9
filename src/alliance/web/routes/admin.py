"""Clinic administration: accounts, supervision, legal holds, and browsing the audit log.

Changes that hand out access wait for a second admin (:mod:`alliance.store.approvals`):
the accounts page lists them, and any other admin approves or refuses them there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alliance.errors import NotFound, StoreError
from alliance.store import accounts, approvals, audit, retention
from alliance.store.actors import require_role
from alliance.store.models import ROLES, User
from alliance.web import forms
from alliance.web.deps import public_base, record
from alliance.web.rendering import render
from alliance.web.security import Visit, authenticate, client_ip

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]


@router.get("/admin/users")
def users(request: Request, visit: Auth) -> HTMLResponse:
    require_role(visit.actor, "admin")
    with request.app.state.db.read() as s:
        rows, supervised = accounts.roster(s)
        waiting = approvals.pending(s)
    record(request, visit.actor, "user.list", detail={"users": len(rows)})
    clinicians = [u for u in rows if u.role in accounts.SUPERVISED]
    names = {u.id: u for u in rows}
    return render(request, "admin_users.html", users=rows, roles=ROLES,
                  supervised=supervised, clinicians=clinicians, pending=waiting,
                  names=names, dual=accounts.DUAL_CONTROL_ROLES)


@router.post("/admin/users")
async def create_user(request: Request, visit: Auth) -> Response:
    require_role(visit.actor, "admin")
    form = await forms.read(request, visit)

    def work() -> None:
        with request.app.state.db.write() as s:
            accounts.create_user(s, forms.text(form, "email", 254), forms.text(form, "name", 200),
                                 str(form.get("role") or ""), forms.text(form, "password", 200),
                                 actor=visit.actor)

    await run_in_threadpool(work)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/supervision")
async def supervision(request: Request, visit: Auth, user_id: int) -> Response:
    require_role(visit.actor, "admin")
    form = await forms.read(request, visit)
    chosen = [forms.integer({"clinician": v}, "clinician")
              for v in forms.as_list(form.get("clinicians[]"))]

    def work() -> None:
        with request.app.state.db.write() as s:
            accounts.set_supervision(s, user_id, chosen, visit.actor)

    await run_in_threadpool(work)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/active")
async def set_active(request: Request, visit: Auth, user_id: int) -> Response:
    require_role(visit.actor, "admin")
    form = await forms.read(request, visit)
    active = form.get("active") == "yes"

    def work() -> None:
        with request.app.state.db.write() as s:
            accounts.set_active(s, visit.actor, user_id, active)

    await run_in_threadpool(work)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit")
def audit_log(request: Request, visit: Auth, action: str = "", actor: str = "",
              case: str = "", before: str = "") -> HTMLResponse:
    require_role(visit.actor, "admin")
    case_id = forms.optional_integer({"case": case}, "case")
    before_id = forms.optional_integer({"before": before}, "before")
    with request.app.state.db.write() as s:
        events = audit.browse(s, action=action or None, actor_email=actor.strip().lower() or None,
                              case_id=case_id, before_id=before_id)
        audit.record(s, visit.actor, "audit.read", ip=client_ip(request),
                     detail={"action": action, "actor": actor, "case": case_id})
    return render(request, "admin_audit.html", events=events, actions=audit.ACTIONS,
                  filters={"action": action, "actor": actor, "case": case})


@router.post("/admin/users/{user_id}/reset")
async def reset_password(request: Request, visit: Auth, user_id: int) -> Response:
    """Ask for a one-time password-reset link for another account (a second admin approves
    and receives it)."""
    require_role(visit.actor, "admin")
    await forms.read(request, visit)

    def work() -> None:
        with request.app.state.db.write() as s:
            accounts.request_reset(s, visit.actor, user_id)

    await run_in_threadpool(work)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/mfa-reset")
async def reset_mfa(request: Request, visit: Auth, user_id: int) -> Response:
    """Ask to switch another account's two-step log-in off (a lost device)."""
    require_role(visit.actor, "admin")
    await forms.read(request, visit)

    def work() -> None:
        with request.app.state.db.write() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound(f"no user {user_id}")
            if user.id == visit.actor.id:
                raise StoreError("another admin must ask for your own two-step log-in reset")
            approvals.request(s, visit.actor, "mfa.reset", user)

    await run_in_threadpool(work)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/approvals/{approval_id}/approve")
async def approve(request: Request, visit: Auth, approval_id: int) -> Response:
    """A second admin carries out a pending change; a password reset's link is shown once."""
    require_role(visit.actor, "admin")
    await forms.read(request, visit)
    clinic = request.app.state.clinic

    def work() -> tuple[str, str]:
        with clinic.db.write() as s:
            decision = approvals.approve(s, visit.actor, approval_id, now=clinic.clock())
            target = s.get(User, decision.approval.target_id)
            return decision.reset_token, target.email if target else ""

    token, email = await run_in_threadpool(work)
    if token:
        return render(request, "admin_reset_link.html", email=email,
                      link=f"{public_base(request)}/reset/{token}")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/approvals/{approval_id}/refuse")
async def refuse(request: Request, visit: Auth, approval_id: int) -> Response:
    require_role(visit.actor, "admin")
    await forms.read(request, visit)
    clinic = request.app.state.clinic

    def work() -> None:
        with clinic.db.write() as s:
            approvals.refuse(s, visit.actor, approval_id, now=clinic.clock())

    await run_in_threadpool(work)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/holds")
def holds(request: Request, visit: Auth) -> HTMLResponse:
    """The cases on legal hold (ids only: an admin reads no case) and a form to place or lift
    one; a held case is never deleted, by hand or by the retention policy."""
    require_role(visit.actor, "admin")
    with request.app.state.db.read() as s:
        rows = retention.held(s)
    record(request, visit.actor, "hold.list", detail={"cases": len(rows)})
    return render(request, "admin_holds.html", holds=rows)


@router.post("/admin/holds")
async def change_hold(request: Request, visit: Auth) -> Response:
    require_role(visit.actor, "admin")
    form = await forms.read(request, visit)
    case_id = forms.integer(form, "case")
    action = forms.choice(form, "action", ("hold", "lift"), "hold")

    def work() -> None:
        with request.app.state.db.write() as s:
            retention.set_hold(s, visit.actor, case_id, action == "hold")

    await run_in_threadpool(work)
    return RedirectResponse("/admin/holds", status_code=303)
