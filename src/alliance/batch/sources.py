"""Batch inputs read as a stream of Arrow record batches: CSV, Parquet, JSON Lines, folders.

A :class:`Source` never holds more than one block of its file in memory: CSV and JSON Lines
go through pyarrow's streaming readers (``open_csv``, ``open_json``), Parquet through
``ParquetFile.iter_batches``. A folder of transcripts is read as a table with one ``path``
column (relative to the folder), so that the analysis step reads each file itself.

Column types come from the first block of a CSV or JSON Lines file (pyarrow's rule), except
for the columns a batch step names (item columns are always numbers, ids always text) and
columns that are empty in the first block, which are read as text. A later block that does
not fit (a word in a number column, a row with another number of fields, a JSON object with
a new field) stops the run with an :class:`~alliance.errors.InputFileError` that says where;
nothing is guessed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyarrow as pa

from alliance.errors import InputFileError

#: Bytes per block of the CSV and JSON Lines readers: large enough that per-block overhead
#: vanishes, small enough that a block is a few megabytes in memory.
BLOCK_BYTES = 4 << 20

#: Suffixes read as transcripts in a folder (see :mod:`alliance.transcripts.reading`).
TRANSCRIPT_SUFFIXES = frozenset({".txt", ".vtt", ".srt", ".json", ".csv"})

_TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
                   ".ndjson": "jsonl"}


def _arrow_problem(path: Path, exc: Exception, where: str = "") -> InputFileError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ""
    if "unexpected field" in text:
        hint = ("; a later record has a field the first records lack (mixed schemas): give "
                "every record the same fields")
    elif "conversion error" in text or "Expected" in text:
        hint = ("; the column types are fixed by the first rows, and a later row does not "
                "fit them (mixed schemas)")
    return InputFileError(f"{path}{where}: {text}{hint}", path=str(path))


@dataclass
class Source:
    """One batch input. ``unit`` is what ``total`` and :meth:`position` count: bytes (CSV,
    JSON Lines), rows (Parquet) or files (a folder)."""

    path: Path
    kind: str
    schema: pa.Schema
    total: int
    unit: str
    types: Mapping[str, pa.DataType]
    _position: int = 0
    _handle: IO[bytes] | None = None

    def position(self) -> int:
        """How far the last block read reaches, in :attr:`unit`."""
        if self._handle is not None and not self._handle.closed:
            return min(self._handle.tell(), self.total)
        return self._position

    def batches(self, rows: int) -> Iterator[pa.RecordBatch]:
        """The input as record batches in file order (at most ``rows`` rows each for Parquet
        and folders; one reader block each for CSV and JSON Lines)."""
        if self.kind == "folder":
            yield from self._folder_batches(rows)
        elif self.kind == "parquet":
            yield from self._parquet_batches(rows)
        else:
            yield from self._text_batches()

    def fingerprint(self) -> dict[str, Any]:
        """What identifies this input for resuming: path, size and modification time (for a
        folder, a digest of every file's name, size and time)."""
        if self.kind == "folder":
            digest = hashlib.sha256()
            for rel in _folder_files(self.path):
                st = (self.path / rel).stat()
                digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            return {"path": str(self.path.resolve()), "files": self.total,
                    "digest": digest.hexdigest()}
        st = self.path.stat()
        return {"path": str(self.path.resolve()), "size": st.st_size,
                "mtime_ns": st.st_mtime_ns}

    # -- readers ---------------------------------------------------------------------------
    def _folder_batches(self, rows: int) -> Iterator[pa.RecordBatch]:
        files = _folder_files(self.path)
        for start in range(0, len(files), rows):
            part = files[start:start + rows]
            self._position = start + len(part)
            yield pa.record_batch({"path": pa.array(part, pa.string())})

    def _parquet_batches(self, rows: int) -> Iterator[pa.RecordBatch]:
        import pyarrow.parquet as pq

        try:
            # pre_buffer off: with it on, the reader keeps every row group it has read
            # (measured: the whole 1.2 GB of a 10M-row file by its end)
            with pq.ParquetFile(self.path, pre_buffer=False, buffer_size=1 << 20) as pf:
                for batch in pf.iter_batches(batch_size=rows):
                    self._position += batch.num_rows
                    yield batch
        except (pa.ArrowException, OSError) as exc:
            raise _arrow_problem(self.path, exc, f" (near row {self._position + 1})") from None

    def _text_batches(self) -> Iterator[pa.RecordBatch]:
        with self.path.open("rb") as handle:
            self._handle = handle
            try:
                reader = _open_reader(self.kind, handle, self.types)
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        break
                    yield batch
            except (pa.ArrowException, OSError) as exc:
                raise _arrow_problem(self.path, exc, f" (near byte {handle.tell():,})") from None
            finally:
                self._position = self.total
                self._handle = None


def _open_reader(kind: str, handle: IO[bytes], types: Mapping[str, pa.DataType]) -> Any:
    if kind == "csv":
        import pyarrow.csv as pacsv

        return pacsv.open_csv(
            handle, read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES),
            convert_options=pacsv.ConvertOptions(column_types=dict(types),
                                                 strings_can_be_null=True))
    import pyarrow.json as pajson

    schema = pa.schema([pa.field(k, v) for k, v in types.items()]) if types else None
    return pajson.open_json(
        handle, read_options=pajson.ReadOptions(block_size=BLOCK_BYTES),
        parse_options=pajson.ParseOptions(explicit_schema=schema,
                                          unexpected_field_behavior="infer"))


def _folder_files(folder: Path) -> list[str]:
    """Every non-hidden file under ``folder``, as sorted relative POSIX paths."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.startswith("."):
                found.append((Path(root) / name).relative_to(folder).as_posix())
    return sorted(found)


def kind_of(path: Path) -> str:
    """``csv``, ``parquet``, ``jsonl`` or ``folder``, from the path."""
    if path.is_dir():
        return "folder"
    suffix = path.suffix.lower()
    if suffix not in _TABLE_SUFFIXES:
        raise InputFileError(f"{path}: cannot tell the format from the suffix {suffix!r}; use "
                             ".csv, .parquet or .jsonl (or a folder of transcripts for "
                             "analyze)", path=str(path))
    return _TABLE_SUFFIXES[suffix]


def open_source(path: str | Path, types: Mapping[str, pa.DataType] | None = None, *,
                folders: bool = False) -> Source:
    """Open ``path`` for streaming; reads only what is needed to know its schema.

    ``types`` fixes the Arrow type of the named columns in CSV and JSON Lines input. A folder
    is accepted only with ``folders`` (transcript analysis); every file in it must have a
    transcript suffix (:data:`TRANSCRIPT_SUFFIXES`).
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file or folder", path=str(p))
    kind = kind_of(p)
    types = dict(types or {})
    if kind == "folder":
        if not folders:
            raise InputFileError(f"{p}: is a folder; this command reads one CSV, Parquet or "
                                 "JSON Lines file", path=str(p))
        files = _folder_files(p)
        if not files:
            raise InputFileError(f"{p}: the folder has no files", path=str(p))
        others = [f for f in files if Path(f).suffix.lower() not in TRANSCRIPT_SUFFIXES]
        if others:
            more = f" (and {len(others) - 3} more)" if len(others) > 3 else ""
            raise InputFileError(
                f"{p}: not transcripts: {', '.join(others[:3])}{more}; a folder for analyze "
                f"holds only {', '.join(sorted(TRANSCRIPT_SUFFIXES))} files", path=str(p))
        return Source(p, kind, pa.schema([pa.field("path", pa.string())]), len(files),
                      "files", types)
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            with pq.ParquetFile(p) as pf:
                return Source(p, kind, pf.schema_arrow, pf.metadata.num_rows, "rows", types)
        except (pa.ArrowException, OSError) as exc:
            raise _arrow_problem(p, exc, " (not a readable Parquet file)") from None
    size = p.stat().st_size
    if size == 0:
        raise InputFileError(f"{p}: the file is empty", path=str(p))
    if kind == "jsonl":
        # JSON readers add named fields the data lacks, and refuse to read a JSON number as
        # text: name only fields present, and leave numbers that should be ids as numbers
        # (they are turned to text where used); strings stay strings (not dates)
        found = _first_schema(p, kind, {})
        types = {k: v for k, v in types.items() if k in found.names and not (
            pa.types.is_string(v) and (pa.types.is_integer(found.field(k).type)
                                       or pa.types.is_floating(found.field(k).type)))}
    schema = _first_schema(p, kind, types)
    empty = {f.name: pa.string() for f in schema if pa.types.is_null(f.type)}
    if empty:  # a column empty in the first block would refuse every later value
        types = {**empty, **types}
        schema = _first_schema(p, kind, types)
    return Source(p, kind, schema, size, "bytes", types)


def _first_schema(path: Path, kind: str, types: Mapping[str, pa.DataType]) -> pa.Schema:
    try:
        with path.open("rb") as handle:
            return _open_reader(kind, handle, types).schema
    except (pa.ArrowException, OSError) as exc:
        raise _arrow_problem(path, exc, f" (not a readable {kind} file)") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: is not UTF-8 text; is it really a {kind} file?",
                             path=str(path)) from None
