"""Cutting a stream of record batches into numbered chunks, whole groups at a time.

A chunk is the unit of work, of resuming and of distribution: every engine processes the
same chunks, so their outputs are the same. Chunks hold about ``rows`` rows; when a step
works on groups (all ratings of a case, all utterances of a session), a chunk ends only where
a group ends, and a group larger than ``rows`` makes one larger chunk.

Groups must be contiguous in the input (rows of one case together), which is how exports
are written; a group that reappears after another began is an
:class:`~alliance.errors.InputFileError`, since cutting it would split one case across
chunks and change its result.

>>> import pyarrow as pa
>>> stream = [pa.record_batch({"case_id": ["a", "a", "b"]}),
...           pa.record_batch({"case_id": ["b", "c", "c"]})]
>>> [c.table.column("case_id").to_pylist() for c in cut(iter(stream), 2, "case_id")]
[['a', 'a'], ['b', 'b'], ['c', 'c']]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from alliance.errors import InputFileError


@dataclass(frozen=True)
class Chunk:
    """Rows ``first_row`` .. ``first_row + len(table) - 1`` (0-based) of the input."""

    index: int
    first_row: int
    table: pa.Table

    @property
    def rows(self) -> str:
        """The 1-based row range, for messages."""
        return f"rows {self.first_row + 1}-{self.first_row + self.table.num_rows}"


def _keys(table: pa.Table, key: str) -> np.ndarray:
    column = table.column(key)
    if column.null_count:
        at = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputFileError(f"column {key!r} is empty in a row (row {at + 1} of a block); "
                             f"every row needs its {key}")
    return np.asarray(column.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)


def _starts(keys: np.ndarray) -> np.ndarray:
    """Positions where a new group begins (always includes 0 for a non-empty array)."""
    change = np.ones(len(keys), dtype=bool)
    change[1:] = keys[1:] != keys[:-1]
    return np.flatnonzero(change)


def cut(batches: Iterator[pa.RecordBatch], rows: int, key: str | None = None
        ) -> Iterator[Chunk]:
    """Chunks of about ``rows`` rows, cut between groups of ``key`` when given."""
    if rows < 1:
        raise InputFileError(f"chunk size must be at least 1 row, not {rows}")
    pending: list[pa.RecordBatch] = []
    buffered = 0
    index = 0
    first_row = 0
    finished: set[str] = set()   # groups already emitted (to catch a group that reappears)

    def emit(table: pa.Table) -> Chunk:
        nonlocal index, first_row
        if key is not None:
            keys = _keys(table, key)
            starts = _starts(keys)
            group_keys = keys[starts]
            if len(set(group_keys.tolist())) != len(group_keys) or \
                    finished.intersection(group_keys.tolist()):
                seen: set[str] = set(finished)
                for k in group_keys.tolist():
                    if k in seen:
                        raise InputFileError(
                            f"the rows of {key} {k!r} are not together (it reappears near row "
                            f"{first_row + 1:,} after other {key}s); sort the input by {key}")
                    seen.add(k)
            finished.update(group_keys.tolist())
        chunk = Chunk(index, first_row, table)
        index += 1
        first_row += table.num_rows
        return chunk

    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        buffered += batch.num_rows
        while buffered >= rows:
            table = pa.Table.from_batches(pending).combine_chunks()
            at = rows
            if key is not None:
                starts = _starts(_keys(table, key))
                # cut where the group holding row `rows` ends; keep the open last group back
                later = starts[starts >= rows]
                if not len(later):
                    pending, buffered = [table.to_batches()[0]] if table.num_rows else [], \
                        table.num_rows
                    break
                at = int(later[0])
            yield emit(table.slice(0, at))
            rest = table.slice(at)
            pending = rest.combine_chunks().to_batches() if rest.num_rows else []
            buffered = rest.num_rows
    if buffered:
        yield emit(pa.Table.from_batches(pending).combine_chunks())
