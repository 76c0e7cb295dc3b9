"""Regressions found by benchmarks/fuzz_parsers.py: spec and wording numbers that are not.

YAML lets a response scale's anchor key be ``null`` and its numbers be integers too large
for a float (``10**400``) or ``.nan``. Building the scale called ``float()`` on them and
raised TypeError or OverflowError; an error message formatting a huge cutoff did too.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from alliance.errors import InstrumentError
from alliance.instruments.catalog import parse_yaml_spec

HUGE = 10**400


def _spec(**scale: Any) -> str:
    spec = {"id": "demo", "version": "1", "title": "Demo", "licence": "CC0-1.0",
            "rater_types": ["client"], "response_scale": {"min": 1, "max": 5, **scale},
            "items": [{"id": "a", "text": "First."}, {"id": "b", "text": "Second."}],
            "scoring": {"method": "sum"}}
    return yaml.safe_dump(spec)


def test_null_anchor_key_is_an_instrument_error() -> None:
    text = _spec().replace("max: 5", "max: 5\n  anchors: {1: Never, null: Always}")
    with pytest.raises(InstrumentError, match="anchors must be numbers"):
        parse_yaml_spec(text, "spec.yaml")


@pytest.mark.parametrize("scale", [{"max": HUGE}, {"min": -HUGE}, {"max": float("nan")},
                                   {"max": float("inf")}])
def test_scale_bound_past_the_float_range_or_not_finite_is_an_instrument_error(
        scale: dict[str, Any]) -> None:
    with pytest.raises(InstrumentError, match="field response_scale: min, max and anchors"):
        parse_yaml_spec(_spec(**scale), "spec.yaml")


def test_cutoff_past_the_float_range_is_an_instrument_error() -> None:
    spec = yaml.safe_load(_spec())
    spec["cutoffs"] = [{"score": "total", "below": HUGE, "label": "low", "source": "test"}]
    with pytest.raises(InstrumentError, match="lies outside the score's range"):
        parse_yaml_spec(yaml.safe_dump(spec), "spec.yaml")
