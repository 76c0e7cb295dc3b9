"""The Ray and Dask engines: the same step, on a cluster's workers.

Both engines receive the numbers of the chunks waiting in the parts folder (the driver
has written each pending chunk there as ``input-NNNNNN.parquet``) and hand them to workers:

* **Ray Data**: a dataset of chunk numbers, ``map_batches`` with the callable class
  :class:`ChunkWorker` on an actor pool (one actor per worker, one CPU each). The actor
  builds the step in its constructor, so the embedding model is loaded once per actor and
  reused for every chunk it is given.
* **Dask**: a dataframe of chunk numbers (``from_map``, one partition per chunk) and
  ``map_partitions`` with :func:`process_partition`; each worker process builds the step
  once (:func:`step_for`) and reuses it.

A worker reads its chunk, runs the step, writes the part (atomically) and removes the
chunk's input file; the driver then streams the parts into the output exactly as for the
local engine, so the file is the same whatever the engine. On a cluster, the output's folder
must be one that every worker sees (a shared or network file system).

Neither library is imported by the rest of alliance: they are the extras ``alliance[ray]``
and ``alliance[dask]``, imported here, inside the functions that need them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from alliance.batch.chunks import Chunk
from alliance.batch.parts import PartStore
from alliance.batch.step import Step, StepSpec, build_step
from alliance.errors import AllianceError, BatchError

_STEPS: dict[str, Step] = {}


def step_for(spec: dict[str, Any]) -> Step:
    """The step of ``spec`` in this worker process, built once (keyed by the spec's content,
    so two runs with other options never share a step)."""
    key = json.dumps(spec, sort_keys=True)
    if key not in _STEPS:
        _STEPS[key] = build_step(StepSpec(spec["command"], spec["options"]))
    return _STEPS[key]


def process_staged(step: Step, folder: str, index: int, schema: pa.Schema, origin: str,
                   first_row: int) -> int:
    """Process the staged chunk ``index`` of a parts folder; returns its output rows."""
    import pyarrow.parquet as pq

    from alliance.batch.process import process_chunk

    store = PartStore.of_folder(folder)
    staged = store.staged(index)
    table = pq.read_table(staged)
    out = process_chunk(step, Chunk(index, first_row, table), schema, origin)
    store.write(index, out)
    staged.unlink(missing_ok=True)
    return out.num_rows


def _worker_spec(spec: StepSpec) -> dict[str, Any]:
    options = dict(spec.options)
    if spec.command == "analyze" and not options.get("threads"):
        options["threads"] = 1   # one core per worker: the cluster, not ONNX, parallelises
    return {"command": spec.command, "options": options}


def _domain_error(exc: BaseException) -> AllianceError | None:
    """The alliance error a worker raised, found inside the engine's wrapping."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, AllianceError):
            return type(e)(e.message, **e.context)
        todo.extend([e.__cause__, e.__context__, getattr(e, "cause", None)])
    return None


def _fail(engine: str, exc: BaseException) -> AllianceError:
    found = _domain_error(exc)
    if found is not None:
        return found
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return BatchError(f"{engine}: a worker failed ({type(exc).__name__}: {first[:300]})")


def run_on_engine(engine: str, spec: StepSpec, store: PartStore, pending: Sequence[int],
                  schema: pa.Schema, origin: str, *, address: str | None, workers: int | None,
                  progress: Callable[[int], None]) -> None:
    """Process the staged chunks ``pending`` on ``engine`` (``ray`` or ``dask``)."""
    if not pending:
        return
    workers = workers or 2
    if workers < 1:
        raise BatchError(f"--workers must be at least 1, not {workers}")
    runner = _run_ray if engine == "ray" else _run_dask
    runner(_worker_spec(spec), str(store.folder), list(pending), schema, origin,
           address=address, workers=workers, progress=progress)


# -- Ray ------------------------------------------------------------------------------------
class ChunkWorker:
    """A Ray Data callable class: builds the step once per actor, then processes chunks."""

    def __init__(self, spec: dict[str, Any], folder: str, schema: pa.Schema,
                 origin: str) -> None:
        self.step = build_step(StepSpec(spec["command"], spec["options"]))
        if hasattr(self.step, "coder"):
            _ = self.step.coder   # load the model now, once for this actor
        self.folder, self.schema, self.origin = folder, schema, origin

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        rows = [process_staged(self.step, self.folder, int(i), self.schema, self.origin,
                               int(first)) for i, first in zip(batch["index"],
                                                               batch["first_row"], strict=True)]
        return {"index": np.asarray(batch["index"]), "rows": np.asarray(rows, dtype=np.int64)}


def _import(name: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise BatchError(f"the {extra} engine needs the package {name.split('.')[0]!r}; "
                         f"install alliance[{extra}]") from None


def _first_rows(folder: str, pending: list[int]) -> list[int]:
    """Each staged chunk's first input row, for messages (kept in the staged file's
    metadata)."""
    import pyarrow.parquet as pq

    out = []
    for i in pending:
        meta = pq.read_schema(Path(folder) / f"input-{i:06d}.parquet").metadata or {}
        out.append(int(meta.get(b"alliance.first_row", b"0")))
    return out


def _run_ray(spec: dict[str, Any], folder: str, pending: list[int], schema: pa.Schema,
             origin: str, *, address: str | None, workers: int,
             progress: Callable[[int], None]) -> None:
    ray = _import("ray", "ray")
    data = _import("ray.data", "ray")
    import logging
    import warnings

    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"address": address} if address else {
            "num_cpus": workers, "include_dashboard": False}
        ray.init(logging_level=logging.ERROR, log_to_driver=False, **kwargs)
        started = True
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    try:
        context = data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        items = [{"index": i, "first_row": f} for i, f in zip(pending, _first_rows(
            folder, pending), strict=True)]
        ds = data.from_items(items, override_num_blocks=len(items))
        with warnings.catch_warnings():  # Ray's advice on small inputs is noise to a user
            warnings.simplefilter("ignore")
            ds = ds.map_batches(ChunkWorker, batch_size=1, batch_format="numpy",
                                compute=data.ActorPoolStrategy(size=workers), num_cpus=1,
                                fn_constructor_kwargs={"spec": spec, "folder": folder,
                                                       "schema": schema, "origin": origin})
        done = 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for _ in ds.iter_rows():
                    done += 1
                    progress(done)
        except Exception as exc:  # Ray wraps worker errors in its own exception types
            raise _fail("ray", exc) from None
    finally:
        if started:
            ray.shutdown()


# -- Dask -----------------------------------------------------------------------------------
def _index_frame(item: tuple[int, int]) -> Any:
    import pandas as pd

    return pd.DataFrame({"index": [item[0]], "first_row": [item[1]]}, dtype="int64")


def process_partition(frame: Any, spec: dict[str, Any], folder: str, schema: pa.Schema,
                      origin: str) -> Any:
    """A Dask ``map_partitions`` function: process the chunks a partition names."""
    import pandas as pd

    step = step_for(spec)
    rows = [process_staged(step, folder, int(i), schema, origin, int(f))
            for i, f in zip(frame["index"], frame["first_row"], strict=True)]
    return pd.DataFrame({"index": frame["index"].to_numpy(), "rows": rows}, dtype="int64")


def _run_dask(spec: dict[str, Any], folder: str, pending: list[int], schema: pa.Schema,
              origin: str, *, address: str | None, workers: int,
              progress: Callable[[int], None]) -> None:
    import logging

    dd = _import("dask.dataframe", "dask")
    distributed = _import("distributed", "dask")
    import pandas as pd

    cluster = None
    if address:
        client = distributed.Client(address)
    else:
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                           processes=True, dashboard_address=":0",
                                           silence_logs=logging.ERROR)
        client = distributed.Client(cluster)
    try:
        items = list(zip(pending, _first_rows(folder, pending), strict=True))
        meta = pd.DataFrame({"index": pd.Series([], dtype="int64"),
                             "first_row": pd.Series([], dtype="int64")})
        frame = dd.from_map(_index_frame, items, meta=meta)
        out_meta = pd.DataFrame({"index": pd.Series([], dtype="int64"),
                                 "rows": pd.Series([], dtype="int64")})
        result = frame.map_partitions(process_partition, spec, folder, schema, origin,
                                      meta=out_meta)
        futures = client.compute(result.to_delayed())
        done = 0
        try:
            for future in distributed.as_completed(futures):
                future.result()
                done += 1
                progress(done)
        except Exception as exc:  # a worker's exception, re-raised here by Dask
            for f in futures:
                f.cancel()
            raise _fail("dask", exc) from None
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
