"""Whisper/WhisperX JSON, CSV and ConvoKit utterances.jsonl."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from alliance.errors import TranscriptError
from alliance.transcripts import parse_transcript, read_transcript, write_convokit

DIARIZED = {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}


def test_whisperx_json_segments_with_speakers() -> None:
    data = {"segments": [
        {"start": 0.0, "end": 1.5, "text": " Hello.", "speaker": "SPEAKER_00"},
        {"start": 2.0, "end": 3.0, "text": " Hi.", "speaker": "SPEAKER_01"},
    ]}
    t = parse_transcript(json.dumps(data), "w.json", roles=DIARIZED)
    assert t.format == "whisper-json"
    assert [(u.speaker, u.text, u.start, u.end) for u in t] == [
        ("SPEAKER_00", "Hello.", 0.0, 1.5), ("SPEAKER_01", "Hi.", 2.0, 3.0)]


def test_whisper_segment_without_speaker_takes_its_words_majority() -> None:
    data = [{"start": 0, "end": 1, "text": "Hi", "speaker": "SPEAKER_00"},
            {"start": 1, "end": 2, "text": "Yes hello", "words": [
                {"word": "Yes", "speaker": "SPEAKER_01"},
                {"word": "hello", "speaker": "SPEAKER_01"},
                {"word": "x", "speaker": "SPEAKER_00"}]}]
    t = parse_transcript(json.dumps(data), roles=DIARIZED)
    assert t[1].speaker == "SPEAKER_01"


def test_plain_whisper_json_without_diarization_is_refused() -> None:
    data = {"text": "hi", "segments": [{"start": 0, "end": 1, "text": "Hello."}]}
    with pytest.raises(TranscriptError, match="diarization"):
        parse_transcript(json.dumps(data), "w.json")


def test_whisper_json_with_nan_time_is_refused() -> None:
    text = '{"segments": [{"start": NaN, "end": 1, "text": "x", "speaker": "T"}]}'
    with pytest.raises(TranscriptError, match="segment 0 start"):
        parse_transcript(text, "w.json")


def test_broken_json_names_the_line() -> None:
    with pytest.raises(TranscriptError, match="line 2"):
        parse_transcript('{"segments": [\n  {"start": 0,, }]}', "w.json",
                         input_format="whisper-json")


def test_csv_with_header_times_and_quoted_commas() -> None:
    text = ('Speaker,Text,Start,End\nT,"Well, how was it?",0,2.5\n'
            'C,Hard.,00:00:03.000,00:00:04.5\n')
    t = parse_transcript(text, "s.csv")
    assert t.format == "csv"
    assert [(u.speaker, u.text, u.start, u.end) for u in t] == [
        ("T", "Well, how was it?", 0.0, 2.5), ("C", "Hard.", 3.0, 4.5)]


def test_csv_role_column_states_roles() -> None:
    text = "speaker,role,text\nAna,counsellor,Hello.\nBo,client,Hi.\nCy,client,Hey.\n"
    t = parse_transcript(text)
    assert t.speakers == {"Ana": "therapist", "Bo": "client", "Cy": "client"}


def test_csv_semicolon_separated() -> None:
    t = parse_transcript("speaker;text\nT;Hello; there\nC;Hi\n", input_format="csv")
    assert [u.text for u in t][1] == "Hi"


def test_csv_bad_time_names_the_row_line() -> None:
    text = "speaker,text,start\nT,Hello,0\nC,Hi,soon\n"
    with pytest.raises(TranscriptError, match=r"s\.csv: line 3: malformed start"):
        parse_transcript(text, "s.csv")


def test_csv_without_speaker_column_is_refused() -> None:
    with pytest.raises(TranscriptError, match="'speaker' and 'text'"):
        parse_transcript("who,said\nT,Hi\n", "s.csv", input_format="csv")


def test_convokit_reads_roles_and_times_from_meta(examples: Path) -> None:
    t = read_transcript(examples / "utterances.jsonl")
    assert t.format == "convokit"
    assert t.speakers == {"Dr. Reyes": "therapist", "Mother": "client", "Son": "client"}
    assert t[2].start == 6.5 and t[2].end == 7.0
    assert t.meta["conversation_id"] == "s12-0000"


def test_convokit_with_two_conversations_is_refused() -> None:
    lines = [{"id": "a", "speaker": "T", "conversation_id": "a", "text": "Hi"},
             {"id": "b", "speaker": "C", "conversation_id": "b", "text": "Yo"}]
    text = "\n".join(json.dumps(x) for x in lines)
    with pytest.raises(TranscriptError, match="2 conversations"):
        parse_transcript(text, "u.jsonl")


def test_convokit_line_that_is_not_json_names_its_line() -> None:
    text = '{"id": "a", "speaker": "T", "conversation_id": "a", "text": "Hi"}\n{oops\n'
    with pytest.raises(TranscriptError, match="line 2"):
        parse_transcript(text, "u.jsonl")


def test_convokit_round_trip_through_a_stream(examples: Path) -> None:
    original = read_transcript(examples / "session.csv")
    buffer = io.StringIO()
    write_convokit(original, buffer)
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert records[0]["id"] == "session-0000" and records[0]["reply_to"] is None
    assert records[1]["reply_to"] == "session-0000"
    assert {r["conversation_id"] for r in records} == {"session-0000"}
    back = parse_transcript(buffer.getvalue(), "u.jsonl")
    assert [(u.speaker, u.role, u.text, u.start, u.end) for u in back] == [
        (u.speaker, u.role, u.text, u.start, u.end) for u in original]
    again = io.StringIO()
    write_convokit(back, again)
    assert again.getvalue() == buffer.getvalue()


def test_convokit_directory_has_all_corpus_files(tmp_path: Path, examples: Path) -> None:
    original = read_transcript(examples / "session.vtt")
    write_convokit(original, tmp_path / "corpus")
    names = sorted(p.name for p in (tmp_path / "corpus").iterdir())
    assert names == ["conversations.json", "corpus.json", "index.json", "speakers.json",
                     "utterances.jsonl"]
    speakers = json.loads((tmp_path / "corpus" / "speakers.json").read_text())
    assert speakers == {"Counsellor": {"role": "therapist"}, "Client": {"role": "client"}}
    index = json.loads((tmp_path / "corpus" / "index.json").read_text())
    assert index["utterances-index"]["role"] == ["<class 'str'>"]
    back = read_transcript(tmp_path / "corpus")
    assert [u.text for u in back] == [u.text for u in original]
