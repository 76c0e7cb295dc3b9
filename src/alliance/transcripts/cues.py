"""Subtitle cues (WebVTT, SRT) -> segments: who speaks in each cue.

The speaker of a cue comes from a WebVTT voice tag (``<v Maria>``), a WhisperX prefix
(``[SPEAKER_00]: ``) or a name prefix (``Therapist: ``). Subtitle tools often label only
the cue where the speaker changes, so an unlabelled cue continues the previous speaker;
unlabelled cues before any label belong to the speaker ``UNKNOWN`` (role ``other``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from alliance.transcripts.labels import accepted_labels, split_label
from alliance.transcripts.segments import Segment, fail
from alliance.transcripts.timecodes import check_span, parse_clock

UNKNOWN_SPEAKER = "UNKNOWN"

_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:\s+(?P<name>[^>]*))?>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>|\{\\[^}]*\}")
_TIMING = re.compile(r"^\s*(?P<start>\S+)\s+-->\s+(?P<end>\S+)(?:\s+.*)?$")


@dataclass(frozen=True)
class Cue:
    """One timed cue: its payload lines and the line number of its timing line."""

    start: float
    end: float
    lines: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Block:
    """Consecutive non-blank lines and the number of the first."""

    lines: tuple[str, ...]
    line: int


def blocks(text: str) -> Iterator[Block]:
    """Split text at blank lines."""
    current: list[str] = []
    first = 1
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                first = number
            current.append(line.rstrip())
        elif current:
            yield Block(tuple(current), first)
            current = []
    if current:
        yield Block(tuple(current), first)


def parse_timing(line: str, source: str, number: int) -> tuple[float, float]:
    """``00:00:01.000 --> 00:00:04.200 align:start`` -> (1.0, 4.2)."""
    m = _TIMING.match(line)
    if not m:
        raise fail(source, f"malformed cue timing {line.strip()[:60]!r} "
                   "(expected 'start --> end')", number)
    start = parse_clock(m.group("start"), source, number)
    end = parse_clock(m.group("end"), source, number)
    check_span(start, end, source, number)
    return start, end


def timed_cue(block: Block, source: str, *, what: str, numeric_id: bool) -> Cue:
    """The cue of one subtitle block: a timing line first, or after an identifier line
    (SRT requires that identifier to be a number; WebVTT allows any text)."""
    first = block.lines[0].strip()
    if "-->" in first:
        timing, payload, number = first, block.lines[1:], block.line
    elif ((first.isdigit() or not numeric_id) and len(block.lines) > 1
          and "-->" in block.lines[1]):
        timing, payload, number = block.lines[1], block.lines[2:], block.line + 1
    else:
        raise fail(source, f"{what} without a timing line ('start --> end')", block.line)
    start, end = parse_timing(timing, source, number)
    return Cue(start, end, tuple(payload), number)


def _voices(payload: str) -> list[tuple[str | None, str]]:
    """Split a payload at voice tags: [(voice or None, text)]."""
    out: list[tuple[str | None, str]] = []
    pos = 0
    voice: str | None = None
    for m in _VOICE.finditer(payload):
        if payload[pos:m.start()].strip() or voice is not None:
            out.append((voice, payload[pos:m.start()]))
        voice = " ".join((m.group("name") or "").split()) or None
        pos = m.end()
    out.append((voice, payload[pos:]))
    return out


def _clean(text: str) -> str:
    return " ".join(html.unescape(_TAG.sub("", text)).split())


def cues_to_segments(cues: Iterable[Cue], source: str, known: Iterable[str] = ()
                     ) -> list[Segment]:
    """Assign a speaker to every stretch of cue text."""
    pieces: list[tuple[Cue, str | None, str]] = []  # (cue, voice, cleaned line)
    for cue in cues:
        for voice, chunk in _voices("\n".join(cue.lines)):
            for raw in chunk.split("\n"):
                cleaned = _clean(raw)
                if cleaned:
                    pieces.append((cue, voice, cleaned))
    labels = accepted_labels(
        (p for p in (split_label(text.lstrip("- ")) for _, voice, text in pieces
                     if voice is None) if p is not None), known)
    segments: list[Segment] = []
    speaker: str | None = None
    for cue, voice, text in pieces:
        body = text
        if voice is not None:
            speaker = voice
        else:
            prefixed = split_label(text.lstrip("- "))
            if prefixed is not None and prefixed.label in labels:
                speaker, body = prefixed.label, prefixed.text
        if body:
            segments.append(Segment(speaker or UNKNOWN_SPEAKER, body, cue.start, cue.end,
                                    cue.line))
    if not segments:
        raise fail(source, "contains no cue text")
    if all(s.speaker == UNKNOWN_SPEAKER for s in segments):
        raise fail(source, "no cue names its speaker (no <v Name> tags, [SPEAKER_00]: or "
                   "'Name:' prefixes); diarize the recording first")
    return segments
