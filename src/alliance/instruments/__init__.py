"""Instruments: specs as data, scoring and reliability. Pure: no database, web or CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alliance._lazy import lazy_getattr
from alliance.instruments.catalog import (
    Catalog,
    builtin_catalog,
    get_instrument,
    merge_wording,
    parse_yaml_spec,
    spec_to_mapping,
)
from alliance.instruments.spec import (
    TOTAL,
    Instrument,
    Item,
    ResponseScale,
    Subscale,
    parse_spec,
)
from alliance.instruments.translations import Translation, Wording

if TYPE_CHECKING:
    from alliance.instruments.multilevel import (
        MultilevelReliability,
        multilevel_reliability,
        simulate_repeated_items,
    )
    from alliance.instruments.reliability import (
        Alpha,
        OneFactor,
        ScaleReliability,
        cronbach_alpha,
        mcdonald_omega,
        scale_reliability,
    )
    from alliance.instruments.scoring import (
        ScaleScore,
        Score,
        score_response,
        score_table,
    )

# Heavy modules (pandas, scipy) load on first use, so importing alliance stays fast.
_LAZY = {
    "ScaleScore": "alliance.instruments.scoring",
    "Score": "alliance.instruments.scoring",
    "score_response": "alliance.instruments.scoring",
    "score_table": "alliance.instruments.scoring",
    "Alpha": "alliance.instruments.reliability",
    "MultilevelReliability": "alliance.instruments.multilevel",
    "multilevel_reliability": "alliance.instruments.multilevel",
    "simulate_repeated_items": "alliance.instruments.multilevel",
    "OneFactor": "alliance.instruments.reliability",
    "ScaleReliability": "alliance.instruments.reliability",
    "cronbach_alpha": "alliance.instruments.reliability",
    "mcdonald_omega": "alliance.instruments.reliability",
    "scale_reliability": "alliance.instruments.reliability",
}

__getattr__ = lazy_getattr(__name__, globals(), _LAZY)


__all__ = [
    "Alpha",
    "Catalog",
    "Instrument",
    "Item",
    "MultilevelReliability",
    "OneFactor",
    "ResponseScale",
    "ScaleReliability",
    "ScaleScore",
    "Score",
    "Subscale",
    "TOTAL",
    "Translation",
    "Wording",
    "builtin_catalog",
    "cronbach_alpha",
    "get_instrument",
    "mcdonald_omega",
    "merge_wording",
    "multilevel_reliability",
    "parse_spec",
    "parse_yaml_spec",
    "scale_reliability",
    "score_response",
    "score_table",
    "simulate_repeated_items",
    "spec_to_mapping",
]
