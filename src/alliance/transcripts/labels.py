"""Speaker prefixes at the start of a line: ``T:``, ``Therapist:``, ``Dr. Okafor:``,
``[SPEAKER_00]:``, ``Maria (00:01:12):``.

A colon in ordinary speech ("What she said was: no.") must not start a new turn, so a
label is accepted only if it is short and name-like, and :func:`accepted_labels` keeps a
candidate only when it names a role plainly, looks like a diarizer id, or opens at least
two lines of the file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from alliance.transcripts.roles import label_role

# [SPEAKER_00]: or SPEAKER_00: (WhisperX, pyannote).
_DIARIZED = re.compile(r"^\s*\[?(?P<label>SPEAKER[_ ]?\d{1,3})\]?\s*:\s?(?P<text>.*)$",
                       re.IGNORECASE)
# A name-like label of one to three words, with an optional (time) or [time] after it.
_NAMED = re.compile(
    r"^\s*(?:[\[(](?P<pre>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)[\])]\s*)?"
    r"(?P<label>(?:Dr|Mr|Mrs|Ms|Mx|Prof)\.?\s+[A-Z][\w'’-]*|"
    r"[A-Za-z][\w'’-]*(?:\s+[A-Za-z0-9][\w'’-]*){0,2})"
    r"\s*(?:[\[(](?P<post>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)[\])])?"
    r"\s*:(?:\s+(?P<text>.*)|$)"
)
_NAME = re.compile(r"^(?:(?:Dr|Mr|Mrs|Ms|Mx|Prof)\.?\s+)?[A-Z][a-z'’-]+$")
# Words that open ordinary sentences with a colon far more often than they name a speaker.
_NOT_LABELS = frozenset({
    "note", "notes", "example", "examples", "re", "subject", "date", "time", "session",
    "summary", "homework", "goal", "goals", "plan", "assessment", "ps", "nb", "step",
    "question", "answer", "warning", "http", "https", "and", "but", "so", "then", "because",
    "like", "well", "i", "you", "he", "she", "we", "they", "it", "that", "this", "what",
})


@dataclass(frozen=True)
class Prefixed:
    """A line split into its speaker label and the rest."""

    label: str
    text: str
    time: str | None = None
    diarized: bool = False


def split_label(line: str) -> Prefixed | None:
    """Split ``"Therapist: How was the week?"`` into label and text, or return None."""
    m = _DIARIZED.match(line)
    if m:
        label = re.sub(r"[ ]", "_", m.group("label").upper())
        return Prefixed(label, m.group("text").strip(), None, True)
    m = _NAMED.match(line)
    if not m:
        return None
    label = " ".join(m.group("label").split())
    first = label.split()[0].lower().rstrip(".")
    if first in _NOT_LABELS and label_role(label) is None:
        return None
    if not (label[0].isupper() or label_role(label) is not None):
        return None
    return Prefixed(label, (m.group("text") or "").strip(), m.group("pre") or m.group("post"))


def accepted_labels(candidates: Iterable[Prefixed], known: Iterable[str] = ()) -> set[str]:
    """Labels trusted as speakers: plain role words, diarizer ids, names the caller gave,
    single capitalised words and titled names (``Maria``, ``Dr. Okafor``), or longer labels
    that open at least two lines (a one-off ``My mother said:`` is speech, not a speaker)."""
    counts = Counter(c.label for c in candidates)
    trusted = {k.lower() for k in known}
    out: set[str] = set()
    for label, count in counts.items():
        if (label_role(label) is not None or label.upper().startswith("SPEAKER_")
                or label.lower() in trusted or count >= 2 or _NAME.match(label)):
            out.add(label)
    return out
