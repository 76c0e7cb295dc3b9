from __future__ import annotations

import itertools
import math

from alliance.coding.coder import CodeAssignment, CodedUtterance
from alliance.coding.episodes import find_episodes
from alliance.coding.summary import (
    COMPONENTS,
    MIN_TURNS,
    PRIOR,
    PRIOR_TURNS,
    smooth_down,
    smooth_up,
    summarise,
)
from alliance.transcripts.model import Utterance


def _scored(turns: list[tuple[str, str, dict[str, float]]]) -> list[CodedUtterance]:
    """Utterances with every code's probability given; codes >= 0.5 are assigned."""
    out = []
    for i, (speaker, text, scores) in enumerate(turns):
        role = "therapist" if speaker == "T" else "client"
        codes = tuple(CodeAssignment(c, p, text, 0, len(text), "model")
                      for c, p in scores.items() if p >= 0.5)
        out.append(CodedUtterance(Utterance(i, speaker, role, text),  # type: ignore[arg-type]
                                  codes, dict(scores)))
    return out


def test_summary_hand_computed(coded) -> None:
    utts = coded([
        ("T", "What brings you today?", []),
        ("C", "Dunno.", ["withdrawal.minimal_response"]),
        ("T", "Let's take it slowly together.", ["collaboration.we_language",
                                                  "repair.renegotiate"]),
        ("C", "Okay, it's mostly about my sister and the house we share.", []),
        ("T", "You should just move out.", ["threat.unsolicited_advice"]),
        ("C", "Yeah, maybe, I have thought about it for a while now.", []),
    ])
    s = summarise(utts, find_episodes(utts))
    assert s.counts == {"withdrawal": 1, "confrontation": 0, "safety": 0, "bond": 0,
                        "repair": 1, "threat": 1, "collaboration": 1}
    assert s.episodes == {"total": 1, "resolved": 1, "partial": 0, "unresolved": 0}
    assert s.resolution_rate == 1.0
    # expected counts: the fixture's confidence 0.9 per assigned code
    assert math.isclose(s.expected_counts["collaboration"], 0.9)
    # 0.9 expected we-language over 3 therapist turns
    assert math.isclose(s.we_rate, 30.0)
    c = s.components
    assert c["bond"] == 0.0 and c["repair"] == 1.0 and c["strain"] == 1.0
    assert c["threat"] == 1.0
    assert math.isclose(c["collaboration"], round(smooth_up(0.3, COMPONENTS["collaboration"][2]),
                                                  4))
    assert math.isclose(c["advice"], round(smooth_down(0.3, COMPONENTS["advice"][2]), 4))
    raw = sum(COMPONENTS[k][0] * v for k, v in c.items()) / sum(v[0] for v in COMPONENTS.values())
    assert math.isclose(s.raw_index, raw, abs_tol=1e-3)
    assert math.isclose(s.alliance_index, (3 * raw + PRIOR_TURNS * PRIOR) / (3 + PRIOR_TURNS),
                        abs_tol=1e-3)
    assert s.repair_moves == {"repair.renegotiate": 1}
    assert s.threats == {"threat.unsolicited_advice": 1}


def test_no_rupture_episode_leaves_repair_missing_not_perfect(coded) -> None:
    utts = coded([("T", "Hello.", []), ("C", "Hi, good to be here again.", [])])
    s = summarise(utts, [])
    assert s.resolution_rate is None
    assert s.components["repair"] is None
    present = {k: v for k, v in s.components.items() if v is not None}
    expected_raw = (sum(COMPONENTS[k][0] * v for k, v in present.items())
                    / sum(COMPONENTS[k][0] for k in present))
    assert math.isclose(s.raw_index, expected_raw, abs_tol=1e-3)


def test_expected_counts_sum_probabilities_below_the_threshold() -> None:
    utts = _scored([("T", f"turn {i}", {"bond.reflection": 0.3}) for i in range(10)])
    s = summarise(utts, [])
    assert s.counts["bond"] == 0  # nothing reached the threshold
    assert math.isclose(s.expected_counts["bond"], 3.0)
    assert s.components["bond"] and s.components["bond"] > 0


def test_short_session_is_shrunk_toward_the_prior_with_a_wider_interval() -> None:
    def session(n: int) -> list[CodedUtterance]:
        turns = []
        for i in range(n):
            turns.append(("T", f"t{i}", {"bond.reflection": 0.9, "bond.affirmation": 0.9,
                                          "collaboration.elicit": 0.9}))
            turns.append(("C", f"c{i}", {}))
        return _scored(turns)

    short, long = summarise(session(4), []), summarise(session(80), [])
    assert short.raw_index == long.raw_index
    assert abs(short.alliance_index - PRIOR) < abs(long.alliance_index - PRIOR)
    width = lambda s: s.interval[1] - s.interval[0]  # noqa: E731
    assert width(short) > width(long)
    assert short.interval[0] <= short.alliance_index <= short.interval[1]
    assert short.warnings and "short session" in short.warnings[0]
    assert not long.warnings and MIN_TURNS <= 2 * 80


def test_index_moves_smoothly_with_threat_rate() -> None:
    values = []
    for k in range(0, 11):
        turns = [("T", f"t{i}", {"threat.judgmental": 0.9 if i < k else 0.0})
                 for i in range(40)]
        values.append(summarise(_scored(turns), []).components["threat"])
    steps = [a - b for a, b in itertools.pairwise(values)]
    assert all(s > 0 for s in steps)  # every extra threat lowers it: no cap reached
    assert values[-1] > 0


def test_unresolved_marker_lowers_the_index_more_than_a_resolved_one(coded) -> None:
    base = [("T", "What was the week like?", []),
            ("C", "Whatever.", ["withdrawal.minimal_response"])]
    resolved = coded([*base, ("T", "I notice you went quiet.", ["repair.name_rupture"]),
                      ("C", "Yeah, sorry, it was a long and hard week at work.", [])])
    unresolved = coded([*base, ("T", "Okay, next topic.", []),
                        ("C", "Fine.", ["withdrawal.minimal_response"])])
    a = summarise(resolved, find_episodes(resolved))
    b = summarise(unresolved, find_episodes(unresolved))
    assert a.components["strain"] > b.components["strain"]
    assert a.raw_index > b.raw_index
