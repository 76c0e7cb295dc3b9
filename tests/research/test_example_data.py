"""The example research files are what their generators make (documented provenance)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from alliance.instruments import simulate_repeated_items
from alliance.outcome import synthetic_alliance_outcome

DATA = Path(__file__).parents[2] / "examples" / "research"


def test_sessions_csv_is_synthetic_alliance_outcome_seed_7() -> None:
    expected, _ = synthetic_alliance_outcome(n_clients=40, n_sessions=8, seed=7)
    pd.testing.assert_frame_equal(pd.read_csv(DATA / "sessions.csv"), expected.round(3),
                                  atol=1e-9)


def test_diary_csv_is_simulate_repeated_items_seed_11() -> None:
    expected = simulate_repeated_items(25, 6, 3, missing=0.15, seed=11)
    pd.testing.assert_frame_equal(pd.read_csv(DATA / "diary.csv"), expected.round(3),
                                  atol=1e-9)
