"""Benchmark: score trainee responses and play practice sessions.

Scores every response of ``data/training/responses.yaml`` (248) with the rules coder, and
optionally the hybrid coder, and plays every bundled case once with its stage alternatives.
Prints the time per response beside the time of the detectors alone (no coder), so the
coder's share is visible. Feedback in a terminal session should feel immediate (well under
a second per response).

    .venv/bin/python benchmarks/bench_practice.py [--hybrid] [--repeat R]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from alliance.training import PracticeSession, load_casebook, score_trainee_response
from alliance.training.coders import practice_coder
from alliance.training.steps import detect_steps
from alliance.training.validation import load_responses

DATA = Path(__file__).parents[1] / "data" / "training" / "responses.yaml"


def best_of(repeat: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hybrid", action="store_true", help="also time the hybrid coder")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    responses = load_responses(DATA)
    n = len(responses)
    book = load_casebook()

    detectors = best_of(args.repeat, lambda: [detect_steps(r.response, r.client)
                                              for r in responses])
    print(f"detectors only        : {1000 * detectors / n:7.2f} ms/response ({n} responses)")
    kinds = ["rules"] + (["hybrid"] if args.hybrid else [])
    for kind in kinds:
        coder = practice_coder(kind)
        t = best_of(args.repeat, lambda c=coder: [score_trainee_response(
            r.response, r.client, coder=c) for r in responses])
        print(f"score, {kind:<6} coder   : {1000 * t / n:7.2f} ms/response "
              f"({t / detectors:5.1f}x the detectors alone)")

        def play(c=coder) -> None:  # type: ignore[no-untyped-def]
            for case in book.values():
                s = PracticeSession(case, c)
                for stage in case.stages:
                    s.respond(stage.alternative)
                s.record()

        t = best_of(args.repeat, play)
        print(f"play all {len(book)} cases ({kind}): {t:6.2f} s "
              f"({1000 * t / len(book):.0f} ms per case incl. alliance-12)")


if __name__ == "__main__":
    main()
