"""Which speaker is the therapist and which are clients.

Roles are mapped automatically only where the label says so plainly (``T``, ``Therapist``,
``Counsellor``, ``Dr Reyes``; ``C``, ``Client``, ``Patient``, ``Mother``...). Otherwise the
caller names them (``--roles SPEAKER_00=therapist,SPEAKER_01=client``). A wrong guess would
put the client's words into the therapist's column of every report, so when it is not clear
we stop and ask rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from alliance.errors import TranscriptError
from alliance.transcripts.model import Role

ROLES_SYNTAX = "--roles SPEAKER_00=therapist,SPEAKER_01=client"

# Words that name a role in a value of --roles or in a label.
_ROLE_WORDS: dict[str, Role] = {
    "therapist": "therapist", "counselor": "therapist", "counsellor": "therapist",
    "clinician": "therapist", "t": "therapist", "th": "therapist", "dr": "therapist",
    "doctor": "therapist", "psychologist": "therapist", "psychotherapist": "therapist",
    "analyst": "therapist", "provider": "therapist", "facilitator": "therapist",
    "client": "client", "patient": "client", "c": "client", "p": "client", "pt": "client",
    "other": "other",
}

# Family and couple members are clients of a couple or family session.
_MEMBER_WORDS = frozenset({
    "mother", "father", "mom", "mum", "dad", "parent", "son", "daughter", "child", "husband",
    "wife", "partner", "spouse", "sister", "brother", "grandmother", "grandfather",
    "grandma", "grandpa", "stepmother", "stepfather", "stepdad", "stepmom", "stepmum",
    "aunt", "uncle", "boyfriend", "girlfriend", "teen", "adolescent", "member",
})

# People present who are neither (their turns are kept, not coded).
_OTHER_WORDS = frozenset({"interpreter", "translator", "narrator", "transcriber", "observer",
                          "unknown", "nurse"})

_TITLE = re.compile(r"^(?:dr|doctor)\.?(?:\s+\S.*)?$", re.IGNORECASE)
_NUMBERED = re.compile(r"^(?P<word>[a-z]+)[\s_-]*(?:\d+|[a-z])?$", re.IGNORECASE)


def role_word(value: str) -> Role | None:
    """The role a word names (``"Counsellor"`` -> therapist), or None."""
    return _ROLE_WORDS.get(value.strip().lower())


def parse_roles(spec: str) -> dict[str, str]:
    """Parse ``"SPEAKER_00=therapist,SPEAKER_01=client"`` into a dict.

    Values may be any role word (``counsellor`` -> ``therapist``, ``patient`` -> ``client``);
    the result holds canonical roles. Raises :class:`TranscriptError` on a malformed spec.

    >>> parse_roles("SPEAKER_00=therapist, SPEAKER_01=patient")
    {'SPEAKER_00': 'therapist', 'SPEAKER_01': 'client'}
    """
    out: dict[str, str] = {}
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise TranscriptError(f"--roles is empty; write it as {ROLES_SYNTAX}")
    for part in parts:
        speaker, sep, value = part.partition("=")
        speaker, value = speaker.strip(), value.strip()
        if not sep or not speaker or not value:
            raise TranscriptError(f"--roles entry {part!r} is not SPEAKER=role; write it as "
                                  f"{ROLES_SYNTAX}")
        role = role_word(value)
        if role is None:
            raise TranscriptError(f"--roles entry {part!r}: unknown role {value!r} "
                                  "(use therapist, client or other)")
        if speaker in out and out[speaker] != role:
            raise TranscriptError(f"--roles names {speaker!r} twice with different roles")
        out[speaker] = role
    return out


def canonical_roles(roles: Mapping[str, str] | None) -> dict[str, Role]:
    """Validate a caller's mapping; keys compare case-insensitively."""
    out: dict[str, Role] = {}
    for speaker, value in (roles or {}).items():
        role = role_word(str(value))
        if role is None:
            raise TranscriptError(f"role {value!r} for speaker {speaker!r} is not one of "
                                  "therapist, client, other")
        out[str(speaker).strip().lower()] = role
    return out


def label_role(label: str) -> Role | None:
    """The role a speaker label states plainly, or None when it does not.

    ``T``, ``Therapist 2``, ``Dr. Okafor`` -> therapist; ``Client B``, ``P``, ``Mother``,
    ``Partner 1`` -> client; ``Interpreter`` -> other; ``Maria``, ``SPEAKER_00`` -> None.
    """
    text = label.strip().strip("[]").strip()
    if not text:
        return None
    if _TITLE.match(text):
        return "therapist"
    m = _NUMBERED.match(text)
    if not m:
        return None
    word = m.group("word").lower()
    if word == "speaker":
        return None
    if word in _ROLE_WORDS and (len(word) > 2 or text.lower() == word or
                                 re.fullmatch(r"[a-z]{1,2}[\s_-]*\d+", text.lower())):
        return _ROLE_WORDS[word]
    if word in _MEMBER_WORDS:
        return "client"
    if word in _OTHER_WORDS:
        return "other"
    return None


def assign_roles(speakers: Sequence[str], explicit: Mapping[str, Role],
                 hints: Mapping[str, Role], source: str) -> dict[str, Role]:
    """Give every speaker a role: explicit mapping, then the file's own hints, then labels.

    One inference is allowed beyond the labels: when exactly one speaker is left unmapped and
    the others include a therapist but no client (or a client but no therapist), the one left
    takes the missing role ("Therapist:" and "Maria:"). Anything else unmapped is an error
    that names the speakers and shows the ``--roles`` syntax.
    """
    roles: dict[str, Role] = {}
    unmapped: list[str] = []
    for speaker in speakers:
        role = explicit.get(speaker.lower()) or hints.get(speaker) or label_role(speaker)
        if role is None:
            unmapped.append(speaker)
        else:
            roles[speaker] = role
    if len(unmapped) == 1:
        have = set(roles.values())
        if "therapist" in have and "client" not in have:
            roles[unmapped.pop()] = "client"
        elif "client" in have and "therapist" not in have:
            roles[unmapped.pop()] = "therapist"
    if unmapped:
        listed = ", ".join(repr(s) for s in speakers)
        example = ",".join(f"{s}={r}" for s, r in zip(
            unmapped[:2], ("therapist", "client"), strict=False))
        raise TranscriptError(
            f"{source}: cannot tell the role of speaker(s) "
            f"{', '.join(repr(s) for s in unmapped)} (speakers: {listed}); name them with "
            f"--roles, e.g. --roles {example}", path=source)
    missing = [r for r in ("therapist", "client") if r not in roles.values()]
    if missing:
        found = ", ".join(f"{s}={r}" for s, r in roles.items())
        raise TranscriptError(
            f"{source}: no {' and no '.join(missing)} among the speakers ({found}); a "
            f"session needs both: name them with {ROLES_SYNTAX}", path=source)
    return roles
