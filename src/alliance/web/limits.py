"""Input limits applied before any route runs (pure ASGI middleware).

* A request body is never read past ``Settings.max_body_bytes``: a ``Content-Length`` above
  it is answered 413 at once, without reading; a streamed body is cut off at the limit.
* A path segment or query value that is a whole number beyond a 32-bit signed integer (the
  ids of PostgreSQL's ``INTEGER``) is answered 404 (path) or 400 (query): no such row can
  exist, and the database would refuse the value with an error.
* A NUL character in the path, the query or a URL-encoded form is answered 400 (PostgreSQL
  cannot store one); multipart text fields are checked by :mod:`alliance.web.forms`.

Under ``/api/`` the refusal is JSON (``{"error": ..., "status": ...}``, as the API's own),
elsewhere plain text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.exceptions import HTTPException

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_ID = 2**31 - 1
JSON_UNDER = "/api/"  # the JSON API's refusals are JSON
_DIGITS = re.compile(r"^[+-]?\d+$")


class BodyTooLarge(HTTPException):
    """Raised inside ``receive`` when a streamed body passes the limit (an HTTP exception, so
    that FastAPI's body parsing passes it on as 413 rather than a generic 400)."""

    def __init__(self) -> None:
        super().__init__(413, "the request body is too large")


def _too_big(value: str) -> bool:
    return bool(_DIGITS.match(value.strip())) and abs(int(value)) > MAX_ID


async def _answer(scope: Scope, send: Send, status: int, text: str) -> None:
    kind = b"text/plain; charset=utf-8"
    body = text.encode()
    if str(scope.get("path", "")).startswith(JSON_UNDER):
        kind = b"application/json"
        body = json.dumps({"error": text, "status": status, "problems": []}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", kind),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def refusal(scope: Scope) -> tuple[int, str] | None:
    """Why the request line must be refused, or ``None``.

    >>> refusal({"path": "/cases/99999999999999999999", "query_string": b""})
    (404, 'not found')
    >>> refusal({"path": "/cases/12", "query_string": b"before_id=1%00"})
    (400, 'a NUL character is not allowed')
    >>> refusal({"path": "/cases/12", "query_string": b"case_id=3"}) is None
    True
    """
    path = unquote(str(scope.get("path", "")))
    query = bytes(scope.get("query_string", b"")).decode("latin-1")
    if "\x00" in path or "%00" in query.lower() or "\x00" in query:
        return 400, "a NUL character is not allowed"
    if any(_too_big(part) for part in path.split("/")):
        return 404, "not found"
    if any(_too_big(value) for _, value in parse_qsl(query, keep_blank_values=True)):
        return 400, "a number is out of range"
    return None


class InputLimits:
    """Refuses oversized bodies, out-of-range numbers and NUL characters (module docs)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.limit = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = refusal(scope)
        if refused is not None:
            await _answer(scope, send, *refused)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        length = headers.get(b"content-length", b"")
        if length and (not length.isdigit() or int(length) > self.limit):
            await _answer(scope, send, 413, f"the request is larger than {self.limit} bytes")
            return
        urlencoded = headers.get(b"content-type", b"").startswith(
            b"application/x-www-form-urlencoded")
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge()
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        source: Receive = counted
        if urlencoded and scope.get("method") in ("POST", "PUT", "PATCH"):
            try:
                body = await _whole(counted)
            except BodyTooLarge:
                await _answer(scope, send, 413, f"the request is larger than {self.limit} bytes")
                return
            if b"%00" in body.lower() or b"\x00" in body:
                await _answer(scope, send, 400, "a NUL character is not allowed")
                return
            source = _replay(body, receive)
        try:
            await self.app(scope, source, watched)
        except BodyTooLarge:
            if not started:
                await _answer(scope, send, 413, f"the request is larger than {self.limit} bytes")


async def _whole(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, then: Receive) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()  # the real disconnect, whenever it comes

    return receive
