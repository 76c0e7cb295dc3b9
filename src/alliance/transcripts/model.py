"""The transcript model every format parses into and every coder reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

Role = Literal["therapist", "client", "other"]
ROLES: tuple[str, ...] = ("therapist", "client", "other")


@dataclass(frozen=True)
class Utterance:
    """One speaker turn. ``index`` is its 0-based position in the transcript."""

    index: int
    speaker: str
    role: Role
    text: str
    start: float | None = None
    end: float | None = None


@dataclass(frozen=True)
class Transcript:
    """A session transcript: ordered utterances plus where they came from.

    Several speakers may share the role ``client`` (couple, family and group sessions).
    """

    utterances: tuple[Utterance, ...]
    source: str = "<memory>"
    format: str = "unknown"
    meta: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Utterance]:
        return iter(self.utterances)

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, index: int) -> Utterance:
        return self.utterances[index]

    @property
    def speakers(self) -> dict[str, Role]:
        """Speaker id to role, in order of first appearance."""
        out: dict[str, Role] = {}
        for u in self.utterances:
            out.setdefault(u.speaker, u.role)
        return out

    def by_role(self, role: Role) -> list[Utterance]:
        return [u for u in self.utterances if u.role == role]
