from __future__ import annotations

from alliance.coding.coder import CodeAssignment, CodedUtterance
from alliance.coding.episodes import find_episodes


def test_repair_then_engaged_reply_is_resolved(coded) -> None:
    eps = find_episodes(coded([
        ("T", "What was it like?", []),
        ("C", "Dunno.", ["withdrawal.minimal_response"]),
        ("T", "I notice you went quiet.", ["repair.name_rupture"]),
        ("C", "Yeah, I guess I felt judged when you said that about work.", []),
    ]))
    assert len(eps) == 1
    e = eps[0]
    assert (e.marker_index, e.marker_code, e.resolution) == (1, "withdrawal.minimal_response",
                                                             "resolved")
    assert [(r.index, r.code) for r in e.repair] == [(2, "repair.name_rupture")]
    assert e.threats == ()


def test_threat_then_new_marker_is_unresolved_and_opens_next_episode(coded) -> None:
    eps = find_episodes(coded([
        ("C", "This isn't working.", ["confrontation.complaint_progress"]),
        ("T", "Well, you never do the homework.", ["threat.defensive_blaming"]),
        ("C", "Whatever.", ["withdrawal.minimal_response"]),
    ]))
    assert [e.resolution for e in eps] == ["unresolved", "unresolved"]
    assert [(t.index, t.code) for t in eps[0].threats] == [(1, "threat.defensive_blaming")]


def test_marker_again_right_after_a_repair_is_partial(coded) -> None:
    eps = find_episodes(coded([
        ("C", "You don't get it.", ["confrontation.complaint_therapist"]),
        ("T", "Help me get it.", ["repair.invite_feedback"]),
        ("C", "Whatever.", ["withdrawal.minimal_response"]),
    ]))
    assert eps[0].resolution == "partial"
    assert eps[0].window_end == 1


def test_reengaging_after_threat_without_repair_is_partial(coded) -> None:
    eps = find_episodes(coded([
        ("C", "This homework is pointless.", ["confrontation.complaint_activities"]),
        ("T", "You just need to do it.", ["threat.lecturing"]),
        ("C", "Fine, I will try it on Monday and Wednesday then.", []),
    ]))
    assert eps[0].resolution == "partial"


def test_later_engaged_reply_after_a_fragment_is_resolved(coded) -> None:
    eps = find_episodes(coded([
        ("C", "Dunno.", ["withdrawal.minimal_response"]),
        ("T", "It's okay to take a moment.", ["repair.empathize_validate"]),
        ("C", "Yeah.", []),
        ("T", "What comes up?", []),
        ("C", "I keep thinking about my dad and the hospital last spring.", []),
    ]))
    assert eps[0].resolution == "resolved"


def test_only_a_fragment_back_is_partial(coded) -> None:
    eps = find_episodes(coded([
        ("C", "I'm fine.", ["withdrawal.denial"]),
        ("T", "It makes sense to be wary.", ["repair.empathize_validate"]),
        ("C", "Mm-hmm.", []),
    ]))
    assert eps[0].resolution == "partial"


def test_client_silent_for_rest_of_session_is_unresolved(coded) -> None:
    eps = find_episodes(coded([
        ("C", "I'm done with therapy.", ["confrontation.control_pressure"]),
        ("T", "Can we talk about that?", ["repair.invite_feedback"]),
    ]))
    assert eps[0].resolution == "unresolved"


def test_other_clients_turns_do_not_close_the_window(coded) -> None:
    eps = find_episodes(coded([
        ("Tom", "Dunno.", ["withdrawal.minimal_response"]),
        ("Ann", "He always does this!", ["confrontation.complaint_therapist"]),
        ("T", "Tom, I wonder what happens for you right now.", ["repair.invite_feedback"]),
        ("Tom", "I feel ganged up on, if I'm honest, by both of you.", []),
    ]))
    tom = eps[0]
    assert tom.speaker == "Tom" and tom.resolution == "resolved"
    assert [r.index for r in tom.repair] == [2]


def test_most_confident_marker_code_names_the_episode(coded) -> None:
    u = coded([("C", "You don't care, it's all my fault.", [])])[0]
    u = CodedUtterance(u.utterance, (
        CodeAssignment("withdrawal.self_criticism", 0.6, "", 0, 1, "rule"),
        CodeAssignment("confrontation.complaint_therapist", 0.8, "", 0, 1, "rule")))
    assert find_episodes([u])[0].marker_code == "confrontation.complaint_therapist"
