"""Dual control of the admin role (issue 11, item 7): what one admin cannot do alone.

An admin never reads case data (:mod:`alliance.store.actors`: one role per account, and
``case_scope`` is empty for ``admin``). What an admin *can* do is hand access to someone,
possibly to an account they made themselves; every such change is a *request* here that
takes effect only when a **different** active admin approves it:

* ``supervision``: a supervisor's list that adds a clinician (case access); narrowing a
  list, or adding trainees only (practice sessions, no client data), applies at once;
* ``activate``: an ``admin`` or ``researcher`` account made or re-activated on the web
  (another admin could approve anything; a researcher exports clinic-wide data);
* ``deactivate``: an admin account; refused when it would leave no active admin;
* ``password.reset`` and ``mfa.reset``: another account's credentials (taking over an
  account is gaining its access). The approver receives the one-time reset link.

Requests carry ids only; each step (request, approve, refuse, cancel) is audited. A request
older than :data:`LIFETIME` can no longer be approved. The operator's CLI (who holds the
database and the key anyway) is outside this rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from alliance.errors import NotFound, PermissionDenied, StoreError
from alliance.store import accounts, audit, mfa
from alliance.store.actors import Actor, require_role
from alliance.store.models import Approval, User, utcnow

LIFETIME = dt.timedelta(days=7)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


# Asking is a store primitive of the accounts (which must not import this module).
active_admins = accounts.active_admins
request = accounts.request_approval
KINDS = accounts.APPROVAL_KINDS


def pending(session: Session) -> Sequence[Approval]:
    return session.scalars(select(Approval).where(Approval.state == "pending")
                           .order_by(Approval.id)).all()


@dataclass(frozen=True)
class Decision:
    """What approving did; ``reset_token`` is the one-time link's token (shown once)."""

    approval: Approval
    reset_token: str = ""


def approve(session: Session, actor: Actor, approval_id: int, *,
            now: dt.datetime | None = None) -> Decision:
    """Carry out a pending change: only an admin other than the one who asked."""
    now = now or utcnow()
    row = _pending(session, actor, approval_id)
    if row.requested_by == actor.id:
        raise PermissionDenied("a second admin must approve this: you asked for it")
    if now - _aware(row.requested_at) > LIFETIME:
        raise StoreError(f"this request is older than {LIFETIME.days} days; ask again")
    target = session.get(User, row.target_id)
    assert target is not None  # the row cascades with its account
    token = ""
    if row.kind == "supervision":
        accounts.apply_supervision(session, target.id, list(row.payload["clinicians"]), actor)
    elif row.kind == "activate":
        target.active = True
        audit.record(session, actor, "user.update", subject=target.email,
                     detail={"active": True})
    elif row.kind == "deactivate":
        if target.active and target.role == "admin" and active_admins(session) <= 1:
            raise StoreError("the clinic must keep at least one active admin")
        accounts.deactivate(session, actor, target)
    elif row.kind == "password.reset":
        token = accounts.issue_reset(session, actor, target, now=now)
    elif row.kind == "mfa.reset":
        mfa.disable(session, actor, target)
    row.state, row.decided_by, row.decided_at = "approved", actor.id, now
    audit.record(session, actor, "approval.approve", subject=target.email,
                 detail={"approval": row.id, "kind": row.kind, "requested_by":
                         row.requested_by})
    return Decision(row, token)


def refuse(session: Session, actor: Actor, approval_id: int, *,
           now: dt.datetime | None = None) -> Approval:
    """Drop a pending change (any admin; the requester's own is a cancellation)."""
    row = _pending(session, actor, approval_id)
    row.state = "cancelled" if row.requested_by == actor.id else "refused"
    row.decided_by, row.decided_at = actor.id, now or utcnow()
    audit.record(session, actor, "approval.refuse", detail={"approval": row.id,
                                                            "kind": row.kind,
                                                            "state": row.state})
    return row


def _pending(session: Session, actor: Actor, approval_id: int) -> Approval:
    require_role(actor, "admin")
    row = session.get(Approval, approval_id)
    if row is None:
        raise NotFound(f"no request {approval_id}")
    if row.state != "pending":
        raise StoreError(f"this request was already {row.state}")
    return row


def operator_reset(session: Session, email: str, *, mfa_too: bool = False) -> tuple[str, str]:
    """The operator's reset (``alliance users reset``), outside dual control: a one-time
    reset token for the account, and two-step log-in switched off with ``mfa_too``.
    Returns the account's e-mail and the token."""
    user = session.scalars(select(User).where(
        User.email == accounts.normalise_email(email))).first()
    if user is None:
        raise NotFound(f"no account {email}")
    if mfa_too:
        mfa.disable(session, None, user)
    return user.email, accounts.issue_reset(session, None, user)
