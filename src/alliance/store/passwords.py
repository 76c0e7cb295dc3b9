"""Password hashing with argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile)."""

from __future__ import annotations

from functools import cache

from alliance.errors import AuthError

MIN_LENGTH = 10


@cache
def _hasher():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher
    from argon2.low_level import Type

    return PasswordHasher(type=Type.ID)


def hash_password(password: str) -> str:
    """An argon2id hash; refuses passwords shorter than :data:`MIN_LENGTH` characters."""
    if len(password) < MIN_LENGTH:
        raise AuthError(f"a password needs at least {MIN_LENGTH} characters")
    return str(_hasher().hash(password))


def verify_password(stored: str, password: str) -> bool:
    """True when ``password`` matches ``stored``; never raises for a wrong password."""
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time of one verification, so unknown e-mails answer as slowly as known ones."""
    verify_password(_dummy_hash(), password)


@cache
def _dummy_hash() -> str:
    return str(_hasher().hash("not-a-real-password-0"))
