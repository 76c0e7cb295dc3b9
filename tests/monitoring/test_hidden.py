"""``hidden_rupture`` and the cultural-context rule for withdrawal cues."""

from __future__ import annotations

from alliance.monitoring import monitor_case

from .conftest import case_dict, one_case


def hidden(summary, context=None, value=6):  # type: ignore[no-untyped-def]
    data = case_dict([value, value], extra={"context": context} if context else None)
    data["cases"][0]["sessions"][1]["transcript_summary"] = summary
    return [s for s in monitor_case(one_case(data)).signals if s.kind == "hidden_rupture"]


def test_unresolved_confrontation_while_ratings_stay_high_is_acted_on() -> None:
    (sig,) = hidden({"confrontation": 1, "unresolved": 1})
    assert (sig.session, sig.severity, sig.member) == (2, "act", "m1")
    assert sig.evidence["rupture_type"] == "confrontation"


def test_unresolved_withdrawal_is_watch() -> None:
    (sig,) = hidden({"withdrawal": 2, "unresolved": 1, "cues": ["minimal_response"]})
    assert (sig.severity, sig.ambiguous) == ("watch", False)


def test_resolved_markers_or_low_ratings_are_not_hidden() -> None:
    assert hidden({"withdrawal": 2, "unresolved": 0}) == []
    assert hidden({"confrontation": 1, "unresolved": 1}, value=4) == []   # 50 of 100: not high


def test_withdrawal_resting_on_normative_cues_is_ambiguous_with_advice_to_check_in() -> None:
    context = {"cultural_notes": "silence is respectful", "normative_cues": ["silence",
                                                                             "deference"]}
    (sig,) = hidden({"withdrawal": 2, "unresolved": 1, "cues": ["silence", "deference"]},
                    context)
    assert (sig.severity, sig.ambiguous) == ("info", True)
    assert sig.explanation.startswith("Ambiguous in session 2")
    assert "check in" in sig.explanation


def test_a_cue_outside_the_norms_keeps_it_a_rupture() -> None:
    context = {"normative_cues": ["silence"]}
    (sig,) = hidden({"withdrawal": 2, "unresolved": 1, "cues": ["silence", "topic_shift"]},
                    context)
    assert (sig.severity, sig.ambiguous) == ("watch", False)


def test_confrontation_is_never_excused_by_cultural_cues() -> None:
    context = {"normative_cues": ["silence"]}
    (sig,) = hidden({"withdrawal": 1, "confrontation": 1, "unresolved": 1,
                     "cues": ["silence"]}, context)
    assert (sig.severity, sig.ambiguous) == ("act", False)
