"""The raw material every format parser produces, and the one way parsers fail.

A format parser turns text into :class:`Segment` objects (speaker label, text, optional
times, source line). :mod:`alliance.transcripts.assembly` then merges, maps roles and
validates, so the rules for turns and roles live in one place, not once per format.
"""

from __future__ import annotations

from dataclasses import dataclass

from alliance.errors import TranscriptError


@dataclass(frozen=True)
class Segment:
    """One stretch of speech as a file gives it, before turns are merged."""

    speaker: str
    text: str
    start: float | None = None
    end: float | None = None
    line: int | None = None
    role_hint: str | None = None  # a role the file states (CSV ``role``, ConvoKit meta)


def fail(source: str, problem: str, line: int | None = None) -> TranscriptError:
    """A :class:`TranscriptError` that names the file, the line (when known) and the problem.

    Returned rather than raised so that callers write ``raise fail(...)`` and type checkers
    see the control flow.
    """
    where = f"{source}: line {line}" if line is not None else source
    return TranscriptError(f"{where}: {problem}", path=source, line=line)
