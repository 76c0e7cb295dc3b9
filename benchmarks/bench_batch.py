"""Benchmark of the batch pipelines (issue 14): engines side by side, and bounded memory.

Two parts, each run in fresh child processes whose memory is watched from outside:

* **analyze**: ``batch analyze`` (hybrid coder, the packaged model) on synthetic sessions
  (default 2,000 sessions of 6 turns) on the local engine, on Ray Data (2 workers) and on
  Dask (2 workers), each on the same 2 cores. Printed per engine: wall time (cluster start,
  staging and the final write included: the overhead is in the figure, not beside it),
  utterances/s, utterances/s per core, ratio to the local engine (target >= 0.8), and peak
  memory: the child's own peak RSS and the sampled peak of its whole process tree (workers,
  raylet, nannies). Texts are corpus turns with two random tails each, so they are (almost)
  all distinct and the coder's encode-repeats-once shortcut does not flatter the figures.
* **score**: ``batch score`` on 10,000,000 alliance-12 responses from a Parquet file larger
  than the memory the run is allowed (uncompressed, about 1.3 GB, against a 1 GB target for
  peak RSS), beside the in-memory path of ``alliance score`` (``read_table`` ->
  ``score_table`` -> ``write_table``) on the same file. Target: peak RSS < 1 GB and
  throughput >= 0.7x the in-memory path.

Generated inputs are kept in ``benchmarks/data/`` (git-ignored) and reused.

    PYTHONPATH=src python benchmarks/bench_batch.py            # full: several minutes
    PYTHONPATH=src python benchmarks/bench_batch.py --quick    # smoke run, ~1 minute
    PYTHONPATH=src python benchmarks/bench_batch.py --part score --responses 2000000
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"
SRC = Path(__file__).parents[1] / "src"
CORES = os.cpu_count() or 1

TAILS = ("I guess.", "you know?", "this week.", "again.", "at home.", "with my sister.",
         "at work.", "if that makes sense.", "honestly.", "for now.", "I think.", "maybe.",
         "right now.", "still.", "these days.", "in a way.", "most of the time.", "lately.",
         "every morning.", "after the last session.", "when it gets loud.", "on Sundays.",
         "and then some.", "the whole time.", "more or less.", "to be fair.", "somehow.",
         "since the move.", "with him.", "with them.", "in the car.", "at night.")


# -- inputs ----------------------------------------------------------------------------------
def make_sessions(path: Path, sessions: int, turns: int, seed: int = 14) -> int:
    """A Parquet table of ``sessions`` x ``turns`` turns; returns the distinct texts."""
    import pandas as pd

    from alliance.coding.corpus import load_corpus

    convs = load_corpus().sessions
    pool = [(t.speaker, t.role, t.text) for c in convs for t in c.turns]
    therapist = [p for p in pool if p[1] == "therapist"]
    client = [p for p in pool if p[1] == "client"]
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(sessions):
        for k in range(turns):
            side = therapist if k % 2 == 0 else client
            _, role, text = side[int(rng.integers(len(side)))]
            tail = f"{TAILS[int(rng.integers(len(TAILS)))]} {TAILS[int(rng.integers(len(TAILS)))]}"
            rows.append({"session": f"bench-{s:05d}", "speaker": "T" if role == "therapist"
                         else "C", "role": role, "text": f"{text} {tail}"})
    frame = pd.DataFrame(rows)
    frame.to_parquet(path, index=False)
    return int(frame["text"].nunique())


def make_responses(path: Path, n: int, seed: int = 42) -> None:
    """``n`` alliance-12 responses written 1M rows at a time, uncompressed and without
    dictionary encoding, so the file is larger than the memory the scoring run may use."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from alliance.instruments import get_instrument
    from alliance.testing.responses import simulate_responses

    inst = get_instrument("alliance-12")
    step = 1_000_000
    tmp = path.with_suffix(".tmp")
    writer = None
    for start in range(0, n, step):
        part = simulate_responses(inst, min(step, n - start), seed=seed + start,
                                  missing_rate=0.01)
        part["response_id"] += start
        ids = np.arange(start, start + len(part))
        part.insert(1, "client", [f"client-{i % 250_000:07d}" for i in ids])
        part.insert(2, "session", (ids % 40 + 1).astype(np.int64))
        table = pa.Table.from_pandas(part, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema, compression="none",
                                      use_dictionary=False)
        writer.write_table(table, row_group_size=250_000)
    assert writer is not None
    writer.close()
    tmp.replace(path)


# -- measuring a child process ---------------------------------------------------------------
CHILD = r"""
import json, resource, sys, time
args = json.loads(sys.argv[1])
t0 = time.perf_counter()
if args["mode"] == "in-memory":
    from alliance.instruments import get_instrument, score_table
    from alliance.interop.tables import read_table, write_table
    table = read_table(args["input"])
    scored = score_table(get_instrument("alliance-12"), table)
    write_table(scored, args["out"], "parquet")
    rows = len(scored)
    phases = {}
else:
    from alliance.batch import StepSpec, run_batch
    marks = {}
    def progress(phase, done, total):
        marks.setdefault(phase + "_first", time.perf_counter() - t0)
        marks[phase + "_last"] = time.perf_counter() - t0
    s = run_batch(StepSpec(args["command"], args["options"]), args["input"], args["out"],
                  engine=args["engine"], workers=args.get("workers"), overwrite=True,
                  restart=True, chunk_rows=args.get("chunk_rows"), progress=progress)
    rows = s.rows_out
    phases = marks
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "rows": rows, "phases": phases,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(args: dict, timeout: float = 3600) -> dict:
    """Run one child; sample the RSS of its whole process tree every 50 ms."""
    import psutil

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    env.setdefault("HF_HUB_OFFLINE", "1")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    peak = 0
    began = time.monotonic()
    while proc.poll() is None:
        total = 0
        with contextlib.suppress(psutil.Error):   # processes come and go while we look
            for p in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
        peak = max(peak, total)
        if time.monotonic() - began > timeout:
            proc.kill()
            raise SystemExit(f"timed out: {args}")
        time.sleep(0.05)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({args}):\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["tree_peak_mb"] = peak / 2**20
    return result


# -- the two parts ---------------------------------------------------------------------------
def bench_analyze(sessions: int, turns: int, engines: list[str], workers: int) -> None:
    DATA.mkdir(exist_ok=True)
    src = DATA / f"sessions-{sessions}x{turns}.parquet"
    distinct = make_sessions(src, sessions, turns) if not src.exists() else None
    utterances = sessions * turns
    print(f"batch analyze: {sessions:,} sessions x {turns} turns = {utterances:,} utterances"
          + (f" ({distinct:,} distinct texts)" if distinct else "") + f"; {CORES} cores; "
          f"load average {os.getloadavg()[0]:.2f} at start")
    print(f"{'engine':<8} {'wall s':>8} {'utt/s':>8} {'utt/s/core':>10} {'vs local':>8} "
          f"{'peak RSS MB (proc / tree)':>26}  overhead")
    local = None
    for engine in engines:
        res = measure({"mode": "batch", "command": "analyze", "options": {},
                       "input": str(src), "out": str(DATA / f"codes-{engine}.parquet"),
                       "engine": engine, "workers": workers if engine != "local" else None,
                       "chunk_rows": 600})
        assert res["rows"] == utterances, res
        rate = utterances / res["seconds"]
        cores = min(CORES, workers) if engine != "local" else CORES
        local = local or (rate if engine == "local" else None)
        ratio = f"{rate / local:.2f}x" if local else "-"
        ph = res["phases"]
        final = res["seconds"] - ph.get("write_first", res["seconds"])
        if engine == "local":   # reading and coding interleave, chunk by chunk
            overhead = (f"first chunk done at {ph.get('read_first', 0):.1f} s (model load "
                        f"+ 1 chunk); final write {final:.1f} s")
        else:
            overhead = (f"staging {ph.get('read_last', 0):.1f} s; first chunk done at "
                        f"{ph.get('process_first', 0):.1f} s (cluster start + model load + 1 "
                        f"chunk); final write {final:.1f} s")
        print(f"{engine:<8} {res['seconds']:>8.1f} {rate:>8.0f} {rate / cores:>10.0f} "
              f"{ratio:>8} {res['maxrss_mb']:>12.0f} / {res['tree_peak_mb']:<11.0f}  {overhead}")
    print(f"target: each engine >= 0.8x the local engine per core; load average "
          f"{os.getloadavg()[0]:.2f} at end")


def bench_score(responses: int, chunk_rows: int | None) -> None:
    import pyarrow.parquet as pq

    DATA.mkdir(exist_ok=True)
    src = DATA / f"responses-{responses}.parquet"
    if not src.exists():
        make_responses(src, responses)
    size_mb = src.stat().st_size / 2**20
    in_memory_mb = pq.read_metadata(src).num_rows and sum(
        pq.read_metadata(src).row_group(g).total_byte_size
        for g in range(pq.read_metadata(src).num_row_groups)) / 2**20
    print(f"\nbatch score: {responses:,} alliance-12 responses; input {size_mb:,.0f} MB on "
          f"disk ({in_memory_mb:,.0f} MB of column data); load average "
          f"{os.getloadavg()[0]:.2f}")
    streamed = measure({"mode": "batch", "command": "score",
                        "options": {"instrument": "alliance-12"}, "input": str(src),
                        "out": str(DATA / "scores-batch.parquet"), "engine": "local",
                        "chunk_rows": chunk_rows})
    whole = measure({"mode": "in-memory", "input": str(src),
                     "out": str(DATA / "scores-memory.parquet")})
    for res in (streamed, whole):
        assert res["rows"] == responses, res
    a = responses / streamed["seconds"]
    b = responses / whole["seconds"]
    print(f"{'path':<22} {'wall s':>7} {'responses/s':>12} {'peak RSS MB':>12}")
    print(f"{'batch score (stream)':<22} {streamed['seconds']:>7.1f} {a:>12,.0f} "
          f"{streamed['maxrss_mb']:>12.0f}")
    print(f"{'in memory (score)':<22} {whole['seconds']:>7.1f} {b:>12,.0f} "
          f"{whole['maxrss_mb']:>12.0f}")
    print(f"peak RSS of the streamed run: {streamed['maxrss_mb']:.0f} MB (target < 1024 MB: "
          f"{'met' if streamed['maxrss_mb'] < 1024 else 'MISSED'}); input file "
          f"{size_mb:,.0f} MB ({size_mb / streamed['maxrss_mb']:.1f}x the run's peak)")
    print(f"throughput ratio stream / in-memory: {a / b:.2f}x (target >= 0.7: "
          f"{'met' if a / b >= 0.7 else 'MISSED'})")
    same = pq.read_table(DATA / "scores-batch.parquet", columns=["total_raw"]).column(
        0).to_numpy(zero_copy_only=False)
    ref = pq.read_table(DATA / "scores-memory.parquet", columns=["total_raw"]).column(
        0).to_numpy(zero_copy_only=False)
    print(f"total_raw identical on all rows: {bool(np.array_equal(same, ref, equal_nan=True))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--part", choices=["analyze", "score", "all"], default="all")
    parser.add_argument("--sessions", type=int, default=None)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--responses", type=int, default=None)
    parser.add_argument("--engines", default="local,ray,dask")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-rows", type=int, default=None,
                        help="chunk size of the score run (default: the command's)")
    args = parser.parse_args()
    sessions = args.sessions or (60 if args.quick else 2000)
    responses = args.responses or (300_000 if args.quick else 10_000_000)
    if args.part in ("analyze", "all"):
        bench_analyze(sessions, args.turns, args.engines.split(","), args.workers)
    if args.part in ("score", "all"):
        bench_score(responses, args.chunk_rows)


if __name__ == "__main__":
    main()
