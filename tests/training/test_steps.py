"""Phrase-detector negatives of scorer v11: assent-seeking questions and retreats.

Every example here was written for this file (none comes from a response set).
"""

from __future__ import annotations

import pytest

from alliance.training.steps import detect_steps


@pytest.mark.parametrize("response", [
    "We'll switch the diary for a weekly chat instead. Does that work for you?",
    "I'll shorten the sessions to forty minutes. Would that be okay?",
    "Next week we start on the letters. Does that sound fair to you both?",
    "Fewer tasks from now on. Are you okay with that?",
    "Mornings instead of evenings. Sound good?",
])
def test_a_closed_check_in_after_a_decision_is_not_an_invitation(response: str) -> None:
    assert detect_steps(response).invited is None


@pytest.mark.parametrize("response", [
    "Don't you think the plan was helping a little?",
    "Surely the walks made some difference?",
    "It was your idea to come, right?",
    "Wouldn't you agree we've made progress?",
])
def test_a_rhetorical_question_is_not_an_invitation(response: str) -> None:
    assert detect_steps(response).invited is None


@pytest.mark.parametrize("response", [
    "How does that plan sound to you?",
    "Did something I said put you off?",
    "Does it feel like I've been hurrying you along?",
    "What would you change about how we work?",
])
def test_open_and_relational_questions_still_invite(response: str) -> None:
    assert detect_steps(response).invited is not None


@pytest.mark.parametrize("response", [
    "I'm sorry I raised it. Forget I said anything, we'll talk about whatever.",
    "I got it wrong and I'll do whatever you want from here on.",
    "I rushed you. I won't bring it up ever again, I promise.",
    "I pushed you. I completely understand if you want to find a new counsellor.",
])
def test_a_retreat_is_an_over_apology_not_responsibility(response: str) -> None:
    found = detect_steps(response)
    assert found.overapology is not None
    assert found.responsibility is None


def test_a_proportionate_apology_still_counts_as_responsibility() -> None:
    found = detect_steps("I moved us on too fast last week; that's on me.")
    assert found.responsibility is not None and found.overapology is None
