"""Transcripts: formats -> :class:`Transcript`. Pure parsing; no database or web.

Formats (detected or named): ``text``, ``vtt``, ``srt``, ``whisper-json``, ``csv``,
``convokit``. See ``docs/transcripts.md``.
"""

from alliance.transcripts.convokit import write_convokit
from alliance.transcripts.deidentify import (
    Deidentified,
    Replacement,
    deidentify_text,
    deidentify_transcript,
)
from alliance.transcripts.detect import FORMATS, detect_format
from alliance.transcripts.model import ROLES, Role, Transcript, Utterance
from alliance.transcripts.reading import parse_transcript, read_transcript
from alliance.transcripts.roles import parse_roles

__all__ = [
    "FORMATS",
    "ROLES",
    "Deidentified",
    "Replacement",
    "Role",
    "Transcript",
    "Utterance",
    "deidentify_text",
    "deidentify_transcript",
    "detect_format",
    "parse_roles",
    "parse_transcript",
    "read_transcript",
    "write_convokit",
]
