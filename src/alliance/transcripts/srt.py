"""SubRip (``.srt``): numbered cues, ``00:00:01,000 --> 00:00:04,000``, speaker prefixes.

::

    1
    00:00:01,000 --> 00:00:04,000
    [SPEAKER_00]: How has the week been?
"""

from __future__ import annotations

from collections.abc import Iterable

from alliance.transcripts.cues import Cue, blocks, cues_to_segments, parse_timing
from alliance.transcripts.segments import Segment, fail


def parse_srt(text: str, source: str, known_speakers: Iterable[str] = ()) -> list[Segment]:
    """Segments of an SRT file. The cue number line is optional; the timing line is not."""
    cues: list[Cue] = []
    for block in blocks(text):
        first = block.lines[0].strip()
        if "-->" in first:
            timing, payload, number = first, block.lines[1:], block.line
        elif first.isdigit() and len(block.lines) > 1 and "-->" in block.lines[1]:
            timing, payload, number = block.lines[1], block.lines[2:], block.line + 1
        else:
            raise fail(source, "SRT block without a timing line ('start --> end')", block.line)
        start, end = parse_timing(timing, source, number)
        cues.append(Cue(start, end, tuple(payload), number))
    if not cues:
        raise fail(source, "contains no cues")
    return cues_to_segments(cues, source, known_speakers)
