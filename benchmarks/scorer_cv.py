"""Cross-validation of the practice scorer's heads over the development data.

Trains nothing that is kept. Folds: leave one set out, each in turn, trained on all the
others: the development split of ``responses.yaml`` ("main-dev"), its held-out part
("main-heldout", measured at every scorer version, development data since v10) and each
fresh set (fresh1-10 since v11, fresh1-11 since v12, fresh1-12 since v13, fresh1-15 since
v14). A fresh set
written after the last freeze is never read (``--exclude`` leaves out more). Reported per
variant: verdict accuracy per left-out set, the mean over fresh10-15 (since v13 the folds the
choice is made on: each written by a different, separate author after a freeze), over
fresh5-9 and over fresh5-15 (the rules were developed on the development split and
fresh1-4, so rule features look better than they are on those folds; the v12 harm phrases
were written after reading fresh11, so its fold flatters v12's rules), the mean over all
fresh folds and over the two main folds, `partial` recall, repair recall, the non-repairs
called repair and defensive / judgmental recall on fresh5-15; then step precision / recall /
F1 on fresh5-15 and on fresh10-15 (each left out in turn) of the rules, of scorer v9's step
heads, of v10's, of v11's (= v12's) and of v13's.

* "v9": verdict head on the response and sentence-maximum embeddings with the judgement gate
  (``feedback.gated_verdict``); step heads with calibrated thresholds, the rules adding
  reflections;
* "v10": the same plus the phrase-rule flags (``head.phrase_rule_features``, weight
  ``head.RULE_WEIGHT``) for the verdict and the step heads, steps at 0.5;
* "v11" (packaged): v10 with a `repair` that needs two step heads behind it
  (``feedback.backed_verdict``, ``feedback.REPAIR_STEP_P``) and ``invited`` at 0.6
  (``head.STEP_THRESHOLDS``);
* "v12": v11 with the harm gate (``feedback.harm_gated_verdict``,
  ``feedback.HARM_GATE``): a partial / technique_first verdict gives way to a harm the
  phrase rules found when the head gives that harm at least ``HARM_GATE``;
* "v13" (packaged as v14, trained on fresh1-15): v12 with the hybrid transcript coder's
  calibrated per-code scores of the response and the maximum over its sentences
  (``head.coder_features``, weight ``head.CODER_WEIGHT``) added to the features of the
  verdict and the step heads (not run with ``--short``: the coder's heads read the real
  model's embeddings).

The current phrase rules (v12's: defending the method, evaluating the client) feed the
flags of v10, v11 and v12 here; v11 as shipped had v11's rules (docs/training.md gives
both).

    HF_HUB_OFFLINE=1 python benchmarks/scorer_cv.py   # the real model (extra `model`)
    python benchmarks/scorer_cv.py --short    # a hashed bag of words instead
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
    backed_verdict,
    gated_verdict,
    harm_gated_verdict,
    score_trainee_response,
)
from alliance.training.head import (
    CODER_WEIGHT,
    MAIN_SPLITS,
    TRAIN_SETS,
    V12_FEATURES,
    coder_features,
    head_features,
    train_verdict_head,
)
from alliance.training.steps import STEP_NAMES
from alliance.training.validation import load_labels, load_responses, split_of

DATA = Path(__file__).resolve().parents[1] / "data" / "training"
CLEAN_FOR_RULES = ("fresh5", "fresh6", "fresh7", "fresh8", "fresh9", "fresh10", "fresh11",
                   "fresh12", "fresh13", "fresh14", "fresh15")
# each written by a separate author after a freeze (fresh14, fresh15: while v13 was built)
HONEST = ("fresh10", "fresh11", "fresh12", "fresh13", "fresh14", "fresh15")
EARLY = ("fresh5", "fresh6", "fresh7", "fresh8", "fresh9")
SPAN = f"{CLEAN_FOR_RULES[0]}-{CLEAN_FOR_RULES[-1][5:]}"
HSPAN = f"{HONEST[0]}-{HONEST[-1][5:]}"


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


def load(sets: Sequence[str]) -> tuple[list, np.ndarray]:
    rows, groups = [], []
    labs = load_labels(DATA / "labels-pass1.yaml")
    for r in load_responses(DATA / "responses.yaml"):
        if split_of(r.id) in MAIN_SPLITS:
            rows.append((r, labs[r.id]))
            groups.append(f"main-{split_of(r.id)}")
    for name in sets:
        labs = load_labels(DATA / f"labels-{name}-pass1.yaml")
        for r in load_responses(DATA / f"responses-{name}.yaml"):
            rows.append((r, labs[r.id]))
            groups.append(name)
    return rows, np.array(groups)


def folds(g: np.ndarray) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    for name in sorted(set(g), key=_order):
        yield name, np.where(g != name)[0], np.where(g == name)[0]


def _order(name: str) -> tuple[int, int]:
    if name.startswith("main"):
        return (0, 0 if name == "main-dev" else 1)
    return (1, int(name[5:] or 1))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", action="store_true", help="hashed words instead of the model")
    ap.add_argument("--exclude", nargs="*", default=[], help="fresh sets to leave out")
    args = ap.parse_args(argv)
    sets = [s for s in TRAIN_SETS if s not in args.exclude]
    rows, g = load(sets)
    y = np.array([lab.verdict for _, lab in rows])
    embedder: Any
    if args.short:
        embedder = HashedWords()
    else:
        from alliance.coding.embedder import load_embedder

        embedder = load_embedder()
    texts = [r.response for r, _ in rows]
    clients = [r.client for r, _ in rows]
    v10 = head_features(embedder, texts, V12_FEATURES, clients)
    both = v10[:, :-15]  # the v8/v9 features: response and sentence-maximum embeddings
    v13 = None
    if not args.short:
        from alliance.coding.coder import load_coder

        hybrid = load_coder()
        hybrid.embedder = embedder
        v13 = np.hstack([v10, CODER_WEIGHT * coder_features(hybrid, texts, clients)])
    coder = default_coder()
    scores = [score_trainee_response(r.response, r.client, coder=coder) for r, _ in rows]
    rule_verdicts = np.array([s.verdict for s in scores])
    rules_judged = np.array(["judgmental" in s.evidence for s in scores])
    rules_defended = np.array(["defensive" in s.evidence for s in scores])

    truth = np.array([[s in lab.steps for s in STEP_NAMES] for _, lab in rows])
    step_flags = {s: truth[:, k] for k, s in enumerate(STEP_NAMES)}

    def head(x: np.ndarray, gate: bool = False, backed: bool = False, harm: bool = False
             ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        def fit(tr: np.ndarray, te: np.ndarray) -> np.ndarray:
            if backed:
                h = train_verdict_head(x[tr], list(y[tr]), {},
                                       steps={s: list(f[tr]) for s, f in step_flags.items()})
                out = []
                for p, q, j, d in zip(h.probabilities(x[te]), h.step_probabilities(x[te]),
                                      rules_judged[te], rules_defended[te], strict=True):
                    v = backed_verdict(h.classes, p, q, j)
                    out.append(harm_gated_verdict(h.classes, p, v, {"judgmental": j,
                                                                     "defensive": d})
                               if harm else v)
                return np.array(out)
            h = train_verdict_head(x[tr], list(y[tr]), {})
            if gate:
                return np.array([gated_verdict(h.classes, p, j) for p, j in
                                 zip(h.probabilities(x[te]), rules_judged[te], strict=True)])
            return np.array([v for v, _ in h.predict(x[te])])
        return fit

    variants: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
        "phrase rules": lambda tr, te: rule_verdicts[te],
        "head: + sentence maximum (v8)": head(both),
        "v9: v8 + judgement gate": head(both, gate=True),
        "v10: v9 + phrase-rule features": head(v10, gate=True),
        "v11: v10 + repair backed by two step heads": head(v10, gate=True, backed=True),
        "v12: v11 + harm gate": head(v10, gate=True, backed=True, harm=True),
    }
    if v13 is not None:
        variants["v13: v12 + coder scores (response, sentence maximum)"] = head(
            v13, gate=True, backed=True, harm=True)
    names = [f for f, _, _ in folds(g)]
    fresh_names = [f for f in names if f.startswith("fresh")]
    clean = np.isin(g, CLEAN_FOR_RULES)
    print(f"n = {len(y)} ({', '.join(names)}); embedder {embedder.name}")
    print("| variant | " + " | ".join(names) + f" | {HSPAN} | fresh5-9 | {SPAN} | all fresh | main "
          f"| partial {SPAN} | repair {SPAN} | non-repairs called repair "
          "| defensive recall | judgmental recall |")
    print("|---" * (len(names) + 10) + "|")
    for name, fit in variants.items():
        pred = np.empty(len(y), dtype=object)
        for _, tr, te in folds(g):
            pred[te] = fit(tr, te)
        acc = {f: float((pred[g == f] == y[g == f]).mean()) for f in names}
        cl = [acc[f] for f in CLEAN_FOR_RULES if f in acc]
        hon = [acc[f] for f in HONEST if f in acc]
        early = [acc[f] for f in EARLY if f in acc]
        part, rep = clean & (y == "partial"), clean & (y == "repair")
        over = clean & (y != "repair")
        print(f"| {name} | " + " | ".join(f"{acc[f]:.3f}" for f in names)
              + f" | {np.mean(hon) if hon else float('nan'):.3f} | "
              f"{np.mean(early) if early else float('nan'):.3f} | "
              f"{np.mean(cl) if cl else float('nan'):.3f} | "
              f"{np.mean([acc[f] for f in fresh_names]):.3f} | "
              f"{np.mean([acc[f] for f in names if f.startswith('main')]):.3f} | "
              f"{int((pred[part] == 'partial').sum())}/{int(part.sum())} | "
              f"{int((pred[rep] == 'repair').sum())}/{int(rep.sum())} | "
              f"{int((pred[over] == 'repair').sum())}/{int(over.sum())} | "
              + " | ".join(f"{int((pred[clean & (y == v)] == v).sum())}/"
                           f"{int((clean & (y == v)).sum())}"
                           for v in ("defensive", "judgmental")) + " |")
    got = np.array([[s.steps[k] for k in STEP_NAMES] for s in scores])
    v9, v10_steps, v11_steps, v13_steps = (np.zeros_like(truth) for _ in range(4))
    steps_of = {s: k for k, s in enumerate(STEP_NAMES)}
    for f, tr, te in folds(g):
        if f not in CLEAN_FOR_RULES:
            continue
        flags = {s: list(truth[tr, k]) for s, k in steps_of.items()}
        h9 = train_verdict_head(both[tr], list(y[tr]), {}, steps=flags, calibrate=True)
        h11 = train_verdict_head(v10[tr], list(y[tr]), {}, steps=flags)
        v9[te] = [[p[s] >= h9.threshold(s) for s in STEP_NAMES]
                  for p in h9.step_probabilities(both[te])]
        p11 = h11.step_probabilities(v10[te])
        v10_steps[te] = [[p[s] >= 0.5 for s in STEP_NAMES] for p in p11]
        v11_steps[te] = [[p[s] >= h11.threshold(s) for s in STEP_NAMES] for p in p11]
        if v13 is not None:
            h13 = train_verdict_head(v13[tr], list(y[tr]), {}, steps=flags)
            v13_steps[te] = [[p[s] >= h13.threshold(s) for s in STEP_NAMES]
                             for p in h13.step_probabilities(v13[te])]
    v9[:, steps_of["reflected"]] |= got[:, steps_of["reflected"]]  # v9: rules add these
    models = [got, v9, v10_steps, v11_steps] + ([v13_steps] if v13 is not None else [])
    for title, rows_in in ((SPAN, clean), (HSPAN, np.isin(g, HONEST))):
        print(f"\n| step ({title}, left out in turn; P / R / F1) | phrase rules | v9 | v10 "
              "| v11 (= v12) |" + (" v13 |" if v13 is not None else "") + " support |")
        print("|---" * (len(models) + 2) + "|")
        for k, s in enumerate(STEP_NAMES):
            t = truth[rows_in, k]
            print(f"| {s} | " + " | ".join(_prf(m[rows_in, k], t) for m in models)
                  + f" | {int(t.sum())} |")
    return 0


def _prf(p: np.ndarray, t: np.ndarray) -> str:
    tp = int((p & t).sum())
    prec = tp / int(p.sum()) if p.sum() else 0.0
    rec = tp / int(t.sum()) if t.sum() else 0.0
    return f"{prec:.2f} / {rec:.2f} / {_f1(p, t):.2f}"


def _f1(p: np.ndarray, t: np.ndarray) -> float:
    tp = int((p & t).sum())
    return 2 * tp / (2 * tp + int((p & ~t).sum()) + int((~p & t).sum())) if tp else 0.0


if __name__ == "__main__":
    sys.exit(main())
