"""Multi-factor log-in (issue 11, item 9): TOTP (RFC 6238) and single-use recovery codes.

* The secret: 160 random bits (RFC 4226's recommended length), base32 for authenticator
  apps, stored as AES-GCM ciphertext under the clinic key (:class:`~alliance.store.crypto.Box`,
  associated data ``mfa:<user id>``), never in clear.
* Codes: 6 digits, 30-second steps, HMAC-SHA1 (what authenticator apps use; ``pyotp``),
  accepted one step either side for clock drift. The step of the last accepted code is
  stored, so a code (or an older one) is never accepted twice: replay refused.
* Enrolment: a pending secret is stored (``mfa_enabled`` false) and shown as a QR code;
  it becomes live only when the user types a code from it.
* Recovery codes: :data:`RECOVERY_COUNT` random codes of 50 bits each, shown once, stored
  as SHA-256 (random, not guessable: no slow hash needed), deleted when used.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from alliance.errors import AuthError, ConfigError
from alliance.store import accounts, audit, throttle
from alliance.store.actors import Actor
from alliance.store.crypto import Box
from alliance.store.database import Database
from alliance.store.models import RecoveryCode, User, utcnow
from alliance.store.tokens import same, token_hash

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1
RECOVERY_COUNT = 10
TRIES = 5  # wrong codes before a half-open log-in is dropped (the password asked again)
ISSUER = "alliance"
_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # 32 symbols, no 0/o, 1/l


def _box(box: Box | None) -> Box:
    if box is None:
        raise ConfigError("two-step log-in needs the clinic's encryption key "
                          "(ALLIANCE_ENCRYPTION_KEY or ALLIANCE_ENCRYPTION_KEY_FILE)")
    return box


def _aad(user_id: int) -> bytes:
    return f"mfa:{user_id}".encode()


def code_at(secret: str, step: int, digits: int = DIGITS, digest: str = "sha1") -> str:
    """The TOTP value of ``secret`` (base32) for time step ``step`` (RFC 6238 §4.2)."""
    import hashlib

    import pyotp

    return str(pyotp.TOTP(secret, digits=digits, digest=getattr(hashlib, digest),
                          interval=STEP_SECONDS).generate_otp(step))


def step_of(now: dt.datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    import pyotp

    return str(pyotp.TOTP(secret, interval=STEP_SECONDS, digits=DIGITS)
               .provisioning_uri(name=email, issuer_name=ISSUER))


def begin_enrolment(session: Session, box: Box | None, user: User) -> str:
    """A new pending secret for ``user`` (replacing any pending one); its base32 text."""
    import pyotp

    if user.mfa_enabled:
        raise AuthError("two-step log-in is already on for this account")
    secret = pyotp.random_base32(32)  # 32 base32 characters = 160 bits
    user.mfa_secret = _box(box).encrypt(secret.encode(), _aad(user.id))
    return secret


def pending_secret(box: Box | None, user: User) -> str:
    """The stored secret's text (pending or live)."""
    if user.mfa_secret is None:
        raise AuthError("start the set-up again: no secret is waiting")
    return _box(box).decrypt(user.mfa_secret, _aad(user.id)).decode()


def _match(secret: str, code: str, now: dt.datetime, last_step: int) -> int | None:
    """The step whose code is ``code`` (within the drift), if newer than ``last_step``."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = step_of(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if same(code_at(secret, step), code):
            return step if step > last_step else None
    return None


def confirm_enrolment(session: Session, box: Box | None, user: User, code: str, *,
                      now: dt.datetime | None = None) -> list[str]:
    """Turn two-step log-in on when ``code`` matches the pending secret; the recovery codes
    (shown once)."""
    now = now or utcnow()
    step = _match(pending_secret(box, user), code, now, user.mfa_last_step)
    if step is None:
        raise AuthError("that code does not match; check the device's clock and type the "
                        "current 6-digit code")
    user.mfa_enabled, user.mfa_last_step = True, step
    codes = new_recovery_codes(session, user, now=now)
    audit.record(session, accounts.actor_of(user), "mfa.enable", subject=user.email, at=now)
    return codes


def new_recovery_codes(session: Session, user: User, *,
                       now: dt.datetime | None = None) -> list[str]:
    """Replace the user's recovery codes with :data:`RECOVERY_COUNT` new ones."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_COUNT):
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(RecoveryCode(code_hash=_recovery_hash(user.id, raw), user_id=user.id,
                                 created_at=now or utcnow()))
    return codes


def recovery_left(session: Session, user_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(RecoveryCode)
                              .where(RecoveryCode.user_id == user_id)) or 0)


def _recovery_hash(user_id: int, raw: str) -> str:
    return token_hash(f"{user_id}:{raw}")


def verify(session: Session, box: Box | None, user: User, code: str, *,
           now: dt.datetime | None = None) -> str:
    """Check a log-in's second factor: a current TOTP code never used before, or an unused
    recovery code (which is then spent). Returns ``"totp"`` or ``"recovery"``; raises
    :class:`AuthError` otherwise (audited by the caller)."""
    now = now or utcnow()
    if not user.mfa_enabled:
        raise AuthError("two-step log-in is not on for this account")
    cleaned = "".join(code.lower().replace("-", "").split())
    if len(cleaned) == 10 and not cleaned.isdigit():
        row = session.get(RecoveryCode, _recovery_hash(user.id, cleaned))
        if row is None or row.user_id != user.id:
            raise AuthError("that recovery code is not valid or was already used")
        session.delete(row)
        session.flush()
        audit.record(session, accounts.actor_of(user), "mfa.recovery", subject=user.email, at=now,
                     detail={"left": recovery_left(session, user.id)})
        return "recovery"
    step = _match(pending_secret(box, user), cleaned, now, user.mfa_last_step)
    if step is None:
        raise AuthError("that code is not right, or was already used; wait for the next one")
    user.mfa_last_step = step
    return "totp"


def second_factor(db: Database, box: Box | None, token: str, code: str, *,
                  now: dt.datetime | None = None, idle: dt.timedelta = accounts.IDLE_TIMEOUT
                  ) -> tuple[User, accounts.NewSession]:
    """The code of a log-in at stage ``mfa``: a TOTP code or a recovery code. Wrong codes
    are throttled per account (:func:`throttle.mfa_key`) and after :data:`TRIES` the
    half-open log-in is dropped (the password is asked again). Success starts the next stage
    under a new token."""
    now = now or utcnow()
    failure: AuthError | None = None
    with db.write() as s:
        found = accounts.resume_session(s, token, now=now, idle=idle)
        if found is None or found[1].stage != "mfa":
            raise AuthError("the log-in expired; please log in again")
        user, row = found
        key = throttle.mfa_key(user.id)
        verdict = throttle.reserve(s, [(key, TRIES)], now)
        if verdict.refused:
            raise accounts.refusal(verdict.wait)
        try:
            how = verify(s, box, user, code, now=now)
        except AuthError as exc:
            failure = exc
            row.mfa_failures += 1
            audit.record(s, accounts.actor_of(user), "mfa.failed",
                         subject=user.email, at=now, detail={"tries": row.mfa_failures})
            if row.mfa_failures >= TRIES:
                s.delete(row)
                failure = AuthError("too many wrong codes; please log in again")
        else:
            throttle.clear(s, key)
            stage = "password" if user.must_change_password else "full"
            started = accounts.advance(s, token, stage, now=now)
            audit.record(s, accounts.actor_of(user), "login.mfa",
                         subject=user.email, at=now, detail={"by": how})
            return user, started
    assert failure is not None
    raise failure


def disable(session: Session, actor: Actor | None, user: User) -> None:
    """Switch two-step log-in off for ``user`` (an approved admin reset): secret and recovery
    codes deleted, every session ended."""
    user.mfa_secret, user.mfa_enabled, user.mfa_last_step = None, False, 0
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    sessions, tokens = accounts.end_all_access(session, user.id)
    audit.record(session, actor, "mfa.disable", subject=user.email,
                 detail={"sessions_ended": sessions, "tokens_revoked": tokens})

