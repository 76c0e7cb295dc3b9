"""Segments -> :class:`Transcript`: roles, merged turns, validation.

Consecutive segments by the same speaker become one turn (subtitle files cut speech every
few seconds; a coder needs turns). The merged turn spans its segments: the earliest start
and the latest end (the first and the last, when the file is in time order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from alliance.transcripts.model import Role, Transcript, Utterance
from alliance.transcripts.roles import assign_roles, canonical_roles, role_word
from alliance.transcripts.segments import Segment, fail


def assemble(segments: Sequence[Segment], source: str, fmt: str,
             roles: Mapping[str, str] | None = None, meta: Mapping[str, str] | None = None,
             merge: bool = True) -> Transcript:
    """Build the transcript; raise :class:`TranscriptError` if it has no therapist or client."""
    kept = [s for s in segments if s.text.strip()]
    if not kept:
        raise fail(source, "contains no utterances")
    speakers: list[str] = []
    hints: dict[str, Role] = {}
    for seg in kept:
        if seg.speaker not in speakers:
            speakers.append(seg.speaker)
        if seg.role_hint and seg.speaker not in hints:
            hint = role_word(seg.role_hint)
            if hint is None:
                raise fail(source, f"unknown role {seg.role_hint!r} for speaker "
                           f"{seg.speaker!r} (use therapist, client or other)", seg.line)
            hints[seg.speaker] = hint
    mapping = assign_roles(speakers, canonical_roles(roles), hints, source)
    turns: list[list[Segment]] = []
    for seg in kept:
        if merge and turns and turns[-1][-1].speaker == seg.speaker:
            turns[-1].append(seg)
        else:
            turns.append([seg])
    utterances = []
    for index, turn in enumerate(turns):
        # min/max, not first/last: cues out of order must not give a turn that ends first.
        starts = [s.start for s in turn if s.start is not None]
        ends = [s.end for s in turn if s.end is not None]
        utterances.append(Utterance(
            index=index, speaker=turn[0].speaker, role=mapping[turn[0].speaker],
            text=" ".join(s.text.strip() for s in turn), start=min(starts, default=None),
            end=max(ends, default=None)))
    return Transcript(tuple(utterances), source=source, format=fmt, meta=dict(meta or {}))
