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
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from alliance.errors import AuthError, NotFound, StoreError, Throttled
from alliance.store import audit, throttle
from alliance.store.actors import Actor, require_role
from alliance.store.database import Database
from alliance.store.models import (
    ROLES,
    ApiToken,
    Approval,
    PasswordReset,
    Supervision,
    User,
    UserSession,
    utcnow,
)
from alliance.store.passwords import check_policy, dummy_verify, hash_password, verify_password
from alliance.store.tokens import new_token, token_hash

MAX_FAILURES = throttle.ACCOUNT_FREE
FAILURE_WINDOW = throttle.WINDOW
SUPERVISED = ("clinician", "trainee")  # roles a supervisor can be assigned
IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
DUAL_CONTROL_ROLES = ("admin", "researcher")  # made or re-activated on a second admin's word
RESET_LIFETIME = dt.timedelta(hours=24)


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
    """Add an account; raises :class:`StoreError` for a taken e-mail or unknown role and
    :class:`~alliance.store.passwords.PasswordRefused` for a password the policy refuses.

    An account made by an admin (``actor``) has a temporary password, to be changed at the
    first log-in; an ``admin`` or ``researcher`` one starts inactive, with a request that a
    second admin approves (:mod:`alliance.store.approvals`). The operator's CLI (no
    ``actor``) makes any account active at once, with the password given.
    """
    if role not in ROLES:
        raise StoreError(f"role {role!r} is not one of {', '.join(ROLES)}")
    email = normalise_email(email)
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise StoreError(f"an account for {email} already exists")
    check_policy(password, email)
    held = actor is not None and role in DUAL_CONTROL_ROLES
    user = User(email=email, name=name.strip() or email, role=role,
                password_hash=hash_password(password), active=not held,
                must_change_password=actor is not None)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", subject=email,
                 detail={"role": role, "active": not held})
    if held and actor is not None:
        request_approval(session, actor, "activate", user)
    return user


def set_supervision(session: Session, supervisor_id: int, clinician_ids: list[int],
                    actor: Actor) -> Approval | None:
    """An admin changes the list of clinicians (and trainees) a supervisor reads. A list
    that adds a clinician (case access) waits for a second admin and the pending
    :class:`Approval` is returned; narrowing it, or adding trainees only, applies at once."""
    sup, clinicians = _supervision_targets(session, supervisor_id, clinician_ids)
    current = set(session.scalars(select(Supervision.clinician_id)
                                  .where(Supervision.supervisor_id == supervisor_id)))
    added = clinicians - current
    widens = bool(added) and session.scalar(select(func.count()).select_from(User).where(
        User.id.in_(sorted(added)), User.role == "clinician")) != 0
    if not widens:
        apply_supervision(session, supervisor_id, sorted(clinicians), actor)
        return None
    return request_approval(session, actor, "supervision", sup,
                            {"clinicians": sorted(clinicians)})


def _supervision_targets(session: Session, supervisor_id: int, clinician_ids: list[int]
                         ) -> tuple[User, set[int]]:
    sup = session.get(User, supervisor_id)
    if sup is None:
        raise NotFound(f"no user {supervisor_id}")
    if sup.role != "supervisor":
        raise StoreError(f"user {supervisor_id} is not a supervisor")
    clinicians = set(session.scalars(select(User.id).where(User.id.in_(clinician_ids),
                                                           User.role.in_(SUPERVISED))))
    if clinicians != set(clinician_ids):
        raise StoreError("only clinicians and trainees can be supervised")
    return sup, clinicians


def apply_supervision(session: Session, supervisor_id: int, clinician_ids: list[int],
                      actor: Actor | None) -> None:
    """Replace the list of clinicians (and trainees) a supervisor reads, now: an approved
    request, a narrowing, or the operator (demo, CLI)."""
    sup, clinicians = _supervision_targets(session, supervisor_id, clinician_ids)
    session.execute(delete(Supervision).where(Supervision.supervisor_id == supervisor_id))
    session.add_all(Supervision(supervisor_id=supervisor_id, clinician_id=c)
                    for c in sorted(clinicians))
    audit.record(session, actor, "supervision.change", subject=sup.email,
                 detail={"clinicians": sorted(clinicians)})


def _throttle_keys(email: str, ip: str) -> list[tuple[str, int]]:
    return [(throttle.account_key(email, ip), throttle.ACCOUNT_FREE),
            (throttle.ip_key(ip), throttle.IP_FREE)]


def refusal(wait: dt.timedelta) -> Throttled:
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
        raise refusal(verdict.wait)
    row = session.execute(select(User.id, User.password_hash, User.active)
                          .where(User.email == email)).first()
    if row is None:
        return _Claim(email, None, "", False, verdict.blocks)
    return _Claim(email, row.id, row.password_hash, bool(row.active), verdict.blocks)


def _check(claim: _Claim, password: str) -> bool:
    """The argon2 verification, the same work for unknown, disabled, reset and active
    accounts."""
    if claim.user_id is None or not claim.password_hash.startswith("$argon2"):
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
           now: dt.datetime | None = None, user_agent: str = "",
           require_mfa: bool = False) -> tuple[User, NewSession]:
    """Check a password and start a session, in two short transactions with the argon2
    verification between them, outside the SQLite writer lock: a flood of log-ins no longer
    stalls every other write. The attempt is counted in the first transaction, so parallel
    attempts cannot outrun the throttle (:mod:`alliance.store.throttle`).

    The session starts at the stage :func:`first_stage` names: a user with two-step log-in
    must still give a code (``mfa``), and so on.

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
            return user, start_session(s, user, ip=ip, now=now, user_agent=user_agent,
                                       stage=first_stage(user, require_mfa))
    raise failure


MFA_WINDOW = dt.timedelta(minutes=5)  # to type the code after the password


def first_stage(user: User, require_mfa: bool) -> str:
    """Where a log-in that passed the password stands: a code is due (``mfa``), the clinic
    requires two-step log-in and the user has none (``enrol``), a temporary password must
    be changed (``password``), or done (``full``)."""
    if user.mfa_enabled:
        return "mfa"
    if require_mfa:
        return "enrol"
    return "password" if user.must_change_password else "full"


@dataclass(frozen=True)
class NewSession:
    token: str
    csrf: str
    stage: str = "full"


def start_session(session: Session, user: User, *, ip: str = "",
                  now: dt.datetime | None = None, user_agent: str = "",
                  stage: str = "full") -> NewSession:
    """A fresh session (a new token at every log-in and at every stage passed: no session
    fixation); the audit row names the stage."""
    now = now or utcnow()
    token, csrf = new_token(), new_token()
    session.add(UserSession(token_hash=token_hash(token), user_id=user.id, csrf_token=csrf,
                            created_at=now, last_seen=now, stage=stage, ip=ip[:64],
                            user_agent=user_agent[:200]))
    audit.record(session, actor_of(user), "login", subject=user.email,
                 ip=ip, at=now, detail={"stage": stage} if stage != "full" else None)
    return NewSession(token, csrf, stage)


def advance(session: Session, token: str, stage: str, *,
            now: dt.datetime | None = None) -> NewSession:
    """Replace the session behind ``token`` with a new one at ``stage`` (new token)."""
    row = session.get(UserSession, token_hash(token))
    user = session.get(User, row.user_id) if row is not None else None
    if row is None or user is None:
        raise AuthError("the log-in expired; please log in again")
    ip, agent = row.ip, row.user_agent
    session.delete(row)
    return start_session(session, user, ip=ip, now=now, user_agent=agent, stage=stage)


def resume_session(session: Session, token: str, *, now: dt.datetime | None = None,
                   idle: dt.timedelta = IDLE_TIMEOUT,
                   absolute: dt.timedelta = ABSOLUTE_TIMEOUT,
                   touch: bool = True) -> tuple[User, UserSession] | None:
    """The user behind ``token`` if the session is live (at any stage; the caller checks
    it); expired sessions are removed. A log-in awaiting its code lives
    :data:`MFA_WINDOW` at most."""
    now = now or utcnow()
    row = session.get(UserSession, token_hash(token))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if (user is None or not user.active or now - _aware(row.last_seen) > idle
            or now - _aware(row.created_at) > absolute
            or (row.stage == "mfa" and now - _aware(row.created_at) > MFA_WINDOW)):
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


APPROVAL_KINDS = ("supervision", "activate", "deactivate", "password.reset", "mfa.reset")


def active_admins(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User).where(
        User.role == "admin", User.active.is_(True))) or 0)


def request_approval(session: Session, actor: Actor, kind: str, target: User,
                     payload: dict[str, Any] | None = None, *,
                     now: dt.datetime | None = None) -> Approval:
    """A change that waits for a second admin (:mod:`alliance.store.approvals` approves it);
    one pending request per (kind, account) at a time."""
    require_role(actor, "admin")
    if kind not in APPROVAL_KINDS:
        raise StoreError(f"unknown kind of approval {kind!r}")
    pending = session.scalar(select(Approval.id).where(
        Approval.kind == kind, Approval.target_id == target.id, Approval.state == "pending"))
    if pending is not None:
        raise StoreError(f"a {kind} request for {target.email} is already waiting for a "
                         "second admin; approve, refuse or cancel it first")
    row = Approval(kind=kind, target_id=target.id, payload=payload or {}, state="pending",
                   requested_by=actor.id, requested_at=now or utcnow())
    session.add(row)
    session.flush()
    audit.record(session, actor, "approval.request", subject=target.email,
                 detail={"approval": row.id, "kind": kind, **(payload or {})})
    return row


def set_active(db: Session, actor: Actor, user_id: int, active: bool) -> Approval | None:
    """Activate or deactivate an account (never one's own), audited. Deactivating an admin,
    and activating an admin or researcher, wait for a second admin (the pending
    :class:`Approval` is returned); the last active admin is never deactivated."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if user.id == actor.id and not active:
        raise StoreError("you cannot deactivate your own account")
    if active == user.active:
        return None
    if not active and user.role == "admin":
        if active_admins(db) <= 1:
            raise StoreError("the clinic must keep at least one active admin")
        return request_approval(db, actor, "deactivate", user)
    if active and user.role in DUAL_CONTROL_ROLES:
        return request_approval(db, actor, "activate", user)
    if active:
        user.active = True
        audit.record(db, actor, "user.update", subject=user.email, detail={"active": True})
    else:
        deactivate(db, actor, user)
    return None


def deactivate(db: Session, actor: Actor | None, user: User) -> None:
    """Switch an account off and end its sessions, audited."""
    user.active = False
    sessions, tokens = end_all_access(db, user.id)
    audit.record(db, actor, "user.update", subject=user.email,
                 detail={"active": False, "sessions_ended": sessions, "tokens_revoked": tokens})


# -- passwords: change, reset ----------------------------------------------------------


def change_password(db: Database, user_id: int, current: str, new: str, *,
                    keep_token: str = "", now: dt.datetime | None = None) -> None:
    """The user's own change: the current password is checked (outside any transaction,
    like a log-in, and throttled like one: 5 wrong tries, then an exponential delay), the
    new one must pass the policy; every other session ends."""
    with db.read() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        stored, email = user.password_hash, user.email
    check_policy(new, email)
    now = now or utcnow()
    key = throttle.account_key(email, "password-change")  # guesses from a stolen session
    with db.write() as s:
        verdict = throttle.reserve(s, [(key, throttle.ACCOUNT_FREE)], now)
    if verdict.refused:
        raise refusal(verdict.wait)
    if not verify_password(stored, current):
        with db.write() as s:
            audit.record(s, _actor(s, user_id), "password.change",
                         detail={"ok": False}, at=now)
        raise AuthError("the current password is not right")
    if current == new:
        raise AuthError("the new password must differ from the current one")
    hashed = hash_password(new)
    with db.write() as s:
        user = s.get(User, user_id)
        assert user is not None
        user.password_hash, user.must_change_password = hashed, False
        throttle.clear(s, key)
        ended = end_all_sessions(s, user_id, keep=keep_token)
        if keep_token:
            row = s.get(UserSession, token_hash(keep_token))
            if row is not None and row.stage == "password":
                row.stage = "full"
        audit.record(s, _actor(s, user_id), "password.change",
                     detail={"ok": True, "sessions_ended": ended}, at=now)


def _actor(s: Session, user_id: int) -> Actor:
    user = s.get(User, user_id)
    assert user is not None
    return actor_of(user)


def actor_of(user: User) -> Actor:
    """The account as the actor of its own steps (log-in, password, two-step set-up)."""
    return Actor(user.id, user.email, user.role, user.name)


def request_reset(session: Session, actor: Actor, user_id: int) -> Approval:
    """An admin asks to reset another account's password (a second admin approves and
    receives the one-time link)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if user.id == actor.id:
        raise StoreError("change your own password on the account page")
    return request_approval(session, actor, "password.reset", user)


def issue_reset(session: Session, actor: Actor | None, user: User, *,
                now: dt.datetime | None = None) -> str:
    """A one-time reset token (its hash stored) for ``user``; the old password stops
    working and every session ends."""
    now = now or utcnow()
    token = new_token()
    session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    session.add(PasswordReset(token_hash=token_hash(token), user_id=user.id, created_at=now,
                              expires_at=now + RESET_LIFETIME))
    user.password_hash = "!reset"  # no argon2 hash: no password verifies until the reset
    sessions, tokens = end_all_access(session, user.id)
    audit.record(session, actor, "password.reset", subject=user.email,
                 detail={"issued": True, "sessions_ended": sessions, "tokens_revoked": tokens})
    return token


def reset_target(session: Session, token: str, now: dt.datetime | None = None) -> User:
    """The account behind a live reset token, or :class:`AuthError`."""
    now = now or utcnow()
    row = session.get(PasswordReset, token_hash(token))
    if row is None or row.used_at is not None or _aware(row.expires_at) < now:
        raise AuthError("this reset link is not valid (used, expired or mistyped); ask an "
                        "admin for a new one")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise AuthError("this reset link is not valid; ask an admin for a new one")
    return user


def complete_reset(session: Session, token: str, new: str, *,
                   now: dt.datetime | None = None) -> User:
    """Set the password through a reset link (once)."""
    now = now or utcnow()
    user = reset_target(session, token, now)
    check_policy(new, user.email)
    user.password_hash, user.must_change_password = hash_password(new), False
    row = session.get(PasswordReset, token_hash(token))
    assert row is not None
    row.used_at = now
    audit.record(session, actor_of(user), "password.reset",
                 subject=user.email, detail={"completed": True}, at=now)
    return user


# -- sessions ----------------------------------------------------------------------------


def user_sessions(session: Session, user_id: int) -> Sequence[UserSession]:
    """The user's live and pending sessions, newest use first."""
    return session.scalars(select(UserSession).where(UserSession.user_id == user_id)
                           .order_by(UserSession.last_seen.desc())).all()


def end_all_sessions(session: Session, user_id: int, *, keep: str = "") -> int:
    """End every session of ``user_id`` but the one with token ``keep``; how many ended."""
    query = delete(UserSession).where(UserSession.user_id == user_id)
    if keep:
        query = query.where(UserSession.token_hash != token_hash(keep))
    return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]


def end_all_access(session: Session, user_id: int) -> tuple[int, int]:
    """End every session of ``user_id`` and revoke its API tokens (a reset or a deactivation:
    whoever held the account must lose every way in); (sessions ended, tokens revoked)."""
    revoked = session.execute(update(ApiToken).where(
        ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    return end_all_sessions(session, user_id), int(revoked.rowcount or 0)  # type: ignore[attr-defined]


def revoke_session(session: Session, actor: Actor, session_hash: str) -> None:
    """End one of the actor's own sessions (by its stored hash, as the page lists them)."""
    row = session.get(UserSession, session_hash)
    if row is None or row.user_id != actor.id:
        raise NotFound("no such session")
    session.delete(row)
    audit.record(session, actor, "session.revoke", detail={"count": 1})
