"""Not-on-track detection against the outcome paths the synthetic generator plants.

Fits nothing: reads each generated client's outcome series against the bundled expected-
response curves (fitted on synthetic seed 20261201) and counts, per case, a planted
``not_on_track`` path found after it began (true positive), a planted path missed (false
negative) and a flag on a client planted as on track (false positive).

    python benchmarks/eval_not_on_track.py --cases 1000 --seeds 101 102 103
"""

from __future__ import annotations

import argparse
import time

from alliance.monitoring import parse_cases, synthetic
from alliance.monitoring.outcomes import load_expected_response, outcome_series, track_outcome


def evaluate(cases: int, seed: int) -> tuple[int, int, int, int]:
    models = {i: load_expected_response(i) for i in ("phq-9", "ors")}
    data, truth = synthetic.generate(cases, seed, outcomes=True)
    tp = fp = fn = tn = 0
    for case in parse_cases(data):
        planted = truth["cases"][case.id].get("not_on_track")
        for (_, inst), series in outcome_series(case).items():
            flag = track_outcome(series, models[inst]).not_on_track_from
            if planted:
                hit = flag is not None and flag > planted[0]["from_session"]
                tp, fn = tp + hit, fn + (not hit)
            elif flag is None:
                tn += 1
            else:
                fp += 1
    return tp, fp, fn, tn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103])
    args = parser.parse_args()
    totals = [0, 0, 0, 0]
    for seed in args.seeds:
        start = time.perf_counter()
        tp, fp, fn, tn = evaluate(args.cases, seed)
        totals = [a + b for a, b in zip(totals, (tp, fp, fn, tn), strict=True)]
        print(f"seed {seed}: {tp} found, {fn} missed, {fp} false flags, {tn} quiet; "
              f"precision {tp / max(tp + fp, 1):.3f}, recall {tp / max(tp + fn, 1):.3f} "
              f"({time.perf_counter() - start:.1f} s)")
    tp, fp, fn, _ = totals
    print(f"all seeds: precision {tp / max(tp + fp, 1):.3f}, recall {tp / max(tp + fn, 1):.3f} "
          f"({tp + fn} planted not-on-track paths, target >= 0.9 each)")


if __name__ == "__main__":
    main()
