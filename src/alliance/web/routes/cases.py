"""Clinician and supervisor pages: the caseload, case pages and everything done on a case.

Each route parses the request, makes one store call and renders. Pages that only read use a
read session (no writer lock); their audit row is written afterwards, on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from alliance.clinic import Clinic
from alliance.errors import InputError
from alliance.store import alerts, casebook, cases, delivery, monitoring, signals, surveys
from alliance.store.actors import require_role
from alliance.vocabulary import (
    ATTENDANCE,
    HOMEWORK,
    MAX_MINUTES_LATE,
    MODALITIES,
    NORMATIVE_CUES,
)
from alliance.web import forms
from alliance.web.chart_svg import chart_html
from alliance.web.deps import clinic_of, record
from alliance.web.rendering import render
from alliance.web.security import Visit, authenticate

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]


def _to_case(case_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/cases/{case_id}{anchor}", status_code=303)


def instrument_choices(clinic: Clinic) -> list[tuple[str, str, str]]:
    """(instrument id, rater, label) for every instrument version a case can use."""
    out = []
    for inst in clinic.catalog.values():
        for rater in inst.rater_types:
            if rater in ("client", "therapist", "family_member"):
                note = "" if inst.has_text else " (paper only)"
                out.append((inst.id, rater, f"{inst.title} — {rater.replace('_', ' ')}{note}"))
    return out


@router.get("/dashboard")
def dashboard(request: Request, visit: Auth, archived: int = 0) -> HTMLResponse:
    from alliance.store import caseload as triage

    require_role(visit.actor, "clinician", "supervisor")
    filters = forms.caseload_filters(dict(request.query_params), triage.SEVERITY_FILTERS)
    clinic = clinic_of(request)
    with clinic.db.read() as s:
        view = triage.caseload(s, visit.actor, clinic.catalog, archived=bool(archived),
                               filters=filters)
    record(request, visit.actor, "case.list", detail={"cases": len(view.rows)})
    return render(request, "dashboard.html", view=view, filters=filters,
                  severities=triage.SEVERITY_FILTERS, archived=bool(archived))


@router.get("/cases/new")
def new_case(request: Request, visit: Auth) -> HTMLResponse:
    require_role(visit.actor, "clinician")
    return render(request, "case_new.html", modalities=MODALITIES, cues=NORMATIVE_CUES,
                  instruments=instrument_choices(clinic_of(request)))


@router.post("/cases")
async def create_case(request: Request, visit: Auth) -> Response:
    require_role(visit.actor, "clinician")
    form = await forms.read(request, visit)
    every = forms.integer(form, "every", 1)
    measures = [(*forms.measure(v), every) for v in forms.as_list(form.get("measures[]"))]
    draft = cases.CaseDraft(
        label=forms.text(form, "label", 120),
        modality=forms.choice(form, "modality", MODALITIES, "individual"),
        members=[m for m in forms.text(form, "members").splitlines() if m.strip()] or ["Client"],
        cultural_notes=forms.text(form, "cultural_notes"),
        normative_cues=forms.as_list(form.get("cues[]")),
        consent_measures=form.get("consent_measures") == "yes",
        consent_transcripts=form.get("consent_transcripts") == "yes",
        measures=measures or [("alliance-12", "client", 1)])
    clinic = clinic_of(request)

    def work() -> int:
        with clinic.db.write() as s:
            return cases.create_case(s, visit.actor, draft, clinic.catalog).id

    return _to_case(await run_in_threadpool(work))


@router.get("/cases/{case_id}")
def case_page(request: Request, visit: Auth, case_id: int) -> HTMLResponse:
    clinic = clinic_of(request)
    with clinic.db.read() as s:
        view = casebook.case_view(s, visit.actor, case_id)
        reach = delivery.case_outreach(s, clinic.box, case_id, catalog=clinic.catalog,
                                       settings=clinic.settings.delivery, now=clinic.clock())
        voice = signals.case_signals(s, clinic.box, case_id)
        loaded = casebook.chart_case(s, visit.actor, case_id, clinic.catalog)
    record(request, visit.actor, "case.read", case_id=case_id)
    figure, _ = _figure(clinic, loaded, sketch=True)
    chart = Markup(chart_html(figure, "Scores by session; the same numbers are in the table "
                                      "below")) if figure["data"] else ""
    return render(request, "case.html", v=view, case=view.case, monitor=view.monitor,
                  members=view.members, sessions=view.sessions, responses=view.responses,
                  links=view.links, transcripts=view.transcripts, consents=view.consents,
                  consent_history=view.consent_history, measures=view.measures,
                  link_state=surveys.link_state, can_edit=view.can_edit,
                  instruments=instrument_choices(clinic), catalog=clinic.catalog,
                  attendance=ATTENDANCE, homework=HOMEWORK, cues=NORMATIVE_CUES,
                  max_late=MAX_MINUTES_LATE, reach=reach, voice=voice,
                  languages=delivery.LANGUAGES, chart=chart)


def _figure(clinic: Clinic, loaded: Any, *, sketch: bool = False) -> tuple[dict[str, Any], str]:
    """The trajectory figure as plotly JSON (empty, with the reason, when unassessed);
    ``sketch``: without plotly objects or template (the SVG needs neither)."""
    import json

    from alliance.monitoring.plot import trajectory_figure
    from alliance.store.monitoring import assess

    progress, error = assess(loaded, clinic.policy, clinic.catalog, clinic.expected)
    if progress is None:
        return {"data": [], "layout": {}}, error
    figure = trajectory_figure(loaded.case, progress.report, clinic.policy, clinic.catalog,
                               labels={**loaded.labels, "therapist": "Therapist"},
                               tracks=progress.tracks, sketch=sketch)
    figure.update_layout(title=None, height=620 if progress.tracks else 460,
                         margin={"l": 50, "r": 10, "t": 10, "b": 40},
                         legend={"orientation": "h", "y": -0.12})
    if sketch:
        return figure.to_plotly_json(), ""
    return dict(json.loads(figure.to_json())), ""


@router.get("/cases/{case_id}/trajectory.json")
def trajectory(request: Request, visit: Auth, case_id: int) -> JSONResponse:
    clinic = clinic_of(request)
    with clinic.db.read() as s:
        loaded = casebook.chart_case(s, visit.actor, case_id, clinic.catalog)
    record(request, visit.actor, "case.trajectory", case_id=case_id)
    figure, error = _figure(clinic, loaded)
    return JSONResponse(figure if figure["data"] else {**figure, "error": error})


async def _case_action(request: Request, visit: Auth, case_id: int,
                       action: Callable[[Any, dict[str, Any]], Any],
                       anchor: str = "") -> Response:
    form = await forms.read(request, visit)

    def work() -> None:
        with clinic_of(request).db.write() as s:
            action(s, form)

    await run_in_threadpool(work)
    return _to_case(case_id, anchor)


@router.post("/cases/{case_id}/sessions")
async def add_session(request: Request, visit: Auth, case_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: cases.add_session(
        s, visit.actor, case_id, date=forms.date(f, "date"),
        attendance=forms.choice(f, "attendance", ATTENDANCE, "attended"),
        minutes_late=forms.integer(f, "minutes_late", 0),
        homework=forms.choice(f, "homework", HOMEWORK, "none")), "#sessions")


@router.post("/cases/{case_id}/sessions/{session_id}/void")
async def void_session(request: Request, visit: Auth, case_id: int,
                       session_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: surveys.void_session(
        s, visit.actor, case_id, session_id, forms.text(f, "reason", 1000)), "#sessions")


@router.post("/cases/{case_id}/responses/{response_id}/void")
async def void_response(request: Request, visit: Auth, case_id: int,
                        response_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: surveys.void_response(
        s, visit.actor, case_id, response_id, forms.text(f, "reason", 1000)), "#trajectory")


@router.post("/cases/{case_id}/consent")
async def record_consent(request: Request, visit: Auth, case_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: cases.record_consent(
        s, visit.actor, case_id, str(f.get("kind")), f.get("granted") == "yes"), "#consent")


@router.post("/cases/{case_id}/measures")
async def set_measure(request: Request, visit: Auth, case_id: int) -> Response:
    def act(s: Any, f: dict[str, Any]) -> None:
        instrument_id, rater = forms.measure(f.get("measure"))
        cases.set_measure(s, visit.actor, case_id, instrument_id, rater,
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
        normative_cues=forms.as_list(f.get("cues[]"))), "#context")


@router.post("/cases/{case_id}/archive")
async def archive(request: Request, visit: Auth, case_id: int) -> Response:
    return await _case_action(request, visit, case_id, lambda s, f: cases.set_archived(
        s, visit.actor, case_id, f.get("archived") == "yes"))


@router.post("/cases/{case_id}/delete")
async def delete(request: Request, visit: Auth, case_id: int) -> Response:
    form = await forms.read(request, visit)

    def work() -> None:
        with clinic_of(request).db.write() as s:
            cases.delete_case(s, visit.actor, case_id,
                              confirm=forms.text(form, "confirm").strip())

    await run_in_threadpool(work)
    return RedirectResponse("/dashboard", status_code=303)


@router.post("/cases/{case_id}/alerts/{alert_id}")
async def alert_action(request: Request, visit: Auth, case_id: int, alert_id: str) -> Response:
    form = await forms.read(request, visit)
    action = str(form.get("action") or "")
    if action not in alerts.ACTIONS:
        raise InputError(f"unknown alert action {action!r}; use {', '.join(alerts.ACTIONS)}")

    def work() -> None:
        with clinic_of(request).db.write() as s:
            monitoring.act_on_alert(s, visit.actor, case_id, alert_id, action,
                                    note=forms.text(form, "note"))

    await run_in_threadpool(work)
    return _to_case(case_id, "#alert")
