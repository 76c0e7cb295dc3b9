"""The column types of sealed text and JSON (:mod:`alliance.store.sealing` explains).

They find the keys on the engine's dialect (``alliance_keys``, set by
:func:`alliance.store.sealing.attach`); this module imports no model, so the models can
declare their columns with it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from alliance.errors import ConfigError

PREFIX = "enc:"
_ATTR = "alliance_keys"


def column_aad(column: str) -> bytes:
    return f"sealed:{column}".encode()


def keys_of(dialect: Dialect) -> Any:
    """The :class:`~alliance.store.sealing.Keys` attached to ``dialect``, or ``None``."""
    return getattr(dialect, _ATTR, None)


class SealedText(TypeDecorator[str]):
    """Text sealed at rest; ``column`` (``"table.column"``) is its associated data.

    A ciphertext is longer than its text: on PostgreSQL the column is ``TEXT``; SQLite
    enforces no length, so there it keeps its declared ``VARCHAR(length)`` (no table rebuild
    in the migration)."""

    impl = Text
    cache_ok = True

    def __init__(self, column: str, length: int | None = None) -> None:
        super().__init__()
        self.column = column
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite" and self.length is not None:
            return String(self.length)
        return Text()

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        keys = keys_of(dialect)
        if not value or keys is None:  # "" stays "": emptiness is not health data
            return value
        return keys.seal_text(str(value), self.column, getattr(value, "key_id", None))

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None or not value.startswith(PREFIX):
            return value
        keys = keys_of(dialect)
        if keys is None:
            raise ConfigError(f"{self.column} is sealed but no encryption key is configured")
        return keys.open_text(value, self.column)


class SealedJSON(TypeDecorator[Any]):
    """A JSON value sealed at rest (stored as one JSON string)."""

    impl = JSON
    cache_ok = True

    def __init__(self, column: str) -> None:
        super().__init__()
        self.column = column

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        keys = keys_of(dialect)
        if value is None or keys is None:
            return value
        return keys.seal_text(json.dumps(value), self.column, getattr(value, "key_id", None))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if not isinstance(value, str) or not value.startswith(PREFIX):
            return value
        keys = keys_of(dialect)
        if keys is None:
            raise ConfigError(f"{self.column} is sealed but no encryption key is configured")
        return json.loads(keys.open_text(value, self.column))
