"""Signals: typed findings about one session of one case, each with its evidence and a
plain-language explanation.

A signal never changes once its session is in the past: every rule looks only at the
session it reports on and earlier ones, so appending a session adds signals but never alters
those about earlier sessions (a hypothesis property test holds the rules to this).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["info", "watch", "act"]
SEVERITIES: tuple[str, ...] = ("info", "watch", "act")
SEVERITY_RANK: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}

#: Signal kinds, in the order a report lists signals of the same session.
KINDS: tuple[str, ...] = (
    "early_warning", "low_alliance", "drop", "rupture_repair", "component_deficit",
    "split_alliance", "rater_discrepancy", "hidden_rupture", "ceiling", "container_strain",
    "homework",
)
KIND_RANK: dict[str, int] = {k: i for i, k in enumerate(KINDS)}


@dataclass(frozen=True)
class Signal:
    """One finding: what (``kind``), when (``session``), about whom (``member``, or ``None``
    for the whole case), how urgent (``severity``), the numbers and rule behind it
    (``evidence``) and a sentence for the clinician (``explanation``)."""

    kind: str
    session: int
    member: str | None
    severity: Severity
    evidence: Mapping[str, Any]
    explanation: str

    @property
    def ambiguous(self) -> bool:
        """True when the cue behind the signal is a cultural norm of this client."""
        return bool(self.evidence.get("ambiguous", False))

    def sort_key(self) -> tuple[Any, ...]:
        return (self.session, KIND_RANK[self.kind], self.member or "",
                str(self.evidence.get("instrument", "")), str(self.evidence.get("criterion", "")),
                str(self.evidence.get("rater", "")))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "session": self.session, "member": self.member,
                "severity": self.severity, "evidence": _plain(self.evidence),
                "explanation": self.explanation}


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
