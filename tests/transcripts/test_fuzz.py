"""Property: whatever the input, parsers raise TranscriptError or return a valid transcript."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.errors import TranscriptError
from alliance.transcripts import FORMATS, Transcript, parse_transcript

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# Fragments that steer random text towards the parsers' interesting paths.
_PIECES = st.sampled_from([
    "WEBVTT\n", "\n", "\n\n", "T: ", "C: ", "Therapist: ", "Maria: ", "[SPEAKER_00]: ",
    "SPEAKER_01: ", "<v Client>", "</v>", "<v>", "00:00:01.000 --> 00:00:02.000\n",
    "00:99:01,000 --> 00:00:02,000\n", "1\n", "-->", "speaker,text,start,end\n", ",",
    '"', "{", "}", "[", "]", '{"segments": [', '{"start": 1e999, "end": -1, "text": "x"}',
    '"speaker": "T"', '{"id": "a", "speaker": "T", "conversation_id": "a", "text": "hi"}',
    "NaN", "Infinity", "null", "&amp;", "\r\n", "\ufeff", "hello", "Dr. ", ":", "(00:01)",
])
STEERED = st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=30).map("".join)


def _check(result: Transcript) -> None:
    assert len(result) > 0
    assert [u.index for u in result] == list(range(len(result)))
    roles = {u.role for u in result}
    assert "therapist" in roles and "client" in roles
    for u in result:
        assert u.text.strip()
        if u.start is not None and u.end is not None:
            assert u.end >= u.start


def _parse(data: bytes | str, fmt: str | None) -> None:
    try:
        result = parse_transcript(data, "fuzz", input_format=fmt)
    except TranscriptError as exc:
        assert str(exc).startswith("fuzz")
        return
    _check(result)


@pytest.mark.parametrize("fmt", [None, *FORMATS])
@SETTINGS
@given(text=st.one_of(st.text(max_size=300), STEERED))
def test_text_input_never_escapes(fmt: str | None, text: str) -> None:
    _parse(text, fmt)


@pytest.mark.parametrize("fmt", [None, *FORMATS])
@SETTINGS
@given(data=st.one_of(st.binary(max_size=300), STEERED.map(lambda s: s.encode("utf-8"))))
def test_bytes_input_never_escapes(fmt: str | None, data: bytes) -> None:
    _parse(data, fmt)


@SETTINGS
@given(spec=st.text(max_size=60))
def test_roles_spec_never_escapes(spec: str) -> None:
    from alliance.transcripts import parse_roles

    with contextlib.suppress(TranscriptError):
        parse_roles(spec)
