"""De-identify a transcript *file* and keep its format.

Speaker ids that are names (``Maria:``, ``<v Dr. Okafor>``) join the roster, so those names
are removed wherever they are spoken, and the labels become ``PERSON_n``.

``alliance deidentify session.vtt`` should give back a WebVTT file with the same cues and
timings, not a different format. Each format is handled where its text lives:

* text, and any file whose format cannot be detected: every line; speaker labels that are
  names become ``PERSON_n`` so turns stay apart;
* vtt / srt: cue text only (timing lines, cue numbers and the header are kept);
  ``<v Maria>`` and ``Maria:`` become ``<v PERSON_1>`` and ``PERSON_1:``;
* csv: every cell except the time columns; the speaker column is pseudonymised;
* whisper-json: segment text and speakers, and the top-level ``text``; per-word entries
  (``words``, ``word_segments``) are dropped, because an identifier split into words
  cannot be recognised;
* convokit: ``text``, ``speaker`` and string values in ``meta``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alliance.errors import DeidentificationError, TranscriptError
from alliance.transcripts.csvformat import header_columns, sniff_delimiter
from alliance.transcripts.decoding import DEFAULT_MAX_BYTES, decode
from alliance.transcripts.deidentify import (
    Pseudonyms,
    deidentify_mapping,
    deidentify_text,
    with_speaker_names,
)
from alliance.transcripts.detect import detect_format
from alliance.transcripts.labels import split_label
from alliance.transcripts.roster import Roster

_VOICE = re.compile(r"(<v(?:\.[^\s>]*)?\s+)([^>]*)(>)", re.IGNORECASE)


@dataclass(frozen=True)
class DeidentifiedDocument:
    """The de-identified file text, its format, and replacements per kind."""

    text: str
    format: str
    counts: dict[str, int]
    speakers_renamed: int


class _Redactor:
    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.pseudonyms = Pseudonyms(roster)
        self.counts: dict[str, int] = {}

    def text(self, value: str) -> str:
        result = deidentify_text(value, self.roster)
        for kind, n in result.counts().items():
            self.counts[kind] = self.counts.get(kind, 0) + n
        return result.text

    def speaker(self, value: str) -> str:
        renamed = self.pseudonyms.speaker(value)
        if renamed != value:
            self.counts["NAME"] = self.counts.get("NAME", 0) + 1
        return renamed

    def line(self, line: str) -> str:
        """A line of speech, with a speaker label or voice tags at its start."""
        if _VOICE.search(line):
            pieces, last = [], 0
            for m in _VOICE.finditer(line):
                pieces.append(self.text(line[last:m.start()]))
                pieces.append(m.group(1) + self.speaker(m.group(2)) + m.group(3))
                last = m.end()
            pieces.append(self.text(line[last:]))
            return "".join(pieces)
        prefixed = split_label(line)
        if prefixed is not None:
            body = line.rstrip()
            cut = len(body) - len(prefixed.text) if prefixed.text else len(body)
            head = line[:cut]
            if prefixed.label in head:
                head = head.replace(prefixed.label, self.speaker(prefixed.label), 1)
            else:
                head = self.text(head)
            return head + self.text(line[cut:])
        return self.text(line)


_TIMING_LINE = re.compile(r"^\s*[\d:.,]+\s+-->\s+[\d:.,]+(?:\s+[^\s].*)?$")


def _subtitles(text: str, red: _Redactor) -> str:
    """Redact cue text; keep the header, timing lines and the cue id line above a timing.

    Only a line shaped like a timing counts as one, so speech containing "-->" or a bare
    number in cue text is still redacted.
    """
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        structural = (_TIMING_LINE.match(line) or (i == 0 and line.startswith("WEBVTT"))
                      or (_TIMING_LINE.match(following) and len(line) <= 64
                          and not deidentify_text(line, red.roster).replacements))
        out.append(line if structural or not line.strip() else red.line(line))
    return "\n".join(out)


def _csv(text: str, red: _Redactor) -> str:
    first = text.split("\n", 1)[0]
    columns = header_columns(first) or {}
    delimiter = sniff_delimiter(first)
    keep = {columns[k] for k in ("start", "end") if k in columns}
    speaker_col = columns.get("speaker")
    role_col = columns.get("role")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter)):
            if number == 0:
                writer.writerow(row)
                continue
            writer.writerow([cell if i in keep or i == role_col else
                             red.speaker(cell) if i == speaker_col else red.text(cell)
                             for i, cell in enumerate(row)])
    except csv.Error as exc:
        raise DeidentificationError(f"malformed CSV ({exc})") from None
    return out.getvalue()


def _whisper(data: Any, red: _Redactor) -> Any:
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k != "word_segments"}
        if isinstance(data.get("text"), str):
            data["text"] = red.text(data["text"])
        if isinstance(data.get("segments"), list):
            data["segments"] = _whisper(data["segments"], red)
        return data
    if isinstance(data, list):
        out = []
        for seg in data:
            if isinstance(seg, dict):
                seg = {k: v for k, v in seg.items() if k != "words"}
                if isinstance(seg.get("text"), str):
                    seg["text"] = red.text(seg["text"])
                if isinstance(seg.get("speaker"), str):
                    seg["speaker"] = red.speaker(seg["speaker"])
            out.append(seg)
        return out
    return data


def _convokit(text: str, red: _Redactor) -> str:
    out = []
    for line in text.split("\n"):
        if not line.strip():
            out.append(line)
            continue
        obj = json.loads(line)
        if isinstance(obj, dict):
            if isinstance(obj.get("text"), str):
                obj["text"] = red.text(obj["text"])
            if isinstance(obj.get("speaker"), str):
                obj["speaker"] = red.speaker(obj["speaker"])
            if isinstance(obj.get("meta"), dict):
                obj["meta"] = deidentify_mapping(obj["meta"], red.roster)
        out.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(out)


def _speakers(text: str, source: str, fmt: str) -> list[str]:
    """Speaker ids of a file, or none if it does not parse as a transcript."""
    from alliance.transcripts.reading import segments_of

    try:
        segments, _ = segments_of(text, source, fmt)
    except TranscriptError:
        return []
    return list(dict.fromkeys(s.speaker for s in segments))


def deidentify_document(data: bytes | str, source: str = "<memory>",
                        roster: Sequence[str] | Roster = (), *,
                        input_format: str | None = None,
                        max_bytes: int = DEFAULT_MAX_BYTES) -> DeidentifiedDocument:
    """De-identify a transcript file's content, keeping its format (see module docstring).

    Undetectable content is treated as plain text, so clinical notes work too. Raises
    :class:`TranscriptError` for unreadable input (empty, binary, too large) and
    :class:`DeidentificationError` for a bad roster or a structurally broken file.
    """
    text = decode(data, source, max_bytes)
    if input_format:
        from alliance.transcripts.reading import _format_name

        fmt = _format_name(input_format, source)
    else:
        try:
            fmt = detect_format(text, source)
        except TranscriptError:
            fmt = "text"
    red = _Redactor(with_speaker_names(roster, _speakers(text, source, fmt)))
    try:
        if fmt in ("vtt", "srt"):
            result = _subtitles(text, red)
        elif fmt == "csv":
            result = _csv(text, red)
        elif fmt == "whisper-json":
            result = json.dumps(_whisper(json.loads(text), red), ensure_ascii=False, indent=2)
            result += "\n"
        elif fmt == "convokit":
            result = _convokit(text, red)
        else:
            result = "\n".join(red.line(line) for line in text.split("\n"))
    except (ValueError, RecursionError) as exc:
        raise DeidentificationError(f"{source}: cannot de-identify this {fmt} file: it is "
                                    f"not valid ({type(exc).__name__})", path=source) from None
    return DeidentifiedDocument(result, fmt, dict(red.counts), len(red.pseudonyms.table))
