"""Signals: typed findings about one session of one case, each with its evidence and a
plain-language explanation.

A signal never changes once its session is in the past: every rule looks only at the
session it reports on and earlier ones, so appending a session adds signals but never alters
those about earlier sessions (a hypothesis property test holds the rules to this).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from alliance.vocabulary import SEVERITIES as SEVERITIES  # defined once
from alliance.vocabulary import SEVERITY_RANK as SEVERITY_RANK

Severity = Literal["info", "watch", "act"]

#: Signal kinds, in the order a report lists signals of the same session.
KINDS: tuple[str, ...] = (
    "early_warning", "low_alliance", "drop", "rupture_repair", "component_deficit",
    "split_alliance", "rater_discrepancy", "hidden_rupture", "ceiling", "container_strain",
    "homework", "not_on_track", "risk",
)
KIND_RANK: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
_TAG_KEYS = {"component_deficit": "component", "hidden_rupture": "rupture_type"}


class Signal:
    """One finding: what (``kind``), when (``session``), about whom (``member``, or ``None``
    for the whole case), how urgent (``severity``), the numbers and rule behind it
    (``evidence``) and a sentence for the clinician (``explanation``).

    Read-only. Signals found by the rules are created lazily: their evidence and explanation
    are built from the rule's arrays the first time they are read, which keeps monitoring
    100,000 cases cheap; a signal reads the same either way.
    """

    _severity: Severity

    __slots__ = ("_ambiguous", "_evidence", "_explanation", "_index", "_kind", "_member",
                 "_session", "_severity", "_source", "_tag")

    def __init__(self, kind: str, session: int, member: str | None, severity: Severity,
                 evidence: Mapping[str, Any] | None = None, explanation: str | None = None, *,
                 ambiguous: bool | None = None, source: Any = None, index: int = -1,
                 tag: str | None = None) -> None:
        if source is None and (evidence is None or explanation is None):
            raise TypeError("a Signal needs evidence and an explanation")
        self._kind = kind
        self._session = session
        self._member = member
        self._severity = severity
        self._evidence = evidence
        self._explanation = explanation
        self._source = source
        self._index = index
        self._ambiguous = (bool(evidence.get("ambiguous", False)) if ambiguous is None
                           and evidence is not None else bool(ambiguous))
        self._tag = tag

    @property
    def tag(self) -> str | None:
        """The one detail alerts need without building the evidence: the component of a
        ``component_deficit``, the rupture type of a ``hidden_rupture``."""
        if self._tag is None and self._kind in _TAG_KEYS:
            return str(self.evidence[_TAG_KEYS[self._kind]])
        return self._tag

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def session(self) -> int:
        return self._session

    @property
    def member(self) -> str | None:
        return self._member

    @property
    def severity(self) -> Severity:
        return self._severity

    def _load(self) -> None:
        self._evidence, self._explanation = self._source.build(self._index)

    @property
    def evidence(self) -> Mapping[str, Any]:
        if self._evidence is None:
            self._load()
        return self._evidence  # type: ignore[return-value]

    @property
    def explanation(self) -> str:
        if self._explanation is None:
            self._load()
        return self._explanation  # type: ignore[return-value]

    @property
    def ambiguous(self) -> bool:
        """True when the cue behind the signal is a cultural norm of this client."""
        return bool(self._ambiguous)

    def sort_key(self) -> tuple[Any, ...]:
        ev = self.evidence
        return (self.session, KIND_RANK[self.kind], self.member or "",
                str(ev.get("instrument", "")), str(ev.get("criterion", "")),
                str(ev.get("rater", "")))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "session": self.session, "member": self.member,
                "severity": self.severity, "evidence": _plain(self.evidence),
                "explanation": self.explanation}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Signal):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.kind, self.session, self.member, self.severity))

    def __repr__(self) -> str:
        return (f"Signal(kind={self.kind!r}, session={self.session}, member={self.member!r}, "
                f"severity={self.severity!r})")


@dataclass
class Hits:
    """A rule's findings as arrays, one entry per signal; ``build(i)`` makes the ``i``-th
    signal's evidence and explanation. ``case`` indexes the panel's cases."""

    kind: str
    case: np.ndarray
    session: np.ndarray
    member: np.ndarray
    severity: np.ndarray
    build: Callable[[int], tuple[dict[str, Any], str]]
    ambiguous: np.ndarray | None = None
    instrument: np.ndarray | None = None
    criterion: np.ndarray | None = None
    rater: np.ndarray | None = None
    tag: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.case)

    def column(self, name: str) -> np.ndarray:
        value = getattr(self, name)
        if value is None:
            return np.full(len(self.case), "", dtype=object)
        return value

    def signal(self, i: int) -> Signal:
        amb = bool(self.ambiguous[i]) if self.ambiguous is not None else False
        return Signal(self.kind, int(self.session[i]), self.member[i],
                      SEVERITIES[int(self.severity[i])], ambiguous=amb,  # type: ignore[arg-type]
                      source=self, index=i,
                      tag=None if self.tag is None else str(self.tag[i]))


def severity_codes(act: np.ndarray, watch: np.ndarray) -> np.ndarray:
    """0 info, 1 watch, 2 act."""
    return np.where(act, 2, np.where(watch, 1, 0)).astype(np.int8)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def num(x: float | None) -> str:
    """A number for an explanation: whole numbers bare, others to at most two decimals."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


def signed(x: float) -> str:
    return ("+" if x > 0 else "−" if x < 0 else "±") + num(abs(x))


def who(member: str | None, rater: str | None = None) -> str:
    return member or rater or "the case"


def clean(x: float) -> float | None:
    """A JSON-safe Python float (``None`` for NaN)."""
    f = float(x)
    return None if math.isnan(f) else f
