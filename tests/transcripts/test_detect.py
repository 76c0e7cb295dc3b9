"""Format detection: content first, extension second."""

from __future__ import annotations

import pytest

from alliance.errors import TranscriptError
from alliance.transcripts import FORMATS, detect_format


@pytest.mark.parametrize(("text", "source", "expected"), [
    ("WEBVTT\n\n00:01.000 --> 00:02.000\n<v T>Hi", "x.txt", "vtt"),
    ("\ufeffWEBVTT\n", "x", "vtt"),
    ("1\n00:00:01,000 --> 00:00:02,000\n[SPEAKER_00]: hi\n", "x.txt", "srt"),
    ('{"segments": [{"text": "hi"}]}', "x", "whisper-json"),
    ('[{"start": 0, "text": "hi"}]', "x", "whisper-json"),
    ('{"id": "u1", "speaker": "T", "conversation_id": "u1", "text": "hi"}\n', "x",
     "convokit"),
    ("speaker,text,start,end\nT,hi,0,1\n", "x", "csv"),
    ("Speaker\tText\nT\thi\n", "x", "csv"),
    ("T: hi\nC: hello\n", "x.csv", "text"),
    ("something unusual", "notes.srt", "srt"),
])
def test_detects(text: str, source: str, expected: str) -> None:
    assert detect_format(text, source) == expected
    assert expected in FORMATS


def test_undetectable_text_without_a_known_extension_is_an_error() -> None:
    with pytest.raises(TranscriptError, match=r"notes\.dat"):
        detect_format("nothing here looks like a transcript", "notes.dat")
