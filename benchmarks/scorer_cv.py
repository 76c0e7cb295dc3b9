"""Cross-validation of the practice scorer's heads over the development data.

Trains nothing that is kept. Folds: each measured fresh set left out in turn (trained on the
development split of ``responses.yaml`` and the other fresh sets), and five stratified folds
of the development split (trained on the other four and every fresh set). The held-out part
of ``responses.yaml`` and the newest fresh set (``--exclude``) are never used. Reported per
variant: verdict accuracy per left-out fresh set, the mean over the sets the phrase rules
had never been tuned on (fresh5-7; the rules were developed on the development split and
fresh1-4, so rule features look better than they are on those folds; fresh8 was written
after v8), the mean over all
fresh folds and over the development folds; then step F1 of the rules and of the step
heads on fresh5-8 (at 0.5, at the calibrated thresholds, and as scorer v9 uses them).
Variant "v9" is the packaged design: the verdict head with the judgement gate
(``feedback.gated_verdict``: a judgmental verdict under 0.5 stands only when the phrase
rules also found a judgement).

    python benchmarks/scorer_cv.py            # the real embedding model (extra `model`)
    python benchmarks/scorer_cv.py --short    # a hashed bag of words instead; seconds
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from alliance.training.coders import default_coder
from alliance.training.feedback import (
    RULES_ADD,
    VERDICTS,
    gated_verdict,
    score_trainee_response,
)
from alliance.training.head import TRAIN_SETS, head_features, train_verdict_head
from alliance.training.steps import STEP_NAMES
from alliance.training.validation import load_labels, load_responses, split_of

DATA = Path(__file__).resolve().parents[1] / "data" / "training"
CLEAN_FOR_RULES = ("fresh5", "fresh6", "fresh7", "fresh8")


class HashedWords:
    """A stand-in embedder for ``--short``: hashed word counts, unit length."""

    name = "hashed-words"
    dimension = 256

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension))
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z']+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest()[:6], 16) % self.dimension] += 1
        norm = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norm == 0, 1, norm)


def load(sets: Sequence[str]) -> tuple[list, list, np.ndarray]:
    rows, groups = [], []
    labs = load_labels(DATA / "labels-pass1.yaml")
    for r in load_responses(DATA / "responses.yaml"):
        if split_of(r.id) == "dev":
            rows.append((r, labs[r.id]))
            groups.append("dev")
    for name in sets:
        labs = load_labels(DATA / f"labels-{name}-pass1.yaml")
        for r in load_responses(DATA / f"responses-{name}.yaml"):
            rows.append((r, labs[r.id]))
            groups.append(name)
    return rows, groups, np.array(groups)


def folds(g: np.ndarray, y: np.ndarray) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    for name in sorted(set(g) - {"dev"}):
        yield name, np.where(g != name)[0], np.where(g == name)[0]
    dev = np.where(g == "dev")[0]
    for k, (_, b) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0)
                               .split(dev, y[dev])):
        te = dev[b]
        yield f"dev{k}", np.setdiff1d(np.arange(len(y)), te), te


def rule_features(scores: list) -> np.ndarray:
    return np.array([[float(s.steps[k]) for k in STEP_NAMES]
                     + [float(h in s.evidence) for h in ("judgmental", "defensive", "technique",
                                                          "overapology")]
                     + [float(s.verdict == v) for v in VERDICTS] for s in scores])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="hashed words instead of the model")
    ap.add_argument("--exclude", nargs="*", default=[], help="fresh sets to leave out")
    args = ap.parse_args(argv)
    sets = [s for s in TRAIN_SETS if s not in args.exclude]
    rows, _, g = load(sets)
    y = np.array([lab.verdict for _, lab in rows])
    embedder: Any
    if args.short:
        embedder = HashedWords()
    else:
        from alliance.coding.embedder import load_embedder

        embedder = load_embedder()
    texts = [r.response for r, _ in rows]
    whole = head_features(embedder, texts, "embedding")
    both = head_features(embedder, texts)
    coder = default_coder()
    scores = [score_trainee_response(r.response, r.client, coder=coder) for r, _ in rows]
    rules = rule_features(scores)
    rule_verdicts = np.array([s.verdict for s in scores])

    rules_judged = np.array(["judgmental" in s.evidence for s in scores])

    def head(x: np.ndarray, gate: bool = False) -> Callable[[np.ndarray, np.ndarray],
                                                            np.ndarray]:
        def fit(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
            h = train_verdict_head(x[tr], list(y[tr]), {})
            if gate:
                return np.array([gated_verdict(h.classes, p, j) for p, j in
                                 zip(h.probabilities(x[te]), rules_judged[te], strict=True)])
            return np.array([v for v, _ in h.predict(x[te])])
        return fit

    variants: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "phrase rules": lambda tr, te: rule_verdicts[te],
        "head: response embedding": head(whole),
        "head: + sentence maximum (v8)": head(both),
        "head: + sentence maximum + rule features": head(np.hstack([both, 0.1 * rules])),
        "v9: v8 + judgement gate": head(both, gate=True),
    }
    fresh_names = sorted(set(g) - {"dev"})
    print(f"n = {len(y)} ({', '.join(['dev', *fresh_names])}); embedder {embedder.name}")
    print("| variant | " + " | ".join(fresh_names) + " | fresh5-8 | all fresh | dev folds |")
    print("|---" * (len(fresh_names) + 4) + "|")
    for name, fit in variants.items():
        acc = {f: float((fit(tr, te) == y[te]).mean()) for f, tr, te in folds(g, y)}
        clean = [acc[f] for f in CLEAN_FOR_RULES if f in acc]
        fr = [acc[f] for f in fresh_names]
        dv = [v for f, v in acc.items() if f.startswith("dev")]
        print(f"| {name} | " + " | ".join(f"{acc[f]:.3f}" for f in fresh_names)
              + f" | {np.mean(clean) if clean else float('nan'):.3f} | {np.mean(fr):.3f} | "
              f"{np.mean(dv):.3f} |")
    truth = np.array([[s in lab.steps for s in STEP_NAMES] for _, lab in rows])
    got = np.array([[s.steps[k] for k in STEP_NAMES] for s in scores])
    at_half, calibrated = np.zeros_like(truth), np.zeros_like(truth)
    test = np.isin(g, CLEAN_FOR_RULES)
    for f, tr, te in folds(g, y):
        if f in CLEAN_FOR_RULES:
            h = train_verdict_head(both[tr], list(y[tr]), {},
                                   steps={s: list(truth[tr, k]) for k, s in
                                          enumerate(STEP_NAMES)}, calibrate=True)
            probs = h.step_probabilities(both[te])
            at_half[te] = [[p[s] >= 0.5 for s in STEP_NAMES] for p in probs]
            calibrated[te] = [[p[s] >= h.threshold(s) for s in STEP_NAMES] for p in probs]
    v9 = calibrated.copy()
    for k, s in enumerate(STEP_NAMES):
        if s in RULES_ADD:
            v9[:, k] |= got[:, k]
    print("\n| step (fresh5-8, left out in turn) | phrase rules | head at 0.5 | head calibrated "
          "| v9 | support |")
    print("|---|---|---|---|---|---|")
    for k, s in enumerate(STEP_NAMES):
        t = truth[test, k]
        print(f"| {s} | " + " | ".join(_prf(m[test, k], t) for m in (got, at_half, calibrated,
                                                                       v9))
              + f" | {int(t.sum())} |")
    return 0


def _prf(p: np.ndarray, t: np.ndarray) -> str:
    tp = int((p & t).sum())
    prec = tp / int(p.sum()) if p.sum() else 0.0
    return f"{prec:.2f} / {_f1(p, t):.2f}"


def _f1(p: np.ndarray, t: np.ndarray) -> float:
    tp = int((p & t).sum())
    return 2 * tp / (2 * tp + int((p & ~t).sum()) + int((~p & t).sum())) if tp else 0.0


if __name__ == "__main__":
    sys.exit(main())
