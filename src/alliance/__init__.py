"""alliance: measure, monitor and protect the therapeutic alliance.

The public API is this module's ``__all__``; submodules are implementation detail unless
named here. Errors are documented in :mod:`alliance.errors`.
"""

from alliance.errors import (
    AllianceError,
    InputFileError,
    InstrumentError,
    ReliabilityError,
    ScoringError,
)
from alliance.instruments import (
    Catalog,
    Instrument,
    ScaleScore,
    Score,
    builtin_catalog,
    get_instrument,
    merge_wording,
    parse_spec,
    score_response,
    score_table,
)

__version__ = "0.1.0"

__all__ = [
    "AllianceError",
    "Catalog",
    "InputFileError",
    "Instrument",
    "InstrumentError",
    "ReliabilityError",
    "ScaleScore",
    "Score",
    "ScoringError",
    "__version__",
    "builtin_catalog",
    "get_instrument",
    "merge_wording",
    "parse_spec",
    "score_response",
    "score_table",
]
