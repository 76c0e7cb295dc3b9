"""Practice pages for trainees (issue 13): the case list, a practice session (free responses
to the simulated client, feedback after each), an exam (sections that lock once answered),
the replay of a stored session, and progress, the trainee's own or, for a supervisor, that of
each assigned trainee. Scoring uses the clinic's practice coder (``Clinic.practice_coder``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alliance.store import practice
from alliance.store.actors import require_role
from alliance.training import load_casebook
from alliance.training.casebook import COMPETENCIES
from alliance.web import forms
from alliance.web.deps import clinic_of, record
from alliance.web.progress_chart import COLOURS, progress_svg
from alliance.web.rendering import render
from alliance.web.security import Visit, authenticate

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]
MAX_RESPONSE = 5000  # the scorer's own limit (alliance.training.feedback)


@router.get("/practice")
def cases(request: Request, visit: Auth) -> HTMLResponse:
    require_role(visit.actor, "trainee")
    with clinic_of(request).db.read() as s:
        mine = practice.progress(s, visit.actor)
    record(request, visit.actor, "practice.list", subject=visit.actor.email)
    return render(request, "practice_cases.html", cases=list(load_casebook().values()),
                  sessions=mine.sessions[:10])


@router.post("/practice")
async def start(request: Request, visit: Auth) -> Response:
    require_role(visit.actor, "trainee")
    form = await forms.read(request, visit)
    case_id = forms.text(form, "case", 80)
    mode = forms.choice(form, "mode", practice.MODES, "practice")

    def work() -> int:
        with clinic_of(request).db.write() as s:
            return practice.start(s, visit.actor, case_id, mode).id

    practice_id = await run_in_threadpool(work)
    return RedirectResponse(f"/practice/sessions/{practice_id}", status_code=303)


@router.get("/practice/sessions/{practice_id}")
def session_page(request: Request, visit: Auth, practice_id: int) -> HTMLResponse:
    with clinic_of(request).db.read() as s:
        view = practice.view(s, visit.actor, practice_id)
    record(request, visit.actor, "practice.read", subject=view.case.id,
           detail={"practice": practice_id})
    return render(request, "practice_session.html", view=view, rec=view.record,
                  case=view.case)


@router.post("/practice/sessions/{practice_id}/respond")
async def respond(request: Request, visit: Auth, practice_id: int) -> Response:
    form = await forms.read(request, visit)
    text = forms.text(form, "response", MAX_RESPONSE)
    clinic = clinic_of(request)

    def work() -> int:
        coder = clinic.practice_coder()
        with clinic.db.write() as s:
            return practice.respond(s, visit.actor, practice_id, text, coder=coder).stage

    stage = await run_in_threadpool(work)
    return RedirectResponse(f"/practice/sessions/{practice_id}#turn-{stage}", status_code=303)


@router.post("/practice/sessions/{practice_id}/answer")
async def answer(request: Request, visit: Auth, practice_id: int) -> Response:
    form = await forms.read(request, visit)
    section = forms.integer(form, "section")
    choices = {k[5:]: str(v) for k, v in form.items() if k.startswith("item_")}

    def work() -> None:
        with clinic_of(request).db.write() as s:
            practice.answer(s, visit.actor, practice_id, section, choices)

    await run_in_threadpool(work)
    return RedirectResponse(f"/practice/sessions/{practice_id}#section-{section}",
                            status_code=303)


def _progress_page(request: Request, visit: Visit, trainee_id: int | None) -> HTMLResponse:
    with clinic_of(request).db.read() as s:
        progress = practice.progress(s, visit.actor, trainee_id)
    record(request, visit.actor, "practice.list", subject=progress.trainee.email,
           detail={"trainee": progress.trainee.id})
    chart = progress_svg({c: [p[1] for p in points] for c, points in progress.series.items()})
    return render(request, "practice_progress.html", progress=progress, chart=chart,
                  competencies=[c for c in COMPETENCIES if c in progress.series],
                  colours=COLOURS, own=trainee_id is None)


@router.get("/practice/progress")
def own_progress(request: Request, visit: Auth) -> HTMLResponse:
    require_role(visit.actor, "trainee")
    return _progress_page(request, visit, None)


@router.get("/practice/trainees")
def trainee_list(request: Request, visit: Auth) -> HTMLResponse:
    require_role(visit.actor, "supervisor")
    with clinic_of(request).db.read() as s:
        rows = [practice.progress(s, visit.actor, t.id)
                for t in practice.trainees(s, visit.actor)]
    record(request, visit.actor, "practice.list", detail={"trainees": len(rows)})
    return render(request, "practice_trainees.html", rows=rows,
                  competencies=[c for c in COMPETENCIES])


@router.get("/practice/trainees/{trainee_id}")
def trainee_progress(request: Request, visit: Auth, trainee_id: int) -> HTMLResponse:
    require_role(visit.actor, "supervisor")
    return _progress_page(request, visit, trainee_id)
