"""Accounts, log-in with throttling, and server-side sessions.

Throttling: after :data:`MAX_FAILURES` failed log-ins for one e-mail within
:data:`FAILURE_WINDOW`, further attempts are refused (even with the right password) until
the window has passed; OWASP's authentication guidance suggests a lock-out of this order.
Failures are read from the audit log, so throttling survives restarts and works across
processes.

Sessions: the cookie carries a 256-bit random token; the database keeps its SHA-256, the
user, the CSRF token, the creation time (absolute timeout) and the last use (idle timeout).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from alliance.errors import AuthError, NotFound, StoreError, Throttled
from alliance.store import audit
from alliance.store.actors import Actor
from alliance.store.models import ROLES, Supervision, User, UserSession, utcnow
from alliance.store.passwords import dummy_verify, hash_password, verify_password
from alliance.store.tokens import new_token, token_hash

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
SUPERVISED = ("clinician", "trainee")  # roles a supervisor can be assigned
IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every stored instant is UTC."""
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or " " in email:
        raise AuthError(f"{email!r} is not an e-mail address")
    return email


def create_user(session: Session, email: str, name: str, role: str, password: str,
                actor: Actor | None = None) -> User:
    """Add an account; raises :class:`StoreError` for a taken e-mail or unknown role."""
    if role not in ROLES:
        raise StoreError(f"role {role!r} is not one of {', '.join(ROLES)}")
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise StoreError(f"an account for {email} already exists")
    user = User(email=email, name=name.strip() or email, role=role,
                password_hash=hash_password(password), active=True)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", subject=email, detail={"role": role})
    return user


def set_supervision(session: Session, supervisor_id: int, clinician_ids: list[int],
                    actor: Actor) -> None:
    """Replace the list of clinicians (and trainees) a supervisor reads."""
    sup = session.get(User, supervisor_id)
    if sup is None or sup.role != "supervisor":
        raise StoreError(f"user {supervisor_id} is not a supervisor")
    clinicians = set(session.scalars(select(User.id).where(User.id.in_(clinician_ids),
                                                           User.role.in_(SUPERVISED))))
    if clinicians != set(clinician_ids):
        raise StoreError("only clinicians and trainees can be supervised")
    session.execute(delete(Supervision).where(Supervision.supervisor_id == supervisor_id))
    session.add_all(Supervision(supervisor_id=supervisor_id, clinician_id=c)
                    for c in sorted(clinicians))
    audit.record(session, actor, "supervision.change", subject=sup.email,
                 detail={"clinicians": sorted(clinicians)})


def authenticate(session: Session, email: str, password: str, *, ip: str = "",
                 now: dt.datetime | None = None) -> User:
    """The active user with this e-mail and password, or :class:`AuthError`.

    Every outcome is audited; the message never says whether the e-mail exists.
    """
    now = now or utcnow()
    try:
        email = normalise_email(email)
    except AuthError:
        raise AuthError("wrong e-mail or password") from None
    if audit.failures_since(session, email, now - FAILURE_WINDOW) >= MAX_FAILURES:
        audit.record(session, None, "login.throttled", subject=email, ip=ip, at=now)
        raise Throttled("too many failed log-ins; try again in 15 minutes")
    user = session.scalars(select(User).where(User.email == email)).first()
    if user is None:
        dummy_verify(password)
    if user is None or not user.active or not verify_password(user.password_hash, password):
        audit.record(session, None, "login.failed", subject=email, ip=ip, at=now)
        raise AuthError("wrong e-mail or password")
    return user


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf: str


def start_session(session: Session, user: User, *, ip: str = "",
                  now: dt.datetime | None = None) -> NewSession:
    """A fresh session (a new token at every log-in: no session fixation)."""
    now = now or utcnow()
    token, csrf = new_token(), new_token()
    session.add(UserSession(token_hash=token_hash(token), user_id=user.id, csrf_token=csrf,
                            created_at=now, last_seen=now))
    audit.record(session, Actor(user.id, user.email, user.role), "login", subject=user.email,
                 ip=ip, at=now)
    return NewSession(token, csrf)


def resume_session(session: Session, token: str, *, now: dt.datetime | None = None,
                   idle: dt.timedelta = IDLE_TIMEOUT,
                   absolute: dt.timedelta = ABSOLUTE_TIMEOUT,
                   touch: bool = True) -> tuple[User, UserSession] | None:
    """The user behind ``token`` if the session is live; expired sessions are removed."""
    now = now or utcnow()
    row = session.get(UserSession, token_hash(token))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if (user is None or not user.active or now - _aware(row.last_seen) > idle
            or now - _aware(row.created_at) > absolute):
        session.delete(row)
        return None
    if touch and now - _aware(row.last_seen) > dt.timedelta(seconds=60):
        row.last_seen = now  # coarse, so that reading pages rarely writes
    return user, row


def end_session(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))


def roster(db: Session) -> tuple[Sequence[User], dict[int, set[int]]]:
    """Every account (by role, e-mail) and who supervises whom (supervisor → clinicians)."""
    rows = db.scalars(select(User).order_by(User.role, User.email)).all()
    supervised: dict[int, set[int]] = {}
    for sup, clin in db.execute(select(Supervision.supervisor_id, Supervision.clinician_id)):
        supervised.setdefault(sup, set()).add(clin)
    return rows, supervised


def set_active(db: Session, actor: Actor, user_id: int, active: bool) -> User:
    """Activate or deactivate an account (never one's own), audited."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if user.id == actor.id and not active:
        raise StoreError("you cannot deactivate your own account")
    user.active = active
    audit.record(db, actor, "user.update", subject=user.email, detail={"active": active})
    return user
