"""Alert life cycle as appended rows: ``open → acknowledged → resolved`` (and ``reopen``).

The monitoring library decides *whether* a case has an alert and gives it a stable id; this
module keeps what people did about it. No row means the alert is open. A new alert id
(new evidence) starts a fresh, open history; a resolved alert can be reopened by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from alliance.errors import AlertStateError
from alliance.store import audit
from alliance.store.actors import Actor, get_case
from alliance.store.models import AlertEvent, utcnow

# action -> (states it may leave from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "acknowledge": (("open",), "acknowledged"),
    "resolve": (("open", "acknowledged"), "resolved"),
    "reopen": (("resolved",), "open"),
}


def history(db: DbSession, case_id: int, alert_id: str | None = None) -> Sequence[AlertEvent]:
    query = select(AlertEvent).where(AlertEvent.case_id == case_id).order_by(AlertEvent.id)
    if alert_id is not None:
        query = query.where(AlertEvent.alert_id == alert_id)
    return db.scalars(query).all()


def status(events: Sequence[AlertEvent]) -> str:
    """The state after replaying ``events`` (all of one alert) from ``open``."""
    state = "open"
    for event in events:
        state = TRANSITIONS[event.action][1]
    return state


def transition(db: DbSession, actor: Actor, case_id: int, alert_id: str, action: str, *,
               note: str = "", severity: str = "", headline: str = "") -> AlertEvent:
    """Append one status change; refuses a change the life cycle does not allow."""
    get_case(db, actor, case_id, write=True)
    if action not in TRANSITIONS:
        raise AlertStateError(f"unknown alert action {action!r}; use "
                              f"{', '.join(TRANSITIONS)}")
    current = status(history(db, case_id, alert_id))
    allowed_from, _ = TRANSITIONS[action]
    if current not in allowed_from:
        raise AlertStateError(f"cannot {action} an alert that is {current}")
    if action == "resolve" and not note.strip():
        raise AlertStateError("say in a note how the alert was resolved")
    event = AlertEvent(case_id=case_id, alert_id=alert_id, action=action, note=note.strip(),
                       severity=severity, headline=headline, actor_id=actor.id, at=utcnow())
    db.add(event)
    audit.record(db, actor, "alert.transition", case_id=case_id,
                 detail={"alert": alert_id, "action": action})
    return event
