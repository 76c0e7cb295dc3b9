"""Passwords (argon2id), log-in throttling, server-side sessions and their timeouts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.web.conftest import PASSWORD

from alliance.errors import AuthError, StoreError
from alliance.store import accounts
from alliance.store.actors import Actor
from alliance.store.database import Database
from alliance.store.models import AuditEvent, User, utcnow
from alliance.store.passwords import hash_password, verify_password


def test_passwords_are_argon2id_and_short_ones_refused() -> None:
    stored = hash_password("long enough pw")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "long enough pw") and not verify_password(stored, "nope")
    with pytest.raises(AuthError, match="at least 12"):
        hash_password("short")


def _login(db: Database, password: str, now: dt.datetime) -> User:
    with db.write() as s:
        try:
            return accounts.authenticate(s, "dana@example.org", password, now=now)
        except AuthError as exc:
            error = exc
    raise error


def test_five_failures_throttle_even_the_right_password(db: Database,
                                                        people: dict[str, Actor]) -> None:
    now = utcnow()
    for _ in range(accounts.MAX_FAILURES):
        with pytest.raises(AuthError, match="wrong e-mail or password"):
            _login(db, "wrong password", now)
    with pytest.raises(AuthError, match="too many"):
        _login(db, PASSWORD, now)
    assert _login(db, PASSWORD, now + accounts.FAILURE_WINDOW + dt.timedelta(seconds=1))
    with db.read() as s:
        actions = s.scalars(select(AuditEvent.action)).all()
    assert actions.count("login.failed") == 5 and "login.throttled" in actions


def test_unknown_email_gets_the_same_message(db: Database, people: dict[str, Actor]) -> None:
    with db.write() as s, pytest.raises(AuthError, match=r"^wrong e-mail or password$"):
        accounts.authenticate(s, "nobody@example.org", PASSWORD)


@pytest.mark.parametrize(("idle", "age", "alive"), [
    (dt.timedelta(minutes=29), dt.timedelta(minutes=29), True),
    (dt.timedelta(minutes=31), dt.timedelta(minutes=31), False),   # idle timeout
    (dt.timedelta(minutes=5), dt.timedelta(hours=12, minutes=1), False),  # absolute timeout
])
def test_session_timeouts(db: Database, people: dict[str, Actor], idle: dt.timedelta,
                          age: dt.timedelta, alive: bool) -> None:
    start = utcnow()
    with db.write() as s:
        user = s.get(User, people["dana"].id)
        assert user is not None
        new = accounts.start_session(s, user, now=start)
    now = start + age
    with db.write() as s:  # keep the session fresh until `idle` before `now`
        row = s.get(accounts.UserSession, accounts.token_hash(new.token))
        assert row is not None
        row.last_seen = now - idle
    with db.write() as s:
        assert (accounts.resume_session(s, new.token, now=now) is not None) is alive


def test_each_login_gets_a_new_session_token(db: Database, people: dict[str, Actor]) -> None:
    with db.write() as s:
        user = s.get(User, people["dana"].id)
        assert user is not None
        a, b = accounts.start_session(s, user), accounts.start_session(s, user)
    assert a.token != b.token and a.csrf != b.csrf


def test_duplicate_account_and_bad_role_are_refused(db: Database,
                                                    people: dict[str, Actor]) -> None:
    with db.write() as s, pytest.raises(StoreError, match="already exists"):
        accounts.create_user(s, "DANA@example.org", "D", "clinician", PASSWORD)
    with db.write() as s, pytest.raises(StoreError, match="role 'boss'"):
        accounts.create_user(s, "x@example.org", "X", "boss", PASSWORD)
