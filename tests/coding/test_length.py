"""No length shortcut: turn length never reaches a classifier head, and padding a neutral
turn with neutral sentences never makes a code fire."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.coding.features import FEATURE_NAMES, turn_features

NEUTRAL_SENTENCES = (
    "I took the bus in this morning.",
    "The traffic was about the same as usual.",
    "We had pasta for dinner on Tuesday.",
    "My sister lives about an hour away.",
    "The office moved to the third floor last month.",
    "I usually get up around seven.",
    "It rained most of the weekend.",
    "The shop on the corner sells newspapers and milk.",
    "My phone needed charging again by the afternoon.",
    "We walked the dog along the canal.",
    "There was a lot of paperwork to sort out on Friday.",
    "The train was a few minutes late.",
)
NEUTRAL_PROMPTS = {
    "client": ("Therapist", "therapist", "And what did you do at the weekend?"),
    "therapist": ("Client", "client", "I went to my sister's on Saturday."),
}
THERAPIST_NEUTRAL = (
    "Okay, that's the bus then.",
    "Right, on Saturday.",
    "I see, at your sister's.",
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
       extra=st.lists(st.sampled_from(NEUTRAL_SENTENCES), min_size=1, max_size=12))
def test_appending_neutral_sentences_never_raises_a_code_over_threshold(
        packaged_coder, role, start, extra) -> None:
    other_speaker, other_role, prompt = NEUTRAL_PROMPTS[role]
    base = (NEUTRAL_SENTENCES[start] if role == "client"
            else THERAPIST_NEUTRAL[start % len(THERAPIST_NEUTRAL)])
    me = "Client" if role == "client" else "Therapist"
    convs = [([other_speaker, me], [other_role, role], [prompt, " ".join([base, *extra[:k]])])
             for k in range(len(extra) + 1)]
    for analysis in packaged_coder.analyse(convs):
        turn = analysis[1]
        over = {c: s for c, s in turn.scores.items() if s >= packaged_coder.threshold(c)}
        assert not over, (convs, over)
