"""The entry points: text or bytes (or a file) -> :class:`Transcript`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from alliance.transcripts.assembly import assemble
from alliance.transcripts.convokit import UTTERANCES, parse_convokit
from alliance.transcripts.csvformat import parse_csv
from alliance.transcripts.decoding import DEFAULT_MAX_BYTES, decode
from alliance.transcripts.detect import FORMATS, detect_format
from alliance.transcripts.model import Transcript
from alliance.transcripts.plaintext import parse_plaintext
from alliance.transcripts.segments import Segment, fail
from alliance.transcripts.srt import parse_srt
from alliance.transcripts.webvtt import parse_webvtt
from alliance.transcripts.whisper import parse_whisper

_ALIASES = {"txt": "text", "plain": "text", "webvtt": "vtt", "json": "whisper-json",
            "whisper": "whisper-json", "whisperx": "whisper-json", "jsonl": "convokit",
            "tsv": "csv"}


def _format_name(name: str, source: str) -> str:
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise fail(source, f"unknown input format {name!r} (use one of {', '.join(FORMATS)})")
    return key


def segments_of(text: str, source: str, fmt: str, known: Mapping[str, str] | None = None
                ) -> tuple[list[Segment], dict[str, str]]:
    """Run the parser for ``fmt`` on decoded text."""
    known_names = list(known or {})
    if fmt == "text":
        return parse_plaintext(text, source, known_names)
    if fmt == "vtt":
        return parse_webvtt(text, source, known_names), {}
    if fmt == "srt":
        return parse_srt(text, source, known_names), {}
    if fmt == "whisper-json":
        return parse_whisper(text, source), {}
    if fmt == "csv":
        return parse_csv(text, source), {}
    return parse_convokit(text, source)


def parse_transcript(data: bytes | str, source: str = "<memory>", *,
                     input_format: str | None = None, roles: Mapping[str, str] | None = None,
                     max_bytes: int = DEFAULT_MAX_BYTES, merge: bool = True) -> Transcript:
    """Parse a transcript in any supported format.

    ``input_format`` names the format (else it is detected); ``roles`` maps speaker ids to
    ``therapist``/``client``/``other`` where the labels do not say; ``merge`` joins
    consecutive segments of one speaker into a turn. Every failure is a
    :class:`~alliance.errors.TranscriptError` naming ``source``, the line and the problem.

    >>> t = parse_transcript("T: How was the week?\\nC: Long.")
    >>> [(u.speaker, u.role, u.text) for u in t]
    [('T', 'therapist', 'How was the week?'), ('C', 'client', 'Long.')]
    """
    text = decode(data, source, max_bytes)
    fmt = _format_name(input_format, source) if input_format else detect_format(text, source)
    segments, meta = segments_of(text, source, fmt, roles)
    return assemble(segments, source, fmt, roles, meta, merge=merge)


def read_transcript(path: str | os.PathLike[str], *, input_format: str | None = None,
                    roles: Mapping[str, str] | None = None,
                    max_bytes: int = DEFAULT_MAX_BYTES, merge: bool = True) -> Transcript:
    """Read and parse a transcript file (a ConvoKit corpus directory works too)."""
    file = Path(path)
    source = str(path)
    if file.is_dir():
        if not (file / UTTERANCES).is_file():
            raise fail(source, f"is a directory without {UTTERANCES}")
        file = file / UTTERANCES
        input_format = input_format or "convokit"
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise fail(source, f"is {size:,} bytes, over the limit of {max_bytes:,} bytes")
        with file.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise fail(source, "file not found") from None
    except IsADirectoryError:
        raise fail(source, "is a directory, not a transcript file") from None
    except PermissionError:
        raise fail(source, "permission denied") from None
    except OSError as exc:
        raise fail(source, f"cannot be read ({exc.strerror or exc})") from None
    return parse_transcript(data, source, input_format=input_format, roles=roles,
                            max_bytes=max_bytes, merge=merge)
