"""Accounts, log-in with throttling, and server-side sessions.

Throttling (:mod:`alliance.store.throttle`): failures are counted per (account, IP) and
per IP, in rows, with an exponential delay; nobody can lock an account out from elsewhere.
The rows are in the database, so throttling survives restarts and works across processes.

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
from alliance.store import audit, throttle
from alliance.store.actors import Actor
from alliance.store.database import Database
from alliance.store.models import ROLES, Supervision, User, UserSession, utcnow
from alliance.store.passwords import dummy_verify, hash_password, verify_password
from alliance.store.tokens import new_token, token_hash

MAX_FAILURES = throttle.ACCOUNT_FREE
FAILURE_WINDOW = throttle.WINDOW
SUPERVISED = ("clinician", "trainee")  # roles a supervisor can be assigned
IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; every stored instant is UTC."""
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 254 or " " in email or "\x00" in email:
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
    if sup is None:
        raise NotFound(f"no user {supervisor_id}")
    if sup.role != "supervisor":
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


def _throttle_keys(email: str, ip: str) -> list[tuple[str, int]]:
    return [(throttle.account_key(email, ip), throttle.ACCOUNT_FREE),
            (throttle.ip_key(ip), throttle.IP_FREE)]


def _refusal(wait: dt.timedelta) -> Throttled:
    minutes = max(1, -(-int(wait.total_seconds()) // 60))
    return Throttled(f"too many failed log-ins from here; try again in {minutes} "
                     f"minute{'s' if minutes != 1 else ''}")


@dataclass(frozen=True)
class _Claim:
    """Phase one of a log-in: the attempt counted, and the account's hash read."""

    email: str
    user_id: int | None
    password_hash: str
    active: bool
    blocks: dt.timedelta


def _claim(session: Session, email: str, ip: str, now: dt.datetime) -> _Claim:
    verdict = throttle.reserve(session, _throttle_keys(email, ip), now)
    if verdict.refused:
        raise _refusal(verdict.wait)
    row = session.execute(select(User.id, User.password_hash, User.active)
                          .where(User.email == email)).first()
    if row is None:
        return _Claim(email, None, "", False, verdict.blocks)
    return _Claim(email, row.id, row.password_hash, bool(row.active), verdict.blocks)


def _check(claim: _Claim, password: str) -> bool:
    """The argon2 verification, the same work for unknown, disabled and active accounts."""
    if claim.user_id is None:
        dummy_verify(password)
        return False
    return verify_password(claim.password_hash, password) and claim.active


def _settle(session: Session, claim: _Claim, ok: bool, ip: str, now: dt.datetime) -> User:
    """Phase two: the failure audited (and the block it starts), or the attempt forgiven."""
    user = session.get(User, claim.user_id) if ok and claim.user_id is not None else None
    if user is None or not user.active:
        audit.record(session, None, "login.failed", subject=claim.email, ip=ip, at=now)
        if claim.blocks:
            audit.record(session, None, "login.throttled", subject=claim.email, ip=ip, at=now,
                         detail={"seconds": int(claim.blocks.total_seconds())})
        raise AuthError("wrong e-mail or password")
    throttle.forgive(session, throttle.account_key(claim.email, ip), throttle.ip_key(ip))
    return user


def authenticate(session: Session, email: str, password: str, *, ip: str = "",
                 now: dt.datetime | None = None) -> User:
    """The active user with this e-mail and password, or :class:`AuthError` (in the caller's
    transaction, which must commit even on failure). The web app uses :func:`log_in`,
    which keeps the slow hash outside any transaction and lock.

    Every failure is audited; the message never says whether the e-mail exists.
    """
    now = now or utcnow()
    try:
        email = normalise_email(email)
    except AuthError:
        raise AuthError("wrong e-mail or password") from None
    claim = _claim(session, email, ip, now)
    return _settle(session, claim, _check(claim, password), ip, now)


def log_in(db: Database, email: str, password: str, *, ip: str = "",
           now: dt.datetime | None = None) -> tuple[User, NewSession]:
    """Check a password and start a session, in two short transactions with the argon2
    verification between them, outside the SQLite writer lock: a flood of log-ins no longer
    stalls every other write. The attempt is counted in the first transaction, so parallel
    attempts cannot outrun the throttle (:mod:`alliance.store.throttle`).

    Raises :class:`Throttled` or :class:`AuthError` (after its audit row is committed).
    """
    now = now or utcnow()
    try:
        email = normalise_email(email)
    except AuthError:
        dummy_verify(password)
        raise AuthError("wrong e-mail or password") from None
    with db.write() as s:
        claim = _claim(s, email, ip, now)
    ok = _check(claim, password)
    failure: AuthError | None = None
    with db.write() as s:
        try:
            user = _settle(s, claim, ok, ip, now)
        except AuthError as exc:
            failure = exc
        else:
            return user, start_session(s, user, ip=ip, now=now)
    raise failure


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
