"""Exports: a client's own data (per case, CSV or JSON) and the de-identified research table."""

from __future__ import annotations

import io
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from alliance.errors import NotFound
from alliance.store import exports
from alliance.store.actors import require_role
from alliance.web.deps import clinic_of, record
from alliance.web.rendering import render
from alliance.web.security import Visit, authenticate

router = APIRouter()
Auth = Annotated[Visit, Depends(authenticate)]


def _attachment(body: bytes, media: str, name: str) -> Response:
    return Response(body, media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/cases/{case_id}/export.json")
def case_json(request: Request, visit: Auth, case_id: int) -> Response:
    with clinic_of(request).db.read() as s:
        data = exports.case_record(s, visit.actor, case_id)
    record(request, visit.actor, "export.case", case_id=case_id, detail={"format": "json"})
    return _attachment(json.dumps(data, indent=2, ensure_ascii=False).encode(),
                       "application/json", f"case-{case_id}.json")


@router.get("/cases/{case_id}/export.csv")
def case_csv(request: Request, visit: Auth, case_id: int) -> Response:
    with clinic_of(request).db.read() as s:
        table = exports.case_table(s, visit.actor, case_id)
    record(request, visit.actor, "export.case", case_id=case_id, detail={"format": "csv"})
    return _attachment(table.to_csv(index=False).encode(), "text/csv", f"case-{case_id}.csv")


@router.get("/research")
def research(request: Request, visit: Auth) -> HTMLResponse:
    require_role(visit.actor, "researcher")
    with clinic_of(request).db.read() as s:
        counts = exports.research_counts(s, visit.actor)
    record(request, visit.actor, "research.read")
    return render(request, "research.html", counts=counts, min_cell=exports.MIN_CASES)


@router.get("/research/export.{fmt}")
def research_export(request: Request, visit: Auth, fmt: str) -> Response:
    require_role(visit.actor, "researcher")
    if fmt not in ("csv", "parquet"):
        raise NotFound("unknown format")
    with clinic_of(request).db.read() as s:
        table = exports.research_table(s, visit.actor)
    record(request, visit.actor, "export.research", detail={"format": fmt, "rows": len(table)})
    if fmt == "csv":
        return _attachment(table.to_csv(index=False).encode(), "text/csv", "alliance-research.csv")
    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    return _attachment(buf.getvalue(), "application/vnd.apache.parquet",
                       "alliance-research.parquet")
