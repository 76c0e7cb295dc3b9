"""Simulated responses for examples, tests and benchmarks (seeded, reproducible).

A two-level factor model: each response has a general alliance level and a component
deviation per subscale; an item is ``mean + 0.8 * (general + 0.6 * component) + noise`` on a
standard-normal scale, mapped onto the item's response scale, rounded for whole-number
scales and clipped to it. Responses lean towards the top of the scale, as real alliance
ratings do (ceiling effects, domain.md section 3). Reverse-keyed items are answered in
the reversed direction, so scoring must un-reverse them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alliance.instruments.spec import Instrument


def simulate_responses(instrument: Instrument, n: int, seed: int = 0, *,
                       missing_rate: float = 0.0, centre: float = 0.72,
                       spread: float = 0.17) -> pd.DataFrame:
    """``n`` simulated responses with columns ``response_id`` and one per item.

    ``centre`` and ``spread`` place the mean response and its SD as fractions of each item's
    range; ``missing_rate`` blanks that share of answers at random.
    """
    rng = np.random.default_rng(seed)
    general = rng.standard_normal(n)
    subs = {s.id: rng.standard_normal(n) for s in instrument.subscales}
    data: dict[str, np.ndarray] = {"response_id": np.arange(1, n + 1)}
    for item in instrument.items:
        comp = subs.get(item.subscale or "", np.zeros(n))
        z = 0.8 * (general + 0.6 * comp) + 0.55 * rng.standard_normal(n)
        lo, hi = item.scale.min, item.scale.max
        value = lo + (hi - lo) * (centre + spread * z)
        if item.reverse:
            value = lo + hi - value
        value = np.clip(value, lo, hi)
        value = np.round(value) if item.scale.integer else np.round(value, 1)
        if missing_rate > 0:
            value = np.where(rng.random(n) < missing_rate, np.nan, value)
        data[item.id] = value
    return pd.DataFrame(data)
