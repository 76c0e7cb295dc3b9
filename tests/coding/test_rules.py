from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.coding.codebook import family_of
from alliance.coding.features import turn_features
from alliance.coding.rules import RuleSet, normalise


def hits(turns: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    speakers = [s for s, _ in turns]
    roles = ["therapist" if s == "T" else "client" for s in speakers]
    texts = [t for _, t in turns]
    feats = turn_features(speakers, roles, texts)
    rs = RuleSet()
    return [[(h.code, t[h.start:h.end]) for h in rs.apply(t, r, f)]
            for t, r, f in zip(texts, roles, feats, strict=True)]


def test_dont_know_after_open_question_is_minimal_response_with_span() -> None:
    out = hits([("T", "How did you feel when she said that?"), ("C", "I don't know.")])
    assert out[1] == [("withdrawal.minimal_response", "I don't know.")]


def test_curly_apostrophe_matches_and_span_points_into_original() -> None:
    text = "Honestly, you don’t listen to me."
    out = hits([("T", "Go on."), ("C", text)])
    assert ("confrontation.complaint_therapist", "you don’t listen") in out[1]


def test_mm_hmm_while_therapist_explains_is_engagement_not_withdrawal() -> None:
    out = hits([("T", "The idea is that the worry shrinks when you stop feeding it."),
                ("C", "Mm-hmm."), ("T", "And then it fades."), ("C", "Right, yeah.")])
    assert out[1] == [] and out[3] == []


def test_sure_after_closed_question_is_not_a_marker() -> None:
    out = hits([("T", "Shall we start with the diary?"), ("C", "Sure.")])
    assert out[1] == []


def test_whatever_after_open_question_is_minimal_response() -> None:
    out = hits([("T", "What would you like to focus on today?"), ("C", "Whatever.")])
    assert [c for c, _ in out[1]] == ["withdrawal.minimal_response"]


def test_we_language_only_on_therapist_turns() -> None:
    out = hits([("T", "Let's look at this together."), ("C", "We could, I suppose.")])
    assert {c for c, _ in out[0]} == {"collaboration.we_language"}
    assert all(family_of(c) != "collaboration" for c, _ in out[1])


@pytest.mark.parametrize("text", [
    "We call it high-risk drinking when it's more than fourteen units.",
    "Our counsellors are all trained in this.",
    "We close at five on Fridays.",
    "We all get anxious before exams.",
    "We have about ten minutes left.",
])
def test_institutional_generic_and_logistic_we_is_not_joint_action(text: str) -> None:
    out = hits([("C", "Can I ask something?"), ("T", text)])
    assert "collaboration.we_language" not in {c for c, _ in out[1]}


@pytest.mark.parametrize("text", [
    "Shall we go back to what happened on Monday?",
    "We could try the breathing once here.",
    "What should we focus on today?",
    "Last time we talked about your sister.",
])
def test_joint_action_we_is_found(text: str) -> None:
    out = hits([("C", "Okay."), ("T", text)])
    assert "collaboration.we_language" in {c for c, _ in out[1]}


def test_advice_after_a_request_is_not_unsolicited() -> None:
    asked = hits([("C", "What should I do about the texts?"), ("T", "You should block him.")])
    unasked = hits([("C", "He texted again."), ("T", "You should block him.")])
    assert "threat.unsolicited_advice" not in {c for c, _ in asked[1]}
    assert "threat.unsolicited_advice" in {c for c, _ in unasked[1]}


def test_normalise_drops_apostrophes_and_maps_back() -> None:
    text, index = normalise("I'm fine")
    assert text == "Im fine"
    assert index == [0, 2, 3, 4, 5, 6, 7]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["client", "therapist"]))
def test_rules_respect_role_and_spans_stay_inside_text(text: str, role: str) -> None:
    feats = turn_features(["A"], [role], [text])
    for h in RuleSet().apply(text, role, feats[0]):
        assert 0 <= h.start < h.end <= len(text)
        client = family_of(h.code) in ("withdrawal", "confrontation", "safety")
        assert client == (role == "client")
        assert 0 < h.confidence < 1


@pytest.mark.parametrize("text", [
    "Have you ever tried to journal your thoughts?",
    "Have you thought about talking to your manager?",
    "Do you think that you might benefit from some counselling?",
    "What about joining a running club?",
    "Could you maybe ask him to turn it down after eleven?",
])
def test_suggestion_questions_are_unsolicited_advice(text: str) -> None:
    out = hits([("C", "I feel so stuck lately."), ("T", text)])
    assert "threat.unsolicited_advice" in {c for c, _ in out[1]}


@pytest.mark.parametrize("text", [
    "What have you thought of trying?",
    "Have you always been close, you and him?",
    "How long has this been going on?",
])
def test_questions_that_propose_no_action_are_not_advice(text: str) -> None:
    out = hits([("C", "I feel so stuck lately."), ("T", text)])
    assert "threat.unsolicited_advice" not in {c for c, _ in out[1]}


def test_a_suggestion_question_after_a_request_in_other_words_is_not_unsolicited() -> None:
    out = hits([("C", "Do you know any good tricks for staying focused?"),
                ("T", "Have you tried working in short blocks with a break?")])
    assert "threat.unsolicited_advice" not in {c for c, _ in out[1]}


@pytest.mark.parametrize("text", [
    "You must be feeling really isolated.",
    "I'm so sorry you have to go through this.",
    "You should be proud of how far you've come.",
])
def test_epistemic_must_sympathy_and_praise_are_not_advice(text: str) -> None:
    out = hits([("C", "I feel so stuck lately."), ("T", text)])
    assert "threat.unsolicited_advice" not in {c for c, _ in out[1]}


@pytest.mark.parametrize("text", [
    "You must be careful with him.",
    "You have to tell her how you feel.",
    "You should be honest with your boss.",
])
def test_instructions_with_must_have_to_and_should_be_are_still_advice(text: str) -> None:
    out = hits([("C", "I feel so stuck lately."), ("T", text)])
    assert "threat.unsolicited_advice" in {c for c, _ in out[1]}


@pytest.mark.parametrize("text", [
    "Is there anyone at work you could talk to about it?",
    "Do you have any friends who could help with the kids?",
    "Are there any support groups near where you live?",
    "Would you consider taking a few days off?",
    "Is it possible to get outside for ten minutes in the morning?",
    "Have you had a chance to speak to your GP?",
    "Can you ask your sister to take them one evening a week?",
])
def test_suggestions_phrased_as_questions_are_unsolicited_advice(text: str) -> None:
    out = hits([("C", "I feel so stuck lately."), ("T", text)])
    assert "threat.unsolicited_advice" in {c for c, _ in out[1]}


@pytest.mark.parametrize("text", [
    "What helped me was a walk straight after work. You could try that.",
    "Another thing I found helpful was writing a list of small wins every evening.",
    "Sometimes a run is the best way to get out of your head for a bit.",
    "It might be worth talking to someone you trust.",
])
def test_advice_folded_into_a_story_or_a_generalisation_is_unsolicited_advice(
        text: str) -> None:
    out = hits([("C", "I can't switch off after work."), ("T", text)])
    assert "threat.unsolicited_advice" in {c for c, _ in out[1]}


@pytest.mark.parametrize("text", [
    "Have you felt like this before, at any other time in your life?",
    "Who did you used to talk to, back home?",
    "What do you think you could do differently next time?",
    "Can you tell me more about what happened?",
    "Can you go back to what you said about your dad?",
    "I remember waiting for my results, it was the longest summer of my life.",
])
def test_open_questions_in_session_requests_and_plain_disclosure_are_not_advice(
        text: str) -> None:
    out = hits([("C", "I feel so stuck lately."), ("T", text)])
    assert "threat.unsolicited_advice" not in {c for c, _ in out[1]}
