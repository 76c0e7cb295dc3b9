"""Transcripts: upload (encrypted at rest, analysed later by the worker), the report page
with its speaker-role form, and retry or deletion of a failed or misfiled upload."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from alliance.coding.timeline import timeline_svg
from alliance.store import transcripts
from alliance.web import forms
from alliance.web.deps import clinic_of, record
from alliance.web.rendering import render
from alliance.web.security import Visit, authenticate

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]

FAMILY_CLASS = {"withdrawal": "code-withdrawal", "confrontation": "code-confrontation",
                "repair": "code-repair", "threat": "code-threat", "safety": "code-safety",
                "collaboration": "code-collaboration", "bond": "code-bond"}


@router.post("/cases/{case_id}/transcripts")
async def upload(request: Request, visit: Auth, case_id: int) -> Response:
    fields, filename, content = await forms.read_upload(request, visit, "file",
                                                        transcripts.MAX_BYTES)
    session_id = forms.integer(fields, "session_id")
    clinic = clinic_of(request)

    def work() -> None:
        with clinic.db.write() as s:
            transcripts.upload(s, clinic.box, visit.actor, case_id, session_id, filename,
                               content)

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#transcripts", status_code=303)


@router.get("/cases/{case_id}/transcripts/{transcript_id}")
def report(request: Request, visit: Auth, case_id: int, transcript_id: int) -> HTMLResponse:
    clinic = clinic_of(request)
    with clinic.db.read() as s:
        view = transcripts.view(s, clinic.box, visit.actor, case_id, transcript_id)
    record(request, visit.actor, "transcript.read", case_id=case_id,
           detail={"transcript": transcript_id})
    row = view.row
    # The coder's own timeline (markers, repairs, threats by utterance): a self-contained SVG
    # with every text escaped, so the template may insert it as markup.
    timeline = Markup(timeline_svg(view.report)) if view.report else None
    return render(request, "transcript.html", case=view.case, session=view.session,
                  timeline=timeline,
                  status=row.status, error=row.error, report=view.report,
                  filename=row.filename, families=FAMILY_CLASS, transcript=row,
                  speakers=view.speakers, roles=row.roles or {},
                  role_choices=transcripts.ROLE_CHOICES, failures=view.failures,
                  can_edit=view.can_edit)


@router.post("/cases/{case_id}/transcripts/{transcript_id}/roles")
async def set_roles(request: Request, visit: Auth, case_id: int, transcript_id: int) -> Response:
    form = await forms.read(request, visit)
    roles = {str(k)[5:]: str(v) for k, v in form.items()
             if k.startswith("role_") and str(v)}

    def work() -> None:
        with clinic_of(request).db.write() as s:
            transcripts.set_roles(s, visit.actor, case_id, transcript_id, roles)

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}/transcripts/{transcript_id}", status_code=303)


@router.post("/cases/{case_id}/transcripts/{transcript_id}/retry")
async def retry(request: Request, visit: Auth, case_id: int, transcript_id: int) -> Response:
    await forms.read(request, visit)

    def work() -> None:
        with clinic_of(request).db.write() as s:
            transcripts.retry(s, visit.actor, case_id, transcript_id)

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#transcripts", status_code=303)


@router.post("/cases/{case_id}/transcripts/{transcript_id}/delete")
async def delete(request: Request, visit: Auth, case_id: int, transcript_id: int) -> Response:
    await forms.read(request, visit)

    def work() -> None:
        with clinic_of(request).db.write() as s:
            transcripts.delete(s, visit.actor, case_id, transcript_id)

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#transcripts", status_code=303)
