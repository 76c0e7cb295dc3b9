"""Rendering pages: the one Jinja environment and :func:`render` (routes import this, never
``web.app``, so the application factory and the routes do not import each other)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from alliance.store.caseload import headline
from alliance.web.assets import asset

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
# The templates ship with the package and change only with it (a restart): no stat() of
# each template file on every render to see whether it changed.
templates.env.auto_reload = False
templates.env.globals["asset"] = asset
templates.env.filters["headline"] = headline


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page; the visit (actor and CSRF token), if any, is always available."""
    context.setdefault("visit", getattr(request.state, "visit", None))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status_code=status, title=title, message=message)
