"""Log-in throttling per (account, IP) and per IP, atomic under parallel attempts, and the
argon2 hash outside the SQLite writer lock (issue 11, item 1 and the disabled-account leak)."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from tests.web.conftest import PASSWORD

from alliance.errors import AuthError, Throttled
from alliance.store import accounts, throttle
from alliance.store.actors import Actor
from alliance.store.database import Database
from alliance.store.models import AuditEvent, User, utcnow

DANA = "dana@example.org"


def _attempt(db: Database, password: str, ip: str, now: dt.datetime,
             email: str = DANA) -> str:
    try:
        accounts.log_in(db, email, password, ip=ip, now=now)
    except Throttled:
        return "throttled"
    except AuthError:
        return "wrong"
    return "ok"


def test_five_failures_block_that_address_not_the_account(db: Database,
                                                          people: dict[str, Actor]) -> None:
    now = utcnow()
    results = [_attempt(db, "wrong password", "203.0.113.9", now) for _ in range(7)]
    assert results == ["wrong"] * 5 + ["throttled"] * 2
    # the real user, from the clinic's own address, is not locked out
    assert _attempt(db, PASSWORD, "198.51.100.20", now) == "ok"
    # the attacker's address waits, and waits longer after each further failure
    assert _attempt(db, PASSWORD, "203.0.113.9", now + dt.timedelta(seconds=10)) == "throttled"
    later = now + throttle.BASE_DELAY + dt.timedelta(seconds=1)
    assert _attempt(db, "wrong again", "203.0.113.9", later) == "wrong"
    assert _attempt(db, PASSWORD, "203.0.113.9",
                    later + throttle.BASE_DELAY + dt.timedelta(seconds=1)) == "throttled"
    with db.read() as s:
        actions = s.scalars(select(AuditEvent.action)).all()
    assert actions.count("login.failed") == 6 and actions.count("login.throttled") == 2


def test_one_address_cannot_spray_many_accounts(db: Database,
                                                people: dict[str, Actor]) -> None:
    now = utcnow()
    results = [_attempt(db, "wrong password", "203.0.113.7", now, email=f"u{i}@example.org")
               for i in range(throttle.IP_FREE + 3)]
    assert results.count("wrong") == throttle.IP_FREE
    assert results[-3:] == ["throttled"] * 3
    assert _attempt(db, PASSWORD, "198.51.100.20", now) == "ok"


def test_success_clears_the_count_of_that_address(db: Database,
                                                  people: dict[str, Actor]) -> None:
    now = utcnow()
    for _ in range(throttle.ACCOUNT_FREE - 1):
        assert _attempt(db, "typo typo typo", "198.51.100.20", now) == "wrong"
    assert _attempt(db, PASSWORD, "198.51.100.20", now) == "ok"
    for _ in range(throttle.ACCOUNT_FREE - 1):
        assert _attempt(db, "typo typo typo", "198.51.100.20", now) == "wrong"
    assert _attempt(db, PASSWORD, "198.51.100.20", now) == "ok"


@pytest.mark.slow
def test_parallel_wrong_attempts_let_exactly_five_guesses_through(
        db: Database, people: dict[str, Actor]) -> None:
    """120 wrong attempts at once from one address: the count is taken before the hash is
    checked, in a locked row, so only the first five are checked at all."""
    now = utcnow()
    start = threading.Barrier(24)

    def one(_: int) -> str:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=10)
        return _attempt(db, "wrong password", "203.0.113.9", now)

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(one, range(120)))
    assert results.count("wrong") == throttle.ACCOUNT_FREE
    assert results.count("throttled") == 120 - throttle.ACCOUNT_FREE
    with db.read() as s:
        failed = s.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "login.failed"))
    assert failed == throttle.ACCOUNT_FREE


def test_the_hash_is_checked_outside_the_writer_lock(sqlite_db: Database,
                                                     password_hash: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.web.conftest import add_people

    add_people(sqlite_db, password_hash)
    held: list[bool] = []
    real = accounts.verify_password

    def spy(stored: str, password: str) -> bool:
        held.append(sqlite_db._lock.locked())
        return real(stored, password)

    monkeypatch.setattr(accounts, "verify_password", spy)
    assert _attempt(sqlite_db, PASSWORD, "198.51.100.20", utcnow()) == "ok"
    assert _attempt(sqlite_db, "wrong password", "198.51.100.20", utcnow()) == "wrong"
    assert held == [False, False]


def test_a_disabled_account_costs_the_same_hash_as_an_active_one(
        db: Database, people: dict[str, Actor], monkeypatch: pytest.MonkeyPatch) -> None:
    with db.write() as s:
        user = s.get(User, people["dana"].id)
        assert user is not None
        user.active = False
    checked: list[str] = []
    real = accounts.verify_password

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(accounts, "verify_password", spy)
    assert _attempt(db, PASSWORD, "198.51.100.20", utcnow()) == "wrong"
    assert len(checked) == 1 and checked[0].startswith("$argon2id$")


def test_the_login_page_answers_429_from_a_blocked_address(web_any) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import csrf_of

    client = web_any.anonymous()
    statuses = []
    for _ in range(throttle.ACCOUNT_FREE + 1):
        token = csrf_of(client.get("/login").text)
        statuses.append(client.post("/login", data={"email": DANA, "password": "nope nope",
                                                    "csrf": token}).status_code)
    assert statuses == [401] * throttle.ACCOUNT_FREE + [429]
