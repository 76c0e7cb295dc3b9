"""The verdict head and the step heads: logistic regressions on sentence embeddings.

The phrase detectors of :mod:`alliance.training.steps` recognise the wording they were
built from but not new wording (see ``docs/training.md``). When the embedding model is
available, the verdict and the six repair steps come from these heads (see
:mod:`alliance.training.feedback`).

Features (:func:`head_features`): the all-MiniLM-L6-v2 embedding of the whole response,
followed by the element-wise maximum of the embeddings of its sentences (scorer v8: a harm
carried by one sentence, "... you're just being lazy.", is diluted in the whole-response
embedding but keeps its direction in the sentence maximum), followed (scorer v10,
``features: embedding+sentence-max+phrase-rules``) by what the phrase detectors found,
scaled by :data:`RULE_WEIGHT` (:func:`phrase_rule_features`: the six steps, the four harms
and the verdict the guide's rules give from them, each 0 or 1). The small weight keeps the
flags from dominating: they are near perfect on the text the rules were written on and
much weaker on new text, and in exploratory cross-validation a larger weight
(0.2-0.5) lost 0.05-0.08 on the sets the rules never saw (``benchmarks/scorer_cv.py``).
The flags come from the phrase detectors alone, not from the transcript coder's codes, so
they are the same whichever coder scores the response. Scorer v13 (``features: ...+coder``)
adds the hybrid transcript coder's calibrated per-code scores (:func:`coder_features`: the
response read as the therapist turn answering the client line, then the maximum over its
sentences), scaled by :data:`CODER_WEIGHT`; those heads need the hybrid coder. Heads saved
with ``features: embedding``, ``embedding+sentence-max`` (v7-v9) or ``...+phrase-rules``
(v10-v12) are still read.

* the **verdict head**: a multinomial logistic regression (scikit-learn,
  ``class_weight="balanced"``, C = 3);
* the **step heads**: one binary logistic regression per step (same settings). Scorer v9
  picked a threshold per step (:func:`calibrated_threshold`, ``calibrate=True``); with the
  phrase-rule features that calibration is biased (out-of-fold probabilities on the text
  the rules were written on are too sure), and at 0.5 the v10 step heads did as well or
  better in cross-validation, so v10 is trained with ``calibrate=False`` (0.5); v11 keeps
  0.5 except for ``invited`` (:data:`STEP_THRESHOLDS`).

They are trained on development responses only: every labelled response that has been
measured (all of ``responses.yaml`` and fresh sets 1-9 since v10, 1-10 since v11, 1-11
since v12, 1-12 since v13), never
the newest fresh set. Inference is NumPy only: ``softmax(x @ coef.T + intercept)`` and
``sigmoid(x @ step_coef.T + step_intercept)``.

Everything is packaged as ``verdict-head.npz`` with its manifest (classes, model name,
features, training sets and size); ``alliance practice train-head`` rebuilds it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from alliance.errors import TrainingError

HEAD_FILE = "verdict-head.npz"
C = 3.0
V12_FEATURES = "embedding+sentence-max+phrase-rules"
FEATURES = V12_FEATURES + "+coder"  # scorer v13
FEATURE_KINDS = ("embedding", "embedding+sentence-max", V12_FEATURES, FEATURES)
RULE_WEIGHT = 0.1  # scale of the 0/1 phrase-rule flags; chosen by cross-validation (v10)
# scorer v13: scale of the transcript coder's calibrated per-code scores (0-1), for the whole
# response and the maximum over its sentences; 0.2 / 0.3 / 0.5 gave the same within one
# response per fold over fresh10-12 (benchmarks/scorer_cv.py)
CODER_WEIGHT = 0.3
# (v12: the two harm flags at 0.3 instead lost 0.015 on the fresh5-10 folds)
# development data the packaged heads are trained on (scorer v14 = v13's design on more
# varied text): all of responses.yaml (both splits: the held-out part had been measured at
# every version) and the fresh sets measured so far (fresh13-15: fifteen further trainee
# voices by three separate writers); the next fresh sets are the clean tests written after
# this version froze
# (scorer v15 adds fresh16-17, the clean tests of v14, measured once)
TRAIN_SETS = ("fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7", "fresh8",
              "fresh9", "fresh10", "fresh11", "fresh12", "fresh13", "fresh14", "fresh15",
              "fresh16", "fresh17")
MAIN_SPLITS = ("dev", "heldout")  # the parts of responses.yaml the heads are trained on
# scorer v11: the step heads' decision thresholds (0.5 unless listed). Raising invited's to
# 0.6 cut closed check-ins and rhetorical questions (precision 0.71 -> 0.79, F1 0.81 -> 0.85
# over the fresh5-10 folds); higher thresholds lost F1 on the other steps.
STEP_THRESHOLDS = {"invited": 0.6}
THRESHOLDS = tuple(round(0.2 + 0.05 * i, 2) for i in range(15))  # 0.20 ... 0.90


def phrase_rule_features(texts: Sequence[str],
                         clients: Sequence[str | None] | None = None) -> np.ndarray:
    """Per response, what the phrase detectors found, as 0/1 flags (unscaled).

    Columns: the six steps (:data:`~alliance.training.steps.STEP_NAMES`), the four harms
    (:data:`~alliance.training.steps.HARM_NAMES`), then the verdict the guide's rules give
    from them, one-hot over :data:`~alliance.training.verdicts.VERDICTS`.

    >>> phrase_rule_features(["I pushed too hard. What was it like for you?"]).tolist()[0]
    [1.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    """
    from alliance.training.steps import HARM_NAMES, STEP_NAMES
    from alliance.training.verdicts import VERDICTS, phrase_findings, verdict_for

    cl = list(clients) if clients is not None else [None] * len(texts)
    if len(cl) != len(texts):
        raise TrainingError("phrase-rule features need one client line (or None) per response")
    rows = []
    for text, client in zip(texts, cl, strict=True):
        steps, harms = phrase_findings(text, client)
        verdict, _ = verdict_for(steps, harms)
        rows.append([float(steps[s]) for s in STEP_NAMES]
                    + [float(harms[h]) for h in HARM_NAMES]
                    + [float(verdict == v) for v in VERDICTS])
    return np.array(rows, dtype=np.float64).reshape(len(rows), 15)


def coder_codes(coder: Any) -> tuple[str, ...]:
    """The therapist codes the coder scores, in codebook order."""
    from alliance.coding.codebook import FAMILY_ROLE, family_of

    return tuple(c for c in coder.codes if FAMILY_ROLE[family_of(c)] == "therapist")


def coder_features(coder: Any, texts: Sequence[str],
                   clients: Sequence[str | None] | None = None,
                   codes: Sequence[str] | None = None,
                   known: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Per response, the hybrid coder's score for each of ``codes`` (unscaled, 0-1).

    Columns: the scores of the response read as the therapist turn answering its client
    line, then the maximum over its sentences, each read the same way (a harm carried by one
    sentence). ``codes`` defaults to :func:`coder_codes`; a code the coder does not score is
    0. ``known`` (text -> embedding) spares encoding texts already encoded. Needs the hybrid
    coder (its classifier heads): the rules coder's scores are rule confidences only.
    """
    from alliance.training.steps import sentences

    if getattr(coder, "heads", None) is None or getattr(coder, "embedder", None) is None:
        raise TrainingError("the v13 heads read the hybrid coder's scores; this coder has "
                            "no classifier heads")
    names = tuple(codes) if codes is not None else coder_codes(coder)
    cl = list(clients) if clients is not None else [None] * len(texts)
    if len(cl) != len(texts):
        raise TrainingError("coder features need one client line (or None) per response")
    units = [[t, *(sentences(t) or [t])] for t in texts]
    conversations = []
    for parts, client in zip(units, cl, strict=True):
        for part in parts:
            conversations.append((["C", "T"], ["client", "therapist"], [client, part])
                                 if client else (["T"], ["therapist"], [part]))
    memo = dict(known or {})

    def encode(batch: Sequence[str]) -> np.ndarray:
        missing = [t for t in batch if t not in memo]
        if missing:
            memo.update(zip(missing, np.asarray(coder.embedder.encode(missing)), strict=True))
        return np.stack([memo[t] for t in batch])

    analysed = coder.analyse(conversations, encode)
    scores = np.array([[float(a[-1].scores.get(n, 0.0)) for n in names] for a in analysed])
    scores = scores.reshape(len(analysed), len(names))
    out, i = [], 0
    for parts in units:
        out.append(np.concatenate([scores[i], scores[i + 1:i + len(parts)].max(axis=0)]))
        i += len(parts)
    return np.array(out, dtype=np.float64).reshape(len(texts), 2 * len(names))


def head_features(embedder: Any, texts: Sequence[str], features: str = FEATURES,
                  clients: Sequence[str | None] | None = None, coder: Any = None,
                  codes: Sequence[str] | None = None) -> np.ndarray:
    """The feature rows for ``texts`` (answering ``clients``): see the module docstring.

    ``coder`` (the hybrid coder) and ``codes`` (the head's ``coder_codes``) are needed for
    the v13 features only."""
    from alliance.training.steps import sentences

    if features not in FEATURE_KINDS:
        raise TrainingError(f"unknown head features {features!r}")
    parts = [sentences(t) or [t] for t in texts]
    flat = [s for p in parts for s in p]
    if features == "embedding":
        return np.asarray(embedder.encode(list(texts)), dtype=np.float64)
    # one batch for the responses and their sentences (a one-sentence response once) and,
    # for the coder's reading, the client lines they answer
    lines = [c for c in (clients or ()) if c] if features == FEATURES else []
    unique = list(dict.fromkeys([*texts, *flat, *lines]))
    vectors = np.asarray(embedder.encode(unique))
    known = dict(zip(unique, vectors, strict=True))
    whole = np.stack([known[t] for t in texts]).astype(np.float64)
    emb = np.stack([known[t] for t in flat]).astype(np.float64)
    out, i = [], 0
    for p in parts:
        out.append(emb[i:i + len(p)].max(axis=0))
        i += len(p)
    joined = np.hstack([whole, np.vstack(out)])
    if features in (V12_FEATURES, FEATURES):
        joined = np.hstack([joined, RULE_WEIGHT * phrase_rule_features(texts, clients)])
    if features == FEATURES:
        if coder is None:
            raise TrainingError("the v13 heads read the hybrid coder's scores; no coder given")
        joined = np.hstack([joined, CODER_WEIGHT * coder_features(coder, texts, clients,
                                                                  codes, known)])
    return joined


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return out


@dataclass(frozen=True)
class VerdictHead:
    classes: tuple[str, ...]
    coef: np.ndarray  # (classes, dimension)
    intercept: np.ndarray  # (classes,)
    manifest: dict[str, Any]
    steps: tuple[str, ...] = ()
    step_coef: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    step_intercept: np.ndarray = field(default_factory=lambda: np.zeros(0))
    step_threshold: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def threshold(self, step: str) -> float:
        """The decision threshold of ``step``'s head (0.5 for heads saved without one)."""
        i = self.steps.index(step)
        return float(self.step_threshold[i]) if len(self.step_threshold) == len(self.steps) \
            else 0.5

    @property
    def model(self) -> str:
        return str(self.manifest.get("model", ""))

    @property
    def features(self) -> str:
        return str(self.manifest.get("features", "embedding"))

    @property
    def coder_codes(self) -> tuple[str, ...]:
        """The coder codes whose scores the head reads (v13), in feature order."""
        return tuple(self.manifest.get("coder_codes", ()))

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if x.shape[1] != self.coef.shape[1]:
            raise TrainingError(f"the verdict head expects {self.coef.shape[1]}-dimensional "
                                f"features, got {x.shape[1]}")
        return x

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        x = self._check(x)
        return _softmax(x @ self.coef.T + self.intercept)

    def predict(self, x: np.ndarray) -> list[tuple[str, float]]:
        """The most probable verdict and its probability, per row."""
        p = self.probabilities(x)
        idx = p.argmax(axis=1)
        return [(self.classes[i], float(p[r, i])) for r, i in enumerate(idx)]

    def step_probabilities(self, x: np.ndarray) -> list[dict[str, float]]:
        """Per row, each step's probability (empty when the head has no step heads)."""
        x = self._check(x)
        if not self.steps:
            return [{} for _ in range(x.shape[0])]
        p = 1.0 / (1.0 + np.exp(-(x @ self.step_coef.T + self.step_intercept)))
        return [dict(zip(self.steps, map(float, row), strict=True)) for row in p]

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, coef=self.coef.astype(np.float32),
                            intercept=self.intercept.astype(np.float32),
                            classes=np.array(self.classes),
                            steps=np.array(self.steps, dtype=str),
                            step_coef=self.step_coef.astype(np.float32),
                            step_intercept=self.step_intercept.astype(np.float32),
                            step_threshold=self.step_threshold.astype(np.float32),
                            manifest=np.array(json.dumps(self.manifest, sort_keys=True)))


def _classifier() -> Any:
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise TrainingError("training the verdict head needs scikit-learn; install the "
                            "'model' extra (pip install 'alliance[model]')") from None
    return LogisticRegression(C=C, max_iter=5000, class_weight="balanced")


def calibrated_threshold(probabilities: Sequence[float] | np.ndarray,
                         truth: Sequence[bool]) -> float:
    """The threshold of :data:`THRESHOLDS` with the best F1 (the lowest on a tie).

    >>> calibrated_threshold([0.9, 0.6, 0.3, 0.1], [True, True, False, False])
    0.35
    """
    p = np.asarray(probabilities, dtype=np.float64)
    t = np.asarray(truth, dtype=bool)
    best, best_f1 = 0.5, -1.0
    for th in THRESHOLDS:
        hit = p >= th
        tp = int((hit & t).sum())
        f1 = 2 * tp / (2 * tp + int((hit & ~t).sum()) + int((~hit & t).sum())) if tp else 0.0
        if f1 > best_f1 + 1e-12:
            best, best_f1 = th, f1
    return best


def _out_of_fold(x: np.ndarray, flags: Sequence[bool], folds: int = 5) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    yb = np.array([bool(f) for f in flags])
    p = np.zeros(len(yb))
    for a, b in StratifiedKFold(folds, shuffle=True, random_state=1).split(x, yb):
        p[b] = _classifier().fit(x[a], yb[a]).predict_proba(x[b])[:, 1]
    return p


def train_verdict_head(features: np.ndarray, verdicts: Sequence[str],
                       manifest: dict[str, Any],
                       steps: Mapping[str, Sequence[bool]] | None = None,
                       calibrate: bool = False) -> VerdictHead:
    """Fit the verdict head and, given ``steps`` (step -> one flag per row), the step heads
    (needs scikit-learn, extra ``model``); with ``calibrate``, each step head's threshold
    by :func:`calibrated_threshold` on out-of-fold probabilities (else 0.5)."""
    x = np.asarray(features, dtype=np.float64)
    if len(set(verdicts)) < 2:
        raise TrainingError("the verdict head needs at least two verdicts to learn from")
    clf = _classifier().fit(x, list(verdicts))
    coef, intercept = clf.coef_.copy(), clf.intercept_.copy()
    if coef.shape[0] == 1:  # two classes: sigmoid(w.x + b) is softmax over rows [0, w]
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    names: list[str] = []
    s_coef, s_int, s_thr = [], [], []
    for name, flags in (steps or {}).items():
        if len(set(map(bool, flags))) < 2:
            raise TrainingError(f"the step head {name!r} needs examples with and without it")
        m = _classifier().fit(x, [bool(f) for f in flags])
        names.append(name)
        s_coef.append(m.coef_[0])
        s_int.append(m.intercept_[0])
        s_thr.append(calibrated_threshold(_out_of_fold(x, flags), flags) if calibrate
                     else STEP_THRESHOLDS.get(name, 0.5))
    dim = x.shape[1]
    return VerdictHead(tuple(str(c) for c in clf.classes_), coef, intercept,
                       {**manifest, "n": len(verdicts), "C": C}, tuple(names),
                       np.array(s_coef).reshape(len(names), dim), np.array(s_int),
                       np.array(s_thr, dtype=np.float64))


def packaged_head_path() -> Path:
    return Path(str(resources.files("alliance.training").joinpath(HEAD_FILE)))


def read_head(path: str | Path) -> VerdictHead:
    try:
        with np.load(path, allow_pickle=False) as z:
            steps = tuple(str(s) for s in z["steps"]) if "steps" in z else ()
            dim = z["coef"].shape[1]
            return VerdictHead(tuple(str(c) for c in z["classes"]), z["coef"].astype(np.float64),
                               z["intercept"].astype(np.float64),
                               json.loads(str(z["manifest"])), steps,
                               z["step_coef"].astype(np.float64).reshape(len(steps), dim)
                               if steps else np.zeros((0, dim)),
                               z["step_intercept"].astype(np.float64) if steps
                               else np.zeros(0),
                               z["step_threshold"].astype(np.float64)
                               if "step_threshold" in z else np.zeros(0))
    except (OSError, KeyError, ValueError) as exc:
        raise TrainingError(f"{path}: not a verdict head ({exc.__class__.__name__})") from None


@lru_cache(maxsize=1)
def packaged_head() -> VerdictHead | None:
    """The packaged head, or ``None`` when it has not been built."""
    path = packaged_head_path()
    return read_head(path) if path.exists() else None
