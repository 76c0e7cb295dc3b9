"""Personal API tokens: issue, resolve, list, revoke (issue 12, item 5).

A token is ``alliance_`` followed by 256 random bits (:func:`alliance.store.tokens.new_token`);
the database keeps only its SHA-256 (:func:`alliance.store.tokens.token_hash`), as for
survey links and log-in sessions, so the plain token is shown once, when it is created.
A token acts as its user, with the user's scope of cases (:mod:`alliance.store.actors`),
limited to reading (``read``) or also writing (``write``). Expired or revoked tokens and
deactivated accounts do not authenticate. Creation and revocation are audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from alliance.errors import AuthError, InputError, NotFound, PermissionDenied
from alliance.store import audit
from alliance.store.accounts import normalise_email
from alliance.store.actors import Actor, load_actor
from alliance.store.models import ApiToken, User, utcnow
from alliance.store.tokens import new_token, token_hash

SCOPES = ("read", "write")
PREFIX = "alliance_"
MAX_DAYS = 366
DEFAULT_DAYS = 90


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def token_state(row: ApiToken, now: dt.datetime | None = None) -> str:
    """``revoked``, ``expired`` or ``active``."""
    if row.revoked_at is not None:
        return "revoked"
    if _aware(row.expires_at) <= (now or utcnow()):
        return "expired"
    return "active"


def user_by_email(db: DbSession, email: str) -> User:
    user = db.scalars(select(User).where(User.email == normalise_email(email))).first()
    if user is None:
        raise NotFound(f"no account for {email}")
    return user


def create_token(db: DbSession, user: User, *, scope: str = "read", days: int = DEFAULT_DAYS,
                 name: str = "", by: Actor | None = None,
                 now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row and the plain token (shown once, never stored)."""
    if scope not in SCOPES:
        raise InputError(f"scope {scope!r} is not one of {', '.join(SCOPES)}")
    if not 1 <= days <= MAX_DAYS:
        raise InputError(f"a token lives between 1 and {MAX_DAYS} days")
    if len(name) > 120:
        raise InputError("the token name is longer than 120 characters")
    if not getattr(user, "active", True):
        raise InputError(f"the account {user.email} is deactivated")
    now = now or utcnow()
    plain = PREFIX + new_token()
    row = ApiToken(user_id=user.id, token_hash=token_hash(plain), name=name.strip(),
                   scope=scope, created_at=now, expires_at=now + dt.timedelta(days=days))
    db.add(row)
    db.flush()
    audit.record(db, by or load_actor(db, user), "token.create", subject=user.email,
                 detail={"token": row.id, "scope": scope, "days": days})
    return row, plain


def resolve(db: DbSession, plain: str, *, now: dt.datetime | None = None
            ) -> tuple[Actor, ApiToken]:
    """The actor behind a presented token, or :class:`AuthError` (the API answers 401)."""
    now = now or utcnow()
    row = db.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(plain))).first()
    if row is None or token_state(row, now) != "active":
        raise AuthError("the API token is unknown, expired or revoked")
    user = db.get(User, row.user_id)
    if user is None or not getattr(user, "active", True):
        raise AuthError("the API token's account is deactivated")
    return load_actor(db, user), row


def require_scope(granted: str, needed: str) -> None:
    """Refuse a change made with a read-only token (the API answers 403)."""
    if needed == "write" and granted != "write":
        raise PermissionDenied("this API token may only read; create a token with "
                               "--scope write to change data")


def list_tokens(db: DbSession, actor: Actor) -> Sequence[ApiToken]:
    """The actor's own tokens, newest first (never anybody else's)."""
    return db.scalars(select(ApiToken).where(ApiToken.user_id == actor.id)
                      .order_by(ApiToken.id.desc())).all()


def revoke_token(db: DbSession, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (the CLI, run by the deployer, acts as the
    token's owner). Revoking twice is harmless; a foreign id is :class:`NotFound`."""
    row = db.get(ApiToken, token_id)
    if row is None or row.user_id != actor.id:
        raise NotFound(f"token {token_id} not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(db, actor, "token.revoke", detail={"token": token_id})
    return row


def touch(database: Any, token_id: int, now: dt.datetime) -> None:
    """Note when a token was last used (its own short write; at most once a minute)."""
    with database.write() as s:
        row = s.get(ApiToken, token_id)
        if row is not None:
            row.last_used_at = now
