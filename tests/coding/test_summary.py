from __future__ import annotations

import math

from alliance.coding.episodes import find_episodes
from alliance.coding.summary import summarise


def test_summary_hand_computed(coded) -> None:
    utts = coded([
        ("T", "What brings you today?", []),
        ("C", "Dunno.", ["withdrawal.minimal_response"]),
        ("T", "Let's take it slowly together.", ["collaboration.we_language",
                                                  "repair.renegotiate"]),
        ("C", "Okay, it's mostly about my sister and the house we share.", []),
        ("T", "You should just move out.", ["threat.lecturing"]),
        ("C", "Yeah, maybe, I have thought about it for a while now.", []),
    ])
    s = summarise(utts, find_episodes(utts))
    assert s.counts == {"withdrawal": 1, "confrontation": 0, "safety": 0, "repair": 1,
                        "threat": 1, "collaboration": 1}
    assert s.episodes == {"total": 1, "resolved": 1, "partial": 0, "unresolved": 0}
    assert s.resolution_rate == 1.0
    # 1 of 3 therapist turns has we-language
    assert math.isclose(s.we_rate, 33.33)
    # calm = 1 - min(1, (1/3)/0.25) = 0; repair = 1; safety = 1 - min(1, (1/3)/0.1) = 0;
    # we = min(1, 33.33/25) = 1 -> 0.35*0 + 0.25*1 + 0.25*0 + 0.15*1 = 0.40
    assert math.isclose(s.alliance_index, 0.40, abs_tol=1e-4)
    assert s.repair_moves == {"repair.renegotiate": 1}
    assert s.threats == {"threat.lecturing": 1}


def test_no_episodes_gives_null_resolution_rate_and_index_in_range(coded) -> None:
    utts = coded([("T", "Hello.", []), ("C", "Hi, good to be here again.", [])])
    s = summarise(utts, [])
    assert s.resolution_rate is None
    assert 0 <= s.alliance_index <= 1
    # calm 1, repair 1, safety 1, we 0 -> 0.85
    assert math.isclose(s.alliance_index, 0.85)
