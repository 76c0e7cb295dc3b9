"""Static assets under content-hashed names, compressed once, cached for good.

Each asset (our own CSS and JS, and the plotly.js bundle shipped inside the installed
``plotly`` Python package: never committed here, never fetched from a CDN) is served at
``/static/<digest>/<name>``, where ``<digest>`` is the first 12 hex digits of the SHA-256 of
its bytes. A changed file gets a new address, so the response can say
``Cache-Control: public, max-age=31536000, immutable`` and a browser never asks again.
Bodies are compressed once per process (gzip level 9; Brotli when the ``brotli`` package is
installed and the browser accepts it) and kept in memory: plotly.min.js goes from 4.8 MB to
about 1.47 MB with gzip.

Templates call ``asset("chart.js")`` for the address.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from alliance.errors import NotFound
from alliance.interop.pdf import plotly_bundle

HERE = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
OWN = ("app.css", "chart.js", "print.css")
PLOTLY = "vendor/plotly.min.js"


@dataclass(frozen=True)
class Asset:
    """One static file: its bytes, media type and content digest."""

    name: str
    body: bytes
    media_type: str

    @cached_property
    def digest(self) -> str:  # asked by every page render; the body never changes
        return hashlib.sha256(self.body).hexdigest()[:12]

    @property
    def url(self) -> str:
        return f"/static/{self.digest}/{self.name}"


@cache
def load(name: str) -> Asset:
    """The asset called ``name`` (``NotFound`` for any other name)."""
    if name == PLOTLY:
        path = plotly_bundle()
    elif name in OWN:
        path = HERE / name
    else:
        raise NotFound("no such file")
    return Asset(name, path.read_bytes(), TYPES[path.suffix])


def asset(name: str) -> str:
    """The content-hashed address of an asset, for templates."""
    return load(name).url


@cache
def compressed(name: str, coding: str) -> bytes:
    """The asset's body in ``coding`` (``gzip`` or ``br``), made once per process."""
    body = load(name).body
    if coding == "br":
        import brotli

        return bytes(brotli.compress(body, quality=9))
    return gzip.compress(body, compresslevel=9, mtime=0)


def best_coding(accept_encoding: str) -> str:
    """``br``, ``gzip`` or ``identity`` for an ``Accept-Encoding`` header.

    >>> best_coding("gzip, deflate"), best_coding("gzip;q=0"), best_coding("identity")
    ('gzip', 'identity', 'identity')
    """
    offered = set()
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            if float(q) > 0:
                offered.add(coding.strip())
        except ValueError:
            continue
    if "br" in offered:
        try:
            import brotli  # noqa: F401
        except ImportError:
            pass
        else:
            return "br"
    return "gzip" if "gzip" in offered else "identity"
