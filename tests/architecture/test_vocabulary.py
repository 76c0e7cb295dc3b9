"""One vocabulary: the case-file schema, the monitoring core, the store and the web forms use
the terms of :mod:`alliance.vocabulary` (issue 9)."""

from __future__ import annotations

from typing import Any

from alliance import vocabulary
from alliance.monitoring import casefile, signals
from alliance.monitoring.casefile import case_file_schema
from alliance.store import cases, models


def _properties(name: str) -> dict[str, Any]:
    found: dict[str, Any] = case_file_schema()["$defs"][name]["properties"]
    return found


def test_the_case_file_schema_uses_the_vocabulary() -> None:
    session = _properties("session")
    assert tuple(session["attendance"]["enum"]) == vocabulary.ATTENDANCE
    assert tuple(session["homework"]["enum"]) == vocabulary.HOMEWORK
    assert session["minutes_late"]["maximum"] == vocabulary.MAX_MINUTES_LATE
    assert tuple(_properties("case")["modality"]["enum"]) == vocabulary.MODALITIES


def test_core_and_store_share_the_same_objects() -> None:
    assert casefile.ATTENDANCE is models.ATTENDANCE is vocabulary.ATTENDANCE
    assert casefile.HOMEWORK is models.HOMEWORK is vocabulary.HOMEWORK
    assert models.MODALITIES is vocabulary.MODALITIES
    assert cases.NORMATIVE_CUES is vocabulary.NORMATIVE_CUES
    assert signals.SEVERITIES is vocabulary.SEVERITIES
    assert signals.SEVERITY_RANK is vocabulary.SEVERITY_RANK
