"""Random tokens (survey links, sessions, CSRF) and how they are stored: only as a hash.

A token has 256 bits from :mod:`secrets`; the database keeps ``sha256(token)`` hex, so a
leaked database cannot be replayed as links or sessions. SHA-256 without salt is enough
here because the input is 256 random bits, not a guessable password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits, as the issue requires for survey links


def new_token() -> str:
    """A URL-safe random token of 256 bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two tokens."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
