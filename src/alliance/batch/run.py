"""Running a batch step over an input of any size: read, cut, process, record, finish.

:func:`run_batch` is the whole pipeline, the same for every engine:

1. open the input as a stream (:mod:`alliance.batch.sources`) and check its columns against
   the step before any work;
2. open the parts folder (:mod:`alliance.batch.parts`): a new run, or the resumption of one
   started with the same input and options;
3. cut the input into numbered chunks (:mod:`alliance.batch.chunks`), skipping chunks whose
   parts are already written, and have the engine process the others:

   * ``local``: in this process, one chunk at a time, as they are read;
   * ``ray`` / ``dask``: each pending chunk is written to the parts folder as it is read,
     then the cluster's workers process them (:mod:`alliance.batch.engines`);

4. stream the parts, in order, into the output file.

Memory stays bounded by a few chunks whatever the input's size; a run killed at any point
resumes where it stopped and ends with the same file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alliance.batch.chunks import Chunk, cut
from alliance.batch.parts import PartStore
from alliance.batch.process import process_chunk
from alliance.batch.sources import Source, open_source
from alliance.batch.step import Step, StepSpec, build_step
from alliance.errors import BatchError

ENGINES = ("local", "ray", "dask")
#: Bump when the layout of parts changes: a run started by another layout starts over.
PARTS_FORMAT = 1


@dataclass(frozen=True)
class BatchSummary:
    """What a run did: chunks in all, chunks skipped (done before), rows in and out."""

    chunks: int
    skipped: int
    rows_in: int
    rows_out: int
    seconds: float
    engine: str
    out: str


Progress = Callable[[str, int, int], None]   # (phase, done, total)


def _chunk_rows(step: Step, source: Source, chunk_rows: int | None) -> int:
    rows = chunk_rows or step.default_chunk_rows
    if source.kind == "folder" and not chunk_rows:
        rows = 32   # files per chunk: about 10k turns of 300-turn sessions
    if rows < 1:
        raise BatchError(f"--chunk-rows must be at least 1, not {rows}")
    return rows


def run_batch(spec: StepSpec, input_path: str | Path, out: str | Path, *,
              engine: str = "local", address: str | None = None, workers: int | None = None,
              chunk_rows: int | None = None, restart: bool = False, overwrite: bool = False,
              progress: Progress | None = None) -> BatchSummary:
    """Run ``spec`` over ``input_path`` into the Parquet file ``out``.

    ``engine`` is ``local``, ``ray`` or ``dask``; ``address`` joins an existing cluster
    (else a local one of ``workers`` processes is started). ``chunk_rows`` sets the chunk
    size (rows; files for a folder). ``restart`` discards an unfinished run's parts;
    ``overwrite`` replaces an existing output. ``progress(phase, done, total)`` is called as
    work advances.
    """
    began = time.perf_counter()
    if engine not in ENGINES:
        raise BatchError(f"unknown engine {engine!r}; use {', '.join(ENGINES)}")
    if address and engine == "local":
        raise BatchError("--address joins a Ray or Dask cluster; add --engine ray or dask")
    path = Path(input_path)
    if path.is_dir() and spec.command == "analyze":
        spec = StepSpec(spec.command, {**spec.options, "root": str(path.resolve())})
    step = build_step(spec)
    source = open_source(path, step.types, folders=spec.command == "analyze")
    origin = str(path)
    step.check(source.schema, origin)
    schema = step.output_schema(source.schema)
    rows = _chunk_rows(step, source, chunk_rows)
    store = PartStore(out)
    manifest = {"format": PARTS_FORMAT, "step": spec.to_dict(), "input": source.fingerprint(),
                "chunk_rows": rows}
    store.open(manifest, restart=restart, overwrite=overwrite)
    report = progress or (lambda phase, done, total: None)

    def chunks() -> Iterator[Chunk]:
        for chunk in cut(source.batches(rows), rows, step.group_key):
            yield chunk
            report("read", source.position(), source.total)

    total = skipped = rows_in = 0
    if engine == "local":
        for chunk in chunks():
            total += 1
            rows_in += chunk.table.num_rows
            if store.is_done(chunk.index):
                skipped += 1
                continue
            store.write(chunk.index, process_chunk(step, chunk, schema, origin))
        store.set_chunks(total)
    else:
        pending: list[int] = []
        for chunk in chunks():
            total += 1
            rows_in += chunk.table.num_rows
            if store.is_done(chunk.index):
                skipped += 1
                continue
            store.stage(chunk.index, chunk.table, chunk.first_row)
            pending.append(chunk.index)
        store.set_chunks(total)
        from alliance.batch.engines import run_on_engine

        run_on_engine(engine, spec, store, pending, schema, origin, address=address,
                      workers=workers, progress=lambda done: report("process", done,
                                                                    len(pending)))
    metadata = {"alliance.batch": _describe(spec, source, rows), **step.metadata()}
    report("write", 0, 1)
    rows_out = store.finish(schema, metadata)
    report("write", 1, 1)
    return BatchSummary(total, skipped, rows_in, rows_out, time.perf_counter() - began,
                        engine, str(out))


def _describe(spec: StepSpec, source: Source, rows: int) -> str:
    import json

    from alliance import __name__ as package

    try:
        from importlib.metadata import version

        release = version(package)
    except Exception:  # an uninstalled checkout has no metadata
        release = "unknown"
    data: dict[str, Any] = {"command": spec.command, "input": str(source.path),
                            "chunk_rows": rows, "alliance": release}
    return json.dumps(data)
