"""Benchmark: monitor 100,000 cases x 20 sessions end to end through the batch path.

Prints wall-clock figures, the ratio to the 10 s budget, checks on a sample that the batch
results equal the per-case path exactly, and (with ``--recovery``) the detector's precision and
recall on held-out synthetic data.

    PYTHONPATH=src python benchmarks/bench_monitor.py [--cases 100000] [--unique 5000]
        [--workers 2] [--recovery]

Setup (not timed): ``--unique`` distinct synthetic cases (20 scheduled sessions each, one
client rating per held session, realistic cancellations and dropouts) are generated, flattened
to long tables and tiled under new case ids up to ``--cases``. Timed: from the long tables to
every case's signals, rupture-repair episodes and alert (scoring every rating, all rules,
alert composition with repair steps). Signal evidence and explanations are built lazily when
read; their full materialisation is timed separately.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from alliance.monitoring import monitor_cases, parse_cases, synthetic
from alliance.monitoring.batch import (
    monitor_tables,
    monitor_tables_parallel,
    report_rows,
    subset,
    tables_from_casefile,
    tile,
)
from alliance.monitoring.evaluation import recovery

BUDGET_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--unique", type=int, default=5_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--recovery", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    data, _ = synthetic.generate(args.unique, 7, sessions=args.sessions, multi_member=False,
                                 therapist_ratings=False, transcripts=False)
    base = tables_from_casefile(data)
    times = -(-args.cases // args.unique)
    tables = tile(base, times)
    if len(tables.cases) > args.cases:
        tables = subset(tables, tables.cases["case_id"].iloc[: args.cases])
    print(f"setup: {len(tables.cases):,} cases, {args.sessions} scheduled sessions each, "
          f"{tables.n_ratings:,} ratings ({time.perf_counter() - t0:.1f} s, not timed)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} before the run")

    t, cpu = time.perf_counter(), time.process_time()
    reports = monitor_tables(tables)
    single = time.perf_counter() - t
    single_cpu = time.process_time() - cpu
    n_alerts = sum(r.alert is not None for r in reports)
    n_signals = sum(len(r.signals) for r in reports)
    print(f"batch, 1 process: {single:.2f} s wall, {single_cpu:.2f} s CPU "
          f"({single / BUDGET_S:.2f} x the {BUDGET_S:.0f} s budget on the wall clock; "
          f"{tables.n_ratings / single:,.0f} ratings/s); {n_signals:,} signals, "
          f"{n_alerts:,} alerts")

    t = time.perf_counter()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = monitor_tables_parallel(tables, workers=args.workers)
    parallel = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    print(f"batch, {args.workers} processes: {parallel:.2f} s wall "
          f"({parallel / BUDGET_S:.2f} x budget), {child_cpu:.2f} s CPU in the workers; "
          f"{len(result.signals['case']):,} signals, {len(result.alerts['case']):,} alerts")

    t = time.perf_counter()
    some = reports[: min(len(reports), 10_000)]
    for r in some:
        r.to_dict()
    per_case_ms = 1000 * (time.perf_counter() - t) / max(len(some), 1)
    print(f"materialising evidence and explanations: {per_case_ms:.3f} ms per case "
          f"(measured on {len(some):,} cases)")

    # Exactness on a sample: per-case path (parse + monitor_case) vs the batch paths.
    rng = np.random.default_rng(0)
    sample_idx = sorted(rng.choice(args.unique, size=min(args.sample, args.unique),
                                   replace=False).tolist())
    # the tiled copy "<id>.0" of each sampled case, read through the per-case path
    sample_cases = [{**data["cases"][i], "id": f"{data['cases'][i]['id']}.0"}
                    for i in sample_idx]
    per_case = monitor_cases(parse_cases({"cases": sample_cases}))
    batch_by_id = {r.case_id: r for r in reports}
    equal_full = all(batch_by_id[p.case_id].to_dict() == p.to_dict() for p in per_case)
    equal_rows = all(
        report_rows(p) == (result.signal_rows(p.case_id), result.episode_rows(p.case_id),
                           result.alert_row(p.case_id))
        for p in per_case)
    with_alerts = sum(1 for p in per_case if p.alert)
    print(f"sample of {len(per_case)} cases ({with_alerts} with alerts): batch == per-case "
          f"(full reports incl. evidence and explanations): {equal_full}; parallel rows == "
          f"per-case rows (signals, episodes, alert id/severity/headline): {equal_rows}")
    if not (equal_full and equal_rows):
        raise SystemExit("MISMATCH between the batch and per-case paths")

    if args.recovery:
        for seed in (1001, 1002):
            t = time.perf_counter()
            data_h, truth = synthetic.generate(1000, seed)
            res = recovery(monitor_cases(parse_cases(data_h)), truth)
            print(f"recovery on held-out seed {seed} (1,000 cases, default policy, "
                  f"{time.perf_counter() - t:.0f} s):")
            for kind, row in res.items():
                p = "  n/a" if row["precision"] is None else f"{row['precision']:.3f}"
                r = "  n/a" if row["recall"] is None else f"{row['recall']:.3f}"
                print(f"  {kind:14s} planted {row['planted']:5d}  detected "
                      f"{row['detected']:5d}  precision {p}  recall {r}")


if __name__ == "__main__":
    main()
