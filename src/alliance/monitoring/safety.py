"""Safety: a risk answer is an alert, at the top, with concrete next steps.

An item flagged ``risk: true`` in its instrument's spec (PHQ-9 item 9, or a deployer's own)
answered above the lowest point of its scale is a ``risk`` signal (severity ``act``, the
highest) on that session. Nothing else raises it: not a total, not another item, not a
transcript, and nothing is inferred beyond the answer. :func:`fold_risk` makes a risk answer
among the case's last ``recent_sessions`` sessions lead the case's alert: its own alert id
(so an earlier acknowledged or resolved alert does not hide it), a headline that says what
was answered and when, and the safety steps before any alliance step. The store applies it
after the alliance rules and the outcome reading (:func:`alliance.store.monitoring.assess`),
so the risk alert is the one the caseload, its severity filter and the API list.

Example: a client answers PHQ-9 item 9 with 1 at session 2.

>>> from alliance.monitoring import monitor_case, parse_cases
>>> case = parse_cases({"cases": [{"id": "c1", "modality": "individual",
...     "members": [{"id": "m1", "role": "client"}],
...     "sessions": [{"number": n, "attendance": "attended", "ratings": [
...         {"rater": "m1", "instrument": "pulse-3", "items": {"bond": 6, "goal": 6, "task": 6}},
...         {"rater": "m1", "instrument": "phq-9",
...          "items": {**{f"phq{i}": 1 for i in range(1, 9)}, "phq9": r}}]}
...         for n, r in [(1, 0), (2, 1)]]}]})[0]
>>> report = fold_risk(case, monitor_case(case))
>>> report.alert.severity, report.alert.headline.split(": contact")[0]
('act', 'ACT: Safety: m1 answered a safety question on phq-9 (item phq9: 1) in session 2')
>>> str(report.alert.steps[0]).startswith("Contact the client today")
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from alliance.instruments import Catalog, Instrument, builtin_catalog
from alliance.monitoring.alerts import Alert
from alliance.monitoring.casefile import Case
from alliance.monitoring.report import CaseReport
from alliance.monitoring.signals import Signal

RECENT_SESSIONS = 3

#: What to do, in order (this project's own wording; the clinic's protocol comes first).
STEPS = (
    "Contact the client today, before the next session: say that you saw their answer to the "
    "safety question and ask how they are right now.",
    "Ask directly about thoughts of harming themselves, any plan, intent and access to means, "
    "and what is keeping them safe; follow your clinic's risk-assessment protocol.",
    "If there is immediate danger, follow your emergency procedure (emergency services or the "
    "crisis team) without waiting for the next appointment.",
    "Agree a safety plan with the client (warning signs, what helps, people and services to "
    "contact, making means safer) and offer an earlier appointment.",
    "Record what you did, tell your supervisor, and acknowledge the answer on the case page.",
)


def risk_answers(inst: Instrument, answers: Mapping[str, Any]) -> dict[str, float]:
    """The risk items answered above their scale's floor, with the answer (an unanswered item
    raises nothing).

    >>> from alliance.instruments import get_instrument
    >>> phq = get_instrument("phq-9")
    >>> risk_answers(phq, {"phq9": 1}), risk_answers(phq, {"phq9": 0})
    ({'phq9': 1.0}, {})
    >>> risk_answers(phq, {"phq1": 3, "phq9": None})
    {}
    """
    out = {}
    for item in inst.risk_items:
        value = answers.get(item.id)
        if value is not None and float(value) > float(item.scale.min):
            out[item.id] = float(value)
    return out


def risk_signals(case: Case, catalog: Catalog | None = None) -> list[Signal]:
    """One ``risk`` signal per rating that answers a risk item above its floor."""
    catalog = catalog if catalog is not None else builtin_catalog()
    out = []
    for session in case.sessions:
        for rating in session.ratings:
            inst = catalog.get(rating.instrument)
            found = risk_answers(inst, rating.items) if inst is not None else {}
            if not found:
                continue
            member = None if rating.rater in ("therapist", "observer") else rating.rater
            items = ", ".join(f"item {k}: {v:g}" for k, v in found.items())
            out.append(Signal(
                "risk", session.number, member, "act",
                {"instrument": rating.instrument, "items": found, "rater": rating.rater},
                f"{rating.rater} answered a safety question on {rating.instrument} above its "
                f"lowest answer ({items}) in session {session.number}. Nothing else is "
                f"inferred from it."))
    return out


def fold_risk(case: Case, report: CaseReport, catalog: Catalog | None = None, *,
              recent_sessions: int = RECENT_SESSIONS) -> CaseReport:
    """``report`` with the case's risk signals added and, when one is among the last
    ``recent_sessions`` sessions, an alert that leads with it (see the module docstring)."""
    found = risk_signals(case, catalog)
    if not found:
        return report
    numbers = sorted(s.number for s in case.sessions)
    recent_from = numbers[-min(recent_sessions, len(numbers))]
    recent = [s for s in found if s.session >= recent_from]
    if not recent:
        return replace(report, signals=[*report.signals, *found])
    latest = max(recent, key=lambda s: s.session)
    items = ", ".join(f"item {k}: {v:g}" for k, v in latest.evidence["items"].items())
    headline = (f"ACT: Safety: {latest.member or latest.evidence['rater']} answered a safety "
                f"question on {latest.evidence['instrument']} ({items}) in session "
                f"{latest.session}: contact the client today")
    earlier = report.alert
    alert = Alert(id=_risk_alert_id(case.id, latest.session), case_id=case.id, severity="act",
                  headline=headline,
                  evidence=(*recent, *(earlier.evidence if earlier else ())),
                  steps=(*STEPS, *(earlier.steps if earlier else ())),
                  rupture_type=earlier.rupture_type if earlier else "unspecified",
                  component=earlier.component if earlier else None)
    return replace(report, signals=[*report.signals, *found], alert=alert)


def _risk_alert_id(case_id: str, session: int) -> str:
    key = f"{case_id}|risk answer in session {session}"
    return "al-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


__all__ = ["STEPS", "fold_risk", "risk_answers", "risk_signals"]
