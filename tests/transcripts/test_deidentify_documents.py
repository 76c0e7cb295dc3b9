"""De-identifying whole files keeps their format; transcripts keep speakers apart."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.errors import DeidentificationError, TranscriptError
from alliance.transcripts import (
    deidentify_text,
    deidentify_transcript,
    parse_transcript,
    read_transcript,
)
from alliance.transcripts.documents import deidentify_document

DIARIZED = {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}


def test_text_file_keeps_turns_and_pseudonymises_speaker_names() -> None:
    text = "Therapist: Hi Maria.\nMaria: I moved to 12 Elm Street.\nJo: Call 07700 900123\n"
    doc = deidentify_document(text, "s.txt", ["Maria", "Jo"])
    assert doc.text == ("Therapist: Hi [NAME].\nPERSON_1: I moved to [ADDRESS].\n"
                        "PERSON_2: Call [PHONE]\n")
    t = parse_transcript(doc.text, roles={"PERSON_1": "client", "PERSON_2": "client"})
    assert [u.speaker for u in t] == ["Therapist", "PERSON_1", "PERSON_2"]


def test_vtt_keeps_cues_and_timings() -> None:
    text = ("WEBVTT\n\nNOTE call 555-123-4567\n\n1\n00:00:01.000 --> 00:00:02.000\n"
            "<v Maria>On 3/4/2024 I moved.\n\n00:00:02.500 --> 00:00:04.000\n"
            "<v Therapist>Okay.\n")
    doc = deidentify_document(text, "s.vtt", ["Maria"])
    assert doc.format == "vtt"
    assert doc.text == ("WEBVTT\n\nNOTE call [PHONE]\n\n1\n00:00:01.000 --> 00:00:02.000\n"
                        "<v PERSON_1>On [DATE] I moved.\n\n00:00:02.500 --> 00:00:04.000\n"
                        "<v Therapist>Okay.\n")
    t = parse_transcript(doc.text)
    assert [(u.speaker, u.start) for u in t] == [("PERSON_1", 1.0), ("Therapist", 2.5)]


def test_srt_with_whisperx_prefixes_keeps_speaker_ids(examples: Path) -> None:
    text = "1\n00:00:00,500 --> 00:00:04,100\n[SPEAKER_01]: I live at 4 Oak Lane.\n"
    doc = deidentify_document(text, "s.srt")
    assert doc.text == "1\n00:00:00,500 --> 00:00:04,100\n[SPEAKER_01]: I live at [ADDRESS].\n"


def test_csv_keeps_times_and_roles() -> None:
    text = "speaker,role,text,start\nAna,therapist,\"Hi, Bo\",0.5\nBo,client,Mail bo@x.org,1.25\n"
    doc = deidentify_document(text, "s.csv", ["Ana", "Bo"])
    assert doc.text == ("speaker,role,text,start\nPERSON_1,therapist,\"Hi, [NAME]\",0.5\n"
                        "PERSON_2,client,Mail [EMAIL],1.25\n")


def test_whisper_json_drops_word_level_entries() -> None:
    data = {"text": "call 555-123-4567", "segments": [
        {"start": 0, "end": 1, "text": "call 555-123-4567", "speaker": "SPEAKER_00",
         "words": [{"word": "555-123-4567"}]}], "word_segments": [{"word": "555"}]}
    doc = deidentify_document(json.dumps(data), "w.json")
    out = json.loads(doc.text)
    assert out == {"text": "call [PHONE]", "segments": [
        {"start": 0, "end": 1, "text": "call [PHONE]", "speaker": "SPEAKER_00"}]}


def test_convokit_deidentifies_text_speaker_and_meta(examples: Path) -> None:
    line = {"id": "u0", "speaker": "Maria", "conversation_id": "u0", "reply_to": None,
            "timestamp": 0, "text": "I'm Maria", "meta": {"note": "born 1/2/1990",
                                                       "role": "client"}}
    doc = deidentify_document(json.dumps(line) + "\n", "u.jsonl", ["Maria"])
    out = json.loads(doc.text.splitlines()[0])
    assert (out["speaker"], out["text"], out["meta"]) == (
        "PERSON_1", "I'm [NAME]", {"note": "born [DATE]", "role": "client"})


def test_unknown_format_is_treated_as_plain_text() -> None:
    doc = deidentify_document("Clinical note. Seen 01/02/2025.", "note.dat")
    assert (doc.format, doc.text) == ("text", "Clinical note. Seen [DATE].")


def test_broken_json_is_a_deidentification_error() -> None:
    with pytest.raises(DeidentificationError, match=r"w\.json"):
        deidentify_document("[{", "w.json", input_format="whisper-json")


def test_binary_input_is_a_transcript_error() -> None:
    with pytest.raises(TranscriptError, match="binary"):
        deidentify_document(b"\x00\x01", "x.bin")


def test_deidentify_transcript_keeps_roles_and_renames_roster_speakers(examples: Path
                                                                      ) -> None:
    t = parse_transcript("Dr. Okafor: Hi Maria, it's 5 May.\nMaria: Hi.\n")
    out = deidentify_transcript(t, ["Maria", "Okafor"])
    assert [(u.speaker, u.role, u.text) for u in out] == [
        ("Dr. PERSON_1", "therapist", "Hi [NAME], it's [DATE]."),
        ("PERSON_2", "client", "Hi.")]
    assert out.meta["deidentified"] == "2"  # replacements in text; speakers renamed apart
    assert t[0].text == "Hi Maria, it's 5 May."  # the original is untouched


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_replacements_never_overlap_and_lie_inside_the_text(text: str) -> None:
    result = deidentify_text(text, ["Maria Lopez"])
    last = 0
    for r in result.replacements:
        assert last <= r.start < r.end <= len(text)
        last = r.end


@settings(max_examples=150, deadline=None)
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200)),
       fmt=st.sampled_from([None, "text", "vtt", "srt", "whisper-json", "csv", "convokit"]))
def test_documents_raise_only_typed_errors(data: bytes | str, fmt: str | None) -> None:
    with contextlib.suppress(TranscriptError, DeidentificationError):
        deidentify_document(data, "fuzz", ["Maria"], input_format=fmt)


def test_example_files_round_trip_through_deidentification(examples: Path) -> None:
    for path in sorted(p for p in examples.iterdir() if p.name != "names.txt"):
        doc = deidentify_document(path.read_bytes(), str(path), ["Reyes", "Maria"])
        before = read_transcript(path, roles=DIARIZED)
        after = parse_transcript(doc.text, path.name, roles={**DIARIZED, "Dr. PERSON_1":
                                                             "therapist"})
        assert len(after) == len(before)
        assert [u.role for u in after] == [u.role for u in before]


def test_speaker_names_are_removed_from_speech_without_a_roster() -> None:
    text = "Dr. Okafor: Hello Maria.\nMaria: Hi Dr. Okafor, hi doctor.\n"
    doc = deidentify_document(text, "s.txt")
    assert doc.text == ("Dr. PERSON_1: Hello [NAME].\n"
                        "PERSON_2: Hi Dr. [NAME], hi doctor.\n")
    t = deidentify_transcript(parse_transcript(text))
    assert [(u.speaker, u.role, u.text) for u in t] == [
        ("Dr. PERSON_1", "therapist", "Hello [NAME]."),
        ("PERSON_2", "client", "Hi Dr. [NAME], hi doctor.")]


def test_role_labels_and_diarizer_ids_are_not_treated_as_names() -> None:
    from alliance.transcripts.deidentify import speaker_names

    assert speaker_names(["Therapist", "Client B", "Mother", "SPEAKER_00", "T", "UNKNOWN",
                          "Partner 1", "Dr. Okafor", "Maria", "Ana Lopez"]) == [
        "Okafor", "Maria", "Ana Lopez"]


def test_subtitle_speech_that_looks_structural_is_still_redacted() -> None:
    text = ("WEBVTT\n\n00:01.000 --> 00:02.000\n<v T>from A --> B call 555-123-4567\n"
            "4111111111111111\n\n00:02.000 --> 00:03.000\n<v C>ok\n")
    doc = deidentify_document(text, "s.vtt")
    assert doc.text == ("WEBVTT\n\n00:01.000 --> 00:02.000\n<v T>from A --> B call [PHONE]\n"
                        "[ID]\n\n00:02.000 --> 00:03.000\n<v C>ok\n")
    assert doc.counts == {"PHONE": 1, "ID": 1}
