"""WebVTT and SRT: voice tags, WhisperX prefixes, timing, malformed cues."""

from __future__ import annotations

import pytest

from alliance.errors import TranscriptError
from alliance.transcripts import parse_transcript

DIARIZED = {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}


def test_vtt_voice_tags_name_the_speakers_and_give_times() -> None:
    text = ("WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.500 align:start\n"
            "<v Therapist>How was it?</v>\n\n"
            "00:05.000 --> 00:06.250\n<v.loud Client>Awful &amp; long.\n")
    t = parse_transcript(text, "a.vtt")
    assert t.format == "vtt"
    assert [(u.speaker, u.role, u.text, u.start, u.end) for u in t] == [
        ("Therapist", "therapist", "How was it?", 1.0, 4.5),
        ("Client", "client", "Awful & long.", 5.0, 6.25),
    ]


def test_vtt_two_voices_in_one_cue_become_two_turns() -> None:
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v T>Ready?</v> <v C>No.</v>\n"
    t = parse_transcript(text)
    assert [(u.speaker, u.text) for u in t] == [("T", "Ready?"), ("C", "No.")]


def test_whisperx_vtt_segments_of_one_speaker_merge_keeping_first_start_last_end() -> None:
    text = ("WEBVTT\n\n00:00:00.500 --> 00:00:02.000\n[SPEAKER_00]: Hello.\n\n"
            "00:00:02.500 --> 00:00:04.000\n[SPEAKER_01]: Hi.\n\n"
            "00:00:04.000 --> 00:00:07.000\n[SPEAKER_01]: Busy week.\n\n"
            "00:00:07.500 --> 00:00:08.000\n[SPEAKER_00]: Tell me.\n")
    t = parse_transcript(text, roles=DIARIZED)
    assert [(u.speaker, u.text, u.start, u.end) for u in t] == [
        ("SPEAKER_00", "Hello.", 0.5, 2.0),
        ("SPEAKER_01", "Hi. Busy week.", 2.5, 7.0),
        ("SPEAKER_00", "Tell me.", 7.5, 8.0),
    ]


def test_unlabelled_cue_continues_the_previous_speaker() -> None:
    text = ("WEBVTT\n\n00:01.000 --> 00:02.000\n<v Client>I keep thinking\n\n"
            "00:02.000 --> 00:03.000\nabout it.\n\n00:03.000 --> 00:04.000\n<v Therapist>Mm.\n")
    t = parse_transcript(text)
    assert t[0].text == "I keep thinking about it." and t[0].end == 3.0


def test_vtt_without_header_is_refused_on_line_one() -> None:
    with pytest.raises(TranscriptError, match="line 1"):
        parse_transcript("00:00:01.000 --> 00:00:02.000\n<v T>Hi\n", "x.vtt",
                         input_format="vtt")


def test_vtt_malformed_timestamp_names_the_line() -> None:
    text = ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v T>Hi\n\n"
            "00:00:0x.000 --> 00:00:03.000\n<v C>Yo\n")
    with pytest.raises(TranscriptError, match=r"s\.vtt: line 6: malformed timestamp"):
        parse_transcript(text, "s.vtt")


def test_vtt_minutes_over_59_are_malformed() -> None:
    text = "WEBVTT\n\n00:75:01.000 --> 00:76:02.000\n<v T>Hi\n"
    with pytest.raises(TranscriptError, match="below 60"):
        parse_transcript(text)


def test_cue_ending_before_it_starts_is_refused() -> None:
    text = "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\n<v T>Hi\n"
    with pytest.raises(TranscriptError, match="before it starts"):
        parse_transcript(text)


def test_vtt_without_any_speaker_is_refused() -> None:
    text = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello there.\n"
    with pytest.raises(TranscriptError, match="diarize"):
        parse_transcript(text)


def test_vtt_note_and_style_blocks_are_skipped() -> None:
    text = ("WEBVTT\n\nNOTE recorded in clinic\n\nSTYLE\n::cue { color: red }\n\n"
            "00:01.000 --> 00:02.000\n<v T>Hi.\n\n00:02.000 --> 00:03.000\n<v C>Hello.\n")
    assert [u.text for u in parse_transcript(text)] == ["Hi.", "Hello."]


def test_srt_with_whisperx_prefixes_and_markup() -> None:
    text = ("1\n00:00:00,500 --> 00:00:02,000\n[SPEAKER_00]: <i>Hello</i> there.\n\n"
            "2\n00:00:02,500 --> 00:00:04,000\n[SPEAKER_01]: {\\an8}Hi.\n")
    t = parse_transcript(text, "s.srt", roles=DIARIZED)
    assert t.format == "srt"
    assert [(u.speaker, u.text, u.start) for u in t] == [
        ("SPEAKER_00", "Hello there.", 0.5), ("SPEAKER_01", "Hi.", 2.5)]


def test_srt_with_name_prefixes() -> None:
    text = ("1\n00:00:00,500 --> 00:00:02,000\nTherapist: Hello.\n\n"
            "2\n00:00:02,500 --> 00:00:04,000\nClient: Hi.\n")
    assert [u.role for u in parse_transcript(text)] == ["therapist", "client"]


def test_srt_block_without_timing_names_its_line() -> None:
    text = ("1\n00:00:00,500 --> 00:00:02,000\nT: Hello.\n\n2\nC: no timing here\n")
    with pytest.raises(TranscriptError, match="line 5"):
        parse_transcript(text, "s.srt", input_format="srt")
