"""``batch score``: every response row scored with :func:`~alliance.instruments.score_table`.

Output columns: the input's other columns as they are (ids, dates...), then for each
subscale and the total ``{score}_raw`` and ``{score}_pom`` (double, null when invalid),
``{score}_status`` (complete / prorated / invalid) and ``{score}_note`` (text). The numbers
are those of ``alliance score`` on the same rows: the chunk is scored by the same function.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from alliance.errors import ScoringError
from alliance.instruments import Instrument

#: status and note take few values: kept dictionary-encoded (pandas reads them back as the
#: categoricals score_table makes), which is also what makes writing them cheap.
_TEXT = pa.dictionary(pa.int32(), pa.string())
_SCORE_TYPES = {"raw": pa.float64(), "pom": pa.float64(), "status": _TEXT, "note": _TEXT}


class ScoreStep:
    """Score a chunk of responses to one instrument (item columns named by item id)."""

    group_key: str | None = None
    default_chunk_rows = 250_000

    def __init__(self, instrument: str) -> None:
        from alliance.interop.specfiles import load_catalog

        self.instrument: Instrument = load_catalog()[instrument]
        self.items = list(self.instrument.item_ids)
        # text files: items are numbers; a word among them is reported with its place
        self.types = dict.fromkeys(self.items, pa.float64())

    def check(self, schema: pa.Schema, origin: str) -> None:
        absent = [i for i in self.items if i not in schema.names]
        if absent:
            raise ScoringError(f"{origin}: no column for item(s) {', '.join(absent)} of "
                               f"{self.instrument.id}; item columns must be named by item id "
                               f"({', '.join(self.items)})", item=absent[0])

    def score_names(self) -> list[str]:
        return list(self.instrument.score_names)

    def output_schema(self, schema: pa.Schema) -> pa.Schema:
        carried = [f for f in schema if f.name not in set(self.items)]
        scores = [pa.field(f"{name}_{suffix}", kind) for name in self.score_names()
                  for suffix, kind in _SCORE_TYPES.items()]
        clash = {f.name for f in carried} & {f.name for f in scores}
        if clash:
            raise ScoringError(f"the input already has column(s) {', '.join(sorted(clash))}, "
                               "which scoring writes; rename them")
        return pa.schema(carried + scores)

    def metadata(self) -> dict[str, str]:
        inst = self.instrument
        return {"alliance.instrument": json.dumps({"id": inst.id, "version": inst.version})}

    def __call__(self, table: pa.Table) -> pa.Table:
        from alliance.instruments import score_table

        carried = [n for n in table.column_names if n not in set(self.items)]
        frame = table.select(self.items).to_pandas()
        scored = score_table(self.instrument, frame, id_columns=[])
        columns: dict[str, Any] = {n: table.column(n) for n in carried}
        for name in self.score_names():
            for suffix, kind in _SCORE_TYPES.items():
                col = f"{name}_{suffix}"
                values = scored[col]
                if kind == _TEXT:
                    columns[col] = pa.array(values).cast(_TEXT)
                else:
                    columns[col] = pa.array(values.to_numpy(), type=kind, from_pandas=True)
        return pa.table(columns)
