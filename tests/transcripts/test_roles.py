"""Role mapping: labels, --roles, inference and its limits."""

from __future__ import annotations

import pytest

from alliance.errors import TranscriptError
from alliance.transcripts import parse_roles, parse_transcript
from alliance.transcripts.roles import label_role


@pytest.mark.parametrize(("label", "role"), [
    ("T", "therapist"), ("Th", "therapist"), ("Therapist", "therapist"),
    ("Counselor", "therapist"), ("Counsellor", "therapist"), ("Clinician", "therapist"),
    ("Dr", "therapist"), ("Dr. Okafor", "therapist"), ("Therapist 2", "therapist"),
    ("T1", "therapist"), ("C", "client"), ("Client", "client"), ("Patient", "client"),
    ("P", "client"), ("Client B", "client"), ("C2", "client"), ("Mother", "client"),
    ("Partner 1", "client"), ("Interpreter", "other"),
    ("Maria", None), ("SPEAKER_00", None), ("Tom", None), ("Cat", None),
])
def test_label_roles(label: str, role: str | None) -> None:
    assert label_role(label) == role


def test_parse_roles_accepts_role_words_and_spaces() -> None:
    assert parse_roles(" SPEAKER_00 = counsellor , SPEAKER_01=patient,SPEAKER_02=other") == {
        "SPEAKER_00": "therapist", "SPEAKER_01": "client", "SPEAKER_02": "other"}


@pytest.mark.parametrize("spec", ["", "SPEAKER_00", "SPEAKER_00=", "=client",
                                  "SPEAKER_00=boss", "A=therapist,A=client"])
def test_parse_roles_refuses_malformed_specs_showing_the_syntax(spec: str) -> None:
    with pytest.raises(TranscriptError):
        parse_roles(spec)


def test_explicit_roles_override_labels() -> None:
    t = parse_transcript("T: hi\nC: ho", roles={"T": "client", "C": "therapist"})
    assert t.speakers == {"T": "client", "C": "therapist"}


def test_roles_value_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(TranscriptError, match="not one of"):
        parse_transcript("T: hi\nC: ho", roles={"T": "boss"})


def test_couple_session_with_two_unmapped_names_requires_roles() -> None:
    text = "Therapist: Who starts?\nAna: Me.\nBen: Fine."
    with pytest.raises(TranscriptError, match="'Ana', 'Ben'"):
        parse_transcript(text)
    t = parse_transcript(text, roles=parse_roles("Ana=client,Ben=client"))
    assert t.speakers == {"Therapist": "therapist", "Ana": "client", "Ben": "client"}


def test_unknown_speaker_segments_are_other_and_do_not_block() -> None:
    text = ('{"segments": [{"start": 0, "end": 1, "text": "cough"},'
            '{"start": 1, "end": 2, "text": "Hi", "speaker": "T"},'
            '{"start": 2, "end": 3, "text": "Yo", "speaker": "C"}]}')
    t = parse_transcript(text)
    assert t.speakers == {"UNKNOWN": "other", "T": "therapist", "C": "client"}


def test_only_clients_is_refused_naming_the_missing_role() -> None:
    with pytest.raises(TranscriptError, match="no therapist"):
        parse_transcript("Client: hi\nPatient: ho")
