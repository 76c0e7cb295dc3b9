"""Where a batch run keeps its finished chunks until the output is complete.

Beside ``OUT.parquet`` a run keeps a folder ``OUT.parquet.parts/`` holding

* ``manifest.json``: what the run is (command, options, the input's path, size and time, the
  chunk size) and, once the input has been read to its end, how many chunks it has;
* ``part-000000.parquet`` ...: one file per finished chunk. Each is written under a
  temporary name and renamed into place, so a part that exists is complete; a run killed
  at any moment leaves only whole parts (and perhaps a temporary file, which is ignored and
  overwritten);
* ``input-000000.parquet`` ...: for the Ray and Dask engines, the chunks waiting for a
  worker (removed by the worker once its part is written).

A run started again with the same manifest skips the chunks whose parts exist; with another
manifest it stops with :class:`~alliance.errors.BatchError` rather than mix two runs.
:meth:`PartStore.finish` streams the parts, in chunk order, into ``OUT.parquet`` (again via
a temporary name) and removes the folder: the output exists only when it is whole.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from alliance.errors import BatchError

MANIFEST = "manifest.json"
PART_COMPRESSION = "none"  # parts are temporaries, read once: speed over size


def part_name(index: int) -> str:
    return f"part-{index:06d}.parquet"


def input_name(index: int) -> str:
    return f"input-{index:06d}.parquet"


def write_atomic(table: pa.Table, target: Path, compression: str = "snappy") -> None:
    """Write ``table`` to ``target`` so that ``target`` is either absent or complete."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression=compression)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BatchError(f"{target}: cannot write ({exc.strerror or exc})") from None


def conform(table: pa.Table, schema: pa.Schema, where: str) -> pa.Table:
    """``table`` with exactly ``schema`` (column order and types); a chunk whose columns
    cannot take the run's types is an error, not a silently different file."""
    try:
        return table.select(schema.names).cast(schema)
    except (KeyError, pa.ArrowException) as exc:
        raise BatchError(f"{where}: its result does not fit the output schema ({exc})") from None


class PartStore:
    """The parts folder of one output file."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.folder = self.out.with_name(self.out.name + ".parts")

    @classmethod
    def of_folder(cls, folder: str | Path) -> PartStore:
        """The store whose parts folder is ``folder`` (what a worker is told)."""
        folder = Path(folder)
        return cls(folder.with_name(folder.name.removesuffix(".parts")))

    # -- life cycle ------------------------------------------------------------------------
    def open(self, manifest: Mapping[str, Any], *, restart: bool = False,
             overwrite: bool = False) -> int:
        """Prepare the folder for ``manifest``; returns how many parts are already done."""
        if self.out.suffix.lower() not in (".parquet", ".pq"):
            raise BatchError(f"{self.out}: the output is a Parquet file; name it *.parquet")
        if self.out.exists():
            if not overwrite:
                raise BatchError(f"{self.out}: exists; pass --overwrite to replace it")
            if self.out.is_dir():
                raise BatchError(f"{self.out}: is a folder")
        if not self.out.parent.is_dir():
            raise BatchError(f"{self.out.parent}: no such folder for the output")
        wanted = dict(manifest)
        if self.folder.exists() and not restart:
            found = self.manifest()
            found.pop("chunks", None)
            if found != wanted:
                changed = sorted(k for k in set(found) | set(wanted)
                                 if found.get(k) != wanted.get(k))
                raise BatchError(
                    f"{self.folder}: holds an unfinished run with other "
                    f"{', '.join(changed) or 'settings'}; run it again as it was to resume "
                    "it, or pass --restart to discard it")
            return len(self.done())
        if self.folder.exists():
            shutil.rmtree(self.folder)
        try:
            self.folder.mkdir(parents=True)
        except OSError as exc:
            raise BatchError(f"{self.folder}: cannot create ({exc.strerror or exc})") from None
        self._write_manifest(wanted)
        return 0

    def manifest(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise BatchError(f"{self.folder}: has no readable {MANIFEST}; pass --restart to "
                             "start over") from None
        if not isinstance(data, dict):
            raise BatchError(f"{self.folder / MANIFEST}: is not a JSON object")
        return data

    def _write_manifest(self, data: Mapping[str, Any]) -> None:
        tmp = self.folder / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.folder / MANIFEST)

    def set_chunks(self, count: int) -> None:
        """Record that the input has ``count`` chunks (the input has been read to its end)."""
        data = self.manifest()
        data["chunks"] = count
        self._write_manifest(data)

    # -- parts -----------------------------------------------------------------------------
    def part(self, index: int) -> Path:
        return self.folder / part_name(index)

    def staged(self, index: int) -> Path:
        return self.folder / input_name(index)

    def is_done(self, index: int) -> bool:
        return self.part(index).is_file()

    def done(self) -> list[int]:
        return sorted(int(p.name[5:11]) for p in self.folder.glob("part-*.parquet"))

    def write(self, index: int, table: pa.Table) -> None:
        write_atomic(table, self.part(index), compression=PART_COMPRESSION)

    def stage(self, index: int, table: pa.Table, first_row: int) -> Path:
        """Keep an input chunk for a worker (uncompressed: it is read once, soon), with the
        number of its first input row (for messages)."""
        target = self.staged(index)
        meta = {**(table.schema.metadata or {}), b"alliance.first_row": str(first_row).encode()}
        write_atomic(table.replace_schema_metadata(meta), target, compression="none")
        return target

    # -- the end ---------------------------------------------------------------------------
    def finish(self, schema: pa.Schema, metadata: Mapping[str, str]) -> int:
        """Stream every part, in order, into the output; returns the number of rows."""
        count = self.manifest().get("chunks")
        if not isinstance(count, int):
            raise BatchError(f"{self.folder}: the input was not read to its end")
        missing = [i for i in range(count) if not self.is_done(i)]
        if missing:
            raise BatchError(f"{self.folder}: {len(missing)} of {count} chunk(s) unfinished "
                             f"(first: {missing[0]}); run the command again to finish them")
        schema = schema.with_metadata({**(schema.metadata or {}),
                                       **{k.encode(): v.encode() for k, v in metadata.items()}})
        tmp = self.out.with_name(f".{self.out.name}.{os.getpid()}.tmp")
        rows = 0
        try:
            with pq.ParquetWriter(tmp, schema) as writer:
                for i in range(count):
                    with pq.ParquetFile(self.part(i)) as pf:
                        for g in range(pf.num_row_groups):
                            table = pf.read_row_group(g)
                            rows += table.num_rows
                            writer.write_table(table.replace_schema_metadata(schema.metadata))
            os.replace(tmp, self.out)
        except (OSError, pa.ArrowException) as exc:
            tmp.unlink(missing_ok=True)
            raise BatchError(f"{self.out}: cannot write ({exc})") from None
        shutil.rmtree(self.folder, ignore_errors=True)
        return rows
