"""Reading HTML form fields into typed values, with readable errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from alliance.errors import StoreError


def integer(form: Mapping[str, Any], name: str, default: int | None = None) -> int:
    raw = str(form.get(name) or "").strip()
    if not raw:
        if default is None:
            raise StoreError(f"{name.replace('_', ' ')} is required")
        return default
    try:
        return int(raw)
    except ValueError:
        raise StoreError(f"{name.replace('_', ' ')}: {raw!r} is not a whole number") from None


def optional_integer(form: Mapping[str, Any], name: str) -> int | None:
    raw = str(form.get(name) or "").strip()
    return integer(form, name) if raw else None


def date(form: Mapping[str, Any], name: str) -> dt.date:
    raw = str(form.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise StoreError(f"{name}: {raw!r} is not a date (YYYY-MM-DD)") from None


def text(form: Mapping[str, Any], name: str, limit: int = 5000) -> str:
    value = str(form.get(name) or "")
    if len(value) > limit:
        raise StoreError(f"{name.replace('_', ' ')} is longer than {limit} characters")
    return value
