"""Multilevel reliability for items repeated across sessions (generalizability theory).

When the same ``m`` items are answered by ``n`` persons on ``k`` occasions (sessions,
days), a score varies between persons, between occasions, between items and in their
interactions. Shrout & Lane (2012) turn the variance components of that
persons × occasions × items design into reliabilities of a person's level and of a
person's *change*; Cranford et al. (2006) apply them to daily-diary mood scales. R
psych's ``multilevel.reliability`` (``mlr``) reports the same coefficients; this module
is an independent implementation of the published formulas.

Variance components (crossed model)
-----------------------------------
``y[p,t,i] = mu + P + T + I + PT + PI + TI + e`` with independent random effects; the
components are ``s2_person, s2_time, s2_item, s2_person:time, s2_person:item,
s2_time:item, s2_residual``. The *nested* model treats occasions as nested in persons and
items as replicates: ``y = mu + P + T(P) + e`` with ``s2_person, s2_time(person),
s2_residual``.

Coefficients (``k`` occasions, ``m`` items; Shrout & Lane 2012, Table 17.3)
-------------------------------------------------------------------------
With the person signal ``S = s2_person + s2_person:item / m``:

* ``R1F = S / (S + s2_residual / m)``: one occasion, occasions fixed;
* ``RkF = S / (S + s2_residual / (k m))``: the average of ``k`` fixed occasions;
* ``R1R = S / (S + s2_time + s2_person:time + s2_residual / m)``: one random occasion;
* ``RkR = S / (S + (s2_time + s2_person:time + s2_residual / m) / k)``: ``k`` random
  occasions;
* ``Rc = s2_person:time / (s2_person:time + s2_residual / m)``: reliability of a person's
  change from occasion to occasion;
* nested: ``RkRn = s2_person / (s2_person + (s2_time(person) + s2_residual / m) / k)`` and
  ``Rcn = s2_time(person) / (s2_time(person) + s2_residual / m)``.

Estimation
----------
* **Balanced data** (every person answered every item on every occasion): the classical
  random-effects ANOVA, solving the expected mean squares for the components (Cronbach,
  Gleser, Nanda & Rajaratnam 1972; Brennan 2001). A negative estimate is set to zero, and
  said so in ``notes``.
* **Unbalanced data** (missing sessions, skipped items): restricted maximum likelihood
  (REML, Patterson & Thompson 1971) of the same random-effects models, maximised over the
  log variances with the analytic gradient from Henderson's mixed-model equations (see
  :func:`_reml_fit`). REML uses every observed answer and needs no imputation; on
  balanced data it equals the ANOVA estimates whenever those are non-negative, and on
  unbalanced data it agrees with statsmodels ``MixedLM`` (both tested). ``k`` and ``m``
  in the coefficients are then the harmonic means of the occasions per person and of the
  items per person-occasion (Brennan 2001, section 7.1). The cost grows with the cube of
  the number of random effects (persons × occasions dominate): a few thousand answers
  take seconds.

References: Shrout, P. E., & Lane, S. P. (2012). Psychometrics. In M. R. Mehl &
T. S. Conner (Eds.), *Handbook of research methods for studying daily life*
(pp. 302-320). Guilford. Cranford, J. A., Shrout, P. E., Iida, M., Rafaeli, E., Yip, T.,
& Bolger, N. (2006). A procedure for evaluating sensitivity to within-person change: Can
mood measures in diary studies detect change reliably? *Personality and Social
Psychology Bulletin, 32*(7), 917-929. Patterson, H. D., & Thompson, R. (1971). Recovery of
inter-block information when block sizes are unequal. *Biometrika, 58*(3), 545-554.
Brennan, R. L. (2001). *Generalizability theory*.
Springer.

The worked example of Shrout & Lane (5 persons × 4 occasions × 3 items), as printed in
psych's documentation, gives RkF .97 and Rc .74:

>>> import pandas as pd
>>> rows = [(1, 1, 2, 3, 6), (2, 1, 3, 4, 4), (3, 1, 6, 6, 5), (4, 1, 3, 4, 3), (5, 1, 7, 8, 7),
...         (1, 2, 3, 3, 4), (2, 2, 5, 7, 7), (3, 2, 6, 7, 8), (4, 2, 3, 5, 9), (5, 2, 8, 8, 9),
...         (1, 3, 4, 2, 5), (2, 3, 4, 6, 7), (3, 3, 7, 8, 9), (4, 3, 5, 6, 7), (5, 3, 6, 7, 8),
...         (1, 4, 1, 3, 4), (2, 4, 5, 9, 7), (3, 4, 8, 9, 9), (4, 4, 8, 7, 9), (5, 4, 6, 8, 6)]
>>> wide = pd.DataFrame(rows, columns=["person", "time", "i1", "i2", "i3"])
>>> result = multilevel_reliability(wide, items=["i1", "i2", "i3"])
>>> round(result.RkF, 2), round(result.Rc, 2), result.method
(0.97, 0.74, 'anova')
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from alliance.errors import ReliabilityError

Method = Literal["auto", "anova", "reml"]
CROSSED: tuple[str, ...] = ("person", "time", "item", "person:time", "person:item",
                            "time:item", "residual")
NESTED: tuple[str, ...] = ("person", "time(person)", "residual")
COEFFICIENTS: dict[str, str] = {
    "R1F": "one occasion, occasions fixed",
    "RkF": "average of k occasions, occasions fixed",
    "R1R": "one occasion, occasions random",
    "RkR": "average of k occasions, occasions random",
    "Rc": "change within persons (crossed model)",
    "RkRn": "average of k occasions (nested model)",
    "Rcn": "change within persons (nested model)",
}


@dataclass(frozen=True)
class MultilevelReliability:
    """Variance components and the Shrout & Lane (2012) reliabilities of one scale."""

    method: Literal["anova", "reml"]
    n_persons: int
    n_times: int
    n_items: int
    n_observations: int
    k: float
    m: float
    components: Mapping[str, float]
    nested: Mapping[str, float]
    R1F: float
    RkF: float
    R1R: float
    RkR: float
    Rc: float
    RkRn: float
    Rcn: float
    notes: tuple[str, ...] = field(default=())

    @property
    def coefficients(self) -> dict[str, float]:
        """The seven coefficients by name, in psych's order."""
        return {name: float(getattr(self, name)) for name in COEFFICIENTS}

    def components_frame(self) -> pd.DataFrame:
        """One row per variance component of both models, with its share of the total."""
        rows = []
        for model, comps in (("crossed", self.components), ("nested", self.nested)):
            total = sum(comps.values())
            for name, var in comps.items():
                rows.append({"model": model, "component": name, "variance": var,
                             "percent": 100 * var / total if total > 0 else float("nan")})
        return pd.DataFrame(rows)

    def coefficients_frame(self) -> pd.DataFrame:
        """One row per coefficient: name, value and what it is the reliability of."""
        return pd.DataFrame([{"coefficient": n, "value": v, "meaning": COEFFICIENTS[n]}
                             for n, v in self.coefficients.items()])

    def figure(self) -> Any:
        """A Plotly figure: the share of each variance component (both models) and the
        seven coefficients. Plotly is imported only when a figure is asked for."""
        from plotly.subplots import make_subplots

        comps, coefs = self.components_frame(), self.coefficients_frame()
        fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45],
                            horizontal_spacing=0.14,
                            subplot_titles=("Variance components (% of total)",
                                            "Reliability"))
        for model, colour in (("crossed", "#1565c0"), ("nested", "#90a4ae")):
            part = comps[comps["model"] == model].iloc[::-1]
            fig.add_bar(x=part["percent"], y=part["component"], orientation="h",
                        name=f"{model} model", marker_color=colour,
                        customdata=part[["variance"]].to_numpy(),
                        hovertemplate="%{y}: %{x:.1f}% (variance %{customdata[0]:.3f})"
                                      "<extra></extra>", row=1, col=1)
        rows = coefs.iloc[::-1]
        fig.add_bar(x=rows["value"], y=rows["coefficient"], orientation="h",
                    name="coefficient", marker_color="#2e7d32", text=rows["value"].round(2),
                    textposition="outside", customdata=rows[["meaning"]].to_numpy(),
                    hovertemplate="%{y} = %{x:.3f}: %{customdata[0]}<extra></extra>",
                    row=1, col=2)
        fig.update_xaxes(range=[0, 1.1], row=1, col=2)
        fig.update_layout(template="plotly_white", height=420, barmode="group",
                          title=f"Multilevel reliability: {self.n_persons} persons, "
                                f"{self.n_times} occasions, {self.n_items} items "
                                f"({self.method})")
        return fig


def _long_table(data: pd.DataFrame, person: str, time: str, items: Sequence[str] | None,
                item: str | None, value: str | None) -> pd.DataFrame:
    """``person, time, item, y`` rows from a wide (item columns) or long table."""
    if not isinstance(data, pd.DataFrame):
        raise ReliabilityError(f"expected a pandas DataFrame, not {type(data).__name__}")
    if items is not None and (item is not None or value is not None):
        raise ReliabilityError("give either items (wide table) or item and value (long "
                               "table), not both")
    if items is None and (item is None or value is None):
        raise ReliabilityError("name the item columns (items=...) of a wide table, or the "
                               "item and value columns of a long table")
    wanted = [person, time, *(items if items is not None else [item, value])]
    missing = [c for c in wanted if c not in data.columns]
    if missing:
        raise ReliabilityError(f"no column {missing[0]!r}; the table has "
                               f"{', '.join(map(str, data.columns))}")
    if items is not None:
        if len(set(items)) != len(items):
            raise ReliabilityError("an item column is named twice")
        # built by position, so any column names work (even "item" or "y")
        m = len(items)
        long = pd.DataFrame({
            "person": np.repeat(data[person].to_numpy(), m),
            "time": np.repeat(data[time].to_numpy(), m),
            "item": np.tile(np.array(list(items), dtype=object), len(data)),
            "y": np.column_stack([data[c].to_numpy(dtype=object) for c in items]).reshape(-1)
            if len(data) else np.array([], dtype=object)})
    else:
        long = pd.DataFrame({"person": data[person].to_numpy(), "time": data[time].to_numpy(),
                             "item": data[item].to_numpy(), "y": data[value].to_numpy()})
    if long["person"].isna().any() or long["time"].isna().any() or long["item"].isna().any():
        raise ReliabilityError("a row has no person, time or item")
    y = pd.to_numeric(long["y"], errors="coerce")
    bad = long["y"].notna() & y.isna()
    if bad.any():
        row = long[bad].iloc[0]
        raise ReliabilityError(f"person {row['person']}, time {row['time']}, item "
                               f"{row['item']}: {row['y']!r} is not a number")
    long = long.assign(y=y.astype(float)).dropna(subset=["y"])
    if not np.isfinite(long["y"]).all():
        raise ReliabilityError("values must be finite numbers")
    dup = long.duplicated(["person", "time", "item"])
    if dup.any():
        row = long[dup].iloc[0]
        raise ReliabilityError(f"person {row['person']}, time {row['time']}, item "
                               f"{row['item']} appears more than once")
    for col, noun in (("person", "persons"), ("time", "occasions"), ("item", "items")):
        count = long[col].nunique()
        if count < 2:
            raise ReliabilityError(f"multilevel reliability needs at least 2 {noun} with "
                                   f"answers, got {count}")
    return long.reset_index(drop=True)


def _cube(long: pd.DataFrame) -> np.ndarray | None:
    """The ``persons x times x items`` array when every cell is observed, else ``None``."""
    idx = [pd.factorize(long[c])[0] for c in ("person", "time", "item")]
    shape = tuple(int(i.max()) + 1 for i in idx)
    if len(long) != shape[0] * shape[1] * shape[2]:
        return None
    cube = np.full(shape, np.nan)
    cube[idx[0], idx[1], idx[2]] = long["y"].to_numpy()
    return cube


def _anova(y: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """Crossed and nested components from the expected mean squares of a balanced cube."""
    n, k, m = y.shape
    g = y.mean()
    p, t, i = y.mean(axis=(1, 2)), y.mean(axis=(0, 2)), y.mean(axis=(0, 1))
    pt, pi, ti = y.mean(axis=2), y.mean(axis=1), y.mean(axis=0)
    ms_p = k * m * ((p - g) ** 2).sum() / (n - 1)
    ms_t = n * m * ((t - g) ** 2).sum() / (k - 1)
    ms_i = n * k * ((i - g) ** 2).sum() / (m - 1)
    ms_pt = m * ((pt - p[:, None] - t[None, :] + g) ** 2).sum() / ((n - 1) * (k - 1))
    ms_pi = k * ((pi - p[:, None] - i[None, :] + g) ** 2).sum() / ((n - 1) * (m - 1))
    ms_ti = n * ((ti - t[:, None] - i[None, :] + g) ** 2).sum() / ((k - 1) * (m - 1))
    resid = (y - pt[:, :, None] - pi[:, None, :] - ti[None, :, :] + p[:, None, None]
             + t[None, :, None] + i[None, None, :] - g)
    ms_e = (resid**2).sum() / ((n - 1) * (k - 1) * (m - 1))
    crossed = {
        "person": (ms_p - ms_pt - ms_pi + ms_e) / (k * m),
        "time": (ms_t - ms_pt - ms_ti + ms_e) / (n * m),
        "item": (ms_i - ms_pi - ms_ti + ms_e) / (n * k),
        "person:time": (ms_pt - ms_e) / m,
        "person:item": (ms_pi - ms_e) / k,
        "time:item": (ms_ti - ms_e) / n,
        "residual": ms_e,
    }
    # Nested: occasions within persons, items as replicates within an occasion.
    ms_tp = m * ((pt - p[:, None]) ** 2).sum() / (n * (k - 1))
    ms_w = ((y - pt[:, :, None]) ** 2).sum() / (n * k * (m - 1))
    nested = {"person": (ms_p - ms_tp) / (k * m), "time(person)": (ms_tp - ms_w) / m,
              "residual": ms_w}
    return ({c: float(v) for c, v in crossed.items()},
            {c: float(v) for c, v in nested.items()})


def _indicator(codes: pd.Series) -> Any:
    """The ``n x levels`` 0/1 design matrix of one random factor (sparse CSR)."""
    from scipy import sparse

    idx, levels = pd.factorize(codes)
    return sparse.csr_array((np.ones(len(idx)), (np.arange(len(idx)), idx)),
                            shape=(len(idx), len(levels)))


#: Up to this many random effects one BLAS thread is fastest: many threads on small
#: matrices oversubscribe a busy machine (measured 1.4 s vs 6-14 s on a loaded 2-core host).
_SINGLE_THREAD_EFFECTS = 2000
#: The REML works with dense matrices of this side; beyond it memory (8 bytes x side^2 per
#: copy) and time (side^3 per step) stop being reasonable on a laptop.
MAX_RANDOM_EFFECTS = 6000


@contextlib.contextmanager
def _blas_threads(limit: int | None) -> Iterator[None]:
    """Limit BLAS threads with threadpoolctl when it is installed (else do nothing)."""
    if limit is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=limit, user_api="blas"):
        yield


def _reml_fit(y: np.ndarray, factors: Mapping[str, Any]) -> tuple[dict[str, float], bool]:
    """REML variance components of ``y = mu + sum_j Z_j u_j + e`` (intercept only).

    Works in the space of the random effects through Henderson's mixed-model equations
    ``C = W'W / s2_e + diag(0, G^-1)`` with ``W = [1 Z]``; then (Searle, Casella & McCulloch
    1992, ch. 6) ``log|V| + log|X'V^-1 X| = n log s2_e + sum_j q_j log s2_j + log|C|``,
    ``y'Py = y'(y - W b) / s2_e`` and the REML score of component ``j`` is
    ``-tr(P Z_j Z_j')/2 + y'P Z_j Z_j' P y/2`` with ``tr(P Z_j Z_j') = (q_j - tr(C^jj) /
    s2_j) / s2_j`` and ``Z_j' P y = u_j / s2_j``. L-BFGS-B maximises the log-likelihood over
    the log variances with that gradient; a component at its floor is reported as 0.
    """
    from scipy import linalg, optimize, sparse

    n = len(y)
    names = list(factors)
    w = sparse.hstack([sparse.csr_array(np.ones((n, 1))), *(factors[k] for k in names)],
                      format="csr")
    sizes = [factors[k].shape[1] for k in names]
    spans = list(itertools.pairwise(np.cumsum([1, *sizes])))
    wtw = np.asarray((w.T @ w).toarray(), dtype=float)
    wty, yty = np.asarray(w.T @ y, dtype=float), float(y @ y)
    scale = float(np.var(y)) or 1.0
    floor = np.log(scale * 1e-9)

    def evaluate(phi: np.ndarray) -> tuple[float, np.ndarray]:
        theta = np.exp(phi)
        s2e, comps = theta[-1], theta[:-1]
        c = wtw / s2e
        for j, (lo, hi) in enumerate(spans):
            c[range(lo, hi), range(lo, hi)] += 1.0 / comps[j]
        try:
            chol = linalg.cho_factor(c, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return np.inf, np.zeros_like(phi)
        b = linalg.cho_solve(chol, wty / s2e, check_finite=False)
        # diag(C^-1) from the Cholesky factor (LAPACK potri: a third of a full solve)
        inverse, info = linalg.lapack.dpotri(chol[0], lower=1)
        if info != 0:
            return np.inf, np.zeros_like(phi)
        cinv_diag = np.diag(inverse)
        ypy = (yty - float(b @ wty)) / s2e
        logdet_c = 2.0 * float(np.log(np.diag(chol[0])).sum())
        loglik = -0.5 * (n * np.log(s2e) + float(np.dot(sizes, np.log(comps))) + logdet_c
                         + ypy)
        grad = np.empty_like(phi)
        used = 0.0
        for j, (lo, hi) in enumerate(spans):
            u = b[lo:hi]
            tr_c = float(cinv_diag[lo:hi].sum())
            tr_pa = (sizes[j] - tr_c / comps[j]) / comps[j]
            used += sizes[j] - tr_c / comps[j]
            grad[j] = -0.5 * tr_pa + 0.5 * float(u @ u) / comps[j] ** 2
        resid = y - w @ b
        tr_p = (n - 1 - used) / s2e
        grad[-1] = -0.5 * tr_p + 0.5 * float(resid @ resid) / s2e**2
        return -loglik, -(grad * theta)

    start = np.full(len(names) + 1, np.log(scale / (len(names) + 1)))
    with _blas_threads(1 if w.shape[1] <= _SINGLE_THREAD_EFFECTS else None):
        res = optimize.minimize(evaluate, start, jac=True, method="L-BFGS-B",
                                bounds=[(floor, np.log(scale * 1e3))] * len(start),
                                options={"maxiter": 500, "ftol": 1e-13, "gtol": 1e-8})
    theta = np.exp(res.x)
    out = {k: (0.0 if res.x[j] <= floor + 1e-6 else float(theta[j]))
           for j, k in enumerate(names)}
    out["residual"] = float(theta[-1])
    return out, bool(res.success)


def _reml(long: pd.DataFrame) -> tuple[dict[str, float], dict[str, float], list[str]]:
    """Crossed and nested components by REML (see :func:`_reml_fit`)."""
    y = long["y"].to_numpy(dtype=float)
    codes = {c: long[c].astype(str) for c in ("person", "time", "item")}
    sep = "\x1f"
    pairs = {"person:time": codes["person"] + sep + codes["time"],
             "person:item": codes["person"] + sep + codes["item"],
             "time:item": codes["time"] + sep + codes["item"]}
    crossed_codes = {**codes, **pairs}
    effects = sum(crossed_codes[k].nunique() for k in CROSSED[:-1])
    if effects > MAX_RANDOM_EFFECTS:
        raise ReliabilityError(
            f"the unbalanced design has {effects} random effects (persons x occasions "
            f"dominate); REML here handles up to {MAX_RANDOM_EFFECTS}: analyse a random "
            f"subset of persons, or complete data (balanced designs use the ANOVA, any size)")
    crossed, ok1 = _reml_fit(y, {k: _indicator(crossed_codes[k]) for k in CROSSED[:-1]})
    nested, ok2 = _reml_fit(y, {"person": _indicator(codes["person"]),
                                "time(person)": _indicator(pairs["person:time"])})
    notes = [] if ok1 and ok2 else ["the REML optimiser stopped before converging; treat "
                                    "the components as approximate"]
    return crossed, nested, notes


def _harmonic(counts: pd.Series) -> float:
    return float(len(counts) / (1.0 / counts).sum())


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def multilevel_reliability(data: pd.DataFrame, *, person: str = "person", time: str = "time",
                           items: Sequence[str] | None = None, item: str | None = None,
                           value: str | None = None,
                           method: Method = "auto") -> MultilevelReliability:
    """Variance components and the seven Shrout & Lane reliabilities of one scale.

    ``data`` is either *wide* (one row per person and occasion, the ``items`` as columns) or
    *long* (one row per answer, with ``item`` and ``value`` columns). Empty answers are
    missing. ``method="auto"`` uses the ANOVA when every person answered every item on every
    occasion and REML otherwise; ``"anova"`` refuses unbalanced data, ``"reml"`` always fits
    the mixed models. See the module docstring for the formulas and references.
    """
    if method not in ("auto", "anova", "reml"):
        raise ReliabilityError(f"unknown method {method!r}; use auto, anova or reml")
    long = _long_table(data, person, time, items, item, value)
    cube = _cube(long)
    notes: list[str] = []
    if method == "anova" and cube is None:
        raise ReliabilityError("the ANOVA method needs balanced data (every person, occasion "
                               "and item); use method='reml' for missing sessions or items")
    if cube is not None and method != "reml":
        used: Literal["anova", "reml"] = "anova"
        crossed, nested = _anova(cube)
        for comps, model in ((crossed, "crossed"), (nested, "nested")):
            for name, var in comps.items():
                if var < 0:
                    notes.append(f"the {model} {name} component was estimated at {var:.4g} "
                                 f"and set to 0")
                    comps[name] = 0.0
    else:
        used = "reml"
        crossed, nested, notes = _reml(long)
    if crossed["residual"] <= 0 and nested["residual"] <= 0:
        raise ReliabilityError("the data have no residual variance (every answer is "
                               "predicted exactly); reliability is undefined")
    k = _harmonic(long.groupby("person")["time"].nunique())
    m = _harmonic(long.groupby(["person", "time"]).size())
    c, nst = crossed, nested
    signal = c["person"] + c["person:item"] / m
    err1 = c["residual"] / m
    occasion = c["time"] + c["person:time"] + err1
    nested_err = nst["time(person)"] + nst["residual"] / m
    return MultilevelReliability(
        method=used, n_persons=int(long["person"].nunique()),
        n_times=int(long["time"].nunique()), n_items=int(long["item"].nunique()),
        n_observations=len(long), k=k, m=m, components=crossed, nested=nested,
        R1F=_ratio(signal, signal + err1),
        RkF=_ratio(signal, signal + c["residual"] / (k * m)),
        R1R=_ratio(signal, signal + occasion),
        RkR=_ratio(signal, signal + occasion / k),
        Rc=_ratio(c["person:time"], c["person:time"] + err1),
        RkRn=_ratio(nst["person"], nst["person"] + nested_err / k),
        Rcn=_ratio(nst["time(person)"], nst["time(person)"] + nst["residual"] / m),
        notes=tuple(notes))


def simulate_repeated_items(n_persons: int = 30, n_times: int = 5, n_items: int = 3, *,
                            components: Mapping[str, float] | None = None,
                            missing: float = 0.0, mean: float = 5.0,
                            seed: int = 0) -> pd.DataFrame:
    """Wide data (``person, time, i1..im``) drawn from the crossed model, for examples,
    tests and planning: each component in ``components`` (names as in :data:`CROSSED`)
    is a variance; each occasion after a person's first is missing with ``missing``.

    >>> simulate_repeated_items(2, 3, 2, seed=1).shape
    (6, 4)
    """
    truth = dict(components) if components is not None else {
        "person": 2.0, "time": 0.5, "item": 0.5, "person:time": 0.8, "person:item": 0.3,
        "time:item": 0.2, "residual": 1.0}
    unknown = set(truth) - set(CROSSED)
    if unknown or set(truth) != set(CROSSED):
        raise ReliabilityError(f"components must name each of {', '.join(CROSSED)}")
    if any(v < 0 for v in truth.values()) or min(n_persons, n_times, n_items) < 1:
        raise ReliabilityError("variances must be >= 0 and every dimension at least 1")
    if not 0 <= missing < 1:
        raise ReliabilityError(f"missing must be in [0, 1), got {missing}")
    rng = np.random.default_rng(seed)
    n, k, m = n_persons, n_times, n_items
    sd = {c: float(np.sqrt(v)) for c, v in truth.items()}
    y = (mean + rng.normal(0, sd["person"], n)[:, None, None]
         + rng.normal(0, sd["time"], k)[None, :, None]
         + rng.normal(0, sd["item"], m)[None, None, :]
         + rng.normal(0, sd["person:time"], (n, k))[:, :, None]
         + rng.normal(0, sd["person:item"], (n, m))[:, None, :]
         + rng.normal(0, sd["time:item"], (k, m))[None, :, :]
         + rng.normal(0, sd["residual"], (n, k, m)))
    keep = rng.random((n, k)) >= missing
    keep[:, 0] = True
    rows = [{"person": f"p{p + 1:03d}", "time": t + 1,
             **{f"i{j + 1}": float(y[p, t, j]) for j in range(m)}}
            for p in range(n) for t in range(k) if keep[p, t]]
    return pd.DataFrame(rows)
