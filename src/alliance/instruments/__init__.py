"""Instruments: specs as data, scoring and reliability. Pure: no database, web or CLI."""

from alliance.instruments.catalog import (
    Catalog,
    builtin_catalog,
    get_instrument,
    merge_wording,
    parse_yaml_spec,
    spec_to_mapping,
)
from alliance.instruments.scoring import ScaleScore, Score, score_response, score_table
from alliance.instruments.spec import TOTAL, Instrument, Item, ResponseScale, Subscale, parse_spec

__all__ = [
    "TOTAL",
    "Catalog",
    "Instrument",
    "Item",
    "ResponseScale",
    "ScaleScore",
    "Score",
    "Subscale",
    "builtin_catalog",
    "get_instrument",
    "merge_wording",
    "parse_spec",
    "parse_yaml_spec",
    "score_response",
    "score_table",
    "spec_to_mapping",
]
