"""Column checks shared by the batch steps: readable errors for unknown and missing columns."""

from __future__ import annotations

import pyarrow as pa


def unknown_columns(schema: pa.Schema, allowed: set[str], origin: str, what: str) -> None:
    """Raise :class:`~alliance.errors.InputFileError` naming columns a step does not know."""
    from alliance.errors import InputFileError

    extra = [n for n in schema.names if n not in allowed]
    if extra:
        raise InputFileError(f"{origin}: unknown column(s) {', '.join(map(repr, extra[:5]))}"
                             f"{' ...' if len(extra) > 5 else ''}; {what}")


def missing_columns(schema: pa.Schema, required: tuple[str, ...], origin: str,
                    what: str) -> None:
    from alliance.errors import InputFileError

    absent = [c for c in required if c not in schema.names]
    if absent:
        raise InputFileError(f"{origin}: missing column(s) {', '.join(map(repr, absent))}; "
                             f"{what}")
