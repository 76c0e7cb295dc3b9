"""SubRip (``.srt``): numbered cues, ``00:00:01,000 --> 00:00:04,000``, speaker prefixes.

::

    1
    00:00:01,000 --> 00:00:04,000
    [SPEAKER_00]: How has the week been?
"""

from __future__ import annotations

from collections.abc import Iterable

from alliance.transcripts.cues import blocks, cues_to_segments, timed_cue
from alliance.transcripts.segments import Segment, fail


def parse_srt(text: str, source: str, known_speakers: Iterable[str] = ()) -> list[Segment]:
    """Segments of an SRT file. The cue number line is optional; the timing line is not."""
    cues = [timed_cue(block, source, what="SRT block", numeric_id=True)
            for block in blocks(text)]
    if not cues:
        raise fail(source, "contains no cues")
    return cues_to_segments(cues, source, known_speakers)
