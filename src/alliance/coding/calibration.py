"""Turning classifier scores into calibrated confidences, and measuring calibration.

Platt scaling (Platt 1999): p = 1 / (1 + exp(-(a * s + b))) where s is the head's raw logit,
with a, b fitted by maximum likelihood on held-out (dev) data. With few positives the
targets are smoothed as Platt proposed: y+ = (N+ + 1) / (N+ + 2), y- = 1 / (N- + 2), which
keeps confidences away from exactly 0 and 1.

Expected calibration error (Naeini et al. 2015; Guo et al. 2017):
ECE = sum_b (n_b / n) * |mean(y in b) - mean(p in b)| over equal-width bins of p.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


@dataclass(frozen=True)
class Platt:
    a: float = 1.0
    b: float = 0.0

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return sigmoid(self.a * np.asarray(scores, dtype=float) + self.b)


def fit_platt(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray,
              iterations: int = 100) -> Platt:
    """Fit Platt's a, b by Newton's method on the smoothed log-likelihood."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    pos = float(y.sum())
    neg = float(len(y) - pos)
    if len(y) == 0:
        return Platt()
    t = np.where(y > 0, (pos + 1) / (pos + 2), 1 / (neg + 2))
    a, b = 1.0, float(np.log((neg + 1) / (pos + 1)) * -1.0) if pos and neg else 0.0
    for _ in range(iterations):
        p = sigmoid(a * s + b)
        w = p * (1 - p) + 1e-9
        ga = float(np.sum((p - t) * s))
        gb = float(np.sum(p - t))
        haa = float(np.sum(w * s * s)) + 1e-6
        hab = float(np.sum(w * s))
        hbb = float(np.sum(w)) + 1e-6
        det = haa * hbb - hab * hab
        if abs(det) < 1e-12:
            break
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) < 1e-8 and abs(db) < 1e-8:
            break
    return Platt(float(a), float(b))


def expected_calibration_error(probs: Sequence[float] | np.ndarray,
                               labels: Sequence[int] | np.ndarray, bins: int = 10) -> float:
    """ECE over ``bins`` equal-width bins (0 = perfectly calibrated)."""
    p = np.asarray(probs, dtype=float)
    y = np.asarray(labels, dtype=float)
    if len(p) == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for k in range(bins):
        mask = which == k
        if mask.any():
            total += mask.sum() / len(p) * abs(y[mask].mean() - p[mask].mean())
    return float(total)


def smoothed_precision(hits: int, correct: int) -> float:
    """Laplace-smoothed precision (correct + 1) / (hits + 2): a rule's calibrated confidence."""
    return (correct + 1) / (hits + 2)
