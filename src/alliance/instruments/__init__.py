"""Instruments: specs as data, scoring and reliability. Pure: no database, web or CLI."""

from alliance.instruments.catalog import (
    Catalog,
    builtin_catalog,
    get_instrument,
    merge_wording,
    parse_yaml_spec,
    spec_to_mapping,
)
from alliance.instruments.reliability import (
    Alpha,
    OneFactor,
    ScaleReliability,
    cronbach_alpha,
    mcdonald_omega,
    scale_reliability,
)
from alliance.instruments.scoring import ScaleScore, Score, score_response, score_table
from alliance.instruments.spec import TOTAL, Instrument, Item, ResponseScale, Subscale, parse_spec

__all__ = [
    "TOTAL",
    "Alpha",
    "Catalog",
    "Instrument",
    "Item",
    "OneFactor",
    "ResponseScale",
    "ScaleReliability",
    "ScaleScore",
    "Score",
    "Subscale",
    "builtin_catalog",
    "cronbach_alpha",
    "get_instrument",
    "mcdonald_omega",
    "merge_wording",
    "parse_spec",
    "parse_yaml_spec",
    "scale_reliability",
    "score_response",
    "score_table",
    "spec_to_mapping",
]
