"""The audit log: who did what to which case, when; appended, never changed.

Actions are short dotted names (``login``, ``login.failed``, ``case.read``,
``response.submit``, ``export.case`` …); the list in use is :data:`ACTIONS`, and the admin
page filters by them. ``detail`` carries identifiers and parameters only, never answers,
notes or transcript text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alliance.store import auditchain
from alliance.store.actors import Actor
from alliance.store.models import AuditEvent, utcnow

ACTIONS: tuple[str, ...] = (
    "login", "login.failed", "login.throttled", "logout",
    "user.create", "user.update", "supervision.change",
    "case.list", "case.read", "case.create", "case.update", "case.archive", "case.delete",
    "consent.record", "measure.change", "session.create", "session.void",
    "link.create", "link.revoke", "link.open", "response.submit", "response.paper",
    "response.void", "alert.transition", "transcript.upload", "transcript.read",
    "transcript.analyse", "transcript.roles", "transcript.retry", "transcript.delete",
    "export.case", "export.research", "audit.read",
    "token.create", "token.revoke", "import.cases",
    "practice.start", "practice.respond", "practice.answer", "practice.read", "practice.list",
    "case.report",
    "case.trajectory", "paper.open", "research.read", "user.list", "access.denied",
    "case.hold", "hold.list", "case.shred", "keys.rotate", "retention.apply",
    "db.backup", "db.restore",
    "approval.approve", "approval.refuse", "approval.request", "login.mfa", "mfa.disable",
    "mfa.enable", "mfa.failed", "mfa.recovery", "password.change", "password.reset",
    "session.revoke",
    "link.send", "contact.update", "contact.opt_out", "signal.risk", "signal.acknowledge",
    "signal.feedback", "safety_text.update",
)

# The client address of the web request being served (set by the web app for each request,
# so rows written deep in the store, a submission or an upload, carry it too).
request_ip: ContextVar[str] = ContextVar("alliance_audit_ip", default="")


def record(session: Session, actor: Actor | None, action: str, *, case_id: int | None = None,
           subject: str = "", detail: dict[str, Any] | None = None, ip: str = "",
           at: dt.datetime | None = None) -> None:
    """Append one event in the caller's transaction (so it commits, or not, with the work),
    chained to the one before it (:mod:`alliance.store.auditchain`)."""
    event = AuditEvent(at=at or utcnow(), actor_id=actor.id if actor else None,
                       actor_email=actor.email if actor else subject if action.startswith(
                           "login") else "",
                       action=action, case_id=case_id, subject=subject,
                       detail=detail or {}, ip=ip or request_ip.get())
    auditchain.append(session, event)


def failures_since(session: Session, email: str, since: dt.datetime) -> int:
    """Failed log-ins for ``email`` since ``since`` (drives log-in throttling)."""
    return int(session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "login.failed", AuditEvent.subject == email,
        AuditEvent.at >= since)) or 0)


def browse(session: Session, *, action: str | None = None, actor_email: str | None = None,
           case_id: int | None = None, limit: int = 200,
           before_id: int | None = None) -> Sequence[AuditEvent]:
    """Newest first, filtered; ``before_id`` pages backwards."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_email:
        query = query.where(AuditEvent.actor_email == actor_email)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return session.scalars(query).all()
