"""Every shipped example parses, is detected as its own format, and has both roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from alliance.transcripts import read_transcript

DIARIZED = {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}
EXPECTED = {"session.txt": "text", "session.vtt": "vtt", "whisperx.vtt": "vtt",
            "session.srt": "srt", "whisperx.json": "whisper-json", "session.csv": "csv",
            "utterances.jsonl": "convokit", "with_identifiers.txt": "text"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_is_detected_and_has_therapist_and_client(examples: Path, name: str) -> None:
    t = read_transcript(examples / name, roles=DIARIZED)
    assert t.format == EXPECTED[name]
    assert t.by_role("therapist") and t.by_role("client")
    assert [u.index for u in t] == list(range(len(t)))
