"""Alerts: at most one per case, built from recent signals, with repair steps and a life cycle.

Opening rule (policy ``alerts``): among the signals of the case's last ``recent_sessions``
sessions that are not ``ambiguous``, an ``act`` signal opens an alert, or at least
``min_watch`` ``watch`` signals together. The alert's severity is the highest among them.

Its ``id`` is derived from the case id and the session where the current run of strain began
(walking back from the earliest trigger over held sessions with watch or act signals), so
monitoring the same data twice gives the same id, and evidence that keeps accumulating on the
same strain keeps the same alert; strain after a quiet session is a new alert.

Life cycle, kept as appended :class:`AlertEvent` rows (never updated in place)::

    open --acknowledge--> acknowledged --resolve--> resolved
      \\------------------resolve------------------^      |
    resolved --reopen (new evidence)--> open <------------/

:func:`apply_transition` returns the next row or raises
:class:`~alliance.errors.AlertStateError`; :func:`current_status` folds the rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from alliance.errors import AlertStateError
from alliance.monitoring.guidance import RepairStep, RuptureType, repair_steps
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import KIND_RANK, SEVERITY_RANK, Severity, Signal

AlertStatus = Literal["open", "acknowledged", "resolved"]
Action = Literal["open", "acknowledge", "resolve", "reopen"]

_HEADLINE_PRIORITY = ("rupture_repair", "split_alliance", "early_warning", "hidden_rupture",
                      "drop", "low_alliance", "container_strain", "component_deficit",
                      "rater_discrepancy", "homework", "ceiling")


@dataclass(frozen=True)
class Alert:
    """The one open alert of a case: what to look at and what to do."""

    id: str
    case_id: str
    severity: Severity
    headline: str
    evidence: tuple[Signal, ...]
    steps: tuple[RepairStep | str, ...]
    rupture_type: RuptureType = "unspecified"
    component: str | None = None

    @property
    def latest_session(self) -> int:
        return max(s.session for s in self.evidence)

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "headline": self.headline,
                "evidence": [_evidence_entry(s) for s in self.evidence],
                "findings": findings(self.evidence),
                "steps": [str(s) for s in self.steps]}


#: Rules that read the same alliance score: one low point that trips several of them is one
#: finding that meets several criteria, not several bullets.
_SCORE_KINDS = ("rupture_repair", "drop", "early_warning", "low_alliance")
_CRITERIA = {"rupture_repair": "not back to its earlier level", "drop": "a drop",
             "early_warning": "early warning", "low_alliance": "below the cutoff"}


def findings(evidence: Sequence[Signal]) -> list[dict[str, Any]]:
    """The evidence with one entry per (session, member) for the alliance-score rules,
    strongest first (severity, then how many criteria it meets, then recency).

    >>> from alliance.monitoring.signals import Signal
    >>> ev = [Signal(k, 3, "m1", sev, {}, f"{k} text") for k, sev in
    ...       [("early_warning", "act"), ("low_alliance", "watch"), ("drop", "act")]]
    >>> [(f["session"], f["criteria"]) for f in findings(ev)]
    [(3, ['a drop', 'early warning', 'below the cutoff'])]
    """
    groups: dict[tuple[int, str | None], list[Signal]] = {}
    out: list[dict[str, Any]] = []
    for s in evidence:
        if s.kind in _SCORE_KINDS:
            groups.setdefault((s.session, s.member), []).append(s)
        else:
            out.append({**_evidence_entry(s), "kinds": [s.kind], "criteria": []})
    for (session, member), sigs in groups.items():
        sigs = sorted(sigs, key=lambda g: _SCORE_KINDS.index(g.kind))
        top = max(sigs, key=lambda g: SEVERITY_RANK[g.severity])
        lead = sigs[0]
        out.append({"kind": lead.kind, "session": session, "member": member,
                    "severity": top.severity, "explanation": lead.explanation,
                    "kinds": [g.kind for g in sigs],
                    "criteria": [_CRITERIA[g.kind] for g in sigs] if len(sigs) > 1 else []})
    out.sort(key=lambda f: (-SEVERITY_RANK[f["severity"]], -len(f["kinds"]), -f["session"]))
    return out


def _evidence_entry(s: Signal) -> dict[str, Any]:
    return {"kind": s.kind, "session": s.session, "member": s.member, "severity": s.severity,
            "explanation": s.explanation}


def _headline(top: Signal, n_more: int) -> str:
    who = top.member or "the case"
    s = top.session
    kind = top.kind
    if kind == "rupture_repair":
        text = f"Unrepaired rupture for {who}, still below its earlier level at session {s}"
    elif kind == "drop":
        text = f"Alliance drop for {who} in session {s}"
    elif kind == "low_alliance":
        text = f"Low alliance for {who} in session {s}"
    elif kind == "early_warning":
        text = f"Early alliance warning for {who} in session {s}"
    elif kind == "split_alliance":
        text = f"Split alliance: {who} is out of step with the others (session {s})"
    elif kind == "hidden_rupture":
        text = f"Possible hidden {top.tag} rupture in session {s} despite high ratings"
    elif kind == "container_strain":
        text = f"Strain on the frame: missed, late-cancelled or late sessions (session {s})"
    elif kind == "component_deficit":
        text = f"Weak {top.tag} component for {who} (session {s})"
    elif kind == "rater_discrepancy":
        text = f"You rate the alliance well above {who} (session {s})"
    elif kind == "homework":
        text = f"Homework repeatedly not done (session {s})"
    else:
        text = f"Ceiling ratings from {who}: invite candid feedback"
    more = f"; {n_more} more signal{'s' if n_more != 1 else ''}" if n_more else ""
    return f"{top.severity.upper()}: {text}{more}"


def alert_id(case_id: str, since: int) -> str:
    """A stable id: a hash of the case id and the session where the current run of strain
    began, so the same strain keeps its alert while new evidence accumulates."""
    key = f"{case_id}|strain since session {since}"
    return "al-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def strain_start(first_trigger: int, strained: set[int], held: Sequence[int]) -> int:
    """The first session of the unbroken run of strained sessions ending at the first
    trigger: walking back over held sessions (given in ascending order), a held session without
    a watch or act signal ends the run (sessions that did not take place are stepped over)."""
    start = first_trigger
    for number in reversed([n for n in held if n < first_trigger]):   # held is ascending
        if number not in strained:
            break
        start = number
    return start


def build_alert(case_id: str, signals: Sequence[Signal], session_numbers: Sequence[int],
                policy: Policy, held: Sequence[int] | None = None) -> Alert | None:
    """The case's alert from its signals (in report order), or ``None`` when nothing recent
    calls for one. ``session_numbers`` are all scheduled sessions, ``held`` those that took
    place (default: all)."""
    if not session_numbers:
        return None
    ordered_sessions = sorted(session_numbers)
    # A case younger than the window counts all its sessions as recent.
    recent_from = ordered_sessions[-min(policy.alerts.recent_sessions, len(ordered_sessions))]
    ordered = sorted(signals, key=lambda s: (s.session, KIND_RANK[s.kind], s.member or ""))
    recent = [s for s in ordered if s.session >= recent_from and not s.ambiguous]
    strained = {s.session for s in signals if s.severity != "info" and not s.ambiguous}
    return alert_from_recent(case_id, recent, policy, strained,
                             sorted(session_numbers if held is None else held))


def alert_from_recent(case_id: str, recent: Sequence[Signal], policy: Policy,
                      strained: set[int], held: Sequence[int]) -> Alert | None:
    """The alert from the case's recent, non-ambiguous signals in report order (see
    :func:`build_alert`); ``strained`` are the sessions with a non-ambiguous watch or act
    signal."""
    pol = policy.alerts
    acts = [s for s in recent if s.severity == "act"]
    n_watch = sum(1 for s in recent if s.severity == "watch")
    if not acts and n_watch < pol.min_watch:
        return None
    triggers = [s for s in recent if s.severity != "info"]     # recent is in report order
    severity: Severity = "act" if acts else "watch"
    top = max(triggers, key=lambda s: (SEVERITY_RANK[s.severity],
                                       -_HEADLINE_PRIORITY.index(s.kind), s.session,
                                       -KIND_RANK[s.kind]))
    kinds = {s.kind for s in recent}
    hidden = [s for s in recent if s.kind == "hidden_rupture"]
    rupture: RuptureType
    if any(s.tag == "confrontation" for s in hidden):
        rupture = "confrontation"
    elif hidden or kinds & {"container_strain", "homework", "ceiling"}:
        rupture = "withdrawal"
    else:
        rupture = "unspecified"
    deficits = [s for s in recent if s.kind == "component_deficit"]
    component = (deficits[-1].tag if deficits else
                 "task" if "homework" in kinds else None)
    splits = [s for s in recent if s.kind == "split_alliance" and s.severity != "info"]
    steps = repair_steps(
        rupture, component,
        container=any(s.kind == "container_strain" and s.severity != "info" for s in recent),
        split_member=splits[-1].member if splits else None,
        discrepancy="rater_discrepancy" in kinds, early="early_warning" in kinds,
        ceiling="ceiling" in kinds,
        first=not any(n < triggers[0].session for n in held))
    since = strain_start(triggers[0].session, strained, held)
    return Alert(id=alert_id(case_id, since), case_id=case_id, severity=severity,
                 headline=_headline(top, len(triggers) - 1), evidence=tuple(triggers),
                 steps=tuple(steps), rupture_type=rupture, component=component)


@dataclass(frozen=True)
class AlertEvent:
    """One appended row of an alert's history."""

    alert_id: str
    seq: int
    action: Action
    status: AlertStatus
    at: datetime
    actor: str
    note: str = ""
    evidence_session: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"alert_id": self.alert_id, "seq": self.seq, "action": self.action,
                "status": self.status, "at": self.at.isoformat(), "actor": self.actor,
                "note": self.note, "evidence_session": self.evidence_session}


_NEXT: dict[tuple[str, str], AlertStatus] = {
    ("open", "acknowledge"): "acknowledged",
    ("open", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
    ("resolved", "reopen"): "open",
}


def current_status(history: Sequence[AlertEvent]) -> AlertStatus | None:
    """The status after the last row (``None`` for an empty history)."""
    return history[-1].status if history else None


def open_event(alert: Alert, at: datetime, actor: str = "monitor") -> AlertEvent:
    """The first row of a new alert's history."""
    return AlertEvent(alert.id, 1, "open", "open", at, actor, "", alert.latest_session)


def apply_transition(history: Sequence[AlertEvent], action: str, at: datetime, actor: str,
                     note: str = "", *, evidence_session: int | None = None) -> AlertEvent:
    """The row that records ``action`` on an alert whose rows so far are ``history``.

    Refused (:class:`AlertStateError`): an empty history, an action the current status does
    not allow, a time before the last row, an empty actor, and a ``reopen`` whose
    ``evidence_session`` is not newer than the evidence recorded when the alert was resolved.
    """
    if not history:
        raise AlertStateError("this alert has no history; open it first")
    if action not in ("acknowledge", "resolve", "reopen"):
        raise AlertStateError(f"unknown action {action!r}; use acknowledge, resolve or reopen")
    if not actor or not actor.strip():
        raise AlertStateError("an alert status change needs the actor who made it")
    last = history[-1]
    nxt = _NEXT.get((last.status, action))
    if nxt is None:
        allowed = [a for (s, a) in _NEXT if s == last.status]
        raise AlertStateError(f"alert {last.alert_id} is {last.status}; it cannot be "
                              f"{_past(action)} (allowed: {', '.join(allowed) or 'nothing'})",
                              status=last.status, action=action)
    if at < last.at:
        raise AlertStateError(f"alert {last.alert_id}: {at.isoformat()} is before the last "
                              f"change at {last.at.isoformat()}")
    if action == "reopen":
        seen = max((e.evidence_session for e in history if e.evidence_session is not None),
                   default=None)
        if evidence_session is None or (seen is not None and evidence_session <= seen):
            raise AlertStateError(f"alert {last.alert_id} can only be reopened by evidence from a "
                                  f"session after {seen}")
    return AlertEvent(last.alert_id, last.seq + 1, action, nxt, at, actor.strip(), note,  # type: ignore[arg-type]
                      evidence_session if evidence_session is not None else last.evidence_session)


def _past(action: str) -> str:
    return {"acknowledge": "acknowledged", "resolve": "resolved", "reopen": "reopened"}[action]
