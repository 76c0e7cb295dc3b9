"""The simulated client: explicit rupture state, scripted replies, alliance-12 at the end."""

from __future__ import annotations

import pytest

from alliance.training import PracticeSession, RuptureState, load_casebook, next_state
from alliance.training.client import alliance12_answers, alliance12_rating, client_line

BOOK = load_casebook()
TECHNIQUE = "Let's get on with the exercise I planned; try the worksheet at home this week."
JUDGING = "Honestly, you're being difficult. Why are you so negative about everything?"


def play(case_id: str, responses: list[str]) -> PracticeSession:
    s = PracticeSession(BOOK[case_id])
    for r in responses:
        s.respond(r)
    return s


@pytest.mark.parametrize("case_id", list(BOOK))
def test_repair_path_ends_higher_than_technique_first_path(case_id: str) -> None:
    case = BOOK[case_id]
    repair = play(case_id, [s.alternative for s in case.stages]).record()
    technique = play(case_id, [TECHNIQUE] * len(case.stages)).record()
    assert repair.final is not None and technique.final is not None
    assert repair.final.marker is None
    assert repair.final.level > RuptureState.start(case).level
    assert technique.final.level < repair.final.level
    total = lambda r: r.rating["scores"]["total"]["raw"]  # noqa: E731
    assert total(repair) > total(technique)


def test_quiet_homework_repair_play_through_reaches_its_end_state() -> None:
    s = play("quiet-homework", [
        "I notice the sheet is blank again, and I wonder if the homework isn't working for "
        "you. What has it been like?",
        "It might not be fine, and that's okay. I think I pushed the sheets too hard. How "
        "have they really felt?",
        "So the sheet feels like another test you're failing. Could we work out together "
        "something smaller that would feel doable?",
    ])
    assert [t.score.verdict for t in s.turns] == ["repair", "repair", "repair"]
    assert s.state == RuptureState(bond=5, goal=4, task=3, marker=None)
    assert s.state.mode == "engaged"
    assert s.turns[0].reply == BOOK["quiet-homework"].lines["opening"][0]
    assert s.record().rating["scores"]["total"]["raw"] == 48


def test_judging_a_withdrawn_client_switches_the_marker_to_confrontation() -> None:
    s = play("quiet-homework", [JUDGING])
    turn = s.turns[0]
    assert turn.state_before.marker == "withdrawal.minimal_response"
    assert turn.state_after.marker == "confrontation.complaint_activities"
    assert turn.state_after.bond == 2 and turn.state_after.goal == 2
    assert turn.reply in BOOK["quiet-homework"].lines["confrontation"]


def test_technique_on_a_calm_client_opens_a_withdrawal_then_a_confrontation() -> None:
    case = BOOK["quiet-respect"]
    assert case.start.marker is None
    s = play("quiet-respect", [TECHNIQUE, TECHNIQUE, TECHNIQUE])
    markers = [t.state_after.marker for t in s.turns]
    assert markers[0] == case.withdrawal_marker
    assert markers[-1] == case.confrontation_marker
    assert s.state.task == 1


def test_a_partial_response_keeps_the_marker_but_can_raise_the_bond() -> None:
    case = BOOK["not-helping"]
    before = RuptureState.start(case)
    after = next_state(before, "partial", {"reflected": True}, case)
    assert after.marker == before.marker and after.bond == before.bond + 1


def test_levels_stay_on_the_one_to_five_scale() -> None:
    case = BOOK["guarded-testing"]
    state = RuptureState.start(case)
    for _ in range(6):
        state = next_state(state, "judgmental", {}, case)
    assert (state.bond, state.goal) == (1, 1)
    for _ in range(9):
        state = next_state(state, "repair", {"named": True, "renegotiated": True}, case)
    assert (state.bond, state.goal, state.task) == (5, 5, 5)


def test_the_same_responses_replay_to_the_same_record() -> None:
    responses = [JUDGING, TECHNIQUE, "I may have pushed too hard. What do you make of it?"]
    assert play("couple-split", responses).record().to_dict() == \
        play("couple-split", responses).record().to_dict()


def test_lines_of_a_mode_are_used_in_turn() -> None:
    case = BOOK["quiet-homework"]
    state = RuptureState.start(case)
    assert client_line(case, state, {}) == case.lines["withdrawal"][0]
    assert client_line(case, state, {"withdrawal": 1}) == case.lines["withdrawal"][1]
    assert client_line(case, state, {"withdrawal": 3}) == case.lines["withdrawal"][0]


def test_alliance12_from_the_state_uses_the_instrument_scoring() -> None:
    calm = RuptureState(4, 3, 2, None)
    answers = alliance12_answers(calm)
    assert answers["b1"] == 4 and answers["g1"] == 3 and answers["t1"] == 2
    assert answers["b3"] == 2  # reverse keyed: 1 + 5 - 4
    rating = alliance12_rating(calm)
    assert rating["scores"]["bond"]["raw"] == 16
    assert rating["scores"]["total"]["raw"] == 36
    # an active marker makes the client hold back on the reverse-keyed items
    strained = alliance12_rating(RuptureState(4, 3, 2, "withdrawal.denial"))
    assert strained["scores"]["total"]["raw"] == 33


def test_quiet_homework_technique_play_through_ends_in_confrontation() -> None:
    s = play("quiet-homework", [
        "Let's fill in the thought record together now.",
        "You need to do the homework if you want to get better.",
        "Thought records are well-studied, so let me show you again how to fill them in.",
    ])
    assert [t.score.verdict for t in s.turns] == ["technique_first"] * 3
    assert s.state == RuptureState(3, 3, 1, "confrontation.complaint_activities")
    assert s.record().rating["scores"]["total"]["raw"] == 26
