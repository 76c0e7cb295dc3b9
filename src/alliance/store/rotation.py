"""Bring everything sealed to the current keys: ``alliance keys rotate`` and migration 0009.

One pass (:func:`reseal_step`) does at most ``limit`` changes on one connection, so the
command commits in small batches (no long lock, the app keeps serving) and can stop and be
run again at any time: what is left is found from the stored values themselves, never from
a progress file. A change is one of:

* a case without a data key gets one (cases from before ``0009_phi_encryption``);
* a data key wrapped by an older clinic key is re-wrapped by the sealing one;
* a sealed column holding plain text, or sealed with a key other than its target (the
  case's data key; the clinic's sealing key for rows without a case), is sealed again;
* transcript text and reports, contact details, link tokens and client messages sealed by
  the clinic key (or by the version-1 format without key id) move to the case's data key.

The app reads old and new ciphertext throughout (the key id is in each header), provided
it runs with a key file that lists the new key first and the old one after it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import JSON, Connection, LargeBinary, Text, column, literal, select, table, update

from alliance.store.crypto import key_id_in
from alliance.store.sealing import PREFIX, Keys, SealedJSON, SealedText, column_aad, wrap_aad

PRIMARY_KEYS = {"safety_texts": "language", "case_monitor": "case_id",
                "member_contacts": "member_id", "link_tokens": "link_id"}
# explicitly sealed bytes: (table, key column, bytes column, associated data of a row,
# case column or None for rows of no case, which the clinic key seals)
BYTES: tuple[tuple[str, str, str, Callable[[int], bytes], str | None], ...] = (
    ("transcripts", "id", "content", lambda i: f"transcript:{i}:content".encode(), "case_id"),
    ("transcripts", "id", "report", lambda i: f"transcript:{i}:report".encode(), "case_id"),
    ("member_contacts", "member_id", "sealed", lambda i: f"contact:{i}".encode(), "case_id"),
    ("link_tokens", "link_id", "sealed", lambda i: f"link-token:{i}".encode(), "case_id"),
    ("case_signals", "id", "message", lambda i: f"signal:{i}".encode(), "case_id"),
    ("users", "id", "mfa_secret", lambda i: f"mfa:{i}".encode(), None),
)


def sealed_text_columns() -> list[tuple[str, str, str | None]]:
    """(table, column, case column or ``None``) of every sealed column in the models."""
    from alliance.store.models import Base

    out = []
    for t in Base.metadata.sorted_tables:
        for c in t.columns:
            if isinstance(c.type, SealedText | SealedJSON):
                case = "id" if t.name == "cases" else ("case_id" if "case_id" in t.c else None)
                out.append((t.name, c.name, case))
    return out


@dataclass
class Tally:
    """What a run changed, by kind."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _case_keys(conn: Connection, keys: Keys, tally: Tally, limit: int) -> dict[int, str]:
    """Case id → data key id; creates missing keys and re-wraps old ones (within limit)."""
    cases = table("cases", column("id"), column("key_id", Text),
                  column("data_key", LargeBinary))
    out: dict[int, str] = {}
    for case_id, key_id, wrapped in conn.execute(select(cases.c.id, cases.c.key_id,
                                                        cases.c.data_key)).all():
        if key_id is None or wrapped is None:
            if tally.total >= limit:
                continue
            key_id, wrapped = keys.new_data_key()
            conn.execute(update(cases).where(cases.c.id == case_id)
                         .values(key_id=key_id, data_key=wrapped))
            tally.add("data keys created")
        elif key_id_in(wrapped) != keys.box.kid:
            data = keys.unwrap(key_id, wrapped)
            if tally.total < limit:
                conn.execute(update(cases).where(cases.c.id == case_id).values(
                    data_key=keys.box.encrypt(data.key, wrap_aad(key_id))))
                tally.add("data keys re-wrapped")
        else:
            keys.unwrap(key_id, wrapped)  # in memory for this run: sealing needs it
        out[case_id] = key_id
    return out


def _target(keys: Keys, case_keys: dict[int, str], case_id: int | None) -> tuple[bytes, str]:
    """(key id, data key id or "") that a value of this case must be sealed with."""
    if case_id is not None and case_id in case_keys:
        return bytes.fromhex(case_keys[case_id]), case_keys[case_id]
    return keys.box.kid, ""


def reseal_step(conn: Connection, keys: Keys, limit: int = 200) -> Tally:
    """Up to ``limit`` changes (see the module docstring) on ``conn``; empty when done."""
    tally = Tally()
    case_keys = _case_keys(conn, keys, tally, limit)
    present = _columns(conn)  # a migration runs this at its own revision: later columns wait
    for name, col, case_col in sealed_text_columns():
        if tally.total >= limit:
            return tally
        if col not in present.get(name, ()):
            continue
        key = PRIMARY_KEYS.get(name, "id")
        is_json = _json_type(name, col)
        cols = [column(key), column(col, JSON if is_json else Text)]
        if case_col is not None and case_col != key:
            cols.append(column(case_col))
        t = table(name, *cols)
        for row in conn.execute(select(*t.c).where(t.c[col].is_not(None))).all():
            value = row[1]
            case_id = row[2] if len(row) > 2 else (row[0] if case_col else None)
            want, data_id = _target(keys, case_keys, case_id)
            blob = _blob(value)
            if blob is not None:
                if key_id_in(blob) == want:
                    continue
                plain = keys.open(blob, column_aad(f"{name}.{col}")).decode("utf-8")
            elif value is None or value == "":
                continue  # nothing to hide
            else:
                plain = json.dumps(value) if is_json else str(value)
            sealed = keys.seal_text(plain, f"{name}.{col}", data_id or None)
            conn.execute(update(t).where(t.c[key] == row[0]).values({col: sealed}))
            tally.add(f"{name}.{col}")
            if tally.total >= limit:
                return tally
    for name, key, col, aad, case_col in BYTES:
        if col not in present.get(name, ()):
            continue
        t = table(name, column(key), column(col, LargeBinary))
        case_of = column(case_col) if case_col else literal(None)
        for row_key, blob, case_id in conn.execute(select(t.c[key], t.c[col], case_of)
                                                   .select_from(t)
                                                   .where(t.c[col].is_not(None))).all():
            want, data_id = _target(keys, case_keys, case_id)
            if not blob or key_id_in(blob) == want:
                continue
            opened = keys.open(blob, aad(row_key))
            conn.execute(update(t).where(t.c[key] == row_key).values(
                {col: keys.seal(opened, aad(row_key), data_id or None)}))
            tally.add(f"{name}.{col}")
            if tally.total >= limit:
                return tally
    return tally


def _columns(conn: Connection) -> dict[str, set[str]]:
    """Table name → its column names, as the database has them now."""
    from sqlalchemy import inspect

    found = inspect(conn)
    return {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names()}


def _json_type(name: str, col: str) -> bool:
    from alliance.store.models import Base

    return isinstance(Base.metadata.tables[name].c[col].type, SealedJSON)


def _blob(value: object) -> bytes | None:
    """The ciphertext in a stored value; ``None`` for plain text (or a plain JSON value)."""
    if not isinstance(value, str) or not value.startswith(PREFIX):
        return None
    return base64.urlsafe_b64decode(value[len(PREFIX):].encode("ascii"))
