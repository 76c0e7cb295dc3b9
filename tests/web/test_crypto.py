"""Transcript encryption at rest: AES-256-GCM, key outside the database, rows bound by AAD."""

from __future__ import annotations

from pathlib import Path

import pytest

from alliance.errors import ConfigError, StoreError
from alliance.store.crypto import Box, generate_key, write_key_file


def test_round_trip_and_fresh_nonce_per_message() -> None:
    box = Box.from_text(generate_key())
    a, b = box.encrypt(b"hello", b"t:1"), box.encrypt(b"hello", b"t:1")
    assert a != b and b"hello" not in a
    assert box.decrypt(a, b"t:1") == b"hello"


def test_ciphertext_moved_to_another_row_does_not_decrypt() -> None:
    box = Box.from_text(generate_key())
    with pytest.raises(StoreError, match="does not decrypt"):
        box.decrypt(box.encrypt(b"x", b"t:1"), b"t:2")


def test_wrong_key_does_not_decrypt() -> None:
    blob = Box.from_text(generate_key()).encrypt(b"x", b"a")
    with pytest.raises(StoreError, match="wrong key"):
        Box.from_text(generate_key()).decrypt(blob, b"a")


def box_from_env(env):  # type: ignore[no-untyped-def]
    from alliance.clinic import box_from

    return box_from(env)[0]


def test_key_from_environment_or_file(tmp_path: Path) -> None:
    key = generate_key()
    assert box_from_env({"ALLIANCE_ENCRYPTION_KEY": key}) == Box.from_text(key)
    path = tmp_path / "k"
    written = write_key_file(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert box_from_env({"ALLIANCE_ENCRYPTION_KEY_FILE": str(path)}) == \
        Box.from_text(written)
    assert box_from_env({}) is None


@pytest.mark.parametrize(("env", "message"), [
    ({"ALLIANCE_ENCRYPTION_KEY": "c2hvcnQ="}, "must be 32 bytes"),
    ({"ALLIANCE_ENCRYPTION_KEY": "***"}, "not base64|32 bytes"),
    ({"ALLIANCE_ENCRYPTION_KEY_FILE": "/nonexistent/key"}, "cannot read"),
])
def test_bad_keys_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        box_from_env(env)
