"""Rupture-repair episodes: each client marker linked to what the therapist did next.

An episode opens at every client utterance carrying a marker code (families withdrawal,
confrontation, safety); its ``marker_code`` is the most confident marker code there. Its
**window** runs from the next utterance up to (not including) the same client's next marker
utterance, and at most :data:`MAX_WINDOW` utterances (about six exchanges): in couple,
family and group sessions another client's turns do not close it.

* ``repair``: every repair code on a therapist utterance in the window, in order;
* ``threats``: every threat code on a therapist utterance in the window (the therapist's
  response was itself a threat to the alliance);
* ``resolution``, from the marker speaker's first reply after the marker (the repair
  sequence of Safran & Muran: a rupture is resolved when the client comes back into the
  work):
    - ``resolved``: the reply re-engages (no marker, not a mere listener token or fragment,
      >= :data:`ENGAGED_WORDS` words), unless the therapist answered with threats and no
      repair (then ``partial``);
    - ``partial``: the reply is brief (fragment or listener token) without a marker, or it
      is another marker but the therapist had made a repair move in between (and no
      threat);
    - ``unresolved``: the reply is another marker with no repair before it, or the client
      does not speak again in the session.
  The rule was set against the annotated episodes of the train and dev sessions; its
  agreement on the test sessions is reported by ``alliance coding eval``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from alliance.coding.codebook import MARKER_FAMILIES
from alliance.coding.coder import CodedUtterance
from alliance.coding.features import is_backchannel, word_count

MAX_WINDOW = 16
#: A re-engaging turn has some substance; 4 words is this project's working cut-off.
ENGAGED_WORDS = 4


@dataclass(frozen=True)
class Link:
    index: int
    code: str


@dataclass(frozen=True)
class Episode:
    marker_index: int
    marker_code: str
    speaker: str
    repair: tuple[Link, ...]
    threats: tuple[Link, ...]
    resolution: str
    window_end: int  # last utterance index in the window

    def to_dict(self) -> dict[str, object]:
        return {
            "marker_index": self.marker_index, "marker_code": self.marker_code,
            "speaker": self.speaker,
            "repair": [{"index": r.index, "code": r.code} for r in self.repair],
            "threats": [{"index": t.index, "code": t.code} for t in self.threats],
            "resolution": self.resolution, "window_end": self.window_end,
        }


def is_marker(u: CodedUtterance) -> bool:
    return u.utterance.role == "client" and any(c.family in MARKER_FAMILIES for c in u.codes)


def find_episodes(utterances: Sequence[CodedUtterance]) -> list[Episode]:
    """Episodes of one coded session, in order of their markers."""
    episodes: list[Episode] = []
    n = len(utterances)
    for i, u in enumerate(utterances):
        if not is_marker(u):
            continue
        speaker = u.utterance.speaker
        marker = max((c for c in u.codes if c.family in MARKER_FAMILIES),
                     key=lambda c: c.confidence)
        end = min(n, i + 1 + MAX_WINDOW)
        next_mark = next((j for j in range(i + 1, end) if utterances[j].utterance.speaker
                          == speaker and is_marker(utterances[j])), None)
        stop = next_mark if next_mark is not None else end
        repair: list[Link] = []
        threats: list[Link] = []
        own: list[CodedUtterance] = []
        for j in range(i + 1, stop):
            v = utterances[j]
            if v.utterance.role == "therapist":
                repair.extend(Link(j, c.code) for c in v.codes if c.family == "repair")
                threats.extend(Link(j, c.code) for c in v.codes if c.family == "threat")
            elif v.utterance.speaker == speaker:
                own.append(v)
        resolution = _resolution(own, next_mark, repair, threats, utterances, i)
        episodes.append(Episode(i, marker.code, speaker, tuple(repair), tuple(threats),
                                resolution, stop - 1))
    return episodes


def _resolution(own: Sequence[CodedUtterance], next_mark: int | None, repair: Sequence[Link],
                threats: Sequence[Link], utterances: Sequence[CodedUtterance],
                marker: int) -> str:
    """Resolution from the marker speaker's first reply after the marker."""
    first_reply = own[0] if own else (utterances[next_mark] if next_mark is not None else None)
    if first_reply is None:
        return "unresolved"  # the client does not speak again
    if is_marker(first_reply):
        # strain continues; a repair move before it counts as a partial repair
        before = [r for r in repair if r.index < first_reply.utterance.index]
        return "partial" if before and not threats else "unresolved"
    engaged = any(word_count(v.utterance.text) >= ENGAGED_WORDS
                  and not is_backchannel(v.utterance.text) for v in own)
    if not engaged:
        return "partial"
    return "partial" if threats and not repair else "resolved"
