"""The caseload as a triage list: per case the last rating, the latest alliance total with
its trend, the measures due or overdue and the open alert's severity; filtered and searched.

Due and overdue (the rule the case page's "due at session N" already uses): a measure given
every ``k`` sessions is due at each held session whose number ``n`` has ``(n - 1) % k == 0``.
It is **due** when the latest held session is such a session and has no answer yet; it is
**overdue** when an earlier due session went unanswered and nothing was answered since (a later
answer catches it up). Sessions that did not take place, and voided ones, are not counted.

Reads rows only (no writer lock) and runs no monitoring: the alert is the worker's stored one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from alliance.store import cases, signals
from alliance.store.actors import Actor
from alliance.store.models import Case, Measure, Response, Session, User
from alliance.store.monitoring import MonitorView, case_monitors
from alliance.store.surveys import current_responses, voided_sessions
from alliance.vocabulary import HELD, SEVERITIES


@dataclass(frozen=True)
class Due:
    """One measure's state at the case's latest held session."""

    instrument_id: str
    rater: str
    state: str                 # "due" or "overdue"
    since_session: int         # the (first unanswered) due session


@dataclass(frozen=True)
class Row:
    """One case of the caseload."""

    case: Case
    monitor: MonitorView
    clinician: str
    last_rating: dt.date | None = None
    alliance_instrument: str | None = None
    alliance_total: float | None = None
    alliance_change: float | None = None       # latest minus the previous rated session
    due: Sequence[Due] = field(default_factory=tuple)

    @property
    def trend(self) -> str:
        if self.alliance_change is None:
            return ""
        return "up" if self.alliance_change > 0 else "down" if self.alliance_change < 0 \
            else "flat"

    @property
    def overdue(self) -> bool:
        return any(d.state == "overdue" for d in self.due)

    @property
    def severity(self) -> str:
        return str(self.monitor.alert.get("severity")) if self.monitor.alert else "none"


@dataclass(frozen=True)
class Filters:
    """What the caseload is narrowed to (all optional)."""

    clinician: int | None = None
    severity: str = ""         # act | watch | info | none
    overdue: bool = False
    q: str = ""

    def keeps(self, row: Row) -> bool:
        if self.clinician is not None and row.case.clinician_id != self.clinician:
            return False
        if self.severity and row.severity != self.severity:
            return False
        if self.overdue and not row.overdue:
            return False
        needle = self.q.strip().lower()
        headline = str((row.monitor.alert or {}).get("headline") or "")
        return not needle or any(needle in text.lower() for text in
                                 (row.case.label, row.clinician, headline))


SEVERITY_FILTERS = (*reversed(SEVERITIES), "none")


def headline(text: str, severity: str | None) -> str:
    """The alert's headline without its severity prefix, which the badge beside it shows.

    >>> headline("ACT: Alliance drop for Ann in session 4", "act")
    'Alliance drop for Ann in session 4'
    >>> headline("Alliance drop", "watch")
    'Alliance drop'
    """
    prefix = f"{(severity or '').upper()}: "
    return text[len(prefix):] if severity and text.startswith(prefix) else text


def due_measures(measures: Sequence[Measure], held: Sequence[int],
                 answered: set[tuple[str, str, int]]) -> list[Due]:
    """The due and overdue measures (see the module docstring); ``held`` are the held
    session numbers in order, ``answered`` holds ``(instrument, rater, session number)``.

    >>> m = Measure(instrument_id="phq-9", rater="client", every=2)
    >>> [(d.state, d.since_session) for d in due_measures([m], [1, 2, 3], {("phq-9", "client", 1)})]
    [('due', 3)]
    >>> [(d.state, d.since_session) for d in due_measures([m], [1, 2, 3, 4, 5], set())]
    [('overdue', 1)]
    """
    if not held:
        return []
    latest = held[-1]
    out = []
    for m in measures:
        every = max(int(m.every or 1), 1)
        due_at = [n for n in held if (n - 1) % every == 0]
        answers = sorted(n for (i, r, n) in answered if i == m.instrument_id and r == m.rater)
        last = answers[-1] if answers else None
        missed = [n for n in due_at if n < latest and (last is None or n > last)]
        if missed:
            out.append(Due(m.instrument_id, m.rater, "overdue", missed[0]))
        elif due_at and due_at[-1] == latest and (last is None or last < latest):
            out.append(Due(m.instrument_id, m.rater, "due", latest))
    return out


@dataclass(frozen=True)
class Caseload:
    """The rows kept by the filters, and every clinician the actor's caseload names."""

    rows: Sequence[Row]
    clinicians: Sequence[tuple[int, str]]
    total: int
    # cases with a safety answer nobody has acknowledged yet: shown first, whatever the filter
    risks: frozenset[int] = frozenset()


def caseload(db: DbSession, actor: Actor, catalog: Any, *, archived: bool = False,
             filters: Filters | None = None) -> Caseload:
    """The actor's cases as triage rows, open alerts first (by severity), then overdue
    measures, then by label; narrowed by ``filters``."""
    filters = filters or Filters()
    rows = cases.list_cases(db, actor, archived=archived)
    ids = [c.id for c in rows]
    monitors = case_monitors(db, rows)
    names = {u.id: u.name or u.email for u in db.scalars(
        select(User).where(User.id.in_({c.clinician_id for c in rows})))} if rows else {}
    voided = voided_sessions(db, ids)
    sessions: dict[int, list[Session]] = defaultdict(list)
    if ids:
        for s in db.scalars(select(Session).where(Session.case_id.in_(ids))
                            .order_by(Session.number)):
            if s.id not in voided:
                sessions[s.case_id].append(s)
    measures: dict[int, list[Measure]] = defaultdict(list)
    if ids:
        for m in db.scalars(select(Measure).where(Measure.case_id.in_(ids))
                            .order_by(Measure.id)):
            measures[m.case_id].append(m)
    responses = current_responses(db, ids) if ids else {}
    out = []
    for c in rows:
        number = {s.id: s.number for s in sessions[c.id]}
        current = [r for r in responses.get(c.id, []) if r.session_id in number]
        out.append(_row(c, monitors[c.id], names.get(c.clinician_id, ""),
                        [s.number for s in sessions[c.id] if s.attendance in HELD],
                        measures[c.id], current, number, catalog))
    risks = frozenset(signals.open_risks(db, ids))
    kept = sorted((r for r in out if r.case.id in risks or filters.keeps(r)),
                  key=lambda r: (r.case.id not in risks, -r.monitor.rank, not r.overdue,
                                 r.case.label.lower()))
    return Caseload(kept, clinicians(out), len(out), risks)


def _row(case: Case, monitor: MonitorView, clinician: str, held: list[int],
         measures: list[Measure], current: list[Response], number: dict[int, int],
         catalog: Any) -> Row:
    answered = {(r.instrument_id, r.rater, number[r.session_id]) for r in current}
    last = max((r.created_at for r in current), default=None)
    alliance: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in current:
        inst = catalog.get(r.instrument_id)
        if inst is not None and inst.kind == "alliance" and r.rater != "therapist" \
                and r.total is not None:
            alliance[r.instrument_id][number[r.session_id]].append(float(r.total))
    total = change = None
    chosen = None
    if alliance:                      # the instrument rated most often
        chosen = max(alliance, key=lambda i: (len(alliance[i]), i))
        by_session = sorted((n, sum(v) / len(v)) for n, v in alliance[chosen].items())
        total = round(by_session[-1][1], 2)
        if len(by_session) > 1:
            change = round(by_session[-1][1] - by_session[-2][1], 2)
    return Row(case, monitor, clinician, last.date() if last else None, chosen, total, change,
               tuple(due_measures(measures, held, answered)))


def clinicians(rows: Sequence[Row]) -> list[tuple[int, str]]:
    """(id, name) of the clinicians whose cases are listed, for the filter."""
    return sorted({(r.case.clinician_id, r.clinician) for r in rows}, key=lambda x: x[1])


def printable(db: DbSession, actor: Actor, case_id: int, catalog: Any) -> tuple[str, Any]:
    """The case's label and its typed monitoring case, for the printed report (scoped to
    the actor as the case page is: a foreign id is ``NotFound``)."""
    from alliance.store.actors import get_case
    from alliance.store.monitoring import load_cases

    case = get_case(db, actor, case_id)
    return case.label, load_cases(db, [case.id], catalog)[case.id]
