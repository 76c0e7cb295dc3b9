"""Static files: our own CSS and JS, and plotly.js from the installed plotly package
(:mod:`alliance.web.assets`): compressed, under content-hashed names, cached for good.

The unhashed addresses (``/static/app.css``, ``/static/vendor/plotly.min.js``) still answer,
with a short cache, for anything that bookmarked them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from alliance.errors import NotFound
from alliance.web import assets

router = APIRouter()
SHORT = "public, max-age=3600"


def _send(request: Request, name: str, cache_control: str) -> Response:
    item = assets.load(name)
    coding = assets.best_coding(request.headers.get("accept-encoding", ""))
    headers = {"cache-control": cache_control, "vary": "Accept-Encoding"}
    if coding == "identity":
        return Response(item.body, media_type=item.media_type, headers=headers)
    return Response(assets.compressed(name, coding), media_type=item.media_type,
                    headers={**headers, "content-encoding": coding})


@router.get("/static/vendor/plotly.min.js")
def plotly_js(request: Request) -> Response:
    return _send(request, assets.PLOTLY, SHORT)


@router.get("/static/{name}")
def own_static(request: Request, name: str) -> Response:
    return _send(request, name, SHORT)


@router.get("/static/{digest}/{name:path}")
def hashed_static(request: Request, digest: str, name: str) -> Response:
    if assets.load(name).digest != digest:
        raise NotFound("no such file (an older version of it, perhaps)")
    return _send(request, name, assets.IMMUTABLE)
