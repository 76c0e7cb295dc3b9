"""Internal-consistency reliability: Cronbach's alpha, McDonald's omega, item statistics.

Formulas (``k`` items, ``n`` complete responses, item variances ``s_i^2``, total variance
``s_X^2``; sample variances with ``n - 1``):

* **Cronbach's alpha** ``= k / (k - 1) * (1 - sum(s_i^2) / s_X^2)`` (Cronbach 1951).
* **Feldt confidence interval** (Feldt, Woodruff & Salih 1987): with ``df1 = n - 1`` and
  ``df2 = (n - 1)(k - 1)``, ``lower = 1 - (1 - alpha) * F(1 - g/2; df1, df2)`` and
  ``upper = 1 - (1 - alpha) * F(g/2; df1, df2)``, ``g = 1 - confidence``. This is the
  interval R ``psych::alpha`` and pingouin's ``cronbach_alpha`` report.
* **McDonald's omega total** from a one-factor model fitted by maximum likelihood to the
  item correlation matrix: ``omega = (sum lambda)^2 / ((sum lambda)^2 + sum psi)`` with
  standardised loadings ``lambda`` and uniquenesses ``psi = 1 - lambda^2`` (McDonald 1999;
  Flora 2020). The ML fit uses Jöreskog's concentrated likelihood: for fixed uniquenesses
  the loadings come from the leading eigenvector of ``Psi^-1/2 R Psi^-1/2``.
* **Corrected item-total correlation**: the correlation of an item with the sum of the
  *other* items. **Alpha if item deleted**: alpha of the remaining ``k - 1`` items.

Rows with any missing item in the scale are dropped (listwise), and reported as dropped.

>>> import numpy as np
>>> x = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [5, 4, 5]], dtype=float)
>>> round(cronbach_alpha(x).alpha, 4)
0.9572
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from alliance.errors import ReliabilityError
from alliance.instruments.scoring import item_matrix
from alliance.instruments.spec import TOTAL, Instrument


@dataclass(frozen=True)
class Alpha:
    alpha: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    k: int


@dataclass(frozen=True)
class ItemStatistic:
    item: str
    mean: float
    sd: float
    corrected_item_total: float
    alpha_if_deleted: float


@dataclass(frozen=True)
class OneFactor:
    loadings: tuple[float, ...]
    uniquenesses: tuple[float, ...]
    omega_total: float
    converged: bool


@dataclass(frozen=True)
class ScaleReliability:
    """Reliability of one score (a subscale or the total) of an instrument."""

    score: str
    items: tuple[str, ...]
    n_used: int
    n_dropped: int
    alpha: Alpha
    omega: OneFactor | None
    item_stats: tuple[ItemStatistic, ...]
    note: str = ""


def _checked(x: np.ndarray, what: str = "data") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ReliabilityError(f"{what}: expected a responses x items matrix")
    n, k = x.shape
    if k < 2:
        raise ReliabilityError(f"{what}: reliability needs at least 2 items, got {k}")
    if n < 3:
        raise ReliabilityError(f"{what}: reliability needs at least 3 complete responses, "
                               f"got {n}")
    if np.isnan(x).any():
        raise ReliabilityError(f"{what}: missing values; drop incomplete rows first")
    if np.any(x.var(axis=0, ddof=1) == 0):
        flat = int(np.flatnonzero(x.var(axis=0, ddof=1) == 0)[0])
        raise ReliabilityError(f"{what}: item {flat + 1} has no variance (every response "
                               f"gave the same value)")
    return x


def cronbach_alpha(x: np.ndarray, confidence: float = 0.95) -> Alpha:
    """Cronbach's alpha with its Feldt confidence interval for an ``n x k`` matrix."""
    x = _checked(x)
    if not 0 < confidence < 1:
        raise ReliabilityError(f"confidence must be between 0 and 1, got {confidence}")
    n, k = x.shape
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    alpha = k / (k - 1) * (1 - item_var / total_var)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    g = 1 - confidence
    low = 1 - (1 - alpha) * stats.f.isf(g / 2, df1, df2)
    high = 1 - (1 - alpha) * stats.f.isf(1 - g / 2, df1, df2)
    return Alpha(float(alpha), float(low), float(high), confidence, n, k)


def item_statistics(x: np.ndarray, names: list[str] | None = None) -> list[ItemStatistic]:
    """Mean, SD, corrected item-total correlation and alpha-if-deleted per item."""
    x = _checked(x)
    k = x.shape[1]
    names = names or [str(j + 1) for j in range(k)]
    total = x.sum(axis=1)
    out = []
    for j in range(k):
        rest = total - x[:, j]
        r = float(np.corrcoef(x[:, j], rest)[0, 1]) if rest.var() > 0 else float("nan")
        # alpha of a single remaining item is undefined
        a_del = cronbach_alpha(np.delete(x, j, axis=1)).alpha if k > 2 else float("nan")
        out.append(ItemStatistic(names[j], float(x[:, j].mean()), float(x[:, j].std(ddof=1)),
                                 r, float(a_del)))
    return out


def _ml_objective(psi: np.ndarray, corr: np.ndarray) -> float:
    s = 1.0 / np.sqrt(psi)
    eig = np.linalg.eigvalsh(corr * np.outer(s, s))[:-1]  # all but the largest
    return float(np.sum(np.log(eig) - eig) * -1 - (len(psi) - 1))


def one_factor(x_or_corr: np.ndarray, *, is_corr: bool = False) -> OneFactor:
    """Fit a one-factor model by maximum likelihood; return loadings and omega total.

    Accepts raw data (``n x k``) or, with ``is_corr=True``, a correlation matrix.
    """
    if is_corr:
        corr = np.asarray(x_or_corr, dtype=np.float64)
    else:
        corr = np.corrcoef(_checked(x_or_corr), rowvar=False)
    k = corr.shape[0]
    if k < 3:
        raise ReliabilityError("a one-factor model needs at least 3 items")
    if not np.all(np.linalg.eigvalsh(corr) > 1e-10):
        raise ReliabilityError("the item correlation matrix is singular (perfectly "
                               "redundant items); omega cannot be estimated")
    # Start from 1 - SMC (squared multiple correlations), the usual communality guess.
    start = np.clip(1.0 / np.diag(np.linalg.inv(corr)), 0.005, 0.995)
    res = optimize.minimize(_ml_objective, start, args=(corr,), method="L-BFGS-B",
                            bounds=[(0.005, 1.0)] * k, options={"ftol": 1e-14, "gtol": 1e-10,
                                                                 "maxiter": 1000})
    psi = res.x
    s = np.sqrt(psi)
    vals, vecs = np.linalg.eigh(corr / np.outer(s, s))
    top, vec = vals[-1], vecs[:, -1]
    lam = s * vec * np.sqrt(max(top - 1.0, 0.0))
    if lam.sum() < 0:
        lam = -lam
    uniq = 1.0 - lam**2
    omega = lam.sum() ** 2 / (lam.sum() ** 2 + uniq.sum())
    return OneFactor(tuple(map(float, lam)), tuple(map(float, uniq)), float(omega),
                     bool(res.success))


def mcdonald_omega(x: np.ndarray) -> float:
    """McDonald's omega total from a one-factor ML model of an ``n x k`` matrix."""
    return one_factor(x).omega_total


def scale_reliability(instrument: Instrument, table: pd.DataFrame,
                      confidence: float = 0.95) -> list[ScaleReliability]:
    """Alpha, omega and item statistics for every subscale and the total.

    Values are validated and reverse keyed exactly as for scoring. Subscales with fewer
    than two items are skipped with a note; omega needs three or more items.
    """
    x = item_matrix(instrument, table)
    index = {iid: j for j, iid in enumerate(instrument.item_ids)}
    scales = [(s.id, s.items) for s in instrument.subscales] + [(TOTAL, instrument.item_ids)]
    results: list[ScaleReliability] = []
    for name, ids in scales:
        if len(ids) < 2:
            continue
        block = x[:, [index[i] for i in ids]]
        complete = ~np.isnan(block).any(axis=1)
        used = block[complete]
        what = f"{instrument.id} {name}"
        alpha = cronbach_alpha(_checked(used, what), confidence)
        note = ""
        omega = None
        if len(ids) >= 3:
            try:
                omega = one_factor(used)
            except ReliabilityError as exc:
                note = f"omega not estimated: {exc}"
        results.append(ScaleReliability(name, tuple(ids), int(complete.sum()),
                                        int((~complete).sum()), alpha, omega,
                                        tuple(item_statistics(used, list(ids))), note))
    if not results:
        raise ReliabilityError(f"{instrument.id}: no score has two or more items")
    return results
