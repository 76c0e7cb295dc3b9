from __future__ import annotations

import math

import numpy as np

from alliance.coding.calibration import (
    expected_calibration_error,
    fit_platt,
    smoothed_precision,
)


def test_platt_recovers_known_parameters() -> None:
    rng = np.random.default_rng(1)
    s = rng.normal(0, 2, 20000)
    y = rng.random(20000) < 1 / (1 + np.exp(-(1.5 * s - 0.7)))
    p = fit_platt(s, y.astype(int))
    assert abs(p.a - 1.5) < 0.1 and abs(p.b + 0.7) < 0.1


def test_platt_output_is_in_unit_interval_with_one_class_missing() -> None:
    p = fit_platt([0.1, 0.2, 0.3], [0, 0, 0])
    out = p(np.array([-100.0, 0.0, 100.0]))
    assert np.all((out >= 0) & (out <= 1))


def test_ece_hand_computed() -> None:
    # bin [0.1,0.2): p=.1,.1 with y=0,1 -> |.5-.1|=.4 (weight .5); bin [.9,1]: p=.9,.9, y=1,1
    # -> |1-.9|=.1 (weight .5); ECE = .2 + .05 = .25
    assert math.isclose(expected_calibration_error([0.1, 0.1, 0.9, 0.9], [0, 1, 1, 1]), 0.25)


def test_ece_is_zero_for_perfect_calibration() -> None:
    assert expected_calibration_error([1.0, 0.0], [1, 0]) == 0.0


def test_smoothed_precision() -> None:
    assert smoothed_precision(8, 6) == 0.7
    assert smoothed_precision(0, 0) == 0.5


def test_platt_stays_finite_and_graded_on_nearly_separable_scores() -> None:
    # Regression: an undamped Newton fit returned slopes in the millions on separable
    # held-out scores, turning confidences into 0/1 steps.
    rng = np.random.default_rng(0)
    neg = rng.normal(-8.0, 1.0, 300)
    pos = rng.normal(8.0, 1.0, 30)
    p = fit_platt(np.r_[neg, pos], np.r_[np.zeros(300), np.ones(30)].astype(int))
    assert 0 < p.a < 50
    probs = p(np.array([-8.0, 0.0, 8.0]))
    assert probs[0] < 0.05 and probs[2] > 0.9
    assert 0.05 < probs[1] < 0.95  # graded between the classes, not a 0/1 step
    # the smoothed targets cap the confidence: y+ = 31/32
    assert probs[2] < 31 / 32 + 0.01
