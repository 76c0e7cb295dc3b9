"""Batch pipelines: score, monitor and analyze inputs of any size, locally or on a cluster.

:func:`run_batch` streams a CSV, Parquet or JSON Lines file (or, for analysis, a folder of
transcripts) in chunks, runs one *step* on each chunk and writes one Parquet file. Chunks are
recorded as they finish, so an interrupted run resumes where it stopped; the engine is this
process (``local``), Ray Data or Dask. The output schemas are documented in ``docs/scale.md``.

This package is an adapter: it imports the domain core, never the other way round. Ray and
Dask are optional extras (``alliance[ray]``, ``alliance[dask]``), imported only by
:mod:`alliance.batch.engines` when asked for.

Example (scoring a small CSV into Parquet)::

    from alliance.batch import StepSpec, run_batch
    run_batch(StepSpec("score", {"instrument": "alliance-12"}), "responses.csv",
              "scores.parquet")
"""

from __future__ import annotations

from alliance.batch.run import ENGINES, BatchSummary, run_batch
from alliance.batch.step import COMMANDS, StepSpec, build_step

__all__ = ["COMMANDS", "ENGINES", "BatchSummary", "StepSpec", "build_step", "run_batch"]
