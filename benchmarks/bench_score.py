"""Benchmark: score 1,000,000 alliance-12 responses, Parquet -> Parquet.

Target (issue 2): <= 3 s on the 2-core reference machine, through the same library calls
the CLI uses (read_table -> score_table -> write_table). Printed beside a bare NumPy lower
bound measured in the same run: read the item columns, one weighted sum per subscale
(reverse keys folded into the weights), no validation, no proration, no output file.

    .venv/bin/python benchmarks/bench_score.py [--rows N] [--repeat R]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from alliance.instruments import get_instrument, score_table
from alliance.interop.tables import read_table, write_table
from alliance.testing.responses import simulate_responses


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inst = get_instrument("alliance-12")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "responses.parquet", Path(tmp) / "scores.parquet"
        table = simulate_responses(inst, args.rows, seed=42, missing_rate=0.01)
        table.insert(1, "client", np.arange(args.rows) % 5000)
        table.to_parquet(src, index=False)
        del table

        def library() -> None:
            scored = score_table(inst, read_table(src))
            write_table(scored, dst, "parquet")

        items = list(inst.item_ids)
        weights = {s.id: np.array([(-1.0 if inst.item(i).reverse else 1.0)
                                   if inst.item(i).subscale == s.id else 0.0 for i in items])
                   for s in inst.subscales}
        offsets = {s.id: sum(inst.item(i).scale.min + inst.item(i).scale.max
                             for i in s.items if inst.item(i).reverse) for s in inst.subscales}

        def numpy_bound() -> None:
            cols = pq.read_table(src, columns=items)
            x = np.column_stack([cols[c].to_numpy(zero_copy_only=False) for c in items])
            for s, w in weights.items():
                _ = x @ w + offsets[s]

        t_lib = best_of(args.repeat, library)
        t_np = best_of(args.repeat, numpy_bound)
        scored = read_table(dst)
        assert len(scored) == args.rows

    print(f"rows                      {args.rows:,}")
    print(f"alliance score (pq -> pq) {t_lib:.3f} s   ({args.rows / t_lib:,.0f} responses/s)")
    print(f"numpy lower bound         {t_np:.3f} s   ({args.rows / t_np:,.0f} responses/s)")
    print(f"ratio library / bound     {t_lib / t_np:.1f}x")
    print(f"target <= 3 s             {'met' if t_lib <= 3 else 'MISSED'}")


if __name__ == "__main__":
    main()
