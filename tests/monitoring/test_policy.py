"""The policy file: documented defaults with sources, overrides and readable errors."""

from __future__ import annotations

import math

import pytest

from alliance.errors import PolicyError
from alliance.instruments import get_instrument
from alliance.monitoring import default_policy, load_policy_text
from alliance.monitoring.policy import _SECTIONS


def test_every_default_section_names_its_source() -> None:
    policy = default_policy()
    for name in _SECTIONS:
        assert len(policy.section_source(name).strip()) > 20, name
    for over in policy.instruments.values():
        assert over.source.strip()


def test_override_merges_over_defaults() -> None:
    policy = load_policy_text("drop:\n  strict_sd: 2.5\n", "clinic.yaml")
    assert policy.drop.strict_sd == 2.5
    assert policy.drop.lenient_sd == default_policy().drop.lenient_sd


def test_instrument_override_replaces_the_spec_value_and_names_the_policy() -> None:
    policy = load_policy_text("instruments:\n  alliance-12:\n    cutoff: 40\n"
                              "    source: local norms 2026\n", "clinic.yaml")
    params = policy.params_for(get_instrument("alliance-12"))
    assert params.cutoff == 40
    assert params.absolute_drop == 5            # from the spec
    assert "local norms 2026" in params.sources["cutoff"]


def test_spec_values_are_used_when_the_policy_is_silent() -> None:
    params = default_policy().params_for(get_instrument("session-check-4"))
    assert (params.cutoff, params.absolute_drop, params.sd_change, params.reliability) == (
        36, 1, 2, 0.88)
    assert math.isnan(default_policy().params_for(get_instrument("srs")).norm_sd) is False


@pytest.mark.parametrize("text, message", [
    ("drop:\n  strictness: 2\n", r"drop\.strictness: unknown setting"),
    ("alarms: {}\n", "alarms: unknown section"),
    ("drop:\n  strict_sd: high\n", "'high' is not a number"),
    ("rupture_repair:\n  window: 0\n", "whole number of at least 1"),
    ("drop: [\n", "is not valid YAML"),
    ("- a\n- b\n", "must be a mapping"),
    ("instruments:\n  srs:\n    cutoff: 30\n    source: ''\n", "source"),
    ("drop:\n  strict_sd: 0.5\n", "strict_sd must be at least"),
    ("version: 2\n", "not supported"),
])
def test_bad_policy_raises_a_policy_error(text: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        load_policy_text(text, "clinic.yaml")


def test_a_freed_policy_never_lends_its_thresholds_to_a_new_one() -> None:
    # Regression: parameters were cached module-wide under id(policy); once a policy was
    # freed, a new policy at the same address got the old one's cutoff (7 of 200 tries).
    instrument = get_instrument("alliance-12")
    wrong = []
    for i in range(200):
        cutoff = 30 + i % 17
        policy = load_policy_text(f"instruments:\n  alliance-12:\n    cutoff: {cutoff}\n"
                                  f"    source: clinic norms, try {i}\n", f"clinic-{i}.yaml")
        if policy.params_for(instrument).cutoff != cutoff:
            wrong.append(i)
        del policy
    assert wrong == []


def test_parameters_follow_the_instrument_object_not_just_its_id() -> None:
    policy = default_policy()
    real = get_instrument("alliance-12")
    assert policy.params_for(real) is policy.params_for(real)     # cached per policy
    other = get_instrument("session-check-4")
    assert policy.params_for(other).instrument == "session-check-4"
