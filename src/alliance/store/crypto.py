"""Encryption at rest for transcript text and reports: AES-256-GCM (``cryptography``).

The key never lives in the database. It comes from ``ALLIANCE_ENCRYPTION_KEY`` (32 bytes,
URL-safe base64) or from a key file named by ``ALLIANCE_ENCRYPTION_KEY_FILE``, read once by
:class:`alliance.clinic.Settings`; the demo writes its key file beside its database. Each
message gets a random 96-bit nonce
(NIST SP 800-38D's recommended length), stored in front of the ciphertext; the associated
data binds a ciphertext to its row (e.g. ``b"transcript:17"``) so rows cannot be swapped.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from alliance.errors import ConfigError, StoreError

NONCE_BYTES = 12
VERSION = b"\x01"


def generate_key() -> str:
    """A new 256-bit key as URL-safe base64 text."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def write_key_file(path: Path) -> str:
    """Create ``path`` holding a new key, readable by the owner only; returns the key."""
    key = generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


def _decode(text: str, origin: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ConfigError(f"{origin}: the encryption key is not base64") from None
    if len(raw) != 32:
        raise ConfigError(f"{origin}: the encryption key must be 32 bytes (256 bits), "
                          f"got {len(raw)}; create one with `alliance db keygen`")
    return raw


@dataclass(frozen=True)
class Box:
    """Encrypts and decrypts with one AES-256-GCM key."""

    key: bytes

    @classmethod
    def from_text(cls, text: str, origin: str = "key") -> Box:
        return cls(_decode(text, origin))

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(NONCE_BYTES)
        return VERSION + nonce + AESGCM(self.key).encrypt(nonce, plaintext, aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not blob.startswith(VERSION) or len(blob) < 1 + NONCE_BYTES + 16:
            raise StoreError("stored ciphertext is malformed")
        nonce, body = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
        try:
            return AESGCM(self.key).decrypt(nonce, body, aad)
        except InvalidTag:
            raise StoreError("stored ciphertext does not decrypt with this key (wrong key or "
                             "tampered data)") from None
