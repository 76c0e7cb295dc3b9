"""The application factory: :func:`create_app` wires settings, database, routes and errors.

Errors map to pages, never tracebacks: :class:`~alliance.errors.NotFound` → 404 (foreign
cases included), :class:`~alliance.errors.PermissionDenied` → 403, CSRF and token problems
→ 400/403, any other :class:`~alliance.errors.AllianceError` → 400 with its message.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from alliance.errors import AllianceError, AuthError, NotFound, PermissionDenied
from alliance.store.database import Database
from alliance.web.security import LoginRequired, SecurityHeaders
from alliance.web.settings import Settings

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; the visit (actor and CSRF token), if any, is always available."""
    context.setdefault("visit", getattr(request.state, "visit", None))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, title=title, message=message)


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """A configured application. ``db`` may be passed in (tests, the demo) or is built from
    ``settings.database_url``. The schema must be current (``alliance db upgrade``)."""
    settings = settings or Settings.from_environment()
    db = db or Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = None
        if settings.run_worker:
            from alliance.web.worker import TranscriptWorker

            worker = TranscriptWorker(db, settings.box, interval=settings.worker_interval)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(title="alliance", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db

    from alliance.web.routes import admin, auth, cases, exports, static, survey, transcripts

    for module in (auth, cases, survey, transcripts, exports, admin, static):
        app.include_router(module.router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error_page(request, 404, "Not found", "There is nothing here, or it is not "
                           "yours to see.")

    @app.exception_handler(PermissionDenied)
    async def _denied(request: Request, exc: PermissionDenied) -> Response:
        return _error_page(request, 403, "Not allowed", str(exc))

    @app.exception_handler(AuthError)
    async def _auth(request: Request, exc: AuthError) -> Response:
        status = 403 if exc.context.get("csrf") else 400
        return _error_page(request, status, "Cannot continue", str(exc))

    @app.exception_handler(AllianceError)
    async def _alliance(request: Request, exc: AllianceError) -> Response:
        return _error_page(request, 400, "Please check your input", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e["loc"][-1]) for e in exc.errors()})
        return _error_page(request, 400, "Please check your input",
                           "missing or malformed: " + ", ".join(fields))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _error_page(request, 404, "Not found", "There is nothing here, or it is "
                               "not yours to see.")
        return _error_page(request, exc.status_code, "Error", str(exc.detail))

    app.add_middleware(SecurityHeaders)
    return app
