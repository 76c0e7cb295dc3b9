"""Alert life cycle as appended rows, following :mod:`alliance.monitoring.alerts`.

The monitoring library decides *whether* a case has an alert, gives it a stable id, and
owns the transition rules (:func:`~alliance.monitoring.apply_transition`,
:func:`~alliance.monitoring.current_status`); this module stores the rows. An alert with
no stored row is open. The first human action stores the ``open`` row (actor ``monitor``)
before its own; when an alert was resolved and monitoring has since seen newer evidence,
a ``reopen`` row by ``monitor`` is stored first, so the alert is open again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from alliance.errors import AlertStateError
from alliance.store import audit
from alliance.store.actors import Actor, get_case
from alliance.store.models import AlertEvent, utcnow

ACTIONS = ("acknowledge", "resolve", "reopen")


def history(db: DbSession, case_id: int, alert_id: str | None = None) -> Sequence[AlertEvent]:
    query = select(AlertEvent).where(AlertEvent.case_id == case_id).order_by(AlertEvent.id)
    if alert_id is not None:
        query = query.where(AlertEvent.alert_id == alert_id)
    return db.scalars(query).all()


def _as_monitoring(rows: Sequence[AlertEvent]) -> list[Any]:
    from alliance.monitoring import AlertEvent as Row

    return [Row(r.alert_id, i + 1, r.action, r.status, r.at if r.at.tzinfo else  # type: ignore[arg-type]
                r.at.replace(tzinfo=utcnow().tzinfo), str(r.actor_id or "monitor"), r.note,
                r.evidence_session) for i, r in enumerate(rows)]


def status(rows: Sequence[AlertEvent], latest_session: int | None = None) -> str:
    """The status of one alert from its rows (``open`` without rows); ``open`` again when
    it was resolved and monitoring has seen a newer session since."""
    from alliance.monitoring import current_status

    state = current_status(_as_monitoring(rows)) or "open"
    if state == "resolved" and latest_session is not None:
        seen = max((r.evidence_session for r in rows if r.evidence_session is not None),
                   default=None)
        if seen is not None and latest_session > seen:
            return "open"
    return state


def transition(db: DbSession, actor: Actor, case_id: int, alert_id: str, action: str, *,
               note: str = "", severity: str = "", headline: str = "",
               latest_session: int | None = None) -> AlertEvent:
    """Append one status change; refuses a change the life cycle does not allow."""
    from alliance.monitoring import apply_transition

    get_case(db, actor, case_id, write=True)
    if action not in ACTIONS:
        raise AlertStateError(f"unknown alert action {action!r}; use {', '.join(ACTIONS)}")
    if action == "resolve" and not note.strip():
        raise AlertStateError("say in a note how the alert was resolved")
    rows = list(history(db, case_id, alert_id))
    now = utcnow()

    def append(act: str, who: int | None, text: str) -> AlertEvent:
        if not rows and act == "open":
            state = "open"
        else:
            state = apply_transition(_as_monitoring(rows), act, now,
                                     str(who or "monitor"), text,
                                     evidence_session=latest_session).status
        row = AlertEvent(case_id=case_id, alert_id=alert_id, action=act, status=state,
                         note=text, severity=severity, headline=headline, actor_id=who, at=now,
                         evidence_session=latest_session)
        db.add(row)
        rows.append(row)
        return row

    if not rows:
        append("open", None, "")
    elif action != "reopen" and status(rows, latest_session) == "open" \
            and rows[-1].status == "resolved":
        append("reopen", None, "new evidence since the alert was resolved")
    event = append(action, actor.id, note.strip())
    audit.record(db, actor, "alert.transition", case_id=case_id,
                 detail={"alert": alert_id, "action": action})
    return event
