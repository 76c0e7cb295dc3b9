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
              iterations: int = 200) -> Platt:
    """Fit Platt's a, b by maximum likelihood on the smoothed targets.

    The negative log-likelihood is minimised with L-BFGS (a quasi-Newton method with a line
    search). A plain Newton step without a line search overshoots when the held-out scores
    of a code are nearly separable and returns slopes in the millions, which turns the
    "calibrated" confidence into a step function; with the smoothed targets the optimum is
    finite, and a line search reaches it.
    """
    from scipy.optimize import minimize

    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=float)
    if len(y) == 0:
        return Platt()
    pos = float(y.sum())
    neg = float(len(y) - pos)
    t = np.where(y > 0, (pos + 1) / (pos + 2), 1 / (neg + 2))

    def nll(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] * s + params[1]
        # log(1 + exp(z)) computed stably; loss = sum(log(1 + e^z) - t z)
        soft = np.logaddexp(0.0, z)
        p = sigmoid(z)
        grad = np.array([np.sum((p - t) * s), np.sum(p - t)])
        return float(np.sum(soft - t * z)), grad

    start = np.array([1.0, float(np.log((pos + 1) / (neg + 1)))])
    result = minimize(nll, start, jac=True, method="L-BFGS-B",
                      options={"maxiter": iterations, "gtol": 1e-9})
    a, b = (float(v) for v in result.x)
    return Platt(a, b)


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


def shrunk_precision(hits: int, correct: int, prior: float, strength: float) -> float:
    """Precision measured on ``hits`` rows, shrunk toward ``prior`` with ``strength``
    pseudo-hits: (correct + strength * prior) / (hits + strength).

    Used for a rule's confidence on the corpus's whole sessions, where a rule fires less
    often than on the snippets written for it: few session hits say little, so the
    all-row precision is the prior.

    >>> round(shrunk_precision(8, 1, 0.875, 4.0), 3)
    0.375
    >>> shrunk_precision(0, 0, 0.6, 4.0)
    0.6
    """
    return (correct + strength * prior) / (hits + strength)
