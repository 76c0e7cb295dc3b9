"""WebVTT (``.vtt``): voice tags ``<v Maria>`` or WhisperX ``[SPEAKER_00]: `` prefixes.

::

    WEBVTT

    00:00:01.000 --> 00:00:04.000
    <v Therapist>How has the week been?

    00:00:04.500 --> 00:00:06.000
    [SPEAKER_01]: Fine, I guess.
"""

from __future__ import annotations

from collections.abc import Iterable

from alliance.transcripts.cues import Block, Cue, blocks, cues_to_segments, timed_cue
from alliance.transcripts.segments import Segment, fail


def parse_webvtt(text: str, source: str, known_speakers: Iterable[str] = ()) -> list[Segment]:
    """Segments of a WebVTT file; NOTE, STYLE and REGION blocks are skipped."""
    found = list(blocks(text))
    if not found or not found[0].lines[0].lstrip("\ufeff").startswith("WEBVTT"):
        raise fail(source, "is not WebVTT: the first line must be 'WEBVTT'", 1)
    cues: list[Cue] = []
    header = found[0]
    rest = found[1:]
    if any("-->" in line for line in header.lines[1:]):
        # No blank line after the header: the first cue is glued to it.
        index = next(i for i, line in enumerate(header.lines) if "-->" in line)
        first_cue = index - 1 if index > 1 else index
        rest = [Block(header.lines[first_cue:], header.line + first_cue), *rest]
    for block in rest:
        first = block.lines[0].strip()
        if first.startswith(("NOTE", "STYLE", "REGION")):
            continue
        cues.append(timed_cue(block, source, what="cue", numeric_id=False))
    if not cues:
        raise fail(source, "contains no cues")
    return cues_to_segments(cues, source, known_speakers)
