"""No length shortcut: turn length never reaches a classifier head, and padding a neutral
turn with neutral sentences never makes a code fire."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.coding.features import FEATURE_NAMES, turn_features

#: Neutral sentences about the speaker's own week (what the prompt asks for). Generic facts
#: that answer nothing ("The shop on the corner sells milk.") are not neutral: appended to
#: an answer they read as drifting off the question, which is what topic_shift codes (the
#: first version of this test had such sentences and found exactly that).
NEUTRAL_SENTENCES = (
    "I took the bus in this morning.",
    "The traffic was about the same as usual.",
    "We had pasta for dinner on Tuesday.",
    "I drove over to my sister's on Sunday.",
    "I usually get up around seven.",
    "It rained most of the weekend, so I stayed in.",
    "I did the food shopping on Thursday evening.",
    "My phone needed charging again by the afternoon.",
    "We walked the dog along the canal.",
    "There was a lot of paperwork to sort out at work on Friday.",
    "The train home was a few minutes late.",
    "I watched a film on Saturday night.",
)
NEUTRAL_PROMPTS = {
    # an open, everyday prompt that any of the neutral sentences answers (a sentence that
    # ignored a pointed question could rightly be a topic shift)
    "client": ("Therapist", "therapist", "Tell me a bit about your week, whatever comes to mind."),
    "therapist": ("Client", "client", "I went to my sister's on Saturday."),
}
#: Neutral things a therapist says: notes, logistics, acknowledgements.
THERAPIST_SENTENCES = (
    "I'm just writing that down.",
    "The room is booked for the same time next week.",
    "I'll send the form to your GP on Monday as usual.",
    "The clock on the wall is a few minutes fast.",
    "Thanks for filling in the questionnaire in the waiting room.",
    "The letter from the clinic should arrive in about a week.",
)


def test_head_features_carry_no_length() -> None:
    assert not {"log_words", "length_ratio", "words"} & set(FEATURE_NAMES)
    short, long_ = turn_features(["T", "C", "T", "C"], ["therapist", "client"] * 2,
                                 ["What did you do?", "Shopping.", "What did you do?",
                                  "Shopping. " * 40])[1::2]
    assert short.words != long_.words
    assert short.vector() == dataclasses.replace(long_, continuity=short.continuity).vector()


@pytest.mark.model
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(role=st.sampled_from(["client", "therapist"]),
       start=st.integers(0, len(NEUTRAL_SENTENCES) - 1),
       picks=st.lists(st.integers(0, 11), min_size=1, max_size=12))
def test_appending_neutral_sentences_never_raises_a_code_over_threshold(
        packaged_coder, role, start, picks) -> None:
    pool = NEUTRAL_SENTENCES if role == "client" else THERAPIST_SENTENCES
    extra = [pool[k % len(pool)] for k in picks]
    other_speaker, other_role, prompt = NEUTRAL_PROMPTS[role]
    # (a therapist's "Okay, at your sister's." is not neutral: it restates, a reflection)
    base = pool[start % len(pool)]
    me = "Client" if role == "client" else "Therapist"
    convs = [([other_speaker, me], [other_role, role], [prompt, " ".join([base, *extra[:k]])])
             for k in range(len(extra) + 1)]
    for analysis in packaged_coder.analyse(convs):
        turn = analysis[1]
        over = {c: s for c, s in turn.scores.items() if s >= packaged_coder.threshold(c)}
        assert not over, (convs, over)
