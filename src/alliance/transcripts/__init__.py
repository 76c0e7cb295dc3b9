"""Transcripts: formats -> :class:`Transcript`. Pure parsing; no database or web.

Formats (detected or named): ``text``, ``vtt``, ``srt``, ``whisper-json``, ``csv``,
``convokit``. See ``docs/transcripts.md``.
"""

from alliance.transcripts.convokit import write_convokit
from alliance.transcripts.detect import FORMATS, detect_format
from alliance.transcripts.model import ROLES, Role, Transcript, Utterance
from alliance.transcripts.reading import parse_transcript, read_transcript
from alliance.transcripts.roles import parse_roles

__all__ = [
    "FORMATS",
    "ROLES",
    "Role",
    "Transcript",
    "Utterance",
    "detect_format",
    "parse_roles",
    "parse_transcript",
    "read_transcript",
    "write_convokit",
]
