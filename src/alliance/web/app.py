"""The application factory: :func:`create_app` wires a :class:`~alliance.clinic.Clinic`, the
routes and the error pages.

Errors map to pages, never tracebacks, and the status comes from the error's class
(:data:`STATUS`, most specific first): :class:`~alliance.errors.NotFound` → 404 (foreign
cases included), :class:`~alliance.errors.PermissionDenied` and
:class:`~alliance.errors.CsrfError` → 403, any other :class:`~alliance.errors.AllianceError`
→ 400 with its message.

At start-up the factory checks that the clinic's key decrypts the transcripts already stored
and that its catalogue and policy load (:meth:`Clinic.check`), and refuses to build the app
otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from alliance.clinic import Clinic, Settings
from alliance.errors import (
    AllianceError,
    AuthError,
    CsrfError,
    InputError,
    LinkGone,
    NotFound,
    PermissionDenied,
    Throttled,
)
from alliance.store.database import Database
from alliance.web.deps import record
from alliance.web.limits import InputLimits
from alliance.web.rendering import error_page
from alliance.web.routes import (
    account,
    admin,
    api,
    auth,
    cases,
    exports,
    outreach,
    practice,
    reports,
    static,
    survey,
    tokens,
    transcripts,
)
from alliance.web.security import (
    STAGE_PAGES,
    AuditAddress,
    LoginRequired,
    SecurityHeaders,
    StageRequired,
)

NOT_FOUND = "There is nothing here, or it is not yours to see."
STATUS: tuple[tuple[type[AllianceError], int, str], ...] = (
    (NotFound, 404, "Not found"),
    (PermissionDenied, 403, "Not allowed"),
    (CsrfError, 403, "Cannot continue"),
    (LinkGone, 410, "Link not usable"),
    (Throttled, 429, "Please wait"),
    (AuthError, 400, "Cannot continue"),
    (InputError, 400, "Please check your input"),
    (AllianceError, 400, "Please check your input"),
)


def status_of(exc: AllianceError) -> tuple[int, str]:
    """The HTTP status and page title of an error, by its class."""
    for cls, status, title in STATUS:
        if isinstance(exc, cls):
            return status, title
    return 400, "Please check your input"  # pragma: no cover - AllianceError is last


# A request thread that waits on the disk or SQLite (the GIL released) gets the GIL back
# only when the thread holding it lets go, by default after 5 ms of Python: beside the alert
# worker's assessments that wait, taken at each of a request's dozen statements, made the
# slow tail of submissions. 1 ms cuts it (docs/reliability.md, "Load with replays").
SERVER_SWITCH_INTERVAL = 0.001


def tune_server_process() -> None:
    """Interpreter settings for a process that serves requests (``alliance serve``, each
    web process of ``--workers N``); not applied by :func:`create_app`, which tests call."""
    sys.setswitchinterval(SERVER_SWITCH_INTERVAL)


def create_app(settings: Settings | None = None, db: Database | None = None, *,
               clinic: Clinic | None = None) -> FastAPI:
    """A configured application on ``clinic`` (or one built from ``settings`` and ``db``).
    The schema must be current (``alliance db upgrade``)."""
    if clinic is None:
        clinic = Clinic(settings or Settings(), db)
    clinic.check()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if clinic.settings.run_worker:
            from alliance.worker import Worker

            worker = Worker(clinic)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(title="alliance", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.clinic = clinic
    app.state.settings = clinic.settings
    app.state.db = clinic.db
    app.state.blank_forms = {}  # survey form markup per (instrument, version, rater)

    for module in (auth, cases, survey, transcripts, exports, admin, practice, static,
                   outreach, account):
        app.include_router(module.router)
    app.include_router(tokens.router)
    app.mount(api.PREFIX, api.create_api(clinic, status_of))  # JSON errors, own OpenAPI
    app.include_router(reports.router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StageRequired)
    async def _stage(request: Request, exc: StageRequired) -> Response:
        return RedirectResponse(STAGE_PAGES[exc.stage], status_code=303)

    @app.exception_handler(AllianceError)
    async def _alliance(request: Request, exc: AllianceError) -> Response:
        status, title = status_of(exc)
        visit = getattr(request.state, "visit", None)
        if status in (403, 404) and visit is not None:  # probes of foreign ids, CSRF failures
            await run_in_threadpool(record, request, visit.actor, "access.denied",
                                    detail={"path": request.url.path[:200], "status": status,
                                            "error": type(exc).__name__})
        return error_page(request, status, title, NOT_FOUND if status == 404 else str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e["loc"][-1]) for e in exc.errors()})
        return error_page(request, 400, "Please check your input",
                          "missing or malformed: " + ", ".join(fields))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_page(request, 404, "Not found", NOT_FOUND)
        return error_page(request, exc.status_code, "Error", str(exc.detail))

    app.add_middleware(AuditAddress)
    app.add_middleware(InputLimits, max_body_bytes=clinic.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
