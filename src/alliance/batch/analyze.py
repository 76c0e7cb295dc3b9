"""``batch analyze``: transcripts coded by the coder of ``alliance analyze``.

Two inputs:

* a table of turns (CSV, Parquet, JSON Lines), one row per turn, the turns of a session
  together and in order: ``session`` (text), ``speaker``, ``text``, and optionally ``role``
  (therapist / client / other; else inferred from the speaker labels as for files),
  ``start`` and ``end`` (seconds). Rows are turns as given (not merged), so output row *k* of
  a session is its input row *k*;
* a folder of transcript files (text, WebVTT, SRT, Whisper JSON, CSV), each one session,
  named by its path inside the folder, parsed as ``alliance analyze`` parses them.

Output: one row per turn: ``session``, ``utterance`` (0-based), ``speaker``, ``role``,
``start``, ``end`` and three parallel lists, ``codes``, ``confidences`` and ``sources``
(rule / model / rule+model), in codebook order. The coder (rules-only, or hybrid with the
embedding model) is loaded on the step's first chunk, once per process or actor.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from alliance.batch.columns import missing_columns, unknown_columns

REQUIRED = ("session", "speaker", "text")
OPTIONAL = ("role", "start", "end")
OUTPUT = pa.schema([
    ("session", pa.string()), ("utterance", pa.int32()), ("speaker", pa.string()),
    ("role", pa.string()), ("start", pa.float64()), ("end", pa.float64()),
    ("codes", pa.list_(pa.string())), ("confidences", pa.list_(pa.float64())),
    ("sources", pa.list_(pa.string()))])


def _time(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


class AnalyzeStep:
    """Code the sessions of a chunk (a table of turns, or a list of files under ``root``)."""

    default_chunk_rows = 4_000

    def __init__(self, rules_only: bool = False, model_path: str | None = None,
                 verify_model: bool | None = None, heads_dir: str | None = None,
                 encoder: str | None = None, threads: int | None = None,
                 roles: Mapping[str, str] | None = None, input_format: str | None = None,
                 root: str | None = None) -> None:
        self.options: dict[str, Any] = {"rules_only": rules_only, "model_path": model_path,
                        "verify_model": verify_model, "heads_dir": heads_dir,
                        "encoder": encoder, "threads": threads}
        self.roles = dict(roles) if roles else None
        self.input_format = input_format
        self.root = Path(root) if root else None
        self.group_key: str | None = None if self.root else "session"
        self.types: dict[str, pa.DataType] = (
            {} if self.root else {"session": pa.string(), "speaker": pa.string(),
                                  "text": pa.string(), "role": pa.string(),
                                  "start": pa.float64(), "end": pa.float64()})
        self._coder: Any = None

    @property
    def coder(self) -> Any:
        """The coder, loaded on first use (the embedding model once per process)."""
        if self._coder is None:
            from alliance.coding.coder import load_coder

            opts = self.options
            self._coder = load_coder(rules_only=bool(opts["rules_only"]),
                                     model_path=opts["model_path"],
                                     verify_model=opts["verify_model"],
                                     heads_dir=opts["heads_dir"], threads=opts["threads"],
                                     encoder=opts["encoder"])
        return self._coder

    def check(self, schema: pa.Schema, origin: str) -> None:
        if self.root is not None:
            return
        what = "analyze reads one row per turn: session, speaker, text [, role, start, end]"
        missing_columns(schema, REQUIRED, origin, what)
        unknown_columns(schema, {*REQUIRED, *OPTIONAL}, origin, what)

    def output_schema(self, schema: pa.Schema) -> pa.Schema:
        return OUTPUT

    def metadata(self) -> dict[str, str]:
        opts = self.options
        return {"alliance.coder": json.dumps({
            "mode": "rules-only" if opts["rules_only"] else "hybrid",
            "encoder": opts["encoder"] or "default", "model": opts["model_path"] or "packaged",
            "heads": opts["heads_dir"] or "packaged"})}

    # -- chunk -> transcripts --------------------------------------------------------------
    def transcripts(self, table: pa.Table) -> list[tuple[str, Any]]:
        """``(session, Transcript)`` for every session of the chunk, in order."""
        if self.root is not None:
            from alliance.transcripts import read_transcript

            return [(rel, read_transcript(self.root / rel, input_format=self.input_format,
                                          roles=self.roles))
                    for rel in table.column("path").to_pylist()]
        from alliance.transcripts.assembly import assemble
        from alliance.transcripts.segments import Segment

        columns = {c: table.column(c).to_pylist() if c in table.column_names
                   else [None] * table.num_rows for c in (*REQUIRED, *OPTIONAL)}
        out: list[tuple[str, Any]] = []
        start = 0
        sessions = columns["session"]
        for i in range(1, len(sessions) + 1):
            if i < len(sessions) and sessions[i] == sessions[start]:
                continue
            segments = [Segment(str(columns["speaker"][k] or ""), str(columns["text"][k] or ""),
                                _time(columns["start"][k]), _time(columns["end"][k]),
                                line=k + 1, role_hint=columns["role"][k] or None)
                        for k in range(start, i)]
            name = str(sessions[start])
            out.append((name, assemble(segments, f"session {name}", "table", self.roles,
                                       merge=False)))
            start = i
        return out

    def __call__(self, table: pa.Table) -> pa.Table:
        sessions = self.transcripts(table)
        coded = self.coder.code_many([t for _, t in sessions])
        cols: dict[str, list[Any]] = {name: [] for name in OUTPUT.names}
        for (name, _), ct in zip(sessions, coded, strict=True):
            for cu in ct.utterances:
                u = cu.utterance
                cols["session"].append(name)
                cols["utterance"].append(u.index)
                cols["speaker"].append(u.speaker)
                cols["role"].append(u.role)
                cols["start"].append(u.start)
                cols["end"].append(u.end)
                cols["codes"].append([c.code for c in cu.codes])
                cols["confidences"].append([c.confidence for c in cu.codes])
                cols["sources"].append([c.source for c in cu.codes])
        return pa.table(cols, schema=OUTPUT)
