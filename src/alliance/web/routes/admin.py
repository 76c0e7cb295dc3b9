"""Clinic administration: accounts, supervision, and browsing the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alliance.store import accounts, audit
from alliance.store.actors import require_role
from alliance.store.models import ROLES
from alliance.web import forms
from alliance.web.deps import record
from alliance.web.rendering import render
from alliance.web.security import Visit, authenticate, client_ip

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]


@router.get("/admin/users")
def users(request: Request, visit: Auth) -> HTMLResponse:
    require_role(visit.actor, "admin")
    with request.app.state.db.read() as s:
        rows, supervised = accounts.roster(s)
    record(request, visit.actor, "user.list", detail={"users": len(rows)})
    clinicians = [u for u in rows if u.role in accounts.SUPERVISED]
    return render(request, "admin_users.html", users=rows, roles=ROLES,
                  supervised=supervised, clinicians=clinicians)


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
