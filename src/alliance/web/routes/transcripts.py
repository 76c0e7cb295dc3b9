"""Transcript upload (encrypted at rest, analysed later by the worker) and the report page."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from alliance.errors import ConfigError, NotFound, StoreError
from alliance.store import audit, cases
from alliance.store.actors import get_case
from alliance.store.models import Transcript
from alliance.web import forms
from alliance.web.app import render
from alliance.web.security import Visit, authenticate, check_csrf, client_ip
from alliance.web.worker import content_aad, report_aad

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]
MAX_BYTES = 5 * 1024 * 1024


@router.post("/cases/{case_id}/transcripts")
async def upload(request: Request, visit: Auth, case_id: int) -> Response:
    data = await request.form()
    check_csrf(visit, str(data.get("csrf") or ""))
    upload = data.get("file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise StoreError("choose a transcript file to upload")
    content = await upload.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise StoreError("the transcript is larger than 5 MB")
    if not content.strip():
        raise StoreError("the transcript file is empty")
    box = request.app.state.settings.box
    if box is None:
        raise ConfigError("transcripts cannot be stored: no encryption key is configured "
                          "(ALLIANCE_ENCRYPTION_KEY or ALLIANCE_ENCRYPTION_KEY_FILE)")
    filename = upload.filename[-255:]
    fields = {k: str(v) for k, v in data.items() if isinstance(v, str)}

    def work() -> None:
        with request.app.state.db.write() as s:
            get_case(s, visit.actor, case_id, write=True)
            cases.require_consent(s, case_id, "transcripts")
            session = cases.get_session(s, case_id, forms.integer(fields, "session_id"))
            row = Transcript(case_id=case_id, session_id=session.id, filename=filename,
                             content=b"", uploaded_by=visit.actor.id)
            s.add(row)
            s.flush()  # the id is part of the associated data
            row.content = box.encrypt(content, content_aad(row.id))
            audit.record(s, visit.actor, "transcript.upload", case_id=case_id,
                         detail={"transcript": row.id})

    await run_in_threadpool(work)
    return RedirectResponse(f"/cases/{case_id}#transcripts", status_code=303)


FAMILY_CLASS = {"withdrawal": "code-withdrawal", "confrontation": "code-confrontation",
                "repair": "code-repair", "threat": "code-threat", "safety": "code-safety",
                "collaboration": "code-collaboration"}


@router.get("/cases/{case_id}/transcripts/{transcript_id}")
def report(request: Request, visit: Auth, case_id: int, transcript_id: int) -> HTMLResponse:
    with request.app.state.db.write() as s:
        case = get_case(s, visit.actor, case_id)
        row = s.get(Transcript, transcript_id)
        if row is None or row.case_id != case.id:
            raise NotFound("transcript not found")
        audit.record(s, visit.actor, "transcript.read", case_id=case_id,
                     detail={"transcript": transcript_id}, ip=client_ip(request))
        session = cases.get_session(s, case_id, row.session_id)
        status, error, blob, filename = row.status, row.error, row.report, row.filename
    body: dict[str, Any] | None = None
    if blob is not None:
        box = request.app.state.settings.box
        if box is None:
            raise ConfigError("the encryption key is not configured")
        body = json.loads(box.decrypt(blob, report_aad(transcript_id)))
    return render(request, "transcript.html", case=case, session=session, status=status,
                  error=error, report=body, filename=filename, families=FAMILY_CLASS)
