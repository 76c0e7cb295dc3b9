"""De-identification of text: each identifier kind, roster names, what is kept."""

from __future__ import annotations

import pytest

from alliance.errors import DeidentificationError
from alliance.transcripts import deidentify_text


@pytest.mark.parametrize(("text", "expected"), [
    ("Write to ana.b+x@mail.example.com today.", "Write to [EMAIL] today."),
    ("It's ana at example dot com.", "It's [EMAIL]."),
    ("See https://example.org/a?b=1.", "See [URL]."),
    ("See www.example.co.uk or example.com/page", "See [URL] or [URL]"),
    ("Call (555) 123-4567.", "Call [PHONE]."),
    ("Call +44 20 7946 0018 ext. 12 now", "Call [PHONE] now"),
    ("Call 07700 900123", "Call [PHONE]"),
    ("Call +33 1 23 45 67 89", "Call [PHONE]"),
    ("Call 555-0199", "Call [PHONE]"),
    ("On 12/03/2024 and 2024-03-12", "On [DATE] and [DATE]"),
    ("Since March 12th, 2019.", "Since [DATE]."),
    ("Since the 3rd of June", "Since [DATE]"),
    ("Tuesday, 5 Nov 2024", "[DATE]"),
    ("Back in March 2024", "Back in [DATE]"),
    ("It began on 3/12.", "It began on [DATE]."),
    ("At 42 Elm Street, Springfield, IL 62704.", "At [ADDRESS]."),
    ("Flat 2, 17 Harcourt Road", "[ADDRESS]"),
    ("PO Box 1234", "[ADDRESS]"),
    ("postcode LS6 2AB", "postcode [ADDRESS]"),
    ("SSN 078-05-1120", "SSN [ID]"),
    ("NHS number 943 476 5919", "NHS number [ID]"),
    ("MRN: A1234567", "MRN: [ID]"),
    ("record #445566", "record #[ID]"),
    ("card 4111 1111 1111 1111", "card [ID]"),
    ("ref 123456789", "ref [ID]"),
    ("it was 20231187", "it was [ID]"),
    ("call seven one eight, five five five, oh one two three", "call [PHONE]"),
    ("my social is five five five, twelve, three four five six", "my social is [ID]"),
    ("dial 0 8 0 0 1 1 1 1 1 1 1", "dial [PHONE]"),
    ("tom dot becker at example dot com", "[EMAIL]"),
    ("Rue de Rivoli 24", "[ADDRESS]"),
    ("twelve oak street", "[ADDRESS]"),
    ("see r/therapy", "see [URL]"),
])
def test_each_identifier_kind_gets_its_placeholder(text: str, expected: str) -> None:
    assert deidentify_text(text).text == expected


@pytest.mark.parametrize("text", [
    "I'd rate it 8/10, maybe 7/10.",
    "May I ask something? We march on.",
    "I walked 3 blocks down the road.",
    "In 2019 I was 34; it cost $1,200.",
    "PHQ-9 was 14 and GAD-7 was 9 at 5:30 pm.",
    "10-15 minutes, 3 times a week, 50 mg.",
    "I hope Will is fine, said Grace.",
    "In March things were better.",
    "Breathe in, one, two, three, four, five, six, seven, and out.",
    "It was one or two times, maybe three.",
])
def test_numbers_and_words_that_are_not_identifiers_are_kept(text: str) -> None:
    result = deidentify_text(text)
    assert result.text == text and result.replacements == ()


def test_replacements_report_kind_and_span_in_the_input() -> None:
    text = "Mail a@b.org on 1/2/2024."
    result = deidentify_text(text)
    assert [(r.kind, text[r.start:r.end]) for r in result.replacements] == [
        ("EMAIL", "a@b.org"), ("DATE", "1/2/2024")]
    assert result.counts() == {"EMAIL": 1, "DATE": 1}


def test_roster_names_are_whole_word_case_insensitive_with_possessives() -> None:
    result = deidentify_text("maria said Maria's mum and MARIA; Mariana stayed.", ["Maria"])
    assert result.text == "[NAME] said [NAME]'s mum and [NAME]; Mariana stayed."


def test_parts_of_a_full_name_are_removed_only_when_capitalised() -> None:
    roster = ["Hope Williams"]
    text = "Hope came; I hope so; hope williams and WILLIAMS too."
    assert deidentify_text(text, roster).text == (
        "[NAME] came; I hope so; [NAME] and [NAME] too.")


def test_name_inside_an_email_goes_with_the_email() -> None:
    assert deidentify_text("maria@example.org", ["Maria"]).text == "[EMAIL]"


def test_roster_as_a_single_string_is_refused() -> None:
    with pytest.raises(DeidentificationError, match="list of names"):
        deidentify_text("x", "Maria")  # type: ignore[arg-type]


def test_roster_entry_without_letters_is_refused() -> None:
    with pytest.raises(DeidentificationError, match="no letters"):
        deidentify_text("x", ["12345"])
