"""Alliance-outcome analysis: within/between-person disaggregation and lagged mixed models.

Pure domain code (pandas, statsmodels on demand, Plotly on demand): no store, web, CLI or
batch imports. The model is documented in :mod:`alliance.outcome.model`.
"""

from __future__ import annotations

from alliance.outcome.disaggregation import lagged_pairs, person_mean_centre
from alliance.outcome.model import AllianceOutcome, fit_alliance_outcome
from alliance.outcome.synthetic import synthetic_alliance_outcome

__all__ = [
    "AllianceOutcome",
    "fit_alliance_outcome",
    "lagged_pairs",
    "person_mean_centre",
    "synthetic_alliance_outcome",
]
