"""Bad input never answers 500 (issue 11, item 4): probes generated from the app's own routes
(huge ids, huge integers, NUL characters, duplicate fields), and the request body limit."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from tests.web.conftest import Web, csrf_of, make_case
from tests.web.test_authorization_matrix import app_routes

from alliance.web.limits import InputLimits

HUGE = "99999999999999999999"  # > 2^63
BIG = str(2**31)  # > PostgreSQL INTEGER
FIELDS = ("session_id", "member_id", "every", "case_id", "clinician_id", "number", "minutes_late",
          "label", "cultural_notes", "note", "reason", "email", "name", "password", "date",
          "instrument_id", "rater", "members[]", "measures[]", "role", "status", "q")


def _client(web: Web, who: str) -> Any:
    client = web.session_for(who)
    client._transport.raise_server_exceptions = False  # answer 500 rather than raise
    return client


def _probes(path: str) -> list[str]:
    """The route's path with every parameter replaced by a huge number, then a big one."""
    return [re.sub(r"\{[^}]+\}", value, path) for value in (HUGE, BIG)]


@pytest.mark.parametrize("who", ["dana", "admin"])
def test_no_route_answers_500_to_bad_input(web_any: Web, who: str) -> None:
    make_case(web_any, web_any.people["dana"])
    client = _client(web_any, who)
    csrf = client.csrf
    failures = []
    for method, path in sorted(app_routes(web_any.app)):
        if path.startswith("/static"):
            continue
        paths = _probes(path) if "{" in path else [path]
        bodies: list[dict[str, Any]] = [
            {"csrf": csrf, **dict.fromkeys(FIELDS, HUGE)},
            {"csrf": csrf, **dict.fromkeys(FIELDS, BIG)},
            {"csrf": csrf, **dict.fromkeys(FIELDS, "a\x00b")},
        ]
        for url in paths:
            if method == "GET":
                for query in (f"?case_id={HUGE}&before_id={BIG}", "?q=a%00b", ""):
                    r = client.get(url + query)
                    if r.status_code >= 500:
                        failures.append((method, url + query, r.status_code))
                continue
            for body in bodies:
                r = client.request(method, url, data=body)
                if r.status_code >= 500:
                    failures.append((method, url, r.status_code))
            if "{" in path:
                assert client.get(url).status_code in (404, 405)
    assert failures == []


def test_huge_case_id_is_404(web_any: Web) -> None:
    client = _client(web_any, "dana")
    assert client.get(f"/cases/{HUGE}").status_code == 404
    assert client.get(f"/cases/{BIG}").status_code == 404


def test_duplicate_measures_are_refused_not_500(web_any: Web) -> None:
    client = _client(web_any, "dana")
    r = client.post("/cases", data={
        "csrf": client.csrf, "label": "D.M.", "modality": "individual", "members[]": ["Client"],
        "measures[]": ["alliance-12:client", "alliance-12:client"], "every": "1"})
    assert r.status_code == 400, r.text
    assert "twice" in r.text


def test_nul_in_the_login_email_is_a_plain_refusal(web_any: Web) -> None:
    client = web_any.anonymous()
    client._transport.raise_server_exceptions = False
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"email": "dana@example.org\x00", "password": "x" * 12,
                                    "csrf": token})
    assert r.status_code in (400, 401)


def _run(app: InputLimits, headers: list[tuple[bytes, bytes]], chunks: int,
         chunk: bytes, first: bytes = b"") -> tuple[int, int]:
    """Send ``chunks`` chunks through the middleware; (status, chunks actually read)."""
    read = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        return {"type": "http.request", "body": (first if read == 1 else b"") + chunk,
                "more_body": read < chunks}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "method": "POST", "path": "/login", "query_string": b"",
             "headers": headers}
    asyncio.run(app(scope, receive, send))
    return status, read


def test_a_50_mb_body_is_refused_without_being_read(web: Web) -> None:
    app = InputLimits(web.app, max_body_bytes=1024 * 1024)
    mib = b"x" * (1024 * 1024)
    form = (b"content-type", b"application/x-www-form-urlencoded")
    # announced: refused before a byte is read
    assert _run(app, [form, (b"content-length", str(50 * len(mib)).encode())], 50, mib) \
        == (413, 0)
    # streamed without a length: cut off at the limit
    status, read = _run(app, [form], 50, mib)
    assert status == 413 and read <= 2
    part = b'--x\r\ncontent-disposition: form-data; name="email"\r\n\r\n'
    status, read = _run(app, [(b"content-type", b"multipart/form-data; boundary=x")], 50, mib,
                        first=part)
    # Starlette itself refuses a text part over 1 MiB (400); either way, read stops early
    assert status in (400, 413) and read <= 2
    part = b'--x\r\ncontent-disposition: form-data; name="file"; filename="t.txt"\r\n\r\n'
    status, read = _run(app, [(b"content-type", b"multipart/form-data; boundary=x")], 50, mib,
                        first=part)
    assert status == 413 and read <= 2


def test_the_body_limit_comes_from_the_settings(web: Web) -> None:
    from tests.web.conftest import make_clinic

    from alliance.clinic import Settings
    from alliance.web.app import create_app

    assert Settings.from_environment({"ALLIANCE_MAX_BODY_BYTES": "1000"}).max_body_bytes == 1000
    app = create_app(clinic=make_clinic(web.db, web.box, max_body_bytes=1000))
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="https://testserver")
    assert client.post("/login", content=b"a" * 2000, headers={
        "content-type": "application/x-www-form-urlencoded"}).status_code == 413
