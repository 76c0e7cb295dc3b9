"""Development measure of scorer v15: the reader (a low-rank fine-tune of the embedding
model as a cross-encoder, :mod:`alliance.training.reader`) alone and blended with the heads.

Trains the reader and the heads (the packaged v13 design, with step heads) on ``--train``
sets and reports, on each ``--test`` set, verdict accuracy after the scorer's gates
(``feedback.backed_verdict``, ``feedback.harm_gated_verdict``; harms the phrase rules found
come from the rules coder, as in ``benchmarks/scorer_cv.py``) and the mean step F1:

* "heads (v14 design)": the heads alone;
* "reader": the reader's verdict and step probabilities alone;
* "blend w": ``w`` x reader + (1 - ``w``) x heads (``feedback.blend_readings``).

The reader goes through the shipping path: its adapter is saved (factors in float16), read
back and built into the ONNX graph. ``--folds A B ...`` instead leaves each named set out in
turn (trained on all the others of ``--train``) and reports the same per left-out set.

The default trains on what v13 was trained on and tests on fresh13-17 (written after v13
froze; the earlier cross-encoder probe, ``benchmarks/scorer_crossencoder_probe.py``, looked
at blend weights on them, so they are development data now).

    HF_HUB_OFFLINE=1 PYTHONPATH=src python benchmarks/scorer_reader_cv.py [--seed 0]

Needs the ``torch`` and ``model`` extras; about 11 minutes per training (12 epochs, 902
responses) on two CPU cores, plus 3 for the heads and the readings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scorer_crossencoder_probe import CLEAN_SINCE_V13, V13_TRAIN, load_set

from alliance.training import head as H
from alliance.training.coders import default_coder
from alliance.training.feedback import (
    backed_verdict,
    blend_readings,
    harm_gated_verdict,
    score_trainee_response,
)
from alliance.training.reader import load_reader, read_adapter
from alliance.training.reader_fit import ReaderExample, ReaderSettings, fit_reader
from alliance.training.steps import STEP_NAMES
from alliance.training.verdicts import VERDICTS


def train_reader(rows: list[tuple[Any, Any]], settings: ReaderSettings) -> Any:
    examples = [ReaderExample(r.client, r.response, lab.verdict, frozenset(lab.steps))
                for r, lab in rows]
    adapter = fit_reader(examples, VERDICTS, STEP_NAMES, settings,
                         progress=lambda m: print("  reader " + m, flush=True))
    with tempfile.TemporaryDirectory() as tmp:  # the shipping path: float16 factors
        path = Path(tmp) / "reader.npz"
        adapter.save(path)
        return load_reader(read_adapter(path))


def readings(train: list[tuple[Any, Any]], tests: dict[str, list[tuple[Any, Any]]],
             settings: ReaderSettings, coder: Any) -> dict[str, dict[str, Any]]:
    reader = train_reader(train, settings)
    codes = H.coder_codes(coder)

    def features(rows: list[tuple[Any, Any]]) -> np.ndarray:
        return H.head_features(coder.embedder, [r.response for r, _ in rows], H.FEATURES,
                               [r.client for r, _ in rows], coder=coder, codes=codes)

    head = H.train_verdict_head(features(train), [lab.verdict for _, lab in train], {},
                                steps={s: [s in lab.steps for _, lab in train]
                                       for s in STEP_NAMES})
    rules = default_coder()
    out = {}
    for name, rows in tests.items():
        x = features(rows)
        rv, rs = reader.read([r.client for r, _ in rows], [r.response for r, _ in rows])
        scored = [score_trainee_response(r.response, r.client, coder=rules) for r, _ in rows]
        out[name] = {"head": head, "p": head.probabilities(x), "q": head.step_probabilities(x),
                     "rv": rv, "rs": rs, "rows": rows,
                     "judged": ["judgmental" in s.evidence for s in scored],
                     "defended": ["defensive" in s.evidence for s in scored]}
    return out


def decide(r: dict[str, Any], weight: float) -> tuple[list[str], list[dict[str, bool]]]:
    head = r["head"]
    verdicts, steps = [], []
    for p, q, rv, rs, j, d in zip(r["p"], r["q"], r["rv"], r["rs"], r["judged"],
                                  r["defended"], strict=True):
        probs, sp = blend_readings(head.classes, p, q, rv, rs, weight)
        v = backed_verdict(head.classes, probs, sp, j)
        verdicts.append(harm_gated_verdict(head.classes, probs, v,
                                           {"judgmental": j, "defensive": d}))
        steps.append({s: sp[s] >= head.threshold(s) for s in sp})
    return verdicts, steps


def measures(r: dict[str, Any], weight: float) -> tuple[float, float]:
    verdicts, steps = decide(r, weight)
    acc = float(np.mean([v == lab.verdict for v, (_, lab) in zip(verdicts, r["rows"],
                                                                   strict=True)]))
    f1s = []
    for s in STEP_NAMES:
        if s == "noticed":
            continue
        tp = sum(st[s] and s in lab.steps for st, (_, lab) in zip(steps, r["rows"], strict=True))
        fp = sum(st[s] and s not in lab.steps for st, (_, lab) in zip(steps, r["rows"],
                                                                      strict=True))
        fn = sum(not st[s] and s in lab.steps for st, (_, lab) in zip(steps, r["rows"],
                                                                      strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return acc, float(np.mean(f1s))


def table(results: dict[str, dict[str, Any]], weights: Sequence[float]) -> None:
    names = list(results)
    print("| variant | " + " | ".join(names) + " | mean | step F1 (mean of 5) |")
    print("|---" * (len(names) + 3) + "|")
    for label, w in [("heads (v14 design)", 0.0), ("reader", 1.0),
                     *[(f"blend {w:.1f}", w) for w in weights]]:
        ms = [measures(results[n], w) for n in names]
        print(f"| {label} | " + " | ".join(f"{a:.3f}" for a, _ in ms)
              + f" | {np.mean([a for a, _ in ms]):.3f} | {np.mean([f for _, f in ms]):.3f} |",
              flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", nargs="+", default=list(V13_TRAIN))
    ap.add_argument("--test", nargs="+", default=list(CLEAN_SINCE_V13))
    ap.add_argument("--folds", nargs="*", default=[])
    ap.add_argument("--epochs", type=int, default=ReaderSettings.epochs)
    ap.add_argument("--lr", type=float, default=ReaderSettings.lr)
    ap.add_argument("--rank", type=int, default=ReaderSettings.rank)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", nargs="+", type=float, default=[0.3, 0.5, 0.7])
    ap.add_argument("--save", default=None, help="pickle the readings here (for analysis)")
    args = ap.parse_args(argv)
    settings = ReaderSettings(rank=args.rank, alpha=2.0 * args.rank, epochs=args.epochs,
                              lr=args.lr, seed=args.seed)
    from alliance.coding.coder import load_coder

    coder = load_coder()
    sets = {name: load_set(name) for name in dict.fromkeys([*args.train, *args.test])}
    results: dict[str, dict[str, Any]] = {}
    if args.folds:
        for fold in args.folds:
            train = [row for n in args.train if n != fold for row in sets[n]]
            print(f"fold {fold}: train {len(train)}; {settings}", flush=True)
            results.update(readings(train, {fold: sets[fold]}, settings, coder))
            table(results, args.weights)
    else:
        train = [row for n in args.train for row in sets[n]]
        print(f"train {len(train)} ({', '.join(args.train)}); test {', '.join(args.test)}; "
              f"{settings}", flush=True)
        results = readings(train, {n: sets[n] for n in args.test}, settings, coder)
        table(results, args.weights)
    if args.save:
        import pickle

        with open(args.save, "wb") as fh:
            pickle.dump({n: {**r, "head": None, "classes": r["head"].classes,
                             "thresholds": {s: r["head"].threshold(s) for s in STEP_NAMES},
                             "rows": [(row.id, row.client, row.response, lab.verdict,
                                       sorted(lab.steps)) for row, lab in r["rows"]]}
                         for n, r in results.items()}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
