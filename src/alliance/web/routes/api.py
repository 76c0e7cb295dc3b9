"""The versioned JSON API for integration (``/api/v1``), with its OpenAPI schema at
``/api/v1/openapi.json``.

A separate FastAPI application mounted by :func:`alliance.web.app.create_app`, so its
errors are JSON (``{"error": ..., "status": ...}``), never pages. Callers send a personal
token (``alliance tokens create``) as ``Authorization: Bearer …``; the token acts as its
user with exactly the scope of the pages (:mod:`alliance.store.actors`): a foreign or
unknown id answers 404, a read-only token asking to change something 403, a missing,
unknown, expired or revoked token 401, a malformed body 422. Reads are audited like the
pages (``case.list``, ``case.read`` with ``"via": "api"``), changes by the store functions
the pages use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from alliance.clinic import Clinic
from alliance.errors import AllianceError, AuthError, NotFound
from alliance.store import apitokens, casebook, ehr, monitoring
from alliance.store.actors import Actor, require_role
from alliance.web.deps import clinic_of, record

VERSION = "v1"
PREFIX = f"/api/{VERSION}"
bearer = HTTPBearer(auto_error=False, description="A personal API token "
                    "(`alliance tokens create --user EMAIL`).")


class Unauthenticated(Exception):
    """No usable token: 401 with ``WWW-Authenticate: Bearer``."""


class Caller:
    """The actor behind the request's token, and the token's scope."""

    def __init__(self, actor: Actor, scope: str) -> None:
        self.actor = actor
        self.scope = scope

    def require_write(self) -> None:
        apitokens.require_scope(self.scope, "write")


def caller(request: Request,
           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
           ) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send a personal API token as 'Authorization: Bearer TOKEN'")
    clinic = clinic_of(request)
    now = clinic.clock()
    try:
        with clinic.db.read() as s:
            actor, row = apitokens.resolve(s, credentials.credentials, now=now)
            token_id, scope, last = row.id, row.scope, row.last_used_at
    except AuthError as exc:
        raise Unauthenticated(str(exc)) from None
    if last is None or (now - apitokens._aware(last)).total_seconds() > 60:
        apitokens.touch(clinic.db, token_id, now)
    return Caller(actor, scope)


Token = Annotated[Caller, Depends(caller)]


# -- payloads ------------------------------------------------------------------------------

class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlertSummary(Model):
    id: str
    severity: str
    status: str
    headline: str
    latest_session: int | None = None


class CaseSummary(Model):
    id: int
    label: str
    modality: str
    archived: bool
    alert: AlertSummary | None = None


class MemberOut(Model):
    id: int
    label: str


class SessionOut(Model):
    id: int
    number: int
    date: dt.date
    attendance: str
    voided: bool


class MeasureOut(Model):
    instrument: str
    rater: str
    every: int


class CaseDetail(CaseSummary):
    members: list[MemberOut]
    sessions: list[SessionOut]
    measures: list[MeasureOut]
    consents: dict[str, bool]
    can_edit: bool


class TrajectoryPoint(Model):
    session_number: int
    date: dt.date
    instrument: str
    kind: str = Field(description="alliance or outcome")
    rater: str
    member_id: int | None
    total: float | None
    scores: dict[str, Any]
    response_id: int


class Trajectory(Model):
    case_id: int
    alliance: list[TrajectoryPoint]
    outcome: list[TrajectoryPoint]


class ResponseIn(Model):
    session_number: int = Field(ge=1, description="The session the answers are about.")
    instrument: str = Field(min_length=1, max_length=60)
    rater: Literal["client", "therapist", "family_member"] = "client"
    member_id: int | None = Field(default=None, description="The member who answered "
                                  "(required unless the rater is the therapist).")
    answers: dict[str, float | None] = Field(description="Item id → value.")


class ResponseCreated(Model):
    id: int
    case_id: int
    session_number: int
    instrument: str
    total: float | None
    scores: dict[str, Any]
    supersedes: bool = Field(description="An earlier answer by the same rater to the same "
                             "questionnaire for this session no longer counts.")


class AlertEventOut(Model):
    alert_id: str
    action: str
    status: str
    at: dt.datetime
    by: str
    note: str


class CaseAlerts(Model):
    case_id: int
    current: AlertSummary | None
    history: list[AlertEventOut]


class AcknowledgeIn(Model):
    note: str = Field(default="", max_length=2000)


class Problem(Model):
    error: str
    status: int
    problems: list[dict[str, Any]] = Field(default_factory=list)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text} for code, text in (
        (401, "No token, or an unknown, expired or revoked one"),
        (404, "Not found, or not yours to see"),
        (422, "The request is malformed"))}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 400: {"model": Problem, "description": "Refused (consent, scoring, state)"},
    403: {"model": Problem, "description": "A read-only token, or a case you may only read"}}


def _alert(view: monitoring.MonitorView) -> AlertSummary | None:
    if view.alert is None or view.alert_id is None:
        return None
    return AlertSummary(id=view.alert_id, severity=str(view.alert.get("severity") or ""),
                        status=view.status or "open",
                        headline=str(view.alert.get("headline") or ""),
                        latest_session=view.alert.get("latest_session"))


def _problem(status: int, message: str, problems: list[dict[str, Any]] | None = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, "problems": problems or []},
                        status_code=status, headers=headers)


def create_api(clinic: Clinic, status_of: Callable[[AllianceError], tuple[int, str]]
               ) -> FastAPI:
    """The ``/api/v1`` application on ``clinic``; ``status_of`` maps error classes to HTTP
    statuses exactly as the pages do."""
    api = FastAPI(title="alliance clinic API", version=VERSION, docs_url=None,
                  redoc_url=None, openapi_url="/openapi.json", servers=[{"url": PREFIX}],
                  description="Cases, trajectories, responses, alerts and FHIR R4 resources "
                              "of the clinic, scoped to the token's user.")
    api.state.clinic = clinic
    api.state.settings = clinic.settings  # proxies and limits, as on the pages

    @api.exception_handler(Unauthenticated)
    async def _unauth(request: Request, exc: Unauthenticated) -> JSONResponse:
        return _problem(401, str(exc), headers={"WWW-Authenticate": "Bearer"})

    @api.exception_handler(AllianceError)
    async def _alliance(request: Request, exc: AllianceError) -> JSONResponse:
        status, _ = status_of(exc)
        if status == 404:
            return _problem(404, "There is nothing here, or it is not yours to see.")
        return _problem(status, str(exc))

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": "body" if e["type"] == "json_invalid" else
                     ".".join(str(p) for p in e["loc"] if p != "body"),
                     "why": e["msg"]} for e in exc.errors()]
        return _problem(422, "the request is malformed: " + "; ".join(
            f"{p['field'] or 'body'}: {p['why']}" for p in problems), problems)

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _problem(exc.status_code, "There is nothing here, or it is not yours to see."
                        if exc.status_code == 404 else str(exc.detail))

    responses_read: dict[int | str, dict[str, Any]] = dict(ERRORS)

    @api.get("/cases", response_model=list[CaseSummary], responses=responses_read,
             operation_id="list_cases", tags=["cases"])
    def list_cases(request: Request, token: Token, archived: bool = False
                   ) -> list[CaseSummary]:
        """The token user's caseload (a supervisor's: the supervisees' cases)."""
        require_role(token.actor, "clinician", "supervisor")
        with clinic.db.read() as s:
            rows, monitors = casebook.caseload(s, token.actor, archived=archived)
            out = [CaseSummary(id=c.id, label=c.label, modality=c.modality,
                               archived=c.archived_at is not None,
                               alert=_alert(monitors[c.id])) for c in rows]
        record(request, token.actor, "case.list", detail={"cases": len(out), "via": "api"})
        return out

    @api.get("/cases/{case_id}", response_model=CaseDetail, responses=responses_read,
             operation_id="read_case", tags=["cases"])
    def read_case(request: Request, token: Token, case_id: int) -> CaseDetail:
        """One case: members, sessions, measures, consent and its current alert."""
        with clinic.db.read() as s:
            v = casebook.case_view(s, token.actor, case_id)
            out = CaseDetail(
                id=v.case.id, label=v.case.label, modality=v.case.modality,
                archived=v.case.archived_at is not None, alert=_alert(v.monitor),
                members=[MemberOut(id=m.id, label=m.label) for m in v.members],
                sessions=[SessionOut(id=x.id, number=x.number, date=x.date,
                                     attendance=x.attendance,
                                     voided=x.id in v.voided_sessions) for x in v.sessions],
                measures=[MeasureOut(instrument=m.instrument_id, rater=m.rater,
                                     every=m.every) for m in v.measures],
                consents=v.consents, can_edit=v.can_edit)
        record(request, token.actor, "case.read", case_id=case_id, detail={"via": "api"})
        return out

    @api.get("/cases/{case_id}/trajectory", response_model=Trajectory,
             responses=responses_read, operation_id="read_trajectory", tags=["cases"])
    def trajectory(request: Request, token: Token, case_id: int) -> Trajectory:
        """The current alliance and outcome scores per session (voided and superseded
        answers left out)."""
        with clinic.db.read() as s:
            points = ehr.trajectory(s, token.actor, case_id, clinic.catalog)
        record(request, token.actor, "case.read", case_id=case_id,
               detail={"via": "api", "what": "trajectory"})
        rows = [TrajectoryPoint(**vars(p)) for p in points]
        return Trajectory(case_id=case_id, alliance=[p for p in rows if p.kind != "outcome"],
                          outcome=[p for p in rows if p.kind == "outcome"])

    @api.post("/cases/{case_id}/responses", response_model=ResponseCreated, status_code=201,
              responses=WRITE_ERRORS, operation_id="create_response", tags=["responses"])
    def create_response(token: Token, case_id: int, body: ResponseIn) -> ResponseCreated:
        """Answers from an EHR-side form: validated, consent-checked and superseding like
        the clinic's paper form."""
        token.require_write()
        with clinic.db.write() as s:
            row, supersedes = ehr.enter_response(
                s, token.actor, case_id, body.session_number, instrument_id=body.instrument,
                rater=body.rater, member_id=body.member_id, answers=body.answers,
                catalog=clinic.catalog)
            return ResponseCreated(id=row.id, case_id=case_id,
                                   session_number=body.session_number,
                                   instrument=row.instrument_id, total=row.total,
                                   scores=dict(row.scores), supersedes=supersedes)

    @api.get("/alerts", response_model=list[CaseAlerts], responses=responses_read,
             operation_id="list_alerts", tags=["alerts"])
    def list_alerts(request: Request, token: Token) -> list[CaseAlerts]:
        """The current alert of every case in the caseload that has one, most severe
        first."""
        require_role(token.actor, "clinician", "supervisor")
        with clinic.db.read() as s:
            rows, monitors = casebook.caseload(s, token.actor)
            out = [CaseAlerts(case_id=c.id, current=_alert(monitors[c.id]), history=[])
                   for c in rows if monitors[c.id].alert is not None]
        record(request, token.actor, "case.list",
               detail={"cases": len(out), "via": "api", "what": "alerts"})
        return out

    @api.get("/cases/{case_id}/alerts", response_model=CaseAlerts, responses=responses_read,
             operation_id="read_case_alerts", tags=["alerts"])
    def case_alerts(request: Request, token: Token, case_id: int) -> CaseAlerts:
        """The case's current alert and every status change, oldest first."""
        with clinic.db.read() as s:
            v = casebook.case_view(s, token.actor, case_id)
            out = CaseAlerts(case_id=case_id, current=_alert(v.monitor), history=[
                AlertEventOut(alert_id=e.alert_id, action=e.action, status=e.status,
                              at=e.at, by="monitor" if e.actor_id is None else
                              f"user {e.actor_id}", note=e.note)
                for e in v.monitor.history])
        record(request, token.actor, "case.read", case_id=case_id,
               detail={"via": "api", "what": "alerts"})
        return out

    @api.post("/cases/{case_id}/alerts/{alert_id}/acknowledge", response_model=AlertEventOut,
              responses=WRITE_ERRORS, operation_id="acknowledge_alert", tags=["alerts"])
    def acknowledge(token: Token, case_id: int, alert_id: str,
                    body: AcknowledgeIn | None = None) -> AlertEventOut:
        """Acknowledge an alert (the same life cycle as the case page's button)."""
        token.require_write()
        with clinic.db.write() as s:
            e = monitoring.act_on_alert(s, token.actor, case_id, alert_id, "acknowledge",
                                        note=(body.note if body else ""))
            return AlertEventOut(alert_id=e.alert_id, action=e.action, status=e.status,
                                 at=e.at, by=f"user {e.actor_id}", note=e.note)

    @api.get("/cases/{case_id}/fhir", responses=responses_read, operation_id="case_bundle",
             tags=["fhir"], response_class=JSONResponse)
    def case_fhir(request: Request, token: Token, case_id: int) -> JSONResponse:
        """Every current rating of the case as a FHIR R4 Bundle (QuestionnaireResponses
        and score Observations), read-only."""
        from alliance.interop.fhir import case_bundle

        with clinic.db.read() as s:
            loaded = casebook.chart_case(s, token.actor, case_id, clinic.catalog)
        if loaded.case is None:
            raise NotFound(f"case {case_id} cannot be read: {loaded.error}")
        bundle = case_bundle(loaded.case, catalog=clinic.catalog)
        record(request, token.actor, "case.read", case_id=case_id,
               detail={"via": "api", "what": "fhir"})
        return JSONResponse(bundle, media_type="application/fhir+json")

    @api.get("/fhir/Questionnaire/{questionnaire_id}", responses=responses_read,
             operation_id="questionnaire", tags=["fhir"], response_class=JSONResponse)
    def fhir_questionnaire(token: Token, questionnaire_id: str) -> JSONResponse:
        """An instrument as a FHIR R4 Questionnaire (``{id}`` or ``{id}-{rater-type}``);
        licensed wording is never included."""
        from alliance.interop.fhir import questionnaire

        inst, rater = _instrument_version(clinic, questionnaire_id)
        return JSONResponse(questionnaire(inst, rater=rater),
                            media_type="application/fhir+json")

    @api.get("/fhir/CodeSystem/alliance", responses=responses_read, operation_id="code_system",
             tags=["fhir"], response_class=JSONResponse)
    def fhir_code_system(token: Token) -> JSONResponse:
        """The project's codes (instruments, items, scores, answers) as a CodeSystem."""
        from alliance.interop.fhir import code_system

        return JSONResponse(code_system(clinic.catalog), media_type="application/fhir+json")

    return api


def _instrument_version(clinic: Clinic, questionnaire_id: str) -> tuple[Any, str]:
    """The instrument and rater type behind a Questionnaire id (``alliance-12`` or
    ``alliance-12-therapist``, as :func:`alliance.interop.fhir.questionnaire` names them);
    an unknown one is :class:`NotFound`."""
    from alliance.interop.fhir import fhir_id, version_id

    for inst in clinic.catalog.values():
        for rater in inst.rater_types:
            if fhir_id(version_id(inst, rater)) == questionnaire_id:
                return inst, rater
    raise NotFound(f"Questionnaire {questionnaire_id} not found")
