"""A roster of names to remove: the people a transcript may mention.

Names cannot be told from ordinary words by pattern (Hope, Will, Rose, Grace), so
de-identification removes only the names a user lists. A roster file has one name per
line; blank lines and lines starting with ``#`` are ignored.

Matching is whole-word and case-insensitive for each full entry ("Maria Lopez" matches
"maria lopez"). The parts of a multi-word entry are also matched on their own, but only
when written with a capital (``Maria``, ``LOPEZ``), so that "Hope Williams" removes "Hope"
the name and keeps "I hope so". A possessive stays after the placeholder: "Maria's" ->
"[NAME]'s".
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from alliance.errors import DeidentificationError

_TITLES = frozenset({"dr", "mr", "mrs", "ms", "mx", "miss", "prof", "sir", "dame", "rev"})
MAX_NAME_LENGTH = 100


def _pattern(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


class Roster:
    """Compiled roster: full entries (any case) and their parts (capitalised only)."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names: tuple[str, ...] = tuple(" ".join(n.split()) for n in names)
        parts = [p for n in self.names if " " in n for p in n.replace(".", " ").split()
                 if len(p) >= 2 and p.lower() not in _TITLES]
        flexible = sorted((re.escape(n).replace(r"\ ", r"\s+") for n in self.names),
                          key=len, reverse=True)
        self._full = (re.compile(rf"(?<!\w)(?:{'|'.join(flexible)})(?!\w)", re.IGNORECASE)
                      if flexible else None)
        capitalised = [v for p in parts for v in (p[:1].upper() + p[1:], p.upper())]
        self._parts = (re.compile(rf"(?<!\w)(?:{_pattern(capitalised)})(?!\w)")
                       if capitalised else None)

    def __repr__(self) -> str:
        return f"Roster({len(self.names)} names)"

    def __bool__(self) -> bool:
        return bool(self.names)

    def find(self, text: str) -> Iterator[tuple[int, int]]:
        """Spans of roster names in ``text`` (full entries first; parts where no entry)."""
        taken: list[tuple[int, int]] = []
        for compiled in (self._full, self._parts):
            if compiled is None:
                continue
            for m in compiled.finditer(text):
                if all(m.end() <= a or m.start() >= b for a, b in taken):
                    taken.append((m.start(), m.end()))
        yield from sorted(taken)

    def canonical(self, text: str) -> str | None:
        """The roster entry that ``text`` names, if it is exactly one name or name part."""
        key = " ".join(text.split()).lower()
        for name in self.names:
            full = " ".join(name.split())
            if key == full.lower() or key in {p.lower() for p in full.split() if len(p) >= 2}:
                return full
        return None


def make_roster(names: Sequence[str] | Roster) -> Roster:
    """A :class:`Roster` from names, refusing entries that cannot be names."""
    if isinstance(names, Roster):
        return names
    if isinstance(names, str):
        raise DeidentificationError("roster must be a list of names, not one string")
    cleaned: list[str] = []
    for number, raw in enumerate(names, start=1):
        if not isinstance(raw, str):
            raise DeidentificationError(f"roster entry {number} is not text")
        name = " ".join(raw.split())
        if not name:
            continue
        if len(name) > MAX_NAME_LENGTH:
            raise DeidentificationError(f"roster entry {number} is longer than "
                                        f"{MAX_NAME_LENGTH} characters; is this a name?")
        if not any(ch.isalpha() for ch in name):
            raise DeidentificationError(f"roster entry {number} ({name!r}) has no letters")
        cleaned.append(name)
    return Roster(tuple(dict.fromkeys(cleaned)))


def read_roster(path: str | os.PathLike[str]) -> Roster:
    """Read a roster file (UTF-8, one name per line, ``#`` comments)."""
    source = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise DeidentificationError(f"{source}: roster file not found", path=source) from None
    except UnicodeDecodeError:
        raise DeidentificationError(f"{source}: roster is not UTF-8 text", path=source) from None
    except OSError as exc:
        raise DeidentificationError(f"{source}: cannot read the roster ({exc.strerror})",
                                    path=source) from None
    lines = [ln.strip() for ln in text.splitlines()]
    names = [ln for ln in lines if ln and not ln.startswith("#")]
    if not names:
        raise DeidentificationError(f"{source}: roster has no names (one name per line)",
                                    path=source)
    try:
        return make_roster(names)
    except DeidentificationError as exc:
        raise DeidentificationError(f"{source}: {exc}", path=source) from None
