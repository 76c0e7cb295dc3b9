"""Training the classifier heads and calibrating the rules from the labelled corpus.

Reproducible: the corpus is read in sorted file order, the embedding model is deterministic
on CPU, and scikit-learn's ``LogisticRegression`` (lbfgs, ``class_weight="balanced"`` so rare
codes are not drowned by negatives) gets a fixed ``random_state``. The manifest records the
corpus sha256, the seed and the library versions, so a re-run can be checked byte for byte.

Splits: heads are fitted on ``train``; Platt scaling and thresholds on ``dev``; rule
precision on ``train`` + ``dev``. ``test`` is never touched here.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from alliance.coding.calibration import (
    expected_calibration_error,
    fit_platt,
    smoothed_precision,
)
from alliance.coding.codebook import FAMILY_ROLE, family_of, load_codebook
from alliance.coding.coder import Coder, TurnAnalysis, rule_vector
from alliance.coding.corpus import Conversation, Corpus
from alliance.coding.embedder import MODEL_SHA256, Embedder
from alliance.coding.features import FEATURE_NAMES
from alliance.coding.heads import HEADS_FORMAT, RULES_FILE, Heads
from alliance.coding.rules import RuleSet, packaged_rules, rule_ids
from alliance.errors import CodingError

DEFAULT_SEED = 20261122
MIN_TRAIN_POSITIVES = 3
REGULARISATION_C = 1.0
_THRESHOLDS = np.round(np.arange(0.10, 0.91, 0.05), 2)


def conversation_inputs(conv: Conversation) -> tuple[list[str], list[str], list[str]]:
    return ([t.speaker for t in conv.turns], [t.role for t in conv.turns],
            [t.text for t in conv.turns])


def embed_conversations(convs: Sequence[Conversation], embedder: Embedder) -> list[np.ndarray]:
    """Embed every turn of every conversation in one batch (duplicates encoded once)."""
    texts = sorted({t.text for c in convs for t in c.turns})
    matrix = embedder.encode(texts)
    row = {t: i for i, t in enumerate(texts)}
    return [matrix[[row[t.text] for t in c.turns]] if c.turns else
            np.zeros((0, matrix.shape[1]), dtype=np.float32) for c in convs]


@dataclass(frozen=True)
class Example:
    """One labelled turn, ready for a head."""

    conversation: str
    split: str
    role: str
    x: np.ndarray
    gold: frozenset[str]
    analysis: TurnAnalysis


def examples(corpus: Corpus, coder: Coder, embeddings: list[np.ndarray]) -> list[Example]:
    """Feature rows of every labelled turn (rule hits and features from ``coder``)."""
    analyses = coder.analyse([conversation_inputs(c) for c in corpus.conversations],
                             embeddings)
    out: list[Example] = []
    for conv, emb, res in zip(corpus.conversations, embeddings, analyses, strict=True):
        for i, gold in sorted(conv.labels.items()):
            a = res[i]
            x = np.concatenate([emb[i], np.array(a.features.vector()),
                                np.array(rule_vector(a.hits, coder.codes))])
            out.append(Example(conv.id, conv.split, conv.turns[i].role, x, frozenset(gold), a))
    return out


def rule_calibration(exs: Sequence[Example]) -> dict[str, dict[str, float]]:
    """Per rule: hits and correct hits on train+dev turns, and smoothed precision."""
    counts = {rid: [0, 0] for rid in rule_ids()}
    for ex in exs:
        if ex.split not in ("train", "dev"):
            continue
        for hit in {(h.rule, h.code) for h in ex.analysis.hits}:
            counts[hit[0]][0] += 1
            counts[hit[0]][1] += int(hit[1] in ex.gold)
    return {rid: {"hits": h, "correct": c, "precision": round(smoothed_precision(h, c), 4)}
            for rid, (h, c) in counts.items()}


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum(y & pred))
    denom = float(np.sum(y) + np.sum(pred))
    return 2 * tp / denom if denom else 0.0


@dataclass
class TrainResult:
    heads: Heads
    rules: dict[str, dict[str, float]]
    dev_ece: float
    skipped: list[str]


def train(corpus: Corpus, embedder: Embedder, *, seed: int = DEFAULT_SEED,
          model_sha256: str = MODEL_SHA256, embeddings: list[np.ndarray] | None = None
          ) -> TrainResult:
    """Fit one head per code (with enough train positives), calibrate on dev."""
    try:
        import sklearn
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise CodingError(f"training needs scikit-learn ({exc})") from None
    book = load_codebook()
    if embeddings is None:
        embeddings = embed_conversations(corpus.conversations, embedder)
    # Rule features use rule identity only (0/1), so the rule priors do not matter here.
    base = Coder(RuleSet(packaged_rules()))
    exs = examples(corpus, base, embeddings)
    rules = rule_calibration(exs)
    precision = {k: v["precision"] for k, v in rules.items()}
    if not any(e.split == "train" for e in exs):
        raise CodingError("the corpus has no train split")
    codes: list[str] = []
    weights, bias, pa, pb, thresholds = [], [], [], [], []
    dev_probs: list[float] = []
    dev_gold: list[int] = []
    skipped: list[str] = []
    per_code: dict[str, Any] = {}
    for code in book.names:
        role = FAMILY_ROLE[family_of(code)]
        tr = [e for e in exs if e.split == "train" and e.role == role]
        dv = [e for e in exs if e.split == "dev" and e.role == role]
        y_tr = np.array([code in e.gold for e in tr])
        if y_tr.sum() < MIN_TRAIN_POSITIVES or y_tr.all():
            skipped.append(code)
            continue
        clf = LogisticRegression(C=REGULARISATION_C, class_weight="balanced", max_iter=5000,
                                 random_state=seed)
        clf.fit(np.stack([e.x for e in tr]), y_tr)
        w, b = clf.coef_[0], float(clf.intercept_[0])
        y_dv = np.array([code in e.gold for e in dv], dtype=bool)
        if len(dv) and 0 < y_dv.sum() < len(dv):
            s_dv = np.stack([e.x for e in dv]) @ w + b
            platt = fit_platt(s_dv, y_dv.astype(int))
            calib_on = "dev"
        else:
            s_tr = np.stack([e.x for e in tr]) @ w + b
            platt = fit_platt(s_tr, y_tr.astype(int))
            calib_on = "train"
        threshold = 0.5
        if len(dv) and y_dv.any():
            head = platt(np.stack([e.x for e in dv]) @ w + b)
            rule = np.array([max([precision.get(h.rule, 0.0) for h in e.analysis.hits
                                  if h.code == code] or [0.0]) for e in dv])
            score = np.maximum(head, rule)
            f1s = [_f1(y_dv, score >= t) for t in _THRESHOLDS]
            best = max(f1s)
            # the highest threshold reaching the best dev F1 (fewer false alarms)
            threshold = float(max(t for t, f in zip(_THRESHOLDS, f1s, strict=True)
                                  if f == best))
            dev_probs.extend(head.tolist())
            dev_gold.extend(y_dv.astype(int).tolist())
        codes.append(code)
        weights.append(w)
        bias.append(b)
        pa.append(platt.a)
        pb.append(platt.b)
        thresholds.append(threshold)
        per_code[code] = {"train_positives": int(y_tr.sum()), "dev_positives": int(y_dv.sum()),
                          "calibrated_on": calib_on, "threshold": threshold,
                          "platt": [round(platt.a, 6), round(platt.b, 6)]}
    dev_ece = expected_calibration_error(dev_probs, dev_gold)
    manifest = {
        "format": HEADS_FORMAT,
        "version": f"{HEADS_FORMAT}+{corpus.data_hash[:12]}",
        "trained_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seed": seed,
        "corpus_sha256": corpus.data_hash,
        "corpus_labelled_turns": {s: corpus.labelled_count(s) for s in ("train", "dev", "test")},
        "model": embedder.name,
        "model_sha256": model_sha256,
        "features": {"embedding": int(embeddings[0].shape[1]) if embeddings else 0,
                     "context": list(FEATURE_NAMES), "rule_hits": list(book.names)},
        "classifier": {"type": "logistic_regression", "C": REGULARISATION_C,
                       "class_weight": "balanced", "solver": "lbfgs"},
        "calibration": "platt on dev split", "dev_ece_heads": round(dev_ece, 4),
        "skipped_codes": skipped, "codes": per_code,
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scikit-learn": sklearn.__version__, **_torch_versions()},
    }
    heads = Heads(tuple(codes), np.array(weights), np.array(bias), np.array(pa), np.array(pb),
                  np.array(thresholds), manifest)
    return TrainResult(heads, rules, dev_ece, skipped)


def _torch_versions() -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        import sentence_transformers
        import torch

        out["torch"] = torch.__version__
        out["sentence-transformers"] = sentence_transformers.__version__
    except ImportError:
        pass
    return out


def save(result: TrainResult, directory: Path) -> None:
    result.heads.save(directory)
    (directory / RULES_FILE).write_text(json.dumps(
        {"format": "alliance.rule-calibration/1", "calibrated_on": "train+dev",
         "corpus_sha256": result.heads.manifest["corpus_sha256"], "rules": result.rules},
        indent=2, sort_keys=True) + "\n", encoding="utf-8")
