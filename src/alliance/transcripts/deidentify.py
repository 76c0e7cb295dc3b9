"""De-identification: structured identifiers and roster names -> typed placeholders.

``"Call me on 07700 900123, Maria"`` -> ``"Call me on [PHONE], [NAME]"``. The detectors are
in :mod:`alliance.transcripts.identifiers`, the roster in :mod:`alliance.transcripts.roster`.
Measured recall and over-redaction on the seeded synthetic corpus
(:mod:`alliance.testing.phi_corpus`) are in ``docs/transcripts.md``.

This is a safety net, not a guarantee: free-text clues (a workplace, a rare illness, a
relative's job) are not removed, and names are removed only when they are on the roster.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from alliance.errors import DeidentificationError
from alliance.transcripts.identifiers import Span, find_identifiers, resolve
from alliance.transcripts.model import Transcript
from alliance.transcripts.roles import label_role
from alliance.transcripts.roster import Roster, make_roster

PLACEHOLDERS: dict[str, str] = {kind: f"[{kind}]" for kind in
                                ("EMAIL", "URL", "PHONE", "DATE", "ADDRESS", "ID", "NAME")}


@dataclass(frozen=True)
class Replacement:
    """One removed identifier: its kind and its span ``[start, end)`` in the input text.

    The removed text itself is deliberately not kept.
    """

    kind: str
    start: int
    end: int

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS[self.kind]


@dataclass(frozen=True)
class Deidentified:
    """The de-identified text and what was replaced."""

    text: str
    replacements: tuple[Replacement, ...]

    def counts(self) -> dict[str, int]:
        """Replacements per kind."""
        out: dict[str, int] = {}
        for r in self.replacements:
            out[r.kind] = out.get(r.kind, 0) + 1
        return out


def deidentify_text(text: str, roster: Sequence[str] | Roster = ()) -> Deidentified:
    """Replace identifiers and roster names in ``text`` with typed placeholders.

    >>> deidentify_text("Email maria@example.org before 12 March.", ["Maria"]).text
    'Email [EMAIL] before [DATE].'
    """
    if not isinstance(text, str):
        raise DeidentificationError(f"expected text, got {type(text).__name__}")
    names = make_roster(roster)
    spans = find_identifiers(text)
    if names:
        # A name inside an e-mail or URL is removed with it; elsewhere names win ties.
        spans = resolve([*spans, *(Span("NAME", a, b, 0) for a, b in names.find(text))])
    pieces: list[str] = []
    last = 0
    for span in spans:
        pieces.append(text[last:span.start])
        pieces.append(PLACEHOLDERS[span.kind])
        last = span.end
    pieces.append(text[last:])
    return Deidentified("".join(pieces),
                        tuple(Replacement(s.kind, s.start, s.end) for s in spans))


_TITLE = re.compile(r"^(?:Dr|Doctor|Mr|Mrs|Ms|Mx|Miss|Prof)\.?\s+", re.IGNORECASE)
_NOT_A_NAME = re.compile(r"^(?:SPEAKER_\d+|UNKNOWN|PERSON_\d+)$", re.IGNORECASE)


def speaker_names(speakers: Iterable[str]) -> list[str]:
    """The speaker ids that are people's names: ``Maria``, and ``Okafor`` from ``Dr. Okafor``.

    Role labels (``Therapist``, ``Client B``, ``Mother``) and diarizer ids (``SPEAKER_00``)
    are not names. A speaker's name is very likely to be spoken in the session too, so
    de-identification adds these to the roster.
    """
    names: list[str] = []
    for speaker in speakers:
        rest = _TITLE.sub("", speaker.strip())
        if not rest or _NOT_A_NAME.match(rest) or not any(ch.isalpha() for ch in rest):
            continue
        if rest == speaker.strip() and label_role(speaker) is not None:
            continue
        if label_role(rest) is None and rest not in names:
            names.append(rest)
    return names


def with_speaker_names(roster: Sequence[str] | Roster, speakers: Iterable[str]) -> Roster:
    """The roster plus the names among ``speakers``."""
    base = make_roster(roster)
    extra = [n for n in speaker_names(speakers) if n not in base.names]
    return make_roster([*base.names, *extra]) if extra else base


class Pseudonyms:
    """Speaker ids that are roster names become ``PERSON_1``, ``PERSON_2``... consistently,
    so the turns of different people stay apart after their names are removed."""

    def __init__(self, roster: Roster) -> None:
        self.roster = roster
        self.table: dict[str, str] = {}

    def speaker(self, label: str) -> str:
        """``"Maria"`` -> ``"PERSON_1"``; ``"Dr. Okafor"`` -> ``"Dr. PERSON_2"``; other
        labels are de-identified as text (a label is rarely an e-mail, but never leak it)."""
        if not self.roster:
            return deidentify_text(label).text
        spans = list(self.roster.find(label))
        if not spans:
            return deidentify_text(label).text
        out, last = [], 0
        for start, end in spans:
            name = self.roster.canonical(label[start:end]) or label[start:end].lower()
            alias = self.table.setdefault(name, f"PERSON_{len(self.table) + 1}")
            out.extend([label[last:start], alias])
            last = end
        out.append(label[last:])
        return "".join(out)


def deidentify_transcript(transcript: Transcript, roster: Sequence[str] | Roster = ()
                          ) -> Transcript:
    """A copy of ``transcript`` with identifiers removed from every utterance and from meta.

    Speaker ids that are names (``Maria``, ``Dr. Okafor``) are added to the roster, so the
    name is removed wherever it is spoken, and become ``PERSON_n`` (``Dr. PERSON_2``);
    roles are kept. ``meta["deidentified"]`` records how many replacements were made in text.
    """
    names = with_speaker_names(roster, transcript.speakers)
    pseudonyms = Pseudonyms(names)
    total = 0
    utterances = []
    for u in transcript.utterances:
        result = deidentify_text(u.text, names)
        total += len(result.replacements)
        utterances.append(replace(u, text=result.text, speaker=pseudonyms.speaker(u.speaker)))
    meta: dict[str, str] = {}
    for key, value in transcript.meta.items():
        result = deidentify_text(value, names)
        total += len(result.replacements)
        meta[key] = result.text
    meta["deidentified"] = str(total)
    return Transcript(tuple(utterances), source=transcript.source, format=transcript.format,
                      meta=meta)


def deidentify_mapping(values: Mapping[str, object], roster: Roster) -> dict[str, object]:
    """De-identify every string inside a JSON-like mapping (used for ConvoKit ``meta``)."""
    def walk(value: object) -> object:
        if isinstance(value, str):
            return deidentify_text(value, roster).text
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return {k: walk(v) for k, v in values.items()}
