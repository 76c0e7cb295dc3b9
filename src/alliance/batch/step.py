"""What a batch run does to each chunk: a *step*, built from a small picklable spec.

A :class:`StepSpec` names the command and its options; :func:`build_step` turns it into a
step object, wherever it runs (the driver, a Ray actor, a Dask worker). A step

* says which columns it needs and which types to read them as (:attr:`Step.types`), and
  which column holds its groups (:attr:`Step.group_key`, or ``None``);
* checks the input schema before any work (:meth:`Step.check`): a missing or unknown column
  is a typed error at once, not after an hour;
* gives the output schema for an input schema (:meth:`Step.output_schema`), so that every
  chunk, on every engine, is written with the same columns and types;
* maps one chunk (a ``pyarrow.Table``) to its output table (``step(table)``), loading
  anything heavy (the embedding model) on its first call, once per process or actor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

COMMANDS = ("score", "monitor", "analyze")


@dataclass(frozen=True)
class StepSpec:
    """A batch command and its options (plain values only: it travels to workers)."""

    command: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.command, "options": dict(sorted(self.options.items()))}


class Step(Protocol):
    @property
    def group_key(self) -> str | None: ...

    @property
    def types(self) -> Mapping[str, pa.DataType]: ...

    @property
    def default_chunk_rows(self) -> int: ...

    def check(self, schema: pa.Schema, origin: str) -> None: ...

    def output_schema(self, schema: pa.Schema) -> pa.Schema: ...

    def metadata(self) -> dict[str, str]: ...

    def __call__(self, table: pa.Table) -> pa.Table: ...


def build_step(spec: StepSpec) -> Step:
    """The step for ``spec``; unknown commands and bad options are typed errors."""
    from alliance.errors import BatchError

    opts = dict(spec.options)
    if spec.command == "score":
        from alliance.batch.score import ScoreStep

        return ScoreStep(**opts)
    if spec.command == "monitor":
        from alliance.batch.monitor import MonitorStep

        return MonitorStep(**opts)
    if spec.command == "analyze":
        from alliance.batch.analyze import AnalyzeStep

        return AnalyzeStep(**opts)
    raise BatchError(f"unknown batch command {spec.command!r}; use {', '.join(COMMANDS)}")
