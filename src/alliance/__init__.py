"""alliance: measure, monitor and protect the therapeutic alliance.

The public API is this module's ``__all__``. Names load lazily (PEP 562), so importing
``alliance`` costs nothing until a name is used; submodules are implementation detail
unless named here. Errors are documented in :mod:`alliance.errors`.
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
        Deidentified,
        Replacement,
        Role,
        Transcript,
        Utterance,
        deidentify_text,
        deidentify_transcript,
        detect_format,
        parse_roles,
        parse_transcript,
        read_transcript,
        write_convokit,
    )

__version__ = "0.1.0"

_LAZY = {
    "Alpha": "alliance.instruments",
    "Catalog": "alliance.instruments",
    "Deidentified": "alliance.transcripts",
    "Instrument": "alliance.instruments",
    "Item": "alliance.instruments",
    "OneFactor": "alliance.instruments",
    "Replacement": "alliance.transcripts",
    "ResponseScale": "alliance.instruments",
    "Role": "alliance.transcripts",
    "ScaleReliability": "alliance.instruments",
    "ScaleScore": "alliance.instruments",
    "Score": "alliance.instruments",
    "Subscale": "alliance.instruments",
    "Transcript": "alliance.transcripts",
    "Utterance": "alliance.transcripts",
    "builtin_catalog": "alliance.instruments",
    "cronbach_alpha": "alliance.instruments",
    "deidentify_text": "alliance.transcripts",
    "deidentify_transcript": "alliance.transcripts",
    "detect_format": "alliance.transcripts",
    "get_instrument": "alliance.instruments",
    "mcdonald_omega": "alliance.instruments",
    "merge_wording": "alliance.instruments",
    "parse_roles": "alliance.transcripts",
    "parse_spec": "alliance.instruments",
    "parse_transcript": "alliance.transcripts",
    "parse_yaml_spec": "alliance.instruments",
    "read_transcript": "alliance.transcripts",
    "scale_reliability": "alliance.instruments",
    "score_response": "alliance.instruments",
    "score_table": "alliance.instruments",
    "spec_to_mapping": "alliance.instruments",
    "write_convokit": "alliance.transcripts",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


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
    "Deidentified",
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
    "Replacement",
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
    "deidentify_text",
    "deidentify_transcript",
    "detect_format",
    "get_instrument",
    "mcdonald_omega",
    "merge_wording",
    "parse_roles",
    "parse_spec",
    "parse_transcript",
    "parse_yaml_spec",
    "read_transcript",
    "scale_reliability",
    "score_response",
    "score_table",
    "spec_to_mapping",
    "write_convokit",
]
