"""Reading transcribed speech: listener tokens, crosstalk fragments, disfluencies."""

from __future__ import annotations

import pytest

from alliance.transcripts.speech import (
    is_listener_token,
    normalise_speech,
    reading_units,
    unit_text,
)


@pytest.mark.parametrize("text", ["Mm.", "Um.", "Mm, yeah.", "Uh-huh.", "Right, right.",
                                  "Mm-hmm, okay.", "Yeah, I see.", "Oh wow."])
def test_listener_tokens_are_recognised(text: str) -> None:
    assert is_listener_token(text)


@pytest.mark.parametrize("text", ["I don't know.", "Yeah?", "No.", "Fine, I guess.",
                                  "Yeah, my mother called again on Sunday.", ""])
def test_answers_and_questions_are_not_listener_tokens(text: str) -> None:
    assert not is_listener_token(text)


def test_disfluencies_are_removed_and_spans_point_into_the_original() -> None:
    original = "Um, I- I just, you know, I don't- I don't know."
    n = normalise_speech(original)
    assert n.text == "I just, I don't know."
    k = n.text.index("know")
    s, e = n.original_span(k, k + 4)
    assert original[s:e] == "know"


def test_repeated_words_and_dashes_are_normalised() -> None:
    assert normalise_speech("The the thing is—he never calls.").text == \
        "The thing is, he never calls."
    assert normalise_speech("Well, uh, I think it's-- it's been hard.").text == \
        "Well, I think it's been hard."


def test_text_of_only_fillers_is_kept_as_it_was() -> None:
    assert normalise_speech("Um.").text == "Um."


def test_continuation_is_joined_to_the_cut_off_turn_with_original_indices() -> None:
    speakers = ["T", "C", "T", "C", "T"]
    texts = ["How long has it been like this?", "I've been feeling like this—", "Mm.",
             "-for years, honestly.", "That's a long time."]
    units = reading_units(speakers, texts)
    joined = next(u for u in units if 1 in u.indices)
    assert joined.indices == (1, 3) and joined.kind == "turn"
    assert unit_text(joined, texts) == "I've been feeling like this— -for years, honestly."
    assert normalise_speech(unit_text(joined, texts)).text == \
        "I've been feeling like this, for years, honestly."
    assert next(u for u in units if u.head == 2).kind == "listener"
    assert sorted(i for u in units for i in u.indices) == list(range(5))


def test_short_cut_off_turn_never_continued_is_crosstalk_of_the_interrupted_turn() -> None:
    speakers = ["T", "C", "T"]
    texts = ["What I was wondering—", "So—", "—is whether the mornings are the worst."]
    units = reading_units(speakers, texts)
    crosstalk = next(u for u in units if u.head == 1)
    assert crosstalk.kind == "crosstalk" and crosstalk.attached_to == 0
    assert next(u for u in units if u.head == 0).indices == (0, 2)


def test_a_dash_start_without_a_cut_off_turn_before_it_stays_its_own_turn() -> None:
    units = reading_units(["C", "T", "C"], ["I slept fine.", "Good.", "-and then I woke."])
    assert [u.indices for u in units] == [(0,), (1,), (2,)]
