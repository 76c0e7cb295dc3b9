"""The session summary: counts, expected counts, resolution rate and the alliance index.

Counts come in two kinds. ``counts`` / ``code_counts`` are the codes the coder assigned
(score at or above the code's threshold). ``expected_counts`` / ``expected_code_counts`` are
the sums of the codes' probabilities over the utterances of their role: a code at 0.3 on ten
turns counts 3, not 0. Expected counts are what the rates and the index use, so a session is
not summarised by whichever side of a threshold its borderline turns fell.

**The alliance index** (version 2) is an index of this project, **not a WAI score**, and not
validated against client-rated alliance. It reads the coded session as six components, each
turned into [0, 1] by a smooth transform (no caps), combined with fixed weights, then shrunk
toward a prior for short sessions:

============== ====== ========= ==================================================
component      weight direction rate it reads (expected counts)
============== ====== ========= ==================================================
bond           0.25   raises    reflections + affirmations per therapist turn
collaboration  0.15   raises    joint-action "we" + eliciting/permission per therapist turn
repair         0.20   raises    resolution rate of rupture episodes (missing if none)
strain         0.15   lowers    unresolved markers (partial = half) per client turn
threat         0.15   lowers    alliance threats other than advice per therapist turn
advice         0.10   lowers    unsolicited advice per therapist turn
============== ====== ========= ==================================================

A raising component is ``1 - exp(-rate / scale)``, a lowering one ``exp(-rate / scale)``;
the scale of each is the median non-zero rate in the project's own train + dev sessions
(gold codes; ``benchmarks/index_reference.py``), so a session at that rate sits at 0.63
(raising) or 0.37 (lowering) on that component. **"No rupture episode" is missing, not
perfect repair**: the repair component is left out and the weights of the others are
renormalised. The weighted mean ``raw`` is then shrunk toward :data:`PRIOR` (the median raw
index of the train + dev sessions) with the weight of :data:`PRIOR_TURNS` turns:
``index = (n * raw + PRIOR_TURNS * PRIOR) / (n + PRIOR_TURNS)`` with ``n`` the therapist
turns, and reported with a 90% interval from the Beta distribution with those
pseudo-counts (normal approximation). Sessions with fewer than :data:`MIN_TURNS` coded turns
get a warning.

The weights were fixed on the project's own data and design (bond-building and repair
first, the source documents' account of how trust is built) before any external figure
was looked at; docs/coding.md ("The alliance index") records how they were chosen.

>>> round(smooth_up(0.0, 0.2), 3), round(smooth_up(0.2, 0.2), 3), round(smooth_down(0.2, 0.2), 3)
(0.0, 0.632, 0.368)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from alliance.coding.codebook import FAMILIES, MARKER_FAMILIES, family_of, load_codebook
from alliance.coding.coder import CodedUtterance
from alliance.coding.episodes import Episode

#: component -> (weight, +1 raises / -1 lowers the index, scale of its rate).
#: Scales: median rates of the project's train + dev sessions with gold codes (measured
#: with benchmarks/index_reference.py; see docs/coding.md).
COMPONENTS: dict[str, tuple[float, int, float]] = {
    "bond": (0.25, +1, 0.27),
    "collaboration": (0.15, +1, 0.24),
    "repair": (0.20, +1, 1.0),  # a rate already in [0, 1]: used as it is
    "strain": (0.15, -1, 0.09),
    "threat": (0.15, -1, 0.09),
    "advice": (0.10, -1, 0.04),
}
WEIGHTS = {k: v[0] for k, v in COMPONENTS.items()}
#: Prior index and its weight in turns (shrinkage for short sessions).
PRIOR = 0.64
PRIOR_TURNS = 20.0
#: Fewer coded turns than this: the report warns that the index is unreliable.
MIN_TURNS = 40
INTERVAL_Z = 1.645  # 90% two-sided
BOND_CODES = ("bond.reflection", "bond.affirmation")
COLLABORATION_CODES = ("collaboration.we_language", "collaboration.elicit")
ADVICE_CODES = ("threat.unsolicited_advice",)
_UNRESOLVED_WEIGHT = {"resolved": 0.0, "partial": 0.5, "unresolved": 1.0}


def smooth_up(rate: float, scale: float) -> float:
    """A raising component: 0 at rate 0, 0.63 at ``scale``, approaching 1."""
    return 1.0 - math.exp(-max(rate, 0.0) / scale)


def smooth_down(rate: float, scale: float) -> float:
    """A lowering component: 1 at rate 0, 0.37 at ``scale``, approaching 0."""
    return math.exp(-max(rate, 0.0) / scale)


def meaning(index: float) -> str:
    """One line saying what an index value means."""
    if index >= 0.65:
        gist = "mostly alliance-building moves (reflection, affirmation, joint work, repair)"
    elif index >= 0.45:
        gist = "a mix of alliance-building moves and strain, threats or unasked advice"
    else:
        gist = "more strain, threats or unasked advice than alliance-building moves"
    return (f"{index:.2f} on 0-1: {gist}; a project index of the coded session, "
            "not a WAI score")


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
    components: dict[str, float | None] = field(default_factory=dict)
    turns: dict[str, int] = field(default_factory=dict)
    expected_counts: dict[str, float] = field(default_factory=dict)
    expected_code_counts: dict[str, float] = field(default_factory=dict)
    interval: tuple[float, float] = (0.0, 1.0)
    raw_index: float = 0.0
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts, "code_counts": self.code_counts,
            "expected_counts": self.expected_counts,
            "expected_code_counts": self.expected_code_counts,
            "episodes": self.episodes,
            "resolution_rate": self.resolution_rate, "repair_moves": self.repair_moves,
            "threats": self.threats, "we_rate": self.we_rate,
            "alliance_index": self.alliance_index,
            "alliance_index_interval": [self.interval[0], self.interval[1]],
            "alliance_index_raw": self.raw_index,
            "alliance_index_meaning": meaning(self.alliance_index),
            "alliance_index_components": self.components, "turns": self.turns,
            "warnings": list(self.warnings),
        }


def _probability(u: CodedUtterance, code: str) -> float:
    """The code's probability on ``u``: its score, or its assigned confidence (or 0)."""
    if u.scores:
        return float(u.scores.get(code, 0.0))
    return max((c.confidence for c in u.codes if c.code == code), default=0.0)


def _read_alone(u: CodedUtterance) -> bool:
    """Listener tokens, crosstalk and joined continuations are not turns of their own."""
    r = u.reading
    return r is None or (r.kind == "turn" and r.head == u.utterance.index)


def summarise(utterances: Sequence[CodedUtterance], episodes: Sequence[Episode]) -> Summary:
    book = load_codebook()
    code_counts: Counter[str] = Counter()
    expected: dict[str, float] = {c: 0.0 for c in book.names}
    for u in utterances:
        code_counts.update({c.code for c in u.codes})  # a code counts once per utterance
        for code in book.names:
            if book.codes[code].role == u.utterance.role:
                expected[code] += _probability(u, code)
    counts = {f: sum(n for c, n in code_counts.items() if family_of(c) == f) for f in FAMILIES}
    exp_family = {f: round(sum(v for c, v in expected.items() if family_of(c) == f), 2)
                  for f in FAMILIES}
    turns = Counter(u.utterance.role for u in utterances)
    own = [u for u in utterances if _read_alone(u)]
    therapist = sum(1 for u in own if u.utterance.role == "therapist")
    client = sum(1 for u in own if u.utterance.role == "client")
    outcome = Counter(e.resolution for e in episodes)
    n_ep = len(episodes)
    resolution = ((outcome["resolved"] + 0.5 * outcome["partial"]) / n_ep) if n_ep else None

    def per(codes: Sequence[str], n: int) -> float:
        return sum(expected.get(c, 0.0) for c in codes) / n if n else 0.0

    by_index = {u.utterance.index: u for u in utterances}
    strain = 0.0
    for e in episodes:
        marker = by_index.get(e.marker_index)
        p = max((_probability(marker, c) for c in book.names
                 if family_of(c) in MARKER_FAMILIES), default=1.0) if marker else 1.0
        strain += _UNRESOLVED_WEIGHT[e.resolution] * p
    threat_codes = [c for c in book.in_family("threat") if c not in ADVICE_CODES]
    rates: dict[str, float | None] = {
        "bond": per(BOND_CODES, therapist),
        "collaboration": per(COLLABORATION_CODES, therapist),
        "repair": resolution,
        "strain": strain / client if client else 0.0,
        "threat": per(threat_codes, therapist),
        "advice": per(ADVICE_CODES, therapist),
    }
    components: dict[str, float | None] = {}
    for name, (_, direction, scale) in COMPONENTS.items():
        rate = rates[name]
        if rate is None:
            components[name] = None
        elif name == "repair":
            components[name] = rate
        else:
            components[name] = (smooth_up(rate, scale) if direction > 0
                                else smooth_down(rate, scale))
    present = {k: v for k, v in components.items() if v is not None}
    total_w = sum(WEIGHTS[k] for k in present)
    raw = sum(WEIGHTS[k] * v for k, v in present.items()) / total_w if total_w else PRIOR
    n = float(therapist)
    index = (n * raw + PRIOR_TURNS * PRIOR) / (n + PRIOR_TURNS)
    a = PRIOR_TURNS * PRIOR + n * raw
    b = PRIOR_TURNS * (1 - PRIOR) + n * (1 - raw)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    interval = (round(max(0.0, index - INTERVAL_Z * sd), 4),
                round(min(1.0, index + INTERVAL_Z * sd), 4))
    warnings: list[str] = []
    if therapist + client < MIN_TURNS:
        warnings.append(f"short session ({therapist + client} coded turns, fewer than "
                        f"{MIN_TURNS}): the index leans on the prior; read its interval")
    we_rate = 100.0 * per(("collaboration.we_language",), therapist)
    return Summary(
        counts=counts,
        code_counts={c: code_counts[c] for c in book.names if code_counts[c]},
        episodes={"total": n_ep, "resolved": outcome["resolved"],
                  "partial": outcome["partial"], "unresolved": outcome["unresolved"]},
        resolution_rate=None if resolution is None else round(resolution, 4),
        repair_moves={c: code_counts[c] for c in book.in_family("repair") if code_counts[c]},
        threats={c: code_counts[c] for c in book.in_family("threat") if code_counts[c]},
        we_rate=round(min(100.0, we_rate), 2),
        alliance_index=round(index, 4),
        components={k: None if v is None else round(v, 4) for k, v in components.items()},
        turns={"therapist": turns.get("therapist", 0), "client": turns.get("client", 0),
               "other": turns.get("other", 0), "coded_therapist": therapist,
               "coded_client": client},
        expected_counts=exp_family,
        expected_code_counts={c: round(v, 2) for c, v in expected.items() if v >= 0.005},
        interval=interval,
        raw_index=round(raw, 4),
        warnings=tuple(warnings),
    )
