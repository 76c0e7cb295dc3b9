"""Clinician and supervisor pages: the caseload, case pages and everything done on a case."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alliance.errors import StoreError
from alliance.instruments import builtin_catalog
from alliance.store import alerts, audit, cases, surveys
from alliance.store.actors import get_case, require_role
from alliance.store.models import ATTENDANCE, HOMEWORK, MODALITIES, Transcript
from alliance.web import forms
from alliance.web.app import render
from alliance.web.charts import trajectory_figure
from alliance.web.monitoring_view import monitor_cases
from alliance.web.security import Visit, authenticate, check_csrf, client_ip

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]


async def read_form(request: Request, visit: Visit) -> dict[str, Any]:
    """The submitted fields (multi-valued ones as lists), after the CSRF check."""
    data = await request.form()
    fields: dict[str, Any] = {}
    for key in data:
        values = data.getlist(key)
        fields[key] = values if len(values) > 1 or key.endswith("[]") else values[0]
    check_csrf(visit, str(fields.get("csrf") or ""))
    return fields


def _to_case(case_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}{anchor}", status_code=303)


@router.get("/dashboard")
def dashboard(request: Request, visit: Auth, archived: int = 0) -> HTMLResponse:
    require_role(visit.actor, "clinician", "supervisor")
    db = request.app.state.db
    with db.write() as s:
        rows = cases.list_cases(s, visit.actor, archived=bool(archived))
        monitors = monitor_cases(s, rows)
        audit.record(s, visit.actor, "case.list", ip=client_ip(request),
                     detail={"cases": len(rows)})
        caseload = sorted(rows, key=lambda c: (-monitors[c.id].rank, c.label.lower()))
    return render(request, "dashboard.html", caseload=caseload, monitors=monitors,
                  archived=bool(archived))


@router.get("/cases/new")
def new_case(request: Request, visit: Auth) -> HTMLResponse:
    require_role(visit.actor, "clinician")
    return render(request, "case_new.html", modalities=MODALITIES, cues=cases.NORMATIVE_CUES,
                  instruments=_instrument_choices())


def _instrument_choices() -> list[tuple[str, str, str]]:
    """(instrument id, rater, label) for every instrument version a case can use."""
    out = []
    for inst in builtin_catalog().values():
        for rater in inst.rater_types:
            if rater in ("client", "therapist", "family_member"):
                note = "" if inst.has_text else " (paper only)"
                out.append((inst.id, rater, f"{inst.title} — {rater.replace('_', ' ')}{note}"))
    return out


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@router.post("/cases")
async def create_case(request: Request, visit: Auth) -> Response:
    require_role(visit.actor, "clinician")
    form = await read_form(request, visit)
    chosen = _as_list(form.get("measures[]"))
    measures = []
    for value in chosen:
        instrument_id, _, rater = value.partition(":")
        measures.append((instrument_id, rater or "client", forms.integer(form, "every", 1)))
    draft = cases.CaseDraft(
        label=forms.text(form, "label", 120), modality=str(form.get("modality") or "individual"),
        members=[m for m in forms.text(form, "members").splitlines() if m.strip()] or ["Client"],
        cultural_notes=forms.text(form, "cultural_notes"),
        normative_cues=_as_list(form.get("cues[]")),
        consent_measures=form.get("consent_measures") == "yes",
        consent_transcripts=form.get("consent_transcripts") == "yes",
        measures=measures or [("alliance-12", "client", 1)])

    def work() -> int:
        with request.app.state.db.write() as s:
            return cases.create_case(s, visit.actor, draft).id

    return _to_case(await run_in_threadpool(work))


@router.get("/cases/{case_id}")
def case_page(request: Request, visit: Auth, case_id: int) -> HTMLResponse:
    db = request.app.state.db
    with db.write() as s:
        case = get_case(s, visit.actor, case_id)
        monitor = monitor_cases(s, [case])[case.id]
        audit.record(s, visit.actor, "case.read", case_id=case.id, ip=client_ip(request))
        members = cases.members(s, case.id)
        sessions = cases.sessions(s, case.id)
        responses = surveys.responses(s, case.id)
        links = surveys.links(s, case.id)
        transcripts = s.query(Transcript.id, Transcript.session_id, Transcript.filename,
                              Transcript.status, Transcript.error, Transcript.uploaded_at) \
            .filter(Transcript.case_id == case.id).order_by(Transcript.id).all()
        context = dict(
            case=case, monitor=monitor, members=members, sessions=sessions,
            responses=responses, links=links, transcripts=transcripts,
            consents=cases.consents(s, case.id), consent_history=cases.consent_history(
                s, case.id),
            measures=cases.measures(s, case.id), link_state=surveys.link_state,
            can_edit=visit.actor.writes_cases and case.clinician_id == visit.actor.id,
            instruments=_instrument_choices(), catalog=builtin_catalog(),
            attendance=ATTENDANCE, homework=HOMEWORK, cues=cases.NORMATIVE_CUES,
            )
    return render(request, "case.html", **context)


@router.get("/cases/{case_id}/trajectory.json")
def trajectory(request: Request, visit: Auth, case_id: int) -> JSONResponse:
    db = request.app.state.db
    with db.read() as s:
        case = get_case(s, visit.actor, case_id)
        monitor = monitor_cases(s, [case])[case.id]
        figure = trajectory_figure(case.modality, cases.members(s, case.id),
                                   cases.sessions(s, case.id), surveys.responses(s, case.id),
                                   monitor.report)
    return JSONResponse(figure)


async def _case_action(request: Request, visit: Auth, case_id: int, action: Any,
                       anchor: str = "") -> Response:
    form = await read_form(request, visit)

    def work() -> None:
        with request.app.state.db.write() as s:
            action(s, form)

    await run_in_threadpool(work)
    return _to_case(case_id, anchor)


@router.post("/cases/{case_id}/sessions")
async def add_session(request: Request, visit: Auth, case_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: cases.add_session(
        s, visit.actor, case_id, date=forms.date(f, "date"),
        attendance=str(f.get("attendance") or "attended"),
        minutes_late=forms.integer(f, "minutes_late", 0),
        homework=str(f.get("homework") or "none")), "#sessions")


@router.post("/cases/{case_id}/consent")
async def record_consent(request: Request, visit: Auth, case_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: cases.record_consent(
        s, visit.actor, case_id, str(f.get("kind")), f.get("granted") == "yes"), "#consent")


@router.post("/cases/{case_id}/measures")
async def set_measure(request: Request, visit: Auth, case_id: int) -> Response:
    def act(s: Any, f: dict[str, Any]) -> None:
        instrument_id, _, rater = str(f.get("measure") or "").partition(":")
        cases.set_measure(s, visit.actor, case_id, instrument_id, rater or "client",
                          forms.integer(f, "every", 1))

    return await _case_action(request, visit, case_id, act, "#measures")


@router.post("/cases/{case_id}/measures/{measure_id}/delete")
async def remove_measure(request: Request, visit: Auth, case_id: int,
                         measure_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: cases.remove_measure(
        s, visit.actor, case_id, measure_id), "#measures")


@router.post("/cases/{case_id}/context")
async def update_context(request: Request, visit: Auth, case_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: cases.update_context(
        s, visit.actor, case_id, cultural_notes=forms.text(f, "cultural_notes"),
        normative_cues=_as_list(f.get("cues[]"))), "#context")


@router.post("/cases/{case_id}/archive")
async def archive(request: Request, visit: Auth, case_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: cases.set_archived(
        s, visit.actor, case_id, f.get("archived") == "yes"))


@router.post("/cases/{case_id}/delete")
async def delete(request: Request, visit: Auth, case_id: int) -> Response:
    form = await read_form(request, visit)

    def work() -> None:
        with request.app.state.db.write() as s:
            case = get_case(s, visit.actor, case_id, write=True)
            if forms.text(form, "confirm").strip() != case.label:
                raise StoreError("type the case label exactly to confirm the deletion")
            cases.delete_case(s, visit.actor, case_id)

    await run_in_threadpool(work)
    return RedirectResponse("/dashboard", status_code=303)


@router.post("/cases/{case_id}/alerts/{alert_id}")
async def alert_action(request: Request, visit: Auth, case_id: int, alert_id: str) -> Response:
    form = await read_form(request, visit)

    def work() -> None:
        with request.app.state.db.write() as s:
            case = get_case(s, visit.actor, case_id, write=True)
            monitor = monitor_cases(s, [case])[case.id]
            known = {monitor.alert_id} | {e.alert_id for e in monitor.history}
            if alert_id not in known:
                raise StoreError("this alert is no longer current; reload the page")
            alert = monitor.alert if alert_id == monitor.alert_id else {}
            alerts.transition(s, visit.actor, case_id, alert_id, str(form.get("action")),
                              note=forms.text(form, "note"),
                              severity=str((alert or {}).get("severity") or ""),
                              headline=str((alert or {}).get("headline") or ""),
                              latest_session=(alert or {}).get("latest_session"))

    await run_in_threadpool(work)
    return _to_case(case_id, "#alert")
