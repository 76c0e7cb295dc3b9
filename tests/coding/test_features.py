from __future__ import annotations

import math

import pytest

from alliance.coding.features import (
    asks_for_advice,
    is_open_question,
    lexical_continuity,
    turn_features,
)


def test_length_ratio_uses_the_speakers_own_median() -> None:
    # client turns of 10, 20, 30 and 5 words: median 15; the 5-word turn has ratio 1/3
    texts = ["Go on.", "w " * 10, "And?", "w " * 20, "More?", "w " * 30, "So?", "a b c d e"]
    speakers = ["T", "C"] * 4
    roles = ["therapist", "client"] * 4
    f = turn_features(speakers, roles, texts)
    assert f[7].norm == 15
    assert math.isclose(f[7].length_ratio, 1 / 3)


def test_speaker_with_few_turns_falls_back_to_role_default() -> None:
    f = turn_features(["T", "C"], ["therapist", "client"], ["What happened?", "Not much."])
    assert f[1].norm == 14.0 and f[1].after_open_question


def test_open_and_closed_questions() -> None:
    assert is_open_question("Okay. What was that like for you?")
    assert is_open_question("Tell me about that.")
    assert not is_open_question("Did you take the bus?")
    assert not is_open_question("We stop at ten.")


def test_lexical_continuity_is_jaccard_of_content_stems() -> None:
    # stems {sister, visit} vs {sister, weather}: 1 shared of 3
    assert math.isclose(lexical_continuity("my sister visit", "the sister weather"), 1 / 3)
    assert lexical_continuity("the and", "sister") == 0.0


def test_backchannel_flag_not_set_after_open_question() -> None:
    f = turn_features(["T", "C", "T", "C"], ["therapist", "client"] * 2,
                      ["What do you feel?", "Yeah.", "It can take time to settle.", "Yeah."])
    assert not f[1].backchannel and f[3].backchannel


def test_therapist_heads_do_not_read_client_question_flags_but_do_read_advice_requests() -> None:
    from alliance.coding.features import CLIENT_ONLY_FEATURES, FEATURE_NAMES

    f = turn_features(["C", "T"], ["client", "therapist"],
                      ["What should I do about it?", "You could call her."])[1]
    v = dict(zip(FEATURE_NAMES, f.vector(), strict=True))
    assert f.after_question and all(v[k] == 0.0 for k in CLIENT_ONLY_FEATURES)
    assert v["advice_requested"] == 1.0
    c = turn_features(["T", "C"], ["therapist", "client"], ["How was it?", "Fine."])[1]
    assert dict(zip(FEATURE_NAMES, c.vector(), strict=True))["after_question"] == 1.0


@pytest.mark.parametrize("text", [
    "Do you know any good tricks to help me study?",
    "What steps should I take to feel better?",
    "What's the best way to ask for a raise?",
    "Any idea how I can meet people here?",
    "Could you suggest something for the nights?",
])
def test_requests_for_advice_in_other_words_are_recognised(text: str) -> None:
    assert asks_for_advice(text)


@pytest.mark.parametrize("text", ["How are you today?", "I want to get better at this.",
                                  "My best friend moved away."])
def test_statements_and_other_questions_are_not_requests_for_advice(text: str) -> None:
    assert not asks_for_advice(text)


@pytest.mark.parametrize("text", ["Thank you for your suggestions.",
                                  "I will take your advice and write it down.",
                                  "I'm going to follow your suggestion."])
def test_thanks_for_advice_already_given_is_not_a_request(text: str) -> None:
    assert not asks_for_advice(text)


def test_asking_for_the_therapists_advice_is_a_request() -> None:
    assert asks_for_advice("What is your advice?")


@pytest.mark.parametrize("text", [
    "I don't know how I can go on like this.",
    "So I carried him, what can I do, the boy is crying. And then my back went.",
])
def test_how_can_i_inside_a_story_or_lament_is_not_a_request(text: str) -> None:
    assert not asks_for_advice(text)


@pytest.mark.parametrize("text", [
    "How do I tell him without starting a fight?",
    "so how do i walk away from that",
    "I feel stuck. What can I do?",
])
def test_how_can_i_as_a_question_is_a_request(text: str) -> None:
    assert asks_for_advice(text)


def test_a_yes_that_declines_does_not_grant_permission() -> None:
    texts = ["Can I offer a thought, and you tell me if it's wrong?",
             "Okay, that's a bit much.", "You've always been the one who coped."]
    f = turn_features(["T", "C", "T"], ["therapist", "client", "therapist"], texts)[2]
    assert not f.advice_requested
    for yes in ("Okay, go on.", "Sure, no problem, go ahead.", "Yes, I don't mind."):
        texts[1] = yes
        f = turn_features(["T", "C", "T"], ["therapist", "client", "therapist"], texts)[2]
        assert f.advice_requested, yes
