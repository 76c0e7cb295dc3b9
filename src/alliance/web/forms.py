"""The one reader of HTML forms: fields after the CSRF check, typed values, readable errors.

A malformed field is an :class:`~alliance.errors.InputError` (HTTP 400), never a store error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fastapi import Request

from alliance.errors import InputError
from alliance.web.security import Visit, check_csrf


async def read(request: Request, visit: Visit) -> dict[str, Any]:
    """The submitted fields (multi-valued ones as lists), after the CSRF check."""
    data = await request.form()
    fields: dict[str, Any] = {}
    for key in data:
        values = data.getlist(key)
        refuse_nul(key, *(v for v in values if isinstance(v, str)))
        fields[key] = values if len(values) > 1 or key.endswith("[]") else values[0]
    check_csrf(visit, str(fields.get("csrf") or ""))
    return fields


async def read_upload(request: Request, visit: Visit, name: str, limit: int
                      ) -> tuple[dict[str, str], str, bytes]:
    """A multipart form with one file: its text fields, the file's name and at most
    ``limit + 1`` bytes of it (so the caller can tell an oversized file), after CSRF."""
    data = await request.form()
    check_csrf(visit, str(data.get("csrf") or ""))
    refuse_nul(*(v for v in data.values() if isinstance(v, str)))
    upload = data.get(name)
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise InputError("choose a file to upload")
    content = await upload.read(limit + 1)
    return ({k: v for k, v in data.items() if isinstance(v, str)}, upload.filename, content)


async def read_public(request: Request) -> dict[str, str]:
    """The text fields of a form sent without a log-in (the client's questionnaire; its
    CSRF token is checked by the caller against the survey cookie)."""
    data = await request.form()
    fields = {k: str(v) for k, v in data.items() if isinstance(v, str)}
    refuse_nul(*fields, *fields.values())
    return fields


# Ids and whole numbers fit a 32-bit signed integer (PostgreSQL's INTEGER; SQLite's is 64).
MAX_INTEGER = 2**31 - 1


def refuse_nul(*values: str) -> None:
    """No text field may hold a NUL character (PostgreSQL cannot store one)."""
    if any("\x00" in v for v in values):
        raise InputError("a field holds a NUL character")


def _label(name: str) -> str:
    return name.replace("_", " ")


def integer(form: Mapping[str, Any], name: str, default: int | None = None) -> int:
    raw = str(form.get(name) or "").strip()
    if not raw:
        if default is None:
            raise InputError(f"{_label(name)} is required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{_label(name)}: {raw[:40]!r} is not a whole number") from None
    if abs(value) > MAX_INTEGER:
        raise InputError(f"{_label(name)}: {raw[:40]!r} is out of range")
    return value


def optional_integer(form: Mapping[str, Any], name: str) -> int | None:
    raw = str(form.get(name) or "").strip()
    return integer(form, name) if raw else None


def date(form: Mapping[str, Any], name: str) -> dt.date:
    raw = str(form.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{name}: {raw!r} is not a date (YYYY-MM-DD)") from None


def text(form: Mapping[str, Any], name: str, limit: int = 5000) -> str:
    value = str(form.get(name) or "")
    if len(value) > limit:
        raise InputError(f"{_label(name)} is longer than {limit} characters")
    return value


def choice(form: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = str(form.get(name) or default)
    if value not in allowed:
        raise InputError(f"{_label(name)} {value!r} is not one of {', '.join(allowed)}")
    return value


def as_list(value: Any) -> list[str]:
    """A multi-valued field as a list of strings (absent: empty)."""
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def measure(value: Any) -> tuple[str, str]:
    """``instrument:rater`` from a questionnaire choice (rater defaults to ``client``)."""
    instrument_id, _, rater = str(value or "").partition(":")
    if not instrument_id:
        raise InputError("choose a questionnaire")
    return instrument_id, rater or "client"


def caseload_filters(query: Mapping[str, Any], severities: tuple[str, ...]) -> Any:
    """The caseload's filters from its query string (``clinician``, ``severity``,
    ``overdue``, ``q``); a bad value is an :class:`InputError`."""
    from alliance.store.caseload import Filters

    severity = str(query.get("severity") or "")
    if severity and severity not in severities:
        raise InputError(f"severity {severity!r} is not one of {', '.join(severities)}")
    return Filters(clinician=optional_integer(query, "clinician"), severity=severity,
                   overdue=str(query.get("overdue") or "") in ("1", "yes", "on"),
                   q=text(query, "q", 200))
