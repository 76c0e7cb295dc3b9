"""Phrase detectors of scorer v11 (assent-seeking questions, retreats) and v12 (harms
 carried by an argument).

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


# scorer v12: harms carried by the argument of a response (examples written for this file)
@pytest.mark.parametrize("response", [
    "Mindfulness is very well researched, so I'd keep going with it.",
    "It just needs a little more time before you notice the change.",
    "Give it a proper go for a month and then judge it.",
    "The sleep plan is worth sticking with, honestly.",
    "That's simply how exposure works: it gets worse before it gets better.",
    "I was only checking the dates with your mum.",
    "It's not personal, it's completely routine paperwork.",
    "I'm sorry you feel ignored, but I made time for you every week.",
    "That's not fair, I came in on my day off for this.",
    "Nobody can make you stay on the ward, so there's nothing to argue about.",
])
def test_defending_the_method_or_oneself_by_argument_is_defensive(response: str) -> None:
    assert detect_steps(response).defensive is not None


@pytest.mark.parametrize("response", [
    "Calling yourself a failure is a cognitive distortion, Ruth.",
    "That's classic avoidance, and you know it.",
    "You're being unreasonable about the waiting list.",
    "Shouting at the receptionist was not very fair of you.",
    "You're choosing not to take the tablets.",
    "Stamping your feet like a teenager won't change the rules.",
    "Whenever things get hard, you go looking for someone to blame.",
    "Lots of people say that when they don't want to change.",
    "The plan only works if you actually bother with it.",
    "What you're doing is what we call a flight into health.",
])
def test_an_evaluation_of_the_client_is_judgmental(response: str) -> None:
    assert detect_steps(response).judgmental is not None


@pytest.mark.parametrize("response", [
    "You're right that the plan wasn't working. What would you change?",
    "I may have rushed us. How has this felt for you?",
    "It sounds like the exercises have felt pointless, and that's frustrating.",
    "Could we take more time over this, at a pace that suits you?",
    "You're being really honest with me, and I appreciate it.",
])
def test_repair_wording_is_not_read_as_defending_or_judging(response: str) -> None:
    found = detect_steps(response)
    assert found.defensive is None and found.judgmental is None
