"""Plain-text transcripts with speaker prefixes."""

from __future__ import annotations

import pytest

from alliance.errors import TranscriptError
from alliance.transcripts import parse_transcript


def test_short_prefixes_map_to_therapist_and_client() -> None:
    t = parse_transcript("T: How was the week?\nC: Long.\n")
    assert [(u.index, u.speaker, u.role, u.text) for u in t] == [
        (0, "T", "therapist", "How was the week?"),
        (1, "C", "client", "Long."),
    ]
    assert t.format == "text"


def test_continuation_lines_and_blank_lines_stay_in_the_turn() -> None:
    t = parse_transcript("Therapist: How are you?\n\nClient: Tired.\n  Very tired,\n\nreally.\n"
                         "Therapist: Say more.")
    assert [u.text for u in t] == ["How are you?", "Tired. Very tired, really.", "Say more."]


def test_colon_inside_speech_does_not_start_a_turn() -> None:
    t = parse_transcript("Counsellor: What did she say?\nClient: Well.\n"
                         "My mother said: you never listen.\nCounsellor: Hm.")
    assert t[1].text == "Well. My mother said: you never listen."
    assert len(t) == 3


def test_consecutive_lines_of_one_speaker_merge_into_one_turn() -> None:
    t = parse_transcript("T: First.\nT: Second.\nC: Third.")
    assert [u.text for u in t] == ["First. Second.", "Third."]
    unmerged = parse_transcript("T: First.\nT: Second.\nC: Third.", merge=False)
    assert [u.text for u in unmerged] == ["First.", "Second.", "Third."]


def test_named_client_beside_a_therapist_label_is_the_client() -> None:
    t = parse_transcript("Therapist: Hello Maria.\nMaria: Hi.\nTherapist: How are things?")
    assert t.speakers == {"Therapist": "therapist", "Maria": "client"}


def test_family_members_are_all_clients() -> None:
    t = parse_transcript("Dr. Okafor: Who wants to start?\nMother: I will.\nSon: No.\n"
                         "Father: Let him speak.")
    assert t.speakers == {"Dr. Okafor": "therapist", "Mother": "client", "Son": "client",
                          "Father": "client"}
    assert len(t.by_role("client")) == 3


def test_two_unknown_names_require_roles() -> None:
    with pytest.raises(TranscriptError) as err:
        parse_transcript("Maria: Hi.\nJohn: Hello.", source="s.txt")
    message = str(err.value)
    assert "s.txt" in message and "'Maria'" in message and "'John'" in message
    assert "--roles" in message
    t = parse_transcript("Maria: Hi.\nJohn: Hello.", roles={"john": "therapist",
                                                            "Maria": "client"})
    assert t.speakers == {"Maria": "client", "John": "therapist"}


def test_preamble_before_the_first_speaker_is_kept_in_meta() -> None:
    t = parse_transcript("Session 4\nRecorded with consent\nT: Hi.\nC: Hi.")
    assert t.meta["preamble"] == "Session 4\nRecorded with consent"


def test_time_prefix_gives_the_start() -> None:
    t = parse_transcript("[00:01:05] T: Hi.\n[00:01:09.5] C: Hello.")
    assert [u.start for u in t] == [65.0, 69.5]


def test_diarizer_labels_in_plain_text_need_roles() -> None:
    text = "[SPEAKER_00]: Hi.\n[SPEAKER_01]: Hello."
    with pytest.raises(TranscriptError, match="SPEAKER_00"):
        parse_transcript(text)
    t = parse_transcript(text, roles={"SPEAKER_00": "therapist", "SPEAKER_01": "client"})
    assert [u.role for u in t] == ["therapist", "client"]


def test_text_without_prefixes_is_refused_with_the_file_name() -> None:
    with pytest.raises(TranscriptError, match=r"notes\.txt"):
        parse_transcript("We talked about the week.\nIt went well.", source="notes.txt")


def test_only_a_therapist_is_refused() -> None:
    with pytest.raises(TranscriptError, match="no client"):
        parse_transcript("T: Hello?\nT: Anyone?")
