"""Classifier heads: one-vs-rest logistic regression per code on sentence embeddings.

Input of a head, for an utterance of the code's role:
``x = [embedding (384) | embedding of the turn it answers (384, if the manifest says
previous_turn_embedding) | context features (features.FEATURE_NAMES) | rule hits (one 0/1
per code, in codebook order)]``, both embeddings with their length directions projected out
(:mod:`alliance.coding.length`; no head reads turn length). Output: the head's logit
``w·x + b``, turned into a calibrated confidence by Platt scaling fitted on out-of-fold
logits of a grouped cross-validation over the train and dev splits (see
:mod:`alliance.coding.trainer` and :mod:`alliance.coding.calibration`). A code is assigned
when its score reaches the code's threshold, chosen in the same cross-validation to maximise F1.

Artifacts (small, versioned, checked in under ``alliance/coding/heads/``):
``heads.npz`` (weights, biases, Platt a/b, thresholds), ``manifest.json`` (codes, feature
layout, corpus sha256, seed, library versions, model checksum, CV metrics) and
``rules-calibration.json`` (each rule's measured precision). Loading them needs numpy only;
training (:mod:`alliance.coding.trainer`) needs scikit-learn.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from alliance.errors import CodingError

HEADS_FORMAT = "alliance.coding-heads/1"
HEADS_FILE = "heads.npz"
MANIFEST_FILE = "manifest.json"
RULES_FILE = "rules-calibration.json"


@dataclass(frozen=True)
class Heads:
    codes: tuple[str, ...]
    weights: np.ndarray  # (n_codes, n_features)
    bias: np.ndarray  # (n_codes,)
    platt_a: np.ndarray
    platt_b: np.ndarray
    thresholds: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)
    #: (k, d) directions carrying turn length, projected out of the embeddings the heads
    #: read (see :mod:`alliance.coding.length`); empty = none.
    length_directions: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unversioned"))

    @property
    def previous_turn(self) -> bool:
        """Whether the input includes the previous turn's embedding."""
        return bool(self.manifest.get("features", {}).get("previous_turn_embedding", False))

    @property
    def n_features(self) -> int:
        return int(self.weights.shape[1])

    def index(self, code: str) -> int:
        return self.codes.index(code)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x @ self.weights.T + self.bias, dtype=float)

    def confidences(self, x: np.ndarray) -> np.ndarray:
        """Calibrated confidences, shape (n_rows, n_codes)."""
        z = self.platt_a * self.logits(x) + self.platt_b
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / HEADS_FILE, codes=np.array(self.codes),
            weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32),
            platt_a=self.platt_a, platt_b=self.platt_b, thresholds=self.thresholds,
            length_directions=self.length_directions.astype(np.float32),
        )
        (directory / MANIFEST_FILE).write_text(
            json.dumps(self.manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def packaged_heads_dir() -> Path:
    return Path(str(resources.files("alliance.coding").joinpath("heads")))


def load_heads(directory: str | Path | None = None) -> Heads:
    """Load trained heads; :class:`CodingError` if absent or inconsistent."""
    d = Path(directory) if directory is not None else packaged_heads_dir()
    npz, manifest_path = d / HEADS_FILE, d / MANIFEST_FILE
    if not npz.is_file() or not manifest_path.is_file():
        raise CodingError(f"{d}: no trained heads (run `alliance coding train`, "
                          "or analyse with --rules-only)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        with np.load(npz, allow_pickle=False) as z:
            heads = Heads(tuple(str(c) for c in z["codes"]), z["weights"].astype(float),
                          z["bias"].astype(float), z["platt_a"].astype(float),
                          z["platt_b"].astype(float), z["thresholds"].astype(float), manifest,
                          z["length_directions"].astype(np.float32)
                          if "length_directions" in z.files else np.zeros((0, 0)))
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise CodingError(f"{d}: unreadable heads: {exc}") from None
    if manifest.get("format") != HEADS_FORMAT:
        raise CodingError(f"{d}: heads format is not {HEADS_FORMAT}")
    n = len(heads.codes)
    if heads.weights.shape[0] != n or any(len(a) != n for a in (
            heads.bias, heads.platt_a, heads.platt_b, heads.thresholds)):
        raise CodingError(f"{d}: heads arrays do not match the code list")
    return heads


def load_rule_precision(directory: str | Path | None = None) -> dict[str, float]:
    """Each rule's measured precision, or {} when no calibration file exists."""
    d = Path(directory) if directory is not None else packaged_heads_dir()
    p = d / RULES_FILE
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return {k: float(v["precision"]) for k, v in data["rules"].items()}
    except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
        raise CodingError(f"{p}: unreadable rule calibration: {exc}") from None
