"""Health data sealed at rest: sealed columns and per-client data keys (issue 11).

* **Sealed columns.** Free text and names (:data:`SEALED_COLUMNS`, listed in
  ``docs/security.md``) are declared :class:`SealedText` / :class:`SealedJSON`: written as
  ``enc:`` + base64 of AES-256-GCM ciphertext (:mod:`alliance.store.crypto`), read back as
  plain text, so every query, template and export sees text. The associated data binds a
  ciphertext to its table and column (``b"sealed:cases.label"``) and, through the key, to its
  client. A value without the prefix is legacy plain text (before migration
  ``0009_phi_encryption``, or a database run without a key) and is read as it is.
* **Per-client data keys** (envelope encryption). Each case holds a random 256-bit data key
  in ``cases.data_key``, wrapped by the clinic key, and its id in ``cases.key_id``. A flush
  (:func:`_seal_on_flush`) seals a case's columns, and those of every row that hangs off it,
  under the case's data key; the transcript, contact, link-token and message bytes are
  sealed with :meth:`Keys.seal_for_case`. Rows without a case (the clinic's safety texts) and
  bulk ``UPDATE`` statements are sealed with the clinic key.
* **Crypto-shredding.** Deleting a case deletes the row holding its wrapped data key (and,
  with ``secure_delete``, overwrites the freed pages); what a backup taken earlier can still
  reveal is stated in ``docs/security.md``.

The keys reach the column types through the engine's dialect (:func:`attach`), set once by
the composition root (:class:`alliance.clinic.Clinic`); without a key, text is stored in clear.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event, inspect, select
from sqlalchemy.orm import Session as DbSession

from alliance.errors import ConfigError, StoreError
from alliance.store.crypto import KID_BYTES, Box, key_id_in
from alliance.store.models import Case
from alliance.store.sealedcolumns import (
    _ATTR,
    PREFIX,
    SealedJSON,
    SealedText,
    column_aad,
    keys_of,
)

__all__ = ["PREFIX", "SealedJSON", "SealedText", "column_aad", "keys_of"]



def wrap_aad(key_id: str) -> bytes:
    return f"data-key:{key_id}".encode()


class CaseText(str):
    """Text to seal under a client's data key (``key_id``); equal to the plain text."""

    key_id: str

    def __new__(cls, value: str, key_id: str) -> CaseText:
        obj = super().__new__(cls, value)
        obj.key_id = key_id
        return obj


class CaseJSON(dict[str, Any]):
    """A JSON object to seal under a client's data key."""

    key_id: str

    def __init__(self, value: dict[str, Any], key_id: str) -> None:
        super().__init__(value)
        self.key_id = key_id


@dataclass
class Keys:
    """The clinic key (:class:`Box`, the sealing key plus older ones during a rotation) and
    the unwrapped client data keys met so far, looked up by id in ``cases``."""

    box: Box
    engine: Engine
    _data: dict[bytes, Box] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- data keys ------------------------------------------------------------------------
    def new_data_key(self) -> tuple[str, bytes]:
        """A fresh data key: its id (hex) and the key wrapped by the clinic key."""
        raw, kid = secrets.token_bytes(32), secrets.token_bytes(KID_BYTES)
        with self._lock:
            self._data[kid] = Box(raw, kid=kid)
        return kid.hex(), self.box.encrypt(raw, wrap_aad(kid.hex()))

    def unwrap(self, key_id: str, wrapped: bytes) -> Box:
        kid = bytes.fromhex(key_id)
        raw = self.box.decrypt(wrapped, wrap_aad(key_id))
        data = Box(raw, kid=kid)
        with self._lock:
            self._data[kid] = data
        return data

    def data_box(self, kid: bytes) -> Box:
        with self._lock:
            found = self._data.get(kid)
        if found is not None:
            return found
        with self.engine.connect() as conn:
            wrapped = conn.execute(select(Case.data_key).where(Case.key_id == kid.hex())
                                   ).scalar()
        if wrapped is None:
            raise StoreError("this text was sealed with a client data key that no longer "
                             "exists (the client was deleted: crypto-shredded)")
        return self.unwrap(kid.hex(), wrapped)

    def forget(self, key_id: str | None) -> None:
        """Drop a shredded client's key from memory."""
        if key_id:
            with self._lock:
                self._data.pop(bytes.fromhex(key_id), None)

    # -- sealing --------------------------------------------------------------------------
    def seal(self, plaintext: bytes, aad: bytes, key_id: str | None = None) -> bytes:
        box = self.data_box(bytes.fromhex(key_id)) if key_id else self.box
        return box.encrypt(plaintext, aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        kid = key_id_in(blob)
        if kid is None or kid in self.box.ids:
            return self.box.decrypt(blob, aad)
        return self.data_box(kid).decrypt(blob, aad)

    def seal_text(self, text: str, column: str, key_id: str | None = None) -> str:
        blob = self.seal(text.encode("utf-8"), column_aad(column), key_id)
        return PREFIX + base64.urlsafe_b64encode(blob).decode("ascii")

    def open_text(self, stored: str, column: str) -> str:
        try:
            blob = base64.urlsafe_b64decode(stored[len(PREFIX):].encode("ascii"))
        except (binascii.Error, ValueError):
            raise StoreError(f"a sealed value in {column} is malformed") from None
        return self.open(blob, column_aad(column)).decode("utf-8")

    def case_key_id(self, db: DbSession, case_id: int) -> str:
        """The id of the case's data key, created (and stored, wrapped) on first use."""
        case = db.get(Case, case_id)
        if case is None:
            raise StoreError(f"case {case_id} does not exist")
        return self.key_of(case)

    def key_of(self, case: Any) -> str:
        if not case.key_id:
            case.key_id, case.data_key = self.new_data_key()
        return str(case.key_id)

    def seal_for_case(self, db: DbSession, case_id: int, plaintext: bytes,
                      aad: bytes) -> bytes:
        """Bytes (a transcript, a contact, a message) sealed under the case's data key."""
        return self.seal(plaintext, aad, self.case_key_id(db, case_id))


# -- wiring: keys on the engine's dialect ----------------------------------------------------

def attach(engine: Engine, box: Box | None) -> Keys | None:
    """Make ``box`` the key of every sealed column read or written through ``engine``."""
    current: Keys | None = getattr(engine.dialect, _ATTR, None)
    if box is None:
        return current
    if current is not None and current.box == box:
        return current
    keys = Keys(box, engine)
    setattr(engine.dialect, _ATTR, keys)
    return keys


def need_keys(db: DbSession) -> Keys:
    keys = keys_of(db.get_bind().dialect)
    if keys is None:
        raise ConfigError("no encryption key is configured (ALLIANCE_ENCRYPTION_KEY or "
                          "ALLIANCE_ENCRYPTION_KEY_FILE)")
    return keys


def keys_for(db: DbSession, box: Box) -> Keys:
    """The keys attached to ``db``'s engine (attaching ``box`` when none are); a ``box``
    other than the attached one gets keys of its own (no data key known to it yet)."""
    bind = db.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    keys = keys_of(engine.dialect)
    if keys is None:
        keys = attach(engine, box)
        assert keys is not None
    return keys if keys.box == box else Keys(box, engine)


def seal_bytes(db: DbSession, box: Box, case_id: int, data: bytes, aad: bytes) -> bytes:
    """``data`` sealed under the data key of case ``case_id``."""
    return keys_for(db, box).seal_for_case(db, case_id, data, aad)


def open_bytes(db: DbSession, box: Box, blob: bytes, aad: bytes) -> bytes:
    """Open bytes sealed by a data key, the clinic key, or (legacy) no key id."""
    return keys_for(db, box).open(blob, aad)


def for_case(db: DbSession, case_id: int, text: str) -> str:
    """``text`` marked for the case's data key (for a bulk ``UPDATE``); plain without keys."""
    keys = keys_of(db.get_bind().dialect)
    return CaseText(text, keys.case_key_id(db, case_id)) if keys is not None else text


_SEALED: dict[type, tuple[str, ...]] = {}


def sealed_columns(cls: type) -> tuple[str, ...]:
    """The attribute names of ``cls``'s sealed columns."""
    if cls not in _SEALED:
        mapper: Any = inspect(cls)
        _SEALED[cls] = tuple(c.key for c in mapper.column_attrs
                             if isinstance(c.columns[0].type, SealedText | SealedJSON))
    return _SEALED[cls]


# -- the flush: seal under the client's data key ------------------------------------------

@event.listens_for(DbSession, "before_flush")
def _seal_on_flush(session: DbSession, _context: Any, _instances: Any) -> None:
    keys = keys_of(session.get_bind().dialect)
    if keys is None:
        return

    pending = list(session.new) + list(session.dirty)
    for obj in sorted(pending, key=lambda o: not isinstance(o, Case)):
        names = sealed_columns(type(obj))
        if not names:
            continue
        state = inspect(obj)
        changed = [n for n in names if isinstance(getattr(obj, n), str | dict)
                   and not isinstance(getattr(obj, n), CaseText | CaseJSON)
                   and (state.pending or state.attrs[n].history.has_changes())]
        if not changed:
            continue
        if isinstance(obj, Case):
            key_id = keys.key_of(obj)
        elif getattr(obj, "case_id", None) is not None:
            key_id = keys.case_key_id(session, obj.case_id)
        elif getattr(obj, "case", None) is not None:
            key_id = keys.key_of(obj.case)
        else:
            continue  # no client: the clinic key, in the column type
        for n in changed:
            value = getattr(obj, n)
            setattr(obj, n, CaseText(value, key_id) if isinstance(value, str)
                    else CaseJSON(value, key_id))


def shred(db: DbSession, key_id: str | None) -> None:
    """After a case's row is deleted: forget its key in this process."""
    keys = keys_of(db.get_bind().dialect)
    if keys is not None:
        keys.forget(key_id)

