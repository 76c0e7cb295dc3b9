"""The verdict head: logistic regression on the sentence embedding of a trainee response.

The phrase detectors of :mod:`alliance.training.steps` recognise the wording they were
built from but not new wording (see ``docs/training.md``). When the embedding model is
available, the verdict comes from this head (see :mod:`alliance.training.feedback`): a
multinomial logistic regression (scikit-learn, ``class_weight="balanced"``, C = 1) on the
all-MiniLM-L6-v2 embedding of the response,
trained on development responses only (never on the held-out part or on the final fresh
test set). Inference is NumPy only: ``softmax(x @ coef.T + intercept)``.

The head is packaged as ``verdict-head.npz`` with its manifest (classes, model name,
training sets and size); ``alliance practice train-head`` rebuilds it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from alliance.errors import TrainingError

HEAD_FILE = "verdict-head.npz"
C = 1.0
# development data the packaged head is trained on: the dev split of responses.yaml and the
# fresh sets that have served as development data; responses-fresh6.yaml is the clean test
TRAIN_SETS = ("fresh", "fresh2", "fresh3", "fresh4", "fresh5")


@dataclass(frozen=True)
class VerdictHead:
    classes: tuple[str, ...]
    coef: np.ndarray  # (classes, dimension)
    intercept: np.ndarray  # (classes,)
    manifest: dict[str, Any]

    @property
    def model(self) -> str:
        return str(self.manifest.get("model", ""))

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(embeddings, dtype=np.float64))
        if x.shape[1] != self.coef.shape[1]:
            raise TrainingError(f"the verdict head expects {self.coef.shape[1]}-dimensional "
                                f"embeddings, got {x.shape[1]}")
        z = x @ self.coef.T + self.intercept
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return out

    def predict(self, embeddings: np.ndarray) -> list[tuple[str, float]]:
        """The most probable verdict and its probability, per row."""
        p = self.probabilities(embeddings)
        idx = p.argmax(axis=1)
        return [(self.classes[i], float(p[r, i])) for r, i in enumerate(idx)]

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, coef=self.coef.astype(np.float32),
                            intercept=self.intercept.astype(np.float32),
                            classes=np.array(self.classes),
                            manifest=np.array(json.dumps(self.manifest, sort_keys=True)))


def train_verdict_head(embeddings: np.ndarray, verdicts: Sequence[str],
                       manifest: dict[str, Any]) -> VerdictHead:
    """Fit the head (needs scikit-learn, extra ``model``)."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise TrainingError("training the verdict head needs scikit-learn; install the "
                            "'model' extra (pip install 'alliance[model]')") from None
    if len(set(verdicts)) < 2:
        raise TrainingError("the verdict head needs at least two verdicts to learn from")
    clf = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
    clf.fit(np.asarray(embeddings, dtype=np.float64), list(verdicts))
    coef, intercept = clf.coef_.copy(), clf.intercept_.copy()
    if coef.shape[0] == 1:  # two classes: sigmoid(w.x + b) is softmax over rows [0, w]
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    return VerdictHead(tuple(str(c) for c in clf.classes_), coef, intercept,
                       {**manifest, "n": len(verdicts), "C": C})


def packaged_head_path() -> Path:
    return Path(str(resources.files("alliance.training").joinpath(HEAD_FILE)))


def read_head(path: str | Path) -> VerdictHead:
    try:
        with np.load(path, allow_pickle=False) as z:
            return VerdictHead(tuple(str(c) for c in z["classes"]), z["coef"].astype(np.float64),
                               z["intercept"].astype(np.float64),
                               json.loads(str(z["manifest"])))
    except (OSError, KeyError, ValueError) as exc:
        raise TrainingError(f"{path}: not a verdict head ({exc.__class__.__name__})") from None


@lru_cache(maxsize=1)
def packaged_head() -> VerdictHead | None:
    """The packaged head, or ``None`` when it has not been built."""
    path = packaged_head_path()
    return read_head(path) if path.exists() else None
