"""Reliability: hand-computed cases and agreement with established implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from sklearn.decomposition import FactorAnalysis

from alliance.errors import ReliabilityError
from alliance.instruments import get_instrument
from alliance.instruments.reliability import (
    cronbach_alpha,
    item_statistics,
    mcdonald_omega,
    one_factor,
    scale_reliability,
)
from alliance.testing.responses import simulate_responses

HAND = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [5, 4, 5]], dtype=float)


def test_alpha_of_hand_computed_example() -> None:
    # item variances 2.5 + 1.3 + 1.7 = 5.5; total variance 15.2; alpha = 1.5 * (1 - 5.5/15.2)
    assert cronbach_alpha(HAND).alpha == pytest.approx(1.5 * (1 - 5.5 / 15.2))


def test_alpha_and_feldt_interval_match_pingouin_on_its_reference_dataset() -> None:
    data = pg.read_dataset("cronbach_alpha")
    wide = data.pivot(index="Subj", columns="Items", values="Scores")
    expected, (low, high) = pg.cronbach_alpha(data=wide)
    got = cronbach_alpha(wide.to_numpy())
    assert got.alpha == pytest.approx(expected, abs=1e-12)
    assert (round(got.ci_low, 3), round(got.ci_high, 3)) == (low, high)


def test_alpha_matches_pingouin_listwise_on_simulated_scale() -> None:
    x = simulate_responses(get_instrument("alliance-12"), 300, seed=3).drop(columns="response_id")
    expected, ci = pg.cronbach_alpha(data=x, ci=0.9)
    got = cronbach_alpha(x.to_numpy(), confidence=0.9)
    assert got.alpha == pytest.approx(expected, abs=1e-12)
    assert (round(got.ci_low, 3), round(got.ci_high, 3)) == tuple(ci)


def test_omega_recovers_a_known_congeneric_model_exactly() -> None:
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    corr = np.outer(lam, lam)
    np.fill_diagonal(corr, 1.0)
    fit = one_factor(corr, is_corr=True)
    assert fit.loadings == pytest.approx(tuple(lam), abs=1e-6)
    # (0.8 + 0.7 + 0.6 + 0.5)^2 / (2.6^2 + (0.36 + 0.51 + 0.64 + 0.75)) = 6.76 / 9.02
    assert fit.omega_total == pytest.approx(6.76 / 9.02, abs=1e-7)


def test_one_factor_loadings_match_scikit_learn_maximum_likelihood() -> None:
    rng = np.random.default_rng(11)
    factor = rng.standard_normal(2000)
    lam = np.array([0.9, 0.75, 0.6, 0.45, 0.3])
    x = factor[:, None] * lam + rng.standard_normal((2000, 5)) * np.sqrt(1 - lam**2)
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    sk = FactorAnalysis(n_components=1, tol=1e-10, max_iter=10000,
                        svd_method="lapack").fit(z)
    ref = np.abs(sk.components_[0])
    fit = one_factor(x)
    assert np.abs(fit.loadings) == pytest.approx(ref, abs=2e-3)


def test_omega_equals_alpha_for_parallel_items() -> None:
    corr = np.full((4, 4), 0.5)
    np.fill_diagonal(corr, 1.0)
    # parallel standardised items: omega = alpha = 4 * 0.5 / (1 + 3 * 0.5) = 0.8
    assert one_factor(corr, is_corr=True).omega_total == pytest.approx(0.8, abs=1e-6)


def test_corrected_item_total_correlation_excludes_the_item() -> None:
    stats = item_statistics(HAND, ["a", "b", "c"])
    rest = HAND[:, 1] + HAND[:, 2]
    assert stats[0].corrected_item_total == pytest.approx(np.corrcoef(HAND[:, 0], rest)[0, 1])
    assert stats[0].alpha_if_deleted == pytest.approx(cronbach_alpha(HAND[:, 1:]).alpha)
    assert stats[1].mean == pytest.approx(3.4)


def test_scale_reliability_reports_each_subscale_and_drops_incomplete_rows() -> None:
    inst = get_instrument("alliance-12")
    table = simulate_responses(inst, 400, seed=5, missing_rate=0.02)
    results = {r.score: r for r in scale_reliability(inst, table)}
    assert list(results) == ["bond", "goal", "task", "total"]
    total = results["total"]
    assert total.n_used + total.n_dropped == 400 and total.n_dropped > 0
    assert 0.8 < total.alpha.alpha < 0.97
    assert total.omega is not None and abs(total.omega.omega_total - total.alpha.alpha) < 0.05


def test_reverse_keyed_items_are_unreversed_before_reliability() -> None:
    inst = get_instrument("alliance-12")
    results = scale_reliability(inst, simulate_responses(inst, 300, seed=2))
    assert all(s.corrected_item_total > 0.3 for r in results for s in r.item_stats)


def test_single_item_subscales_are_skipped() -> None:
    inst = get_instrument("pulse-3")
    results = scale_reliability(inst, simulate_responses(inst, 200, seed=4))
    assert [r.score for r in results] == ["total"]


@pytest.mark.parametrize(("matrix", "message"), [
    (np.ones((10, 1)), "at least 2 items"),
    (np.array([[1.0, 2.0], [2.0, 3.0]]), "at least 3 complete responses"),
    (np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 4.0]]), "item 1 has no variance"),
    (np.array([[1.0, np.nan], [2.0, 3.0], [3.0, 4.0]]), "missing values"),
])
def test_degenerate_data_raises_reliability_error(matrix: np.ndarray, message: str) -> None:
    with pytest.raises(ReliabilityError, match=message):
        cronbach_alpha(matrix)


def test_omega_refuses_redundant_items() -> None:
    x = np.array([[1.0, 1.0, 2.0], [2.0, 2.0, 1.0], [3.0, 3.0, 5.0], [4.0, 4.0, 3.0]])
    with pytest.raises(ReliabilityError, match="singular"):
        mcdonald_omega(x)


def test_too_few_complete_rows_in_a_table_is_a_readable_error() -> None:
    inst = get_instrument("alliance-12")
    table = pd.DataFrame([{i: 3 for i in inst.item_ids}] * 2)
    with pytest.raises(ReliabilityError, match="alliance-12 bond: reliability needs at least 3"):
        scale_reliability(inst, table)
