"""The printable case report: ``GET /cases/{id}/report.pdf``, rendered by the local Chromium
(:mod:`alliance.interop.pdf`); scoped to the actor exactly as the case page is."""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from alliance.errors import InputError
from alliance.store import caseload
from alliance.web.deps import clinic_of, record
from alliance.web.security import Visit, authenticate

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]


@router.get("/cases/{case_id}/report.pdf")
def report_pdf(request: Request, visit: Auth, case_id: int) -> Response:
    from alliance.interop.pdf import html_to_pdf
    from alliance.monitoring.plot import trajectory_figure
    from alliance.monitoring.printout import case_report_html
    from alliance.store.monitoring import assess

    clinic = clinic_of(request)
    with clinic.db.read() as s:
        label, loaded = caseload.printable(s, visit.actor, case_id, clinic.catalog)
    progress, error = assess(loaded, clinic.policy, clinic.catalog, clinic.expected)
    if progress is None:
        raise InputError(f"this case cannot be summarised yet: {error}")
    labels = {**loaded.labels, "therapist": "Therapist"}
    figure = trajectory_figure(loaded.case, progress.report, clinic.policy, clinic.catalog,
                               labels=labels, tracks=progress.tracks)
    figure.update_layout(title=None, margin={"l": 50, "r": 10, "t": 10, "b": 40},
                         legend={"orientation": "h", "y": -0.15, "font": {"size": 9}})
    html = case_report_html(loaded.case, progress, labels=labels,
                            figure=json.loads(figure.to_json()),
                            title=f"Case report: {label}", when=clinic.clock().date())
    pdf = html_to_pdf(html)
    record(request, visit.actor, "case.report", case_id=case_id)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-") or f"case-{case_id}"
    return Response(pdf, media_type="application/pdf",
                    headers={"content-disposition": f'inline; filename="{name}-report.pdf"',
                             "cache-control": "no-store"})
