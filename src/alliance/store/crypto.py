"""Encryption at rest for transcript text and reports: AES-256-GCM (``cryptography``).

The key never lives in the database. It comes from ``ALLIANCE_ENCRYPTION_KEY`` (32 bytes,
URL-safe base64) or from a key file named by ``ALLIANCE_ENCRYPTION_KEY_FILE``, read once by
:class:`alliance.clinic.Settings`; the demo writes its key file beside its database. Each
message gets a random 96-bit nonce
(NIST SP 800-38D's recommended length), stored in front of the ciphertext; the associated
data binds a ciphertext to its row (e.g. ``b"transcript:17"``) so rows cannot be swapped.

Key ids (issue 11, rotation): a ciphertext written now starts with version ``0x02`` and the
8-byte id of the key that sealed it (a clinic key's id is derived from the key, a client
data key's id is random, :mod:`alliance.store.sealing`), and the header is part of the
associated data. A :class:`Box` holds one key that seals and any number that only open, so
the app reads old and new ciphertext while ``alliance keys rotate`` re-seals. Version
``0x01`` (no key id, written before rotation existed) is opened by trying each key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from alliance.errors import ConfigError, StoreError

NONCE_BYTES = 12
LEGACY = b"\x01"
VERSION = b"\x02"
KID_BYTES = 8
TAG_BYTES = 16


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


def add_key(path: Path) -> str:
    """Put a new key on the first line of the key file ``path`` (created if missing), the
    older keys below it; written 0600 and replaced atomically. Returns the file's text."""
    old = path.read_text() if path.exists() else ""
    if old.strip():
        parse_keys(old, str(path))  # never rewrite a file that is not a key file
    text = generate_key() + "\n" + old
    tmp = path.with_name(path.name + ".new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return text


def _decode(text: str, origin: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ConfigError(f"{origin}: the encryption key is not base64") from None
    if len(raw) != 32:
        raise ConfigError(f"{origin}: the encryption key must be 32 bytes (256 bits), "
                          f"got {len(raw)}; create one with `alliance db keygen`")
    return raw


def key_id_of(key: bytes) -> bytes:
    """The public id of a clinic key (8 bytes of an HMAC under the key itself)."""
    return hmac.new(key, b"alliance key id", hashlib.sha256).digest()[:KID_BYTES]


def key_id_in(blob: bytes) -> bytes | None:
    """The id of the key that sealed ``blob``; ``None`` for a version-1 ciphertext."""
    if blob.startswith(VERSION) and len(blob) >= 1 + KID_BYTES:
        return blob[1:1 + KID_BYTES]
    return None


def parse_keys(text: str, origin: str) -> list[bytes]:
    """A key file's keys, one per line: the first seals, the others (older) only open."""
    keys = [_decode(line, origin) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    if not keys:
        raise ConfigError(f"{origin}: holds no encryption key")
    return keys


@dataclass(frozen=True)
class Box:
    """Seals with ``key`` (id ``kid``); opens with it and with the ``older`` keys."""

    key: bytes
    older: tuple[bytes, ...] = ()
    kid: bytes = b""

    def __post_init__(self) -> None:
        if not self.kid:
            object.__setattr__(self, "kid", key_id_of(self.key))

    @classmethod
    def from_text(cls, text: str, origin: str = "key") -> Box:
        """The key(s) in ``text``: one per line, or comma-separated; the first seals."""
        keys = parse_keys(text.replace(",", "\n"), origin)
        return cls(keys[0], tuple(keys[1:]))

    @property
    def ids(self) -> tuple[bytes, ...]:
        """The ids of every key this box opens with, the sealing key first."""
        return (self.kid, *(key_id_of(k) for k in self.older))

    def _key_for(self, kid: bytes) -> bytes | None:
        if hmac.compare_digest(kid, self.kid):
            return self.key
        return next((k for k in self.older if hmac.compare_digest(key_id_of(k), kid)), None)

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = secrets.token_bytes(NONCE_BYTES)
        header = VERSION + self.kid
        return header + nonce + AESGCM(self.key).encrypt(nonce, plaintext, header + aad)

    def decrypt(self, blob: bytes, aad: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kid = key_id_in(blob)
        if kid is not None and len(blob) >= 1 + KID_BYTES + NONCE_BYTES + TAG_BYTES:
            key = self._key_for(kid)
            if key is None:
                raise StoreError(f"stored ciphertext does not decrypt with the configured "
                                 f"key(s): it was sealed with key {kid.hex()} (wrong key, "
                                 "rotated away, or shredded)")
            start = 1 + KID_BYTES
            nonce, body = blob[start:start + NONCE_BYTES], blob[start + NONCE_BYTES:]
            candidates, data = [key], blob[:start] + aad
        elif blob.startswith(LEGACY) and len(blob) >= 1 + NONCE_BYTES + TAG_BYTES:
            nonce, body = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
            candidates, data = [self.key, *self.older], aad
        else:
            raise StoreError("stored ciphertext is malformed")
        for key in candidates:
            try:
                return AESGCM(key).decrypt(nonce, body, data)
            except InvalidTag:
                continue
        raise StoreError("stored ciphertext does not decrypt with this key (wrong key or "
                         "tampered data)")
