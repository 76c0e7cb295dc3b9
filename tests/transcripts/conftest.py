"""Shared paths for transcript tests."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "transcripts"
DIARIZED = {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
