"""CSV transcripts: a header row, then ``speaker,text[,start,end]`` rows.

Column names are matched case-insensitively (``speaker``/``speaker_id``, ``text``/
``utterance``, ``start``/``start_time``, ``end``/``end_time``); an optional ``role`` column
states roles directly. Commas, semicolons and tabs are recognised as separators. Times are
seconds or ``hh:mm:ss.mmm``.
"""

from __future__ import annotations

import csv
import io

from alliance.transcripts.segments import Segment, fail
from alliance.transcripts.timecodes import check_span, parse_seconds

_ALIASES = {
    "speaker": ("speaker", "speaker_id", "speakerid", "speaker id"),
    "text": ("text", "utterance", "transcript", "content"),
    "start": ("start", "start_time", "starttime", "start time", "begin"),
    "end": ("end", "end_time", "endtime", "end time", "stop"),
    "role": ("role", "speaker_role"),
}


def header_columns(header_line: str) -> dict[str, int] | None:
    """Map our column names to positions, or None if speaker and text are not both there."""
    try:
        names = next(csv.reader([header_line], delimiter=sniff_delimiter(header_line)))
    except (csv.Error, StopIteration):
        return None
    lowered = [n.strip().strip("\ufeff").lower() for n in names]
    found: dict[str, int] = {}
    for key, aliases in _ALIASES.items():
        for i, name in enumerate(lowered):
            if name in aliases:
                found.setdefault(key, i)
    return found if "speaker" in found and "text" in found else None


def sniff_delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def parse_csv(text: str, source: str) -> list[Segment]:
    """Segments of a CSV transcript; the header row is required."""
    first = text.split("\n", 1)[0]
    columns = header_columns(first)
    if columns is None:
        raise fail(source, "CSV header must name 'speaker' and 'text' columns "
                   f"(found {first[:80]!r})", 1)
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(first), strict=True)
    segments: list[Segment] = []
    try:
        next(reader)
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            width = max(columns.values()) + 1
            if len(row) < max(columns["speaker"], columns["text"]) + 1:
                raise fail(source, f"row has {len(row)} column(s); expected {width}", number)
            cell = {k: (row[i] if i < len(row) else "") for k, i in columns.items()}
            speaker = cell["speaker"].strip()
            if not speaker:
                raise fail(source, "row has an empty speaker", number)
            start = parse_seconds(cell.get("start"), source, number, "start")
            end = parse_seconds(cell.get("end"), source, number, "end")
            check_span(start, end, source, number)
            role = cell.get("role", "").strip() or None
            segments.append(Segment(speaker, " ".join(cell["text"].split()), start, end,
                                    number, role))
    except csv.Error as exc:
        raise fail(source, f"malformed CSV ({exc})", reader.line_num) from None
    if not segments:
        raise fail(source, "has a header but no rows")
    return segments
