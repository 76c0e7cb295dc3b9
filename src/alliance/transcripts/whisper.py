"""Whisper / WhisperX JSON: ``{"segments": [{"start", "end", "text", "speaker"?}, ...]}``.

A bare list of segments is accepted too. WhisperX puts the diarized speaker on each
segment; when a segment lacks one but its words carry speakers, the most frequent word
speaker is used. Segments with no speaker at all belong to ``UNKNOWN`` (role ``other``);
a file where no segment has a speaker is refused (it was never diarized).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from alliance.transcripts.cues import UNKNOWN_SPEAKER
from alliance.transcripts.segments import Segment, fail
from alliance.transcripts.timecodes import check_span, parse_seconds


def load_json(text: str, source: str) -> Any:
    """``json.loads`` with its failures turned into :class:`TranscriptError`."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(source, f"is not valid JSON ({exc.msg})", exc.lineno) from None
    except (RecursionError, ValueError) as exc:
        raise fail(source, f"is not usable JSON ({type(exc).__name__})") from None


def _speaker(seg: dict[str, Any]) -> str | None:
    value = seg.get("speaker")
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    words = seg.get("words")
    if isinstance(words, list):
        names = Counter(str(w["speaker"]).strip() for w in words
                        if isinstance(w, dict) and isinstance(w.get("speaker"), str | int)
                        and str(w["speaker"]).strip())
        if names:
            return names.most_common(1)[0][0]
    return None


def parse_whisper(text: str, source: str) -> list[Segment]:
    """Segments of a Whisper/WhisperX JSON file."""
    data = load_json(text, source)
    items = data.get("segments") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise fail(source, "is not Whisper JSON: expected an object with a 'segments' list "
                   "or a list of segments")
    segments: list[Segment] = []
    for number, seg in enumerate(items):
        where = f"segment {number}"
        if not isinstance(seg, dict):
            raise fail(source, f"{where} is not an object")
        body = seg.get("text")
        if not isinstance(body, str):
            raise fail(source, f"{where} has no 'text' string")
        start = parse_seconds(seg.get("start"), source, None, f"{where} start")
        end = parse_seconds(seg.get("end"), source, None, f"{where} end")
        if start is not None and end is not None and end < start:
            check_span(start, end, source, None)
        speaker = _speaker(seg)
        segments.append(Segment(speaker or UNKNOWN_SPEAKER, " ".join(body.split()),
                                start, end, None))
    if not segments:
        raise fail(source, "contains no segments")
    if all(s.speaker == UNKNOWN_SPEAKER for s in segments):
        raise fail(source, "no segment has a 'speaker'; run diarization (e.g. WhisperX "
                   "with diarize) or convert to a format with speaker labels")
    return segments
