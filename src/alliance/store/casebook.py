"""Everything a case page shows, read in one call (no writer lock, no monitoring run).

:func:`case_view` gathers the case, its members, sessions, responses with their state
(current, superseded or voided), voids, links, transcripts with their failures, consent,
measures and the alert worker's stored state, for one actor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from alliance.store import cases, surveys, transcripts
from alliance.store.actors import Actor, get_case
from alliance.store.models import (
    Case,
    Consent,
    JobFailure,
    Measure,
    Member,
    Response,
    Session,
    SurveyLink,
    Void,
)
from alliance.store.monitoring import MonitorView, case_monitors


@dataclass(frozen=True)
class CaseView:
    case: Case
    monitor: MonitorView
    members: Sequence[Member]
    sessions: Sequence[Session]
    responses: Sequence[Response]
    response_state: dict[int, str]
    voids: Sequence[Void]
    voided_sessions: set[int]
    links: Sequence[SurveyLink]
    transcripts: Sequence[Any]
    failures: dict[int, list[JobFailure]]
    consents: dict[str, bool]
    consent_history: Sequence[Consent]
    measures: Sequence[Measure]
    can_edit: bool


def case_view(db: DbSession, actor: Actor, case_id: int) -> CaseView:
    case = get_case(db, actor, case_id)
    failures: dict[int, list[JobFailure]] = {}
    for f in db.scalars(select(JobFailure).where(JobFailure.case_id == case_id)
                        .order_by(JobFailure.id)):
        if f.transcript_id is not None:
            failures.setdefault(f.transcript_id, []).append(f)
    return CaseView(
        case=case, monitor=case_monitors(db, [case])[case.id],
        members=cases.members(db, case_id), sessions=cases.sessions(db, case_id),
        responses=surveys.responses(db, case_id),
        response_state=surveys.response_states(db, case_id),
        voids=surveys.voids(db, case_id),
        voided_sessions=surveys.voided_sessions(db, [case_id]),
        links=surveys.links(db, case_id), transcripts=transcripts.listing(db, case_id),
        failures=failures, consents=cases.consents(db, case_id),
        consent_history=cases.consent_history(db, case_id),
        measures=cases.measures(db, case_id),
        can_edit=actor.writes_cases and case.clinician_id == actor.id)


def caseload(db: DbSession, actor: Actor, *, archived: bool = False
             ) -> tuple[list[Case], dict[int, MonitorView]]:
    """The actor's cases: an unacknowledged risk answer first (the highest severity), then
    open alerts (by severity), then by label."""
    from alliance.store.signals import open_risks

    rows = cases.list_cases(db, actor, archived=archived)
    monitors = case_monitors(db, rows)
    risky = open_risks(db, [c.id for c in rows])
    return sorted(rows, key=lambda c: (c.id not in risky, -monitors[c.id].rank,
                                       c.label.lower())), monitors


def chart_case(db: DbSession, actor: Actor, case_id: int, catalog: Any) -> Any:
    """The typed case behind the trajectory chart (see :func:`monitoring.load_cases`)."""
    from alliance.store.monitoring import load_cases

    case = get_case(db, actor, case_id)
    return load_cases(db, [case.id], catalog)[case.id]
