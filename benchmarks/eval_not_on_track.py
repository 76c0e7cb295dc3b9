"""Not-on-track detection against the outcome paths the synthetic generator plants.

Fits nothing: reads each generated client's outcome series against the bundled expected-
response curves (fitted on synthetic seed 20261201) and counts, per case, a planted
``not_on_track`` path found after it began (true positive), a planted path missed (false
negative) and a flag on a client planted as on track (false positive).

    python benchmarks/eval_not_on_track.py --cases 1000 --seeds 101 102 103

``--compare-rules`` also scores two alternative flag rules on the same tracks (two of the
last three, two of the last four ratings beyond the band) beside the shipped one (two in a
row); use it on development seeds, not on the evaluation seeds above.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

from alliance.monitoring import parse_cases, synthetic
from alliance.monitoring.outcomes import load_expected_response, outcome_series, track_outcome


def _window(points: Sequence[Any], k: int, w: int) -> int | None:
    """The first session where ``k`` of the last ``w`` ratings are beyond the band."""
    offs: list[bool] = []
    for p in points:
        offs.append(p.off_track)
        if sum(offs[-w:]) >= k:
            return int(p.session)
    return None


RULES: dict[str, Callable[[Sequence[Any]], int | None]] = {
    "2 in a row (shipped)": lambda pts: _window(pts, 2, 2),
    "2 of the last 3": lambda pts: _window(pts, 2, 3),
    "2 of the last 4": lambda pts: _window(pts, 2, 4),
}


def evaluate(cases: int, seed: int) -> tuple[int, int, int, int]:
    """(found, false flags, missed, quiet) of the shipped rule on one generated clinic."""
    return evaluate_rules(cases, seed, ["2 in a row (shipped)"])["2 in a row (shipped)"]


def evaluate_rules(cases: int, seed: int, rules: Sequence[str]
                   ) -> dict[str, tuple[int, int, int, int]]:
    """Per rule: (found, false flags, missed, quiet) on one generated clinic."""
    models = {i: load_expected_response(i) for i in ("phq-9", "ors")}
    data, truth = synthetic.generate(cases, seed, outcomes=True)
    counts = {r: [0, 0, 0, 0] for r in rules}
    for case in parse_cases(data):
        planted = truth["cases"][case.id].get("not_on_track")
        for (_, inst), series in outcome_series(case).items():
            points = track_outcome(series, models[inst]).points
            for rule in rules:
                flag = RULES[rule](points)
                c = counts[rule]
                if planted:
                    hit = flag is not None and flag > planted[0]["from_session"]
                    c[0], c[2] = c[0] + hit, c[2] + (not hit)
                elif flag is None:
                    c[3] += 1
                else:
                    c[1] += 1
    return {r: (c[0], c[1], c[2], c[3]) for r, c in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103])
    parser.add_argument("--compare-rules", action="store_true")
    args = parser.parse_args()
    rules = list(RULES) if args.compare_rules else ["2 in a row (shipped)"]
    totals = {r: [0, 0, 0, 0] for r in rules}
    for seed in args.seeds:
        start = time.perf_counter()
        found = evaluate_rules(args.cases, seed, rules)
        for rule, (tp, fp, fn, tn) in found.items():
            totals[rule] = [a + b for a, b in zip(totals[rule], (tp, fp, fn, tn), strict=True)]
            print(f"seed {seed}, {rule}: {tp} found, {fn} missed, {fp} false flags, {tn} quiet;"
                  f" precision {tp / max(tp + fp, 1):.3f}, recall {tp / max(tp + fn, 1):.3f} "
                  f"({time.perf_counter() - start:.1f} s)")
    for rule, (tp, fp, fn, _) in totals.items():
        print(f"all seeds, {rule}: precision {tp / max(tp + fp, 1):.3f}, recall "
              f"{tp / max(tp + fn, 1):.3f} ({tp + fn} planted not-on-track paths, "
              f"target >= 0.9 each)")


if __name__ == "__main__":
    main()
