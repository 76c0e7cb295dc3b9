"""One chunk through a step: the work every engine does, in one place."""

from __future__ import annotations

import pyarrow as pa

from alliance.batch.chunks import Chunk
from alliance.batch.parts import conform
from alliance.batch.step import Step
from alliance.errors import AllianceError


def process_chunk(step: Step, chunk: Chunk, schema: pa.Schema, origin: str) -> pa.Table:
    """One chunk through the step, conformed to the run's schema; a domain error names the
    chunk's rows."""
    try:
        result = step(chunk.table)
    except AllianceError as exc:
        if getattr(step, "root", None) is not None:
            raise   # a folder's error already names its file
        raise type(exc)(f"{origin} ({chunk.rows}; row numbers below count from "
                        f"{chunk.first_row + 1}): {exc}", **exc.context) from None
    return conform(result, schema, f"{origin} ({chunk.rows})")
