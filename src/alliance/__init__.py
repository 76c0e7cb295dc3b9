"""alliance: measure, monitor and protect the therapeutic alliance.

The public API is this module's ``__all__`` (loaded lazily: importing ``alliance`` is cheap);
submodules are implementation detail unless named here. Errors are documented in
:mod:`alliance.errors`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from alliance.errors import (
    AlertStateError,
    AllianceError,
    AuthError,
    CaseFileError,
    CodingError,
    ConfigError,
    DeidentificationError,
    InputFileError,
    InstrumentError,
    ModelError,
    NotFound,
    PermissionDenied,
    PolicyError,
    ReliabilityError,
    ScoringError,
    StoreError,
    TranscriptError,
)

if TYPE_CHECKING:
    from alliance.instruments import (
        Alpha,
        Catalog,
        Instrument,
        Item,
        OneFactor,
        ResponseScale,
        ScaleReliability,
        ScaleScore,
        Score,
        Subscale,
        builtin_catalog,
        cronbach_alpha,
        get_instrument,
        mcdonald_omega,
        merge_wording,
        parse_spec,
        parse_yaml_spec,
        scale_reliability,
        score_response,
        score_table,
        spec_to_mapping,
    )
    from alliance.transcripts import (
        Role,
        Transcript,
        Utterance,
    )

# Heavy modules (pandas, scipy) load on first use, so importing alliance stays fast.
_LAZY = {
    "Alpha": "alliance.instruments",
    "Catalog": "alliance.instruments",
    "Instrument": "alliance.instruments",
    "Item": "alliance.instruments",
    "OneFactor": "alliance.instruments",
    "ResponseScale": "alliance.instruments",
    "ScaleReliability": "alliance.instruments",
    "ScaleScore": "alliance.instruments",
    "Score": "alliance.instruments",
    "Subscale": "alliance.instruments",
    "builtin_catalog": "alliance.instruments",
    "cronbach_alpha": "alliance.instruments",
    "get_instrument": "alliance.instruments",
    "mcdonald_omega": "alliance.instruments",
    "merge_wording": "alliance.instruments",
    "parse_spec": "alliance.instruments",
    "parse_yaml_spec": "alliance.instruments",
    "scale_reliability": "alliance.instruments",
    "score_response": "alliance.instruments",
    "score_table": "alliance.instruments",
    "spec_to_mapping": "alliance.instruments",
    "Role": "alliance.transcripts",
    "Transcript": "alliance.transcripts",
    "Utterance": "alliance.transcripts",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__version__ = "0.1.0"

__all__ = [
    "AlertStateError",
    "AllianceError",
    "Alpha",
    "AuthError",
    "CaseFileError",
    "Catalog",
    "CodingError",
    "ConfigError",
    "DeidentificationError",
    "InputFileError",
    "Instrument",
    "InstrumentError",
    "Item",
    "ModelError",
    "NotFound",
    "OneFactor",
    "PermissionDenied",
    "PolicyError",
    "ReliabilityError",
    "ResponseScale",
    "Role",
    "ScaleReliability",
    "ScaleScore",
    "Score",
    "ScoringError",
    "StoreError",
    "Subscale",
    "Transcript",
    "TranscriptError",
    "Utterance",
    "__version__",
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
