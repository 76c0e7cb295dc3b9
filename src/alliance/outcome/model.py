"""Does this session's alliance predict the next session's outcome? A mixed model answer.

The model (a random-intercept linear mixed model, fitted by REML with statsmodels
``MixedLM``; extra ``alliance[stats]``), on the consecutive-session pairs of
:func:`~alliance.outcome.disaggregation.lagged_pairs`::

    outcome[i, t+1] = b0 + b_within * alliance_within[i, t] + b_between * alliance_between[i]
                      (+ b_session * (session[i, t] - mean session))      trend=True
                      (+ c_within * outcome_within[i, t] + c_between * outcome_between[i])
                                                                          adjust_outcome=True
                      + u_i + e[i, t+1]

with ``u_i ~ N(0, s2_person)`` and ``e ~ N(0, s2_residual)``. ``b_within`` is the
*within-person*, lagged effect: in a session where a client's alliance is one unit above
their own average, the next session's outcome differs by ``b_within``. ``b_between`` is the
*between-person* effect: clients with a one-unit higher average alliance have outcomes that
differ by ``b_between``. Both are on the scales of the columns given; if lower outcome
scores mean improvement (symptom measures), a helpful alliance shows as a negative effect.

Adjusting for the current outcome (``adjust_outcome=True``) asks whether the alliance
predicts *change* rather than level, as Falkenström et al. (2013, 2017) recommend; with few
sessions per client the person-mean-centred lagged outcome is biased (Nickell 1981), so
read that coefficient with care; the alliance coefficients are the target.

Confidence intervals are Wald intervals from the REML fit (``estimate ± z * SE``).

References: Falkenström, F., Granström, F., & Holmqvist, R. (2013). Therapeutic alliance
predicts symptomatic improvement session by session. *Journal of Counseling Psychology,
60*(3), 317-328. Falkenström et al. (2017) and Curran & Bauer (2011): see
:mod:`alliance.outcome.disaggregation`. Nickell, S. (1981). Biases in dynamic models with
fixed effects. *Econometrica, 49*(6), 1417-1426.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alliance.errors import AnalysisError
from alliance.outcome.disaggregation import lagged_pairs, person_mean_centre

EFFECTS: dict[str, str] = {
    "intercept": "expected next-session outcome at average alliance",
    "alliance_within": "within-person: alliance above own average, next session",
    "alliance_between": "between-person: higher average alliance",
    "session": "trend per session",
    "outcome_within": "current outcome above own average",
    "outcome_between": "higher average outcome",
}
TABLE_COLUMNS = ("term", "estimate", "std_error", "z", "p_value", "ci_low", "ci_high",
                 "effect")
#: A person variance needs several persons; below 3 the random intercept is not estimable
#: in any useful sense (a project floor, not a power recommendation: real studies need far more).
MIN_PERSONS = 3


@dataclass(frozen=True)
class AllianceOutcome:
    """The fitted alliance-outcome model: a tidy coefficient table and its inputs."""

    table: pd.DataFrame
    pairs: pd.DataFrame
    n_persons: int
    n_pairs: int
    person_variance: float
    residual_variance: float
    confidence: float
    converged: bool
    notes: tuple[str, ...] = field(default=())

    def effect(self, term: str) -> pd.Series:
        """The table row of one term (``alliance_within``, ``alliance_between``...)."""
        rows = self.table[self.table["term"] == term]
        if rows.empty:
            raise AnalysisError(f"no term {term!r}; the model has "
                                f"{', '.join(self.table['term'])}")
        return rows.iloc[0]

    def figure(self) -> Any:
        """A Plotly figure of the alliance effects (see :mod:`alliance.outcome.figure`)."""
        from alliance.outcome.figure import effects_figure

        return effects_figure(self)


def _mixedlm() -> Any:
    try:
        import statsmodels.formula.api as smf
    except ImportError as exc:
        raise AnalysisError(f"the alliance-outcome model needs statsmodels ({exc}); install "
                            f"alliance[stats]") from None
    return smf.mixedlm


def fit_alliance_outcome(table: pd.DataFrame, *, person: str = "client",
                         session: str = "session", alliance: str = "alliance",
                         outcome: str = "outcome", trend: bool = True,
                         adjust_outcome: bool = False,
                         confidence: float = 0.95) -> AllianceOutcome:
    """Fit the lagged within/between model to a session table (one row per session).

    ``table`` needs the four named columns; other columns are ignored. Raises
    :class:`~alliance.errors.AnalysisError` for unusable data (missing or non-numeric
    columns, too few clients or pairs, no within-person variation, a failed fit).
    """
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence must be between 0 and 1, got {confidence}")
    pairs = lagged_pairs(table, person=person, session=session, alliance=alliance,
                         outcome=outcome)
    terms = ["alliance_within", "alliance_between"]
    if trend:
        pairs = pairs.assign(session_c=pairs["session"] - pairs["session"].mean())
        terms.append("session_c")
    if adjust_outcome:
        pairs = person_mean_centre(pairs, person="person", column="outcome")
        terms += ["outcome_within", "outcome_between"]
    n_persons = int(pairs["person"].nunique())
    if n_persons < MIN_PERSONS:
        raise AnalysisError(f"the model needs consecutive sessions from at least "
                            f"{MIN_PERSONS} {person}s, got {n_persons}")
    if len(pairs) < len(terms) + 3:
        raise AnalysisError(f"only {len(pairs)} consecutive-session pairs; too few for "
                            f"{len(terms) + 1} coefficients")
    for term in terms:
        if float(pairs[term].var()) <= 1e-12:
            what = "within-person" if term.endswith("within") else term.replace("_", " ")
            raise AnalysisError(f"{term.split('_')[0]} has no {what} variation; the model "
                                f"cannot separate its effect")
    notes: list[str] = []
    mixedlm = _mixedlm()
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    formula = "outcome_next ~ " + " + ".join(terms)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = mixedlm(formula, pairs, groups=pairs["person"]).fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as exc:
            raise AnalysisError(f"the mixed model could not be fitted ({exc})") from None
    converged = bool(getattr(fit, "converged", True))
    if not converged or any(issubclass(w.category, ConvergenceWarning) for w in caught):
        notes.append("statsmodels reported convergence problems (often a person variance "
                     "near zero); the fixed effects are usually still sound")
    alpha = 1 - confidence
    fixed = list(fit.fe_params.index)
    ci = fit.conf_int(alpha=alpha).loc[fixed]
    names = {"Intercept": "intercept", "session_c": "session"}
    out = pd.DataFrame({
        "term": [names.get(t, t) for t in fixed],
        "estimate": fit.fe_params.to_numpy(),
        "std_error": fit.bse.loc[fixed].to_numpy(),
        "z": fit.tvalues.loc[fixed].to_numpy(),
        "p_value": fit.pvalues.loc[fixed].to_numpy(),
        "ci_low": ci.iloc[:, 0].to_numpy(),
        "ci_high": ci.iloc[:, 1].to_numpy(),
    })
    out["effect"] = out["term"].map(EFFECTS)
    if not np.isfinite(out[["estimate", "std_error"]].to_numpy()).all():
        raise AnalysisError("the mixed model gave no finite estimates; the data may have too "
                            "little variation")
    return AllianceOutcome(table=out[list(TABLE_COLUMNS)], pairs=pairs, n_persons=n_persons,
                           n_pairs=len(pairs),
                           person_variance=float(np.asarray(fit.cov_re)[0, 0]),
                           residual_variance=float(fit.scale), confidence=confidence,
                           converged=converged, notes=tuple(notes))
