"""Static files: our own CSS and JS, and plotly.js served from the installed plotly package.

plotly.js is never committed to this repository and never loaded from a CDN; the Python
``plotly`` package ships the bundle, and this route streams that file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from alliance.errors import ConfigError, NotFound

router = APIRouter()
HERE = Path(__file__).resolve().parent.parent / "static"
OWN = {"app.css": "text/css", "chart.js": "text/javascript"}
CACHE = {"cache-control": "public, max-age=3600"}


@cache
def plotly_bundle() -> Path:
    """The ``plotly.min.js`` inside the installed plotly package."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise ConfigError(f"plotly.js not found in the plotly package at {path}")
    return path


@router.get("/static/vendor/plotly.min.js")
def plotly_js() -> FileResponse:
    return FileResponse(plotly_bundle(), media_type="text/javascript", headers=CACHE)


@router.get("/static/{name}")
def own_static(name: str) -> FileResponse:
    if name not in OWN:
        raise NotFound("no such file")
    return FileResponse(HERE / name, media_type=OWN[name], headers=CACHE)
