"""The coder on ESConv supporter turns: AUROC targets, length correlation, reliability.

ESConv (Liu et al. 2021; CC BY-NC 4.0) is for **evaluation only**: this script reads it from
the path given on the command line, never writes anything derived from it into the project
(the embedding cache lives in /tmp by default), and nothing here is used to train,
calibrate or choose a threshold. The coder is the packaged one (heads trained on the
project's own corpus).

Halves: ``dev`` = conversations at even positions of the file, ``test`` = odd positions.
Design questions were looked at on ``dev`` only; ``all`` is what the targets are stated on.

Figures:

* AUROC of ``bond.reflection`` for Reflection of feelings + Restatement or Paraphrasing, of
  ``bond.affirmation`` for Affirmation and Reassurance, of ``threat.unsolicited_advice`` for
  Providing Suggestions (targets 0.75 / 0.72 / 0.80);
* for every head, |Spearman(score, words)| among the turns of its role that do not carry its
  move (supporter turns for therapist codes, help-seeker turns for client codes; target
  <= 0.3);
* a reliability table (and with ``--plot FILE`` a PNG diagram) of the three target codes on
  the ``dev`` half.

    PYTHONPATH=src python benchmarks/external_dev_eval.py /path/to/q-esconv.json
    PYTHONPATH=src python benchmarks/external_dev_eval.py PATH --plot /tmp/dev-reliability.png
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from alliance.coding import external as ext
from alliance.coding.codebook import load_codebook
from alliance.coding.coder import load_coder
from alliance.coding.embedder import EmbeddingCache
from alliance.coding.features import word_count

TARGETS = {"bond.reflection": 0.75, "bond.affirmation": 0.72,
           "threat.unsolicited_advice": 0.80}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("path", help="ESConv JSON (q-esconv.json)")
    ap.add_argument("--heads", help="heads folder (default: packaged)")
    ap.add_argument("--cache", default="/tmp/alliance-esconv-embeddings.npz",
                    help="embedding cache file (outside the project)")
    ap.add_argument("--plot", help="write a reliability diagram PNG (dev half) here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    book = load_codebook()
    data = ext.read_external(args.path, "esconv")
    lmap = ext.parse_label_map(None, "esconv")
    coder = load_coder(heads_dir=args.heads)
    assert coder.embedder is not None
    cache = EmbeddingCache(coder.embedder, args.cache)
    t0 = time.perf_counter()
    results = coder.analyse(data.conversations, cache.encode)
    cache.save()
    elapsed = time.perf_counter() - t0

    rows = []  # (half, role, words, gold codes, scores, answers a request for advice)
    for k, ((_, roles, texts), labels, res) in enumerate(
            zip(data.conversations, data.labels, results, strict=True)):
        half = "dev" if k % 2 == 0 else "test"
        for i, role in enumerate(roles):
            lab = labels[i]
            gold = frozenset(c for label in (lab or ()) for c in lmap.get(label, ()))
            if role == "therapist" and lab is None:
                continue  # an unlabelled supporter turn: cannot say what move it is
            rows.append((half, role, word_count(texts[i]), gold, res[i].scores,
                         res[i].features.advice_requested))

    out: dict[str, object] = {"conversations": len(data.conversations),
                              "coding_seconds": round(elapsed, 1)}
    for half in ("all", "dev", "test"):
        sel = [r for r in rows if half == "all" or r[0] == half]
        aucs = {}
        for code in TARGETS:
            s = [r[4].get(code, 0.0) for r in sel if r[1] == "therapist"]
            y = [int(code in r[3]) for r in sel if r[1] == "therapist"]
            aucs[code] = ext.auroc(s, y)
        out[f"auroc_{half}"] = aucs
        # the code is *unsolicited* advice: ESConv's label does not tell requested from not
        unasked = [r for r in sel if r[1] == "therapist" and not r[5]]
        out[f"auroc_unrequested_{half}"] = ext.auroc(
            [r[4].get(ext.UNSOLICITED, 0.0) for r in unasked],
            [int(ext.UNSOLICITED in r[3]) for r in unasked])
    out["suggestions_answering_request"] = sum(
        1 for r in rows if r[1] == "therapist" and r[5] and ext.UNSOLICITED in r[3])
    rho: dict[str, float | None] = {}
    for code in book.names:
        role = book.codes[code].role
        neg = [r for r in rows if r[1] == role and code not in r[3]]
        value = ext.spearman([r[4].get(code, 0.0) for r in neg], [r[2] for r in neg])
        rho[code] = None if value is None else round(value, 3)
    out["spearman_words_negatives"] = rho
    out["supporter_turns"] = sum(1 for r in rows if r[1] == "therapist")
    dev = [r for r in rows if r[0] == "dev" and r[1] == "therapist"]
    probs = [r[4].get(c, 0.0) for r in dev for c in TARGETS]
    gold = [int(c in r[3]) for r in dev for c in TARGETS]
    out["reliability_dev"] = ext.calibration_table(probs, gold)
    per_code_dev = {}
    for c in TARGETS:
        p = [r[4].get(c, 0.0) for r in dev]
        y = [int(c in r[3]) for r in dev]
        thr = coder.threshold(c)
        fired = [yy for pp, yy in zip(p, y, strict=True) if pp >= thr]
        per_code_dev[c] = {"threshold": thr, "assigned": len(fired),
                           "precision": round(float(np.mean(fired)), 3) if fired else None,
                           "mean_confidence_assigned": round(float(np.mean(
                               [pp for pp in p if pp >= thr])), 3) if fired else None,
                           "expected_positives": round(float(np.sum(p)), 1),
                           "positives": int(np.sum(y))}
    out["at_threshold_dev"] = per_code_dev
    if args.plot:
        _plot(out["reliability_dev"], Path(args.plot))  # type: ignore[arg-type]
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"ESConv: {out['conversations']} conversations, {out['supporter_turns']} labelled "
          f"supporter turns, coded in {elapsed:.0f} s")
    print(f"{'AUROC':28} {'all':>6} {'dev':>6} {'test':>6} {'target':>7}")
    for code, target in TARGETS.items():
        vals = [out[f"auroc_{h}"][code] for h in ("all", "dev", "test")]  # type: ignore[index]
        print(f"{code:28} " + " ".join(f"{v:6.3f}" if v is not None else "     -"
                                       for v in vals) + f" {target:7.2f}")
    vals = [out[f"auroc_unrequested_{h}"] for h in ("all", "dev", "test")]
    print(f"{'  the same, unrequested turns':28} " + " ".join(
        f"{v:6.3f}" if v is not None else "     -" for v in vals)  # type: ignore[str-format]
          + f"   ({out['suggestions_answering_request']} labelled suggestions answer a "
          "request for advice; the code is unsolicited advice)")
    print("\n|Spearman(score, words)| among turns without the head's move (target <= 0.3)")
    worst = sorted(((abs(v), c) for c, v in rho.items() if v is not None), reverse=True)
    for v, c in worst:
        print(f"  {c:36} {v:.3f}{'  OVER' if v > 0.3 else ''}")
    print("\nreliability, dev half, three target codes pooled")
    print(f"{'bin':10} {'pairs':>6} {'mean score':>10} {'observed':>9}")
    for row in out["reliability_dev"]:  # type: ignore[attr-defined]
        ms = "-" if row["mean_score"] is None else f"{row['mean_score']:.3f}"
        ob = "-" if row["observed"] is None else f"{row['observed']:.3f}"
        print(f"{row['bin']:10} {row['pairs']:>6} {ms:>10} {ob:>9}")
    print("\nat the decision threshold, dev half")
    for c, v in per_code_dev.items():
        print(f"  {c:28} {v}")
    return 0


def _plot(table: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["mean_score"] for r in table if r["pairs"]]
    ys = [r["observed"] for r in table if r["pairs"]]
    ns = [r["pairs"] for r in table if r["pairs"]]
    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=110)
    ax.plot([0, 1], [0, 1], color="#9ca3af", lw=1, label="perfect calibration")
    ax.plot(xs, ys, marker="o", color="#0e7490", label="coder (3 target codes)")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set_xlabel("stated confidence (bin mean)")
    ax.set_ylabel("observed rate of the ESConv strategy")
    ax.set_title("Reliability on ESConv dev half", fontsize=10)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)


if __name__ == "__main__":
    sys.exit(main())
