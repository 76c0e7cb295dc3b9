"""Training the classifier heads and calibrating the rules from the labelled corpus.

Reproducible: the corpus is read in sorted file order, the embedding model is deterministic
on CPU, and scikit-learn's ``LogisticRegression`` (lbfgs, ``class_weight="balanced"`` so rare
codes are not drowned by negatives) gets a fixed ``random_state``. The manifest records the
corpus sha256, the seed and the library versions, so a re-run can be checked byte for byte.

Splits: heads, their Platt scaling and thresholds come from ``train`` + ``dev`` pooled,
with grouped cross-validation (see :func:`train`); rule precision from ``train`` + ``dev``.
``test`` is never touched here.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alliance.coding.calibration import (
    expected_calibration_error,
    fit_platt,
    shrunk_precision,
    smoothed_precision,
)
from alliance.coding.codebook import FAMILY_ROLE, family_of, load_codebook
from alliance.coding.coder import (
    CALIBRATION_NOTE,
    PREVIOUS_TURN_DEFAULT,
    Coder,
    EncodeFn,
    TurnAnalysis,
)
from alliance.coding.corpus import Conversation, Corpus
from alliance.coding.embedder import MODEL_SHA256, Embedder
from alliance.coding.features import FEATURE_NAMES, word_count
from alliance.coding.heads import HEADS_FORMAT, RULES_FILE, Heads
from alliance.coding.length import length_directions
from alliance.coding.rules import RuleSet, packaged_rules, rule_ids
from alliance.errors import CodingError
from alliance.transcripts.speech import normalise_speech, reading_units, unit_text

DEFAULT_SEED = 20261122
MIN_TRAIN_POSITIVES = 3
#: v2 shifts the grid toward stronger regularisation (v1: 0.5, 2, 8): on the ESConv dev half
#: the bond heads generalised better with smaller C; cross-validation on the corpus still
#: picks each head's C from the grid.
C_GRID = (0.1, 0.5, 2.0)
#: Feed the heads the embedding of the turn being answered as well (see coder.head_inputs).
PREVIOUS_TURN = PREVIOUS_TURN_DEFAULT
FOLDS = 5
#: Codes decided by their rules alone. Brevity is what defines a minimal response, and a
#: head on embeddings would learn "short turn" from it; v2 lecturing is moralising, which
#: its phrases carry, and its head scored more the longer an ESConv supporter turn was
#: (|Spearman| 0.36-0.39 on the dev half) (issue 10: no length shortcut).
RULES_ONLY_CODES = ("withdrawal.minimal_response", "threat.lecturing")
LENGTH_BINS = 10
#: Context features a head does not read (their column is zeroed in training, so the head's
#: weight for them is 0). ``continuity`` (overlap with the turn answered) grows with turn
#: length, and a rejection is said in its words ("no, that's not it", "yes, but"), not in
#: how much it echoes the intervention: on ESConv help-seeker turns this head's score rose
#: with length (|Spearman| 0.31, issue 10's limit is 0.3), about a quarter of it through
#: continuity.
DROPPED_FEATURES = {"confrontation.reject_intervention": ("continuity",)}
#: Platt scaling is fitted on the out-of-fold logits of the rows from whole sessions (the
#: corpus's held-out material most like real sessions: long, mixed, speech-style turns),
#: not on the snippets, which are cleaner examples written for one code each and make a
#: head look surer than it is on real speech (issue 10: honest confidence). A code with
#: fewer than this many positives in the sessions is calibrated on all rows.
MIN_SESSION_POSITIVES = 15


def length_matched_weights(words: np.ndarray, y: np.ndarray, bins: int = LENGTH_BINS,
                           smooth: float = 0.02) -> np.ndarray:
    """Sample weights that give the negatives the positives' length distribution.

    Rows are put in ``bins`` quantile bins of log(1 + words); a negative in bin b weighs
    (share of positives in b + smooth) / (share of negatives in b + smooth), and the
    negatives' weights are rescaled to sum to their count. A head then cannot separate
    its positives from the negatives by length, only by what is said (issue 10: no length
    shortcut). Positives weigh 1.

    >>> w = length_matched_weights(np.array([2, 2, 30, 30]), np.array([0, 0, 1, 0]), bins=2)
    >>> [round(float(v), 2) for v in w]
    [0.03, 0.03, 1.0, 2.94]
    """
    lw = np.log1p(np.asarray(words, dtype=float))
    yb = np.asarray(y, dtype=bool)
    edges = np.quantile(lw, np.linspace(0, 1, bins + 1)[1:-1])
    which = np.digitize(lw, edges)
    weights = np.ones(len(yb))
    npos, nneg = max(int(yb.sum()), 1), max(int((~yb).sum()), 1)
    for b in range(bins):
        m = which == b
        pos = float((m & yb).sum()) / npos
        neg = float((m & ~yb).sum()) / nneg
        if neg > 0:
            weights[m & ~yb] = (pos + smooth) / (neg + smooth)
    if (~yb).any():
        weights[~yb] *= float((~yb).sum()) / float(weights[~yb].sum())
    return weights
_THRESHOLDS = np.round(np.arange(0.10, 0.91, 0.05), 2)


def conversation_inputs(conv: Conversation) -> tuple[list[str], list[str], list[str]]:
    return ([t.speaker for t in conv.turns], [t.role for t in conv.turns],
            [t.text for t in conv.turns])


@dataclass(frozen=True)
class Example:
    """One labelled turn, ready for a head."""

    conversation: str
    split: str
    role: str
    x: np.ndarray
    gold: frozenset[str]
    analysis: TurnAnalysis


def unit_texts(convs: Sequence[Conversation]) -> list[str]:
    """The distinct normalised texts of the turns read on their own (what the heads read)."""
    out: dict[str, None] = {}
    for conv in convs:
        speakers, _, texts = conversation_inputs(conv)
        for u in reading_units(speakers, texts):
            if u.coded:
                out[normalise_speech(unit_text(u, texts)).text] = None
    return list(out)


def unit_gold(conv: Conversation, a: TurnAnalysis, i: int) -> frozenset[str] | None:
    """The gold codes a coded turn answers for, or ``None`` when it is not read on its own.

    A joined continuation's codes count for the turn it continues (its unit's head);
    listener tokens and crosstalk fragments are scored as turns with no code.
    """
    if not a.head:
        return None
    members = a.unit.indices if a.unit is not None else (i,)
    return frozenset(c for j in members for c in conv.labels.get(j, ()))


def examples(corpus: Corpus, coder: Coder, encode: EncodeFn) -> list[Example]:
    """Head input rows of every labelled turn read on its own (features from ``coder``).

    Listener tokens and crosstalk fragments are left out: the coder never codes them.
    """
    analyses = coder.analyse([conversation_inputs(c) for c in corpus.conversations],
                             encode, inputs=True)
    out: list[Example] = []
    for conv, res in zip(corpus.conversations, analyses, strict=True):
        for i in sorted(conv.labels):
            a = res[i]
            gold = unit_gold(conv, a, i)
            if gold is None or a.x is None or (a.unit is not None and not a.unit.coded):
                continue
            out.append(Example(conv.id, conv.split, conv.turns[i].role, a.x, gold, a))
    return out


#: Pseudo-hits with which a rule's all-row precision weighs against its session precision.
RULE_PRIOR_STRENGTH = 4.0


def rule_calibration(exs: Sequence[Example],
                     sessions: frozenset[str] = frozenset()) -> dict[str, dict[str, float]]:
    """Per rule: hits and correct hits on train+dev turns, and its confidence.

    The confidence is the rule's precision on the turns of whole sessions (``sessions``:
    their conversation ids), shrunk toward its Laplace-smoothed precision on all rows with
    :data:`RULE_PRIOR_STRENGTH` pseudo-hits. Snippets are written to show one code each,
    so a rule is right far more often there (advice.try: 114 of 123 snippet hits, 1 of 8
    session hits) than in a session, let alone in real speech (issue 10: honest
    confidence). Without session ids this is the all-row smoothed precision.
    """
    counts = {rid: [0, 0, 0, 0] for rid in rule_ids()}
    for ex in exs:
        if ex.split not in ("train", "dev"):
            continue
        for hit in {(h.rule, h.code) for h in ex.analysis.hits}:
            ok = int(hit[1] in ex.gold)
            row = counts[hit[0]]
            row[0] += 1
            row[1] += ok
            if ex.conversation in sessions:
                row[2] += 1
                row[3] += ok
    out: dict[str, dict[str, float]] = {}
    for rid, (h, c, sh, sc) in counts.items():
        pooled = smoothed_precision(h, c)
        out[rid] = {"hits": h, "correct": c, "session_hits": sh, "session_correct": sc,
                    "precision": round(shrunk_precision(sh, sc, pooled, RULE_PRIOR_STRENGTH)
                                       if sessions else pooled, 4)}
    return out


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float(np.sum(y & pred))
    denom = float(np.sum(y) + np.sum(pred))
    return 2 * tp / denom if denom else 0.0


@dataclass
class TrainResult:
    heads: Heads
    rules: dict[str, dict[str, float]]
    cv_ece: float
    skipped: list[str]


def _group_folds(groups: Sequence[str], k: int, seed: int) -> list[np.ndarray]:
    """Fold number per row, whole groups (a session, a snippet group) kept together."""
    unique = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(unique))
    fold_of = {unique[j]: int(i % k) for i, j in enumerate(order)}
    folds = np.array([fold_of[g] for g in groups])
    return [folds == f for f in range(k)]


def _best_threshold(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """The highest threshold reaching the best F1 (fewer false alarms), and that F1."""
    f1s = [_f1(y, score >= t) for t in _THRESHOLDS]
    best = max(f1s)
    return float(max(t for t, f in zip(_THRESHOLDS, f1s, strict=True) if f == best)), best


def train(corpus: Corpus, embedder: Embedder, *, seed: int = DEFAULT_SEED,
          model_sha256: str = MODEL_SHA256, encode: EncodeFn | None = None) -> TrainResult:
    """Fit one head per code on train + dev; C, Platt and threshold by grouped CV.

    For each code and each C in :data:`C_GRID`, :data:`FOLDS`-fold cross-validation over
    train + dev (folds keep a session or snippet group together, so no context leaks
    across folds) gives out-of-fold logits; Platt scaling is fitted on them and the
    threshold chosen on the out-of-fold score ``max(head, rule precision)`` to maximise
    F1. The C with the best out-of-fold F1 wins; the final head is refitted on all of
    train + dev. The test split is never used.
    """
    try:
        import sklearn
        from sklearn.linear_model import LogisticRegression
    except ImportError as exc:
        raise CodingError(f"training needs scikit-learn ({exc})") from None
    book = load_codebook()
    encode = encode or embedder.encode
    texts = unit_texts([c for c in corpus.conversations if c.split in ("train", "dev")])
    directions, length_r2 = length_directions(encode(texts), [word_count(t) for t in texts],
                                              seed=seed)
    # Rule features use rule identity only (0/1), so the rule priors do not matter here.
    base = Coder(RuleSet(packaged_rules()), length_directions=directions)
    exs = examples(corpus, base, encode)
    if not exs:
        raise CodingError("the corpus has no labelled turns to train on")
    rules = rule_calibration(exs, frozenset(c.id for c in corpus.conversations
                                            if c.kind == "session"))
    precision = {k: v["precision"] for k, v in rules.items()}
    group_of = {c.id: c.group or c.id for c in corpus.conversations}
    kind_of = {c.id: c.kind for c in corpus.conversations}
    pool = [e for e in exs if e.split in ("train", "dev")]
    embedding_size = int(embedder.dimension) * (2 if PREVIOUS_TURN else 1)
    if not any(e.split == "train" for e in pool):
        raise CodingError("the corpus has no train split")
    codes: list[str] = []
    weights, bias, pa, pb, thresholds = [], [], [], [], []
    oof_probs: list[float] = []
    oof_gold: list[int] = []
    skipped: list[str] = []
    per_code: dict[str, Any] = {}
    for code in book.names:
        role = FAMILY_ROLE[family_of(code)]
        rows = [e for e in pool if e.role == role]
        y = np.array([code in e.gold for e in rows])
        if code in RULES_ONLY_CODES or y.sum() < MIN_TRAIN_POSITIVES or y.all():
            skipped.append(code)
            continue
        x = np.stack([e.x for e in rows])
        for name in DROPPED_FEATURES.get(code, ()):
            x[:, embedding_size + FEATURE_NAMES.index(name)] = 0.0
        sample_weight = length_matched_weights(
            np.array([e.analysis.features.words for e in rows]), y)
        rule = np.array([max([precision.get(h.rule, 0.0) for h in e.analysis.hits
                              if h.code == code] or [0.0]) for e in rows])
        folds = _group_folds([group_of[e.conversation] for e in rows], FOLDS, seed)
        best: tuple[float, float, Any, float, np.ndarray] | None = None
        # Out-of-fold logits for every C; per fold the C values are fitted in increasing
        # order from the previous solution (warm start: same optimum, far fewer iterations).
        oofs = {c: np.zeros(len(rows)) for c in C_GRID}
        for test_mask in folds:
            fit_mask = ~test_mask
            if not test_mask.any() or y[fit_mask].all() or not y[fit_mask].any():
                continue
            clf = LogisticRegression(C=C_GRID[0], class_weight="balanced", max_iter=5000,
                                     random_state=seed, warm_start=True)
            for c_value in C_GRID:
                clf.set_params(C=c_value)
                clf.fit(x[fit_mask], y[fit_mask], sample_weight=sample_weight[fit_mask])
                oofs[c_value][test_mask] = clf.decision_function(x[test_mask])
        in_sessions = np.array([kind_of[e.conversation] == "session" for e in rows])
        cal = in_sessions if int(y[in_sessions].sum()) >= MIN_SESSION_POSITIVES else \
            np.ones(len(rows), dtype=bool)
        for c_value in C_GRID:
            oof = oofs[c_value]
            platt = fit_platt(oof[cal], y[cal].astype(int))
            head = platt(oof)
            threshold, f1 = _best_threshold(y, np.maximum(head, rule))
            if best is None or f1 > best[1] + 1e-9:
                best = (c_value, f1, platt, threshold, head)
        assert best is not None
        c_value, f1, platt, threshold, head = best
        clf = LogisticRegression(C=c_value, class_weight="balanced", max_iter=5000,
                                 random_state=seed)
        clf.fit(x, y, sample_weight=sample_weight)
        oof_probs.extend(head.tolist())
        oof_gold.extend(y.astype(int).tolist())
        codes.append(code)
        weights.append(clf.coef_[0])
        bias.append(float(clf.intercept_[0]))
        pa.append(platt.a)
        pb.append(platt.b)
        thresholds.append(threshold)
        per_code[code] = {"positives": int(y.sum()), "rows": len(rows), "C": c_value,
                          "cv_f1": round(f1, 4), "threshold": threshold,
                          "calibrated_on": "sessions" if not cal.all() else "all rows",
                          "dropped_features": list(DROPPED_FEATURES.get(code, ())),
                          "platt": [round(platt.a, 6), round(platt.b, 6)]}
    cv_ece = expected_calibration_error(oof_probs, oof_gold)
    manifest = {
        "format": HEADS_FORMAT,
        "version": f"{HEADS_FORMAT}+{corpus.data_hash[:12]}",
        "seed": seed,
        "corpus_sha256": corpus.data_hash,
        "corpus_labelled_turns": {s: corpus.labelled_count(s) for s in ("train", "dev", "test")},
        "trained_on": ["train", "dev"],
        "model": embedder.name,
        "model_sha256": model_sha256,
        "encoder": getattr(embedder, "runtime", type(embedder).__name__),
        "length": {"directions_removed": len(directions),
                   "heldout_r2_log_words": {"before": length_r2[0], "after": length_r2[-1]},
                   "method": "iterated nullspace projection of ridge regressions of "
                             "log(1 + words) on train+dev unit embeddings"},
        "rules_only_codes": list(RULES_ONLY_CODES),
        "features": {"embedding": int(embedder.dimension),
                     "previous_turn_embedding": PREVIOUS_TURN,
                     "context": list(FEATURE_NAMES), "rule_hits": list(book.names)},
        "classifier": {"type": "logistic_regression", "C_grid": list(C_GRID),
                       "class_weight": "balanced", "solver": "lbfgs", "folds": FOLDS,
                       "sample_weight": f"length-matched negatives ({LENGTH_BINS} bins)"},
        "calibration": "platt on out-of-fold logits (grouped CV over train+dev)",
        "calibration_data": CALIBRATION_NOTE,
        "cv_ece_heads": round(cv_ece, 4),
        "cv_macro_f1": round(float(np.mean([v["cv_f1"] for v in per_code.values()])), 4)
        if per_code else None,
        "skipped_codes": skipped, "codes": per_code,
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scikit-learn": sklearn.__version__, **_encoder_versions()},
    }
    heads = Heads(tuple(codes), np.array(weights), np.array(bias), np.array(pa), np.array(pb),
                  np.array(thresholds), manifest, directions.astype(np.float32))
    return TrainResult(heads, rules, cv_ece, skipped)


def _encoder_versions() -> dict[str, str]:
    """Versions of the encoder libraries already loaded (never imports torch for this)."""
    import sys

    out: dict[str, str] = {}
    for module, label in (("onnxruntime", "onnxruntime"), ("torch", "torch"),
                          ("sentence_transformers", "sentence-transformers")):
        loaded = sys.modules.get(module)
        if loaded is not None:
            out[label] = str(getattr(loaded, "__version__", "unknown"))
    return out


def save(result: TrainResult, directory: Path) -> None:
    result.heads.save(directory)
    (directory / RULES_FILE).write_text(json.dumps(
        {"format": "alliance.rule-calibration/1",
         "calibrated_on": "train+dev; precision on the whole sessions, shrunk toward "
                          f"all rows with {RULE_PRIOR_STRENGTH:g} pseudo-hits",
         "corpus_sha256": result.heads.manifest["corpus_sha256"], "rules": result.rules},
        indent=2, sort_keys=True) + "\n", encoding="utf-8")
