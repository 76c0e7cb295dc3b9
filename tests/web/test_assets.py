"""Static files: content-hashed names, compressed once, cached for good."""

from __future__ import annotations

import gzip
from typing import Any

from alliance.web.assets import PLOTLY, asset, load


def test_hashed_asset_is_gzipped_and_immutable(web: Any) -> None:
    client = web.anonymous()
    r = client.get(asset("chart.js"), headers={"accept-encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert "immutable" in r.headers["cache-control"]
    assert "max-age=31536000" in r.headers["cache-control"]
    assert r.content == load("chart.js").body          # httpx decodes it


def test_plotly_bundle_is_served_compressed_under_its_hash(web: Any) -> None:
    url = asset(PLOTLY)
    assert url.endswith("/vendor/plotly.min.js") and url.count("/") == 4
    r = web.anonymous().get(url, headers={"accept-encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    raw = r.headers.get("content-length")
    assert raw is not None and int(raw) < len(load(PLOTLY).body) / 3


def test_a_stale_digest_or_unknown_name_is_404(web: Any) -> None:
    client = web.anonymous()
    assert client.get("/static/000000000000/chart.js").status_code == 404
    assert client.get(f"/static/{load('chart.js').digest}/secret.py").status_code == 404
    assert client.get("/static/../clinic.py").status_code == 404


def test_a_client_without_gzip_gets_the_plain_file(web: Any) -> None:
    r = web.anonymous().get(asset("app.css"), headers={"accept-encoding": "identity"})
    assert "content-encoding" not in r.headers
    assert r.content == load("app.css").body
    assert gzip.decompress(gzip.compress(r.content)) == r.content
