"""Alliance-outcome: disaggregation, lagging, recovery of known effects, figure, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from alliance.errors import AnalysisError
from alliance.outcome import (
    fit_alliance_outcome,
    lagged_pairs,
    person_mean_centre,
    synthetic_alliance_outcome,
)
from alliance.outcome.model import TABLE_COLUMNS


def small() -> pd.DataFrame:
    return pd.DataFrame({"client": ["a", "a", "a", "a", "b", "b", "b"],
                         "session": [1, 2, 4, 5, 1, 2, 3],
                         "alliance": [4.0, 5.0, 6.0, 5.0, 2.0, 3.0, 4.0],
                         "outcome": [10, 9, 7, 6, 12, 12, 11]})


def test_within_parts_sum_to_zero_and_between_is_constant_per_person() -> None:
    table, _ = synthetic_alliance_outcome(n_clients=20, n_sessions=6, seed=2)
    parts = person_mean_centre(table, person="client", column="alliance")
    assert parts.groupby("client")["alliance_within"].sum().abs().max() < 1e-9
    assert parts.groupby("client")["alliance_between"].nunique().eq(1).all()
    assert abs(parts.groupby("client")["alliance_between"].first().mean()) < 1e-9


def test_only_consecutive_sessions_pair() -> None:
    pairs = lagged_pairs(small(), person="client", session="session", alliance="alliance",
                         outcome="outcome")
    assert list(zip(pairs["person"], pairs["session"], pairs["session_next"],
                    strict=True)) == [("a", 1, 2), ("a", 4, 5), ("b", 1, 2), ("b", 2, 3)]
    assert pairs["outcome_next"].tolist() == [9.0, 6.0, 12.0, 11.0]


def test_row_order_does_not_matter() -> None:
    table, _ = synthetic_alliance_outcome(n_clients=30, n_sessions=6, seed=4)
    a = fit_alliance_outcome(table).table
    b = fit_alliance_outcome(table.sample(frac=1, random_state=3)).table
    pd.testing.assert_frame_equal(a, b, atol=1e-6)


def test_known_effects_are_recovered_within_their_intervals() -> None:
    table, truth = synthetic_alliance_outcome(n_clients=120, n_sessions=10, seed=0)
    result = fit_alliance_outcome(table)
    for term, key in (("alliance_within", "within"), ("alliance_between", "between"),
                      ("session", "trend")):
        row = result.effect(term)
        assert row["ci_low"] <= truth[key] <= row["ci_high"], (term, row.to_dict())
    # the intervals are informative, not vacuous
    assert result.effect("alliance_within")["ci_high"] < 0
    assert result.effect("alliance_within")["ci_high"] - \
        result.effect("alliance_within")["ci_low"] < 0.4
    assert result.person_variance == pytest.approx(truth["person_variance"], rel=0.35)
    assert result.residual_variance == pytest.approx(truth["residual_variance"], rel=0.15)


def test_no_within_effect_gives_an_interval_covering_zero() -> None:
    table, _ = synthetic_alliance_outcome(n_clients=80, n_sessions=8, within=0.0, seed=5)
    row = fit_alliance_outcome(table).effect("alliance_within")
    assert row["ci_low"] <= 0 <= row["ci_high"]


def test_adjusting_for_current_outcome_adds_its_terms() -> None:
    table, truth = synthetic_alliance_outcome(n_clients=60, n_sessions=8, seed=6)
    result = fit_alliance_outcome(table, adjust_outcome=True, trend=False)
    assert list(result.table["term"]) == ["intercept", "alliance_within",
                                          "alliance_between", "outcome_within",
                                          "outcome_between"]
    row = result.effect("alliance_within")
    assert row["ci_low"] <= truth["within"] <= row["ci_high"]


def test_table_is_tidy_and_named_columns_work() -> None:
    table, _ = synthetic_alliance_outcome(n_clients=25, n_sessions=5, seed=7)
    renamed = table.rename(columns={"client": "id", "session": "visit", "alliance": "wai",
                                    "outcome": "phq9"})
    result = fit_alliance_outcome(renamed, person="id", session="visit", alliance="wai",
                                  outcome="phq9", confidence=0.9)
    assert tuple(result.table.columns) == TABLE_COLUMNS
    assert result.table["effect"].notna().all()
    assert (result.table["ci_low"] < result.table["estimate"]).all()
    assert result.n_persons == 25 and result.n_pairs == len(result.pairs)


def test_figure_has_the_effects_and_the_within_slope() -> None:
    table, _ = synthetic_alliance_outcome(n_clients=25, n_sessions=5, seed=8)
    result = fit_alliance_outcome(table)
    fig = result.figure()
    names = [trace.name for trace in fig.data]
    assert names[:2] == ["estimate", "session pairs"] and names[2].startswith("within slope")
    assert list(fig.data[0].y) == ["session", "alliance_between", "alliance_within"]
    assert len(fig.data[1].x) == result.n_pairs


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.drop(columns="outcome"), "no column 'outcome'"),
    (lambda t: t.assign(alliance=t["alliance"].astype(object).where(t.index != 3, "high")),
     "alliance 'high' is not a number"),
    (lambda t: t.assign(session=t["session"] + 0.5), "not a whole session number"),
    (lambda t: pd.concat([t, t.iloc[[0]]]), "appears more than once"),
    (lambda t: t[t["client"].isin(["c001", "c002"])], "at least 3 clients"),
    (lambda t: t.assign(alliance=3.0), "no within-person variation"),
])
def test_bad_tables_raise_analysis_error(change, message: str) -> None:
    table, _ = synthetic_alliance_outcome(n_clients=10, n_sessions=4, seed=9, missing=0)
    with pytest.raises(AnalysisError, match=message):
        fit_alliance_outcome(change(table))


def test_bad_confidence_and_unknown_term_are_refused() -> None:
    table, _ = synthetic_alliance_outcome(n_clients=10, n_sessions=4, seed=9)
    with pytest.raises(AnalysisError, match="confidence"):
        fit_alliance_outcome(table, confidence=1.5)
    with pytest.raises(AnalysisError, match="no term"):
        fit_alliance_outcome(table).effect("therapist")


def test_not_a_dataframe_is_refused() -> None:
    with pytest.raises(AnalysisError, match="DataFrame"):
        fit_alliance_outcome(np.zeros((3, 4)))  # type: ignore[arg-type]


def test_bad_synthetic_settings_are_refused() -> None:
    with pytest.raises(AnalysisError):
        synthetic_alliance_outcome(n_sessions=1)
    with pytest.raises(AnalysisError):
        synthetic_alliance_outcome(missing=1.0)


def test_missing_stats_extra_is_a_readable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    table, _ = synthetic_alliance_outcome(n_clients=10, n_sessions=4, seed=9)
    monkeypatch.setitem(sys.modules, "statsmodels.formula.api", None)
    with pytest.raises(AnalysisError, match=r"install alliance\[stats\]"):
        fit_alliance_outcome(table)


@pytest.mark.slow
def test_intervals_cover_the_truth_at_about_their_nominal_rate() -> None:
    # 40 synthetic studies of 40 clients x 6 sessions: 95% intervals should miss the true
    # effect about twice; fewer than 34 hits in 40 has probability 0.005 if they are right.
    terms = {"alliance_within": "within", "alliance_between": "between", "session": "trend"}
    hits = dict.fromkeys(terms, 0)
    for seed in range(40):
        table, truth = synthetic_alliance_outcome(n_clients=40, n_sessions=6, seed=500 + seed)
        result = fit_alliance_outcome(table)
        for term, key in terms.items():
            row = result.effect(term)
            hits[term] += int(row["ci_low"] <= truth[key] <= row["ci_high"])
    assert all(h >= 34 for h in hits.values()), hits
