"""The session summary: counts, resolution rate, we-language rate and the alliance index.

* ``counts``: code assignments per family; ``code_counts``: per code.
* ``resolution_rate`` = (resolved + 0.5 * partial) / episodes; ``null`` with no episodes.
* ``we_rate``: therapist utterances with ``collaboration.we_language`` per 100 therapist
  utterances.
* ``alliance_index`` in [0, 1], higher = stronger alliance. **An index of this project, not
  a WAI score** and not validated against one; it summarises the coded session:

  ``index = 0.35 * calm + 0.25 * repair + 0.25 * safety + 0.15 * we``, where
  ``calm = 1 - min(1, marker_turns / client_turns / 0.25)`` (a quarter of client turns
  carrying markers counts as maximal strain), ``repair = resolution_rate`` (1 without
  episodes), ``safety = 1 - min(1, threat_turns / therapist_turns / 0.10)`` (one
  therapist turn in ten being a threat counts as maximal harm) and
  ``we = min(1, we_rate / 25)``. The weights put rupture load first, then repair and
  therapist threats (repaired ruptures predict outcome, Safran et al. 2011: r = .24),
  then collaborative language (a hallmark of an alliance-based stance, not a guarantee).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from alliance.coding.codebook import FAMILIES, MARKER_FAMILIES, family_of, load_codebook
from alliance.coding.coder import CodedUtterance
from alliance.coding.episodes import Episode

WEIGHTS = {"calm": 0.35, "repair": 0.25, "safety": 0.25, "we": 0.15}
MARKER_SATURATION = 0.25
THREAT_SATURATION = 0.10
WE_SATURATION = 25.0


@dataclass(frozen=True)
class Summary:
    counts: dict[str, int]
    code_counts: dict[str, int]
    episodes: dict[str, int]
    resolution_rate: float | None
    repair_moves: dict[str, int]
    threats: dict[str, int]
    we_rate: float
    alliance_index: float
    components: dict[str, float] = field(default_factory=dict)
    turns: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts, "code_counts": self.code_counts, "episodes": self.episodes,
            "resolution_rate": self.resolution_rate, "repair_moves": self.repair_moves,
            "threats": self.threats, "we_rate": self.we_rate,
            "alliance_index": self.alliance_index,
            "alliance_index_components": self.components, "turns": self.turns,
        }


def summarise(utterances: Sequence[CodedUtterance], episodes: Sequence[Episode]) -> Summary:
    book = load_codebook()
    code_counts: Counter[str] = Counter()
    for u in utterances:
        code_counts.update(c.code for c in u.codes)
    counts = {f: sum(n for c, n in code_counts.items() if family_of(c) == f) for f in FAMILIES}
    turns = Counter(u.utterance.role for u in utterances)
    therapist = turns.get("therapist", 0)
    client = turns.get("client", 0)
    marker_turns = sum(1 for u in utterances if u.utterance.role == "client"
                       and any(c.family in MARKER_FAMILIES for c in u.codes))
    threat_turns = sum(1 for u in utterances if u.utterance.role == "therapist"
                       and u.has_family("threat"))
    we_turns = sum(1 for u in utterances if u.utterance.role == "therapist"
                   and u.has_family("collaboration"))
    outcome = Counter(e.resolution for e in episodes)
    n_ep = len(episodes)
    resolution = ((outcome["resolved"] + 0.5 * outcome["partial"]) / n_ep) if n_ep else None
    we_rate = 100.0 * we_turns / therapist if therapist else 0.0
    components = {
        "calm": 1 - min(1.0, (marker_turns / client / MARKER_SATURATION) if client else 0.0),
        "repair": 1.0 if resolution is None else resolution,
        "safety": 1 - min(1.0, (threat_turns / therapist / THREAT_SATURATION)
                          if therapist else 0.0),
        "we": min(1.0, we_rate / WE_SATURATION),
    }
    index = sum(WEIGHTS[k] * v for k, v in components.items())
    return Summary(
        counts=counts,
        code_counts={c: code_counts[c] for c in book.names if code_counts[c]},
        episodes={"total": n_ep, "resolved": outcome["resolved"],
                  "partial": outcome["partial"], "unresolved": outcome["unresolved"]},
        resolution_rate=None if resolution is None else round(resolution, 4),
        repair_moves={c: code_counts[c] for c in book.in_family("repair") if code_counts[c]},
        threats={c: code_counts[c] for c in book.in_family("threat") if code_counts[c]},
        we_rate=round(we_rate, 2),
        alliance_index=round(min(1.0, max(0.0, index)), 4),
        components={k: round(v, 4) for k, v in components.items()},
        turns={"therapist": therapist, "client": client, "other": turns.get("other", 0)},
    )
