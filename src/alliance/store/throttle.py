"""Log-in throttling that nobody can turn against someone else's account.

Two counters slow guessing down, each in a :class:`~alliance.store.models.LoginThrottle`
row keyed by a hash:

* per (account, IP): after :data:`ACCOUNT_FREE` failures within :data:`WINDOW`, that IP is
  refused for that account for :data:`BASE_DELAY`, doubling with every further failure up
  to :data:`MAX_DELAY`. The same account from another address is not affected, so a flood
  from one place never locks the real user out.
* per IP: after :data:`IP_FREE` failures within the window (any accounts), the address is
  refused with the same exponential delay: one address cannot spray many accounts.

An attempt is counted *before* the password is checked (:func:`reserve`, in its own short
transaction that locks the rows: ``SELECT … FOR UPDATE`` on PostgreSQL, the writer lock on
SQLite), and given back on success (:func:`forgive`). So parallel attempts cannot all pass
the check before any failure is written: exactly ``ACCOUNT_FREE`` guesses get through.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from alliance.store.models import LoginThrottle

ACCOUNT_FREE = 5
IP_FREE = 50
WINDOW = dt.timedelta(minutes=15)
BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def account_key(email: str, ip: str) -> str:
    return hashlib.sha256(f"acct:{email}|{ip}".encode()).hexdigest()


def ip_key(ip: str) -> str:
    return hashlib.sha256(f"ip:{ip}".encode()).hexdigest()


def mfa_key(user_id: int) -> str:
    """Wrong second-factor codes count per account, from anywhere: only someone who already
    has the password can add to it, so it cannot lock out the owner's first factor."""
    return hashlib.sha256(f"mfa:{user_id}".encode()).hexdigest()


def delay_after(failures: int, free: int) -> dt.timedelta | None:
    """How long a key is refused after its ``failures``-th failure; ``None`` while free.

    >>> delay_after(4, 5) is None, delay_after(5, 5).seconds, delay_after(7, 5).seconds
    (True, 30, 120)
    >>> delay_after(100, 5) == MAX_DELAY
    True
    """
    if failures < free:
        return None
    return min(MAX_DELAY, BASE_DELAY * 2 ** min(failures - free, 20))


def _locked_row(session: Session, key: str, now: dt.datetime) -> LoginThrottle:
    """The row of ``key``, created when missing, locked for this transaction."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(LoginThrottle).values(key=key, failures=0, window_start=now,
                                                 blocked_until=None)
                    .on_conflict_do_nothing(index_elements=["key"]))
    row = session.scalars(select(LoginThrottle).where(LoginThrottle.key == key)
                          .with_for_update().execution_options(populate_existing=True)).one()
    return row


@dataclass(frozen=True)
class Verdict:
    """What :func:`reserve` decided: ``wait`` > 0 refuses the attempt now; ``blocks`` is the
    delay this attempt will impose if it fails (zero while the counters are free)."""

    wait: dt.timedelta
    blocks: dt.timedelta

    @property
    def refused(self) -> bool:
        return self.wait > dt.timedelta(0)


def reserve(session: Session, keys: list[tuple[str, int]], now: dt.datetime) -> Verdict:
    """Count one attempt against every ``(key, free)`` (rows locked in key order, so two
    attempts never deadlock); when any key is refused now, count nothing."""
    rows = [(_locked_row(session, key, now), free) for key, free in sorted(keys)]
    waits = [_aware(r.blocked_until) - now for r, _ in rows
             if r.blocked_until is not None and _aware(r.blocked_until) > now]
    if waits:
        return Verdict(max(waits), dt.timedelta(0))
    blocks = dt.timedelta(0)
    for row, free in rows:
        if now - _aware(row.window_start) > WINDOW:
            row.failures, row.window_start = 0, now
        row.failures += 1
        delay = delay_after(row.failures, free)
        row.blocked_until = now + delay if delay is not None else None
        blocks = max(blocks, delay or dt.timedelta(0))
    return Verdict(dt.timedelta(0), blocks)


def forgive(session: Session, email_key: str, address_key: str) -> None:
    """A successful log-in: clear the (account, IP) row and give back the IP's attempt."""
    row = session.get(LoginThrottle, email_key, with_for_update=True)
    if row is not None:
        session.delete(row)
    ip_row = session.get(LoginThrottle, address_key, with_for_update=True)
    if ip_row is not None and ip_row.failures > 0:
        ip_row.failures -= 1
        if delay_after(ip_row.failures, IP_FREE) is None:
            ip_row.blocked_until = None


def clear(session: Session, key: str) -> None:
    """A success on a key counted alone (a second factor, a password change): forget it."""
    row = session.get(LoginThrottle, key, with_for_update=True)
    if row is not None:
        session.delete(row)
