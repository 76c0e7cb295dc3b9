"""Which format a transcript is in, from its content first and its file name second.

Content wins because files are often misnamed (a WebVTT file saved as ``.txt``); the
extension decides only when the content does not.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePath

from alliance.transcripts.csvformat import header_columns
from alliance.transcripts.labels import split_label
from alliance.transcripts.segments import fail

FORMATS: tuple[str, ...] = ("text", "vtt", "srt", "whisper-json", "csv", "convokit")

_EXTENSIONS = {".txt": "text", ".text": "text", ".md": "text", ".vtt": "vtt", ".srt": "srt",
               ".json": "whisper-json", ".jsonl": "convokit", ".csv": "csv", ".tsv": "csv"}
_SRT_TIMING = re.compile(r"^\s*\d{1,3}:\d{2}:\d{2}[,.]\d{1,3}\s+-->\s+\d", re.MULTILINE)


def _first_json_line(text: str) -> object:
    line = next((ln for ln in text.split("\n") if ln.strip()), "")
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _sniff(text: str) -> str | None:
    stripped = text.lstrip("\ufeff \t\n")
    if stripped.startswith("WEBVTT"):
        return "vtt"
    head = stripped[:4000]
    if stripped.startswith("{"):
        obj = _first_json_line(stripped)
        if isinstance(obj, dict) and ("conversation_id" in obj or "reply_to" in obj or
                                      {"id", "speaker", "text"} <= obj.keys()):
            return "convokit"
        if '"segments"' in head:
            return "whisper-json"
    if stripped.startswith("[") and re.match(r"\[\s*(\{|\])", stripped):
        return "whisper-json"
    if _SRT_TIMING.search(head):
        return "srt"
    if header_columns(stripped.split("\n", 1)[0]) is not None:
        return "csv"
    lines = [ln for ln in stripped.split("\n")[:200] if ln.strip()]
    if any(split_label(ln) is not None for ln in lines):
        return "text"
    return None


def detect_format(text: str, source: str) -> str:
    """Name the format of ``text`` (one of :data:`FORMATS`) or raise :class:`TranscriptError`.

    >>> detect_format("T: Hello.\\nC: Hi.", "session.txt")
    'text'
    """
    found = _sniff(text)
    if found is not None:
        return found
    by_name = _EXTENSIONS.get(PurePath(source).suffix.lower())
    if by_name is not None:
        return by_name
    raise fail(source, "cannot tell the transcript format; name it with --input-format "
               f"(one of {', '.join(FORMATS)})")
