"""Synthetic session tables with known alliance-outcome effects (seeded, reproducible).

The generator writes the model of :mod:`alliance.outcome.model` forwards, so the analysis
should recover its coefficients within their confidence intervals:

* client ``i`` has a latent alliance level ``L_i ~ N(alliance_mean, between_sd)`` and
  sessions ``1..n_sessions`` (each after the first missing with ``missing``);
* the alliance in session ``t`` is ``L_i + N(0, within_sd)``;
* the outcome in session ``t + 1`` is ``outcome_mean + within * alliance_within[i, t] +
  between * alliance_between[i] + trend * (t - mean t) + u_i + e``, with
  ``u_i ~ N(0, person_sd)``, ``e ~ N(0, residual_sd)``, and the within and between parts
  taken from the generated alliance exactly as the analysis computes them (person means of
  the observed sessions); session 1's outcome is the intercept plus noise.

>>> table, truth = synthetic_alliance_outcome(n_clients=4, n_sessions=3, seed=1)
>>> list(table.columns), truth["within"]
(['client', 'session', 'alliance', 'outcome'], -0.8)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alliance.errors import AnalysisError


def synthetic_alliance_outcome(n_clients: int = 120, n_sessions: int = 10, *,
                               within: float = -0.8, between: float = -1.5,
                               trend: float = -0.3, alliance_mean: float = 4.0,
                               between_sd: float = 0.6, within_sd: float = 0.5,
                               outcome_mean: float = 20.0, person_sd: float = 2.0,
                               residual_sd: float = 1.0, missing: float = 0.1,
                               seed: int = 0) -> tuple[pd.DataFrame, dict[str, float]]:
    """A table ``client, session, alliance, outcome`` and the true coefficients.

    Defaults mimic a symptom outcome (lower is better) rated after each session and a 1-5
    alliance scale: a better alliance than usual is followed by fewer symptoms.
    """
    if n_clients < 1 or n_sessions < 2:
        raise AnalysisError("synthetic data need at least 1 client and 2 sessions")
    if not 0 <= missing < 1:
        raise AnalysisError(f"missing must be in [0, 1), got {missing}")
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_clients):
        level = rng.normal(alliance_mean, between_sd)
        for t in range(1, n_sessions + 1):
            if t > 1 and rng.random() < missing:
                continue
            rows.append({"client": f"c{i + 1:03d}", "session": t,
                         "alliance": level + rng.normal(0, within_sd)})
    table = pd.DataFrame(rows)
    means = table.groupby("client")["alliance"].transform("mean")
    grand = table.groupby("client")["alliance"].mean().mean()
    w_part, b_part = table["alliance"] - means, means - grand
    person_effect = dict(zip(table["client"].unique(),
                             rng.normal(0, person_sd, table["client"].nunique()), strict=True))
    t_mean = (n_sessions) / 2  # mean of the predictor sessions 1..n-1 (before missingness)
    outcome = np.full(len(table), np.nan)
    index = {(c, s): k for k, (c, s) in enumerate(zip(table["client"], table["session"],
                                                      strict=True))}
    for k, (client, sess) in enumerate(zip(table["client"], table["session"], strict=True)):
        prev = index.get((client, sess - 1))
        mean = outcome_mean + person_effect[client]
        if prev is not None:
            mean += (within * w_part.iloc[prev] + between * b_part.iloc[prev]
                     + trend * (sess - 1 - t_mean))
        outcome[k] = mean + rng.normal(0, residual_sd)
    table["outcome"] = outcome
    truth = {"within": within, "between": between, "trend": trend,
             "person_variance": person_sd**2, "residual_variance": residual_sd**2}
    return table, truth
