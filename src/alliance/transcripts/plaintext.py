"""Plain-text transcripts with speaker prefixes.

::

    T: How has the week been?
    C: Fine.
       Mostly fine, I suppose.        <- a line without a prefix continues the turn
    Therapist: ...                     <- T:/C:, Therapist:/Client:, Counsellor:, names,
    [00:03:10] Maria: ...                 [SPEAKER_00]:, and an optional [time] or (time)

Lines before the first speaker prefix (a title, a date) are kept in
``meta["preamble"]``, not silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from alliance.transcripts.labels import accepted_labels, split_label
from alliance.transcripts.segments import Segment, fail
from alliance.transcripts.timecodes import parse_clock


def parse_plaintext(text: str, source: str, known_speakers: Iterable[str] = ()
                    ) -> tuple[list[Segment], dict[str, str]]:
    """Segments (one per prefixed line plus its continuation lines) and metadata."""
    lines = text.split("\n")
    split = [split_label(line) for line in lines]
    accepted = accepted_labels((p for p in split if p is not None), known_speakers)
    if not accepted:
        raise fail(source, "no speaker prefixes found; expected lines such as "
                   "'T: ...', 'Therapist: ...' or '[SPEAKER_00]: ...'")
    segments: list[Segment] = []
    preamble: list[str] = []
    speaker: str | None = None
    parts: list[str] = []
    start: float | None = None
    first_line = 0

    def flush() -> None:
        body = " ".join(" ".join(parts).split())
        if speaker is not None and body:
            segments.append(Segment(speaker, body, start, None, first_line))

    for number, (line, prefixed) in enumerate(zip(lines, split, strict=True), start=1):
        if prefixed is not None and prefixed.label in accepted:
            flush()
            speaker, parts, first_line = prefixed.label, [prefixed.text], number
            start = parse_clock(prefixed.time, source, number) if prefixed.time else None
        elif not line.strip():
            continue
        elif speaker is None:
            preamble.append(line.strip())
        else:
            parts.append(line.strip())
    flush()
    if not segments:
        raise fail(source, "speaker prefixes found but every turn is empty")
    meta = {"preamble": "\n".join(preamble)} if preamble else {}
    return segments, meta
