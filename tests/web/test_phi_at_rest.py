"""Health data at rest (issue 11): sealed columns, per-client data keys, crypto-shredding,
key rotation, retention with legal hold, private files, content-free worker errors."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from tests.web.conftest import Web, make_case

from alliance.errors import StoreError
from alliance.store import Box, Database, cases, generate_key, sealing, transcripts, upgrade
from alliance.store.actors import Actor
from alliance.store.crypto import key_id_in
from alliance.store.models import AuditEvent, Case, JobFailure, Transcript
from alliance.store.retention import Retention, apply, set_hold, shred_case
from alliance.store.rotation import _blob, reseal_step
from alliance.store.schema import downgrade

CANARY = "Zebulon-Quixotic-7731"


def _raw(db: Database, sql: str) -> Any:
    """A value as stored, bypassing the sealed column types."""
    with db.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _files(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def _seed(web: Web) -> tuple[int, int]:
    """A case whose label, member, notes, alert note, transcript name and error, void reason
    and safety text all carry the canary."""
    from alliance.store import signals

    dana = web.people["dana"]
    case_id, sessions = make_case(web, dana, label=f"{CANARY} label",
                                  members=(f"{CANARY} member",))
    with web.db.write() as s:
        cases.update_context(s, dana, case_id, cultural_notes=f"{CANARY} notes",
                             normative_cues=[])
        row = transcripts.upload(s, web.box, dana, case_id, sessions[0], f"{CANARY}.txt",
                                 f"Therapist: hello\nClient: {CANARY} said\n".encode())
        signals.set_safety_text(s, web.people["admin"], "en", f"{CANARY} safety")
        return case_id, row.id


def _bad_analyser(data: bytes, filename: str, roles: Any) -> dict[str, Any]:
    raise ValueError(f"could not parse line: {data.decode()!r} in {filename}")


def test_names_notes_and_filenames_never_reach_the_database_file_in_clear(
        web: Web, tmp_path: Path) -> None:
    case_id, _transcript_id = _seed(web)
    transcripts.run_one(web.db, web.box, _bad_analyser)
    with web.db.read() as s:  # read back as text, through the scoped store functions
        case = s.get(Case, case_id)
        assert case is not None and case.label == f"{CANARY} label"
        assert case.cultural_notes == f"{CANARY} notes"
        assert [m.label for m in cases.members(s, case_id)] == [f"{CANARY} member"]
        assert [r.filename for r in transcripts.listing(s, case_id)] == [f"{CANARY}.txt"]
    assert _raw(web.db, f"SELECT label FROM cases WHERE id = {case_id}").startswith("enc:")
    data = _files(tmp_path / "test.db")
    assert CANARY.encode() not in data
    assert CANARY[:10].encode() not in data


def test_caseload_search_finds_a_sealed_label(web: Web) -> None:
    _seed(web)
    make_case(web, web.people["dana"], label="Other")
    page = web.session_for("dana").get("/dashboard", params={"q": CANARY[:8].lower()})
    assert page.status_code == 200
    assert f"{CANARY} label" in page.text and "Other" not in page.text


def test_worker_failure_records_the_error_class_not_the_transcript(web: Web) -> None:
    _seed(web)
    transcripts.run_one(web.db, web.box, _bad_analyser)
    with web.db.read() as s:
        failure = s.scalars(select(JobFailure)).one()
        row = s.scalars(select(Transcript)).one()
    assert failure.error.startswith("ValueError:") and CANARY not in failure.error
    assert row.status == "failed" and CANARY not in row.error


def test_database_wal_and_shm_are_private_with_secure_delete(web: Web, tmp_path: Path) -> None:
    _seed(web)
    with web.db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    for name in ("test.db", "test.db-wal", "test.db-shm"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_each_case_has_its_own_data_key_and_its_text_is_sealed_under_it(web: Web) -> None:
    a, _ = make_case(web, web.people["dana"], label="A")
    b, _ = make_case(web, web.people["dana"], label="B")
    with web.db.read() as s:
        ka, kb = (s.get(Case, i).key_id for i in (a, b))  # type: ignore[union-attr]
    assert ka and kb and ka != kb
    stored = _raw(web.db, f"SELECT label FROM cases WHERE id = {a}")
    blob = _blob(stored)
    assert blob is not None and key_id_in(blob) == bytes.fromhex(ka)
    # a ciphertext moved to another column does not open (the column is associated data)
    with web.db.engine.begin() as conn:
        conn.execute(text(f"UPDATE cases SET cultural_notes = label WHERE id = {a}"))
    with web.db.read() as s, pytest.raises(StoreError, match="does not decrypt"):
        s.get(Case, a)


def _backup(db: Database, tmp_path: Path) -> Path:
    target = tmp_path / "backup.db"
    with db.engine.connect() as conn:
        conn.exec_driver_sql(f"VACUUM INTO '{target}'")
    return target


def test_shredded_client_cannot_be_read_from_an_earlier_backup_once_the_key_rotates(
        web: Web, tmp_path: Path) -> None:
    case_id, _ = _seed(web)
    backup = _backup(web.db, tmp_path)
    with web.db.write() as s:
        cases.delete_case(s, web.people["dana"], case_id)
    live = _files(tmp_path / "test.db")
    with web.db.read() as s:
        assert s.get(Case, case_id) is None
    assert CANARY.encode() not in live
    old = Database(f"sqlite:///{backup}")
    # the honest limit: the backup holds the client's key wrapped by the clinic key, so the
    # clinic key that was current then still opens it
    sealing.attach(old.engine, web.box)
    with old.read() as s:
        assert s.get(Case, case_id).label == f"{CANARY} label"  # type: ignore[union-attr]
    old.dispose()
    # rotate: the live clinic re-seals under a new key; the old one is then destroyed
    new = Box.from_text(f"{generate_key()}\n{generate_key()}")
    ring = Box(new.key, (web.box.key,))
    keys = sealing.Keys(ring, web.db.engine)
    with web.db.write() as s:
        while reseal_step(s.connection(), keys).total:
            pass
    only_new = Box(new.key)
    old = Database(f"sqlite:///{backup}")
    sealing.attach(old.engine, only_new)
    with old.read() as s, pytest.raises(StoreError, match="does not decrypt"):
        s.get(Case, case_id)
    old.dispose()


def test_rotation_rewraps_every_key_in_resumable_batches_and_old_key_can_go(web: Web) -> None:
    case_id, transcript_id = _seed(web)
    make_case(web, web.people["sam"], label="Second")
    ring = Box(Box.from_text(generate_key()).key, (web.box.key,))
    keys = sealing.Keys(ring, web.db.engine)
    kinds: list[str] = []
    while True:
        with web.db.write() as s:
            step = reseal_step(s.connection(), keys, limit=1)
        if not step.total:
            break
        kinds += list(step.counts)
    # two data keys re-wrapped and one safety text re-sealed, one change per batch
    assert kinds == ["data keys re-wrapped", "data keys re-wrapped", "safety_texts.text"]
    with web.db.engine.connect() as conn:
        wrapped = conn.execute(text("SELECT data_key FROM cases")).scalars().all()
    assert all(key_id_in(w) == ring.kid for w in wrapped)
    fresh = Database(web.db.url)
    sealing.attach(fresh.engine, Box(ring.key))  # the old key removed from the file
    with fresh.read() as s:
        assert s.get(Case, case_id).label == f"{CANARY} label"  # type: ignore[union-attr]
        from alliance.store import signals

        assert signals.safety_text(s, "en") == f"{CANARY} safety"
        view = transcripts.view(s, Box(ring.key), web.people["dana"], case_id, transcript_id)
        assert view.speakers == ["Therapist", "Client"]
    fresh.dispose()


def test_migration_seals_rows_written_in_clear(tmp_path: Path, box: Box,
                                               password_hash: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(db.engine, "0008_security")
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, email, name, role, password_hash, active, "
                          "created_at) VALUES (1, 'd@x.org', 'D', 'clinician', 'x', 1, "
                          "CURRENT_TIMESTAMP)"))
        conn.execute(text(f"INSERT INTO cases (id, label, clinician_id, modality, "
                          f"cultural_notes, normative_cues, created_at) VALUES (1, "
                          f"'{CANARY}', 1, 'individual', 'notes', '[]', CURRENT_TIMESTAMP)"))
        conn.execute(text(f"INSERT INTO members (id, case_id, label, rater) VALUES "
                          f"(1, 1, '{CANARY} m', 'client')"))
    sealing.attach(db.engine, box)
    upgrade(db.engine)
    assert _raw(db, "SELECT label FROM cases").startswith("enc:")
    assert _raw(db, "SELECT label FROM members").startswith("enc:")
    with db.read() as s:
        case = s.get(Case, 1)
        assert case is not None and case.label == CANARY and case.key_id
        assert [m.label for m in cases.members(s, 1)] == [f"{CANARY} m"]
    downgrade(db.engine, "0008_security")
    db.dispose()


NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def _archived(web: Web, who: Actor, label: str, days_ago: float, *,
              hold: bool = False) -> int:
    case_id, _ = make_case(web, who, label=label)
    with web.db.write() as s:
        case = s.get(Case, case_id)
        assert case is not None
        case.archived_at = NOW - dt.timedelta(days=days_ago)
        if hold:
            set_hold(s, None, case_id, True)
    return case_id


def test_retention_shreds_cases_archived_longer_than_the_period_unless_held(web: Web) -> None:
    dana = web.people["dana"]
    # retention 365 days, now 2026-06-01 12:00:
    old = _archived(web, dana, "366 days", 366)           # 366 > 365: shredded
    edge = _archived(web, dana, "exactly 365", 365)      # not longer than: kept
    young = _archived(web, dana, "364 days", 364)         # kept
    held = _archived(web, dana, "held 900", 900, hold=True)  # on hold: kept
    open_case, _ = make_case(web, dana, label="open")    # not archived: kept
    policy = Retention(365)
    dry = apply(web.db, policy, now=NOW, dry_run=True)
    assert (list(dry.shredded), list(dry.held)) == ([old], [held])
    with web.db.read() as s:
        assert s.get(Case, old) is not None
    done = apply(web.db, policy, now=NOW)
    assert (list(done.shredded), list(done.held)) == ([old], [held])
    with web.db.read() as s:
        left = set(s.scalars(select(Case.id)))
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.in_(
            ("case.shred", "retention.apply"))).order_by(AuditEvent.id)).all()
    assert left == {edge, young, held, open_case}
    assert [(e.action, e.case_id) for e in events] == [
        ("retention.apply", None), ("case.shred", old), ("retention.apply", None)]
    assert events[-1].detail["shredded"] == 1 and events[0].detail["dry_run"] is True


def test_legal_hold_stops_deletion_by_hand(web: Web) -> None:
    held = _archived(web, web.people["dana"], "held", 10, hold=True)
    with web.db.write() as s, pytest.raises(StoreError, match="legal hold"):
        cases.delete_case(s, web.people["dana"], held)
    with web.db.write() as s, pytest.raises(StoreError, match="legal hold"):
        shred_case(s, None, held, reason="request")


def test_retention_policy_is_read_from_the_clinic_policy_file(tmp_path: Path,
                                                              sqlite_db: Database) -> None:
    from alliance.clinic import Clinic, Settings
    from alliance.errors import ConfigError

    path = tmp_path / "policy.yaml"
    path.write_text("version: 1\nretention:\n  archived_days: 2555\n")
    clinic = Clinic(Settings(database_url=sqlite_db.url, policy_file=path), sqlite_db)
    assert clinic.retention == Retention(2555)
    assert clinic.policy is not None  # monitoring ignores the clinic's section
    path.write_text("retention:\n  archived_days: -3\n")
    with pytest.raises(ConfigError, match="archived_days"):
        _ = Clinic(Settings(database_url=sqlite_db.url, policy_file=path), sqlite_db).retention


def test_cli_adds_a_key_rotates_and_applies_retention(web: Web, tmp_path: Path) -> None:
    from alliance.cli import main

    case_id, _ = _seed(web)
    key_file = tmp_path / "key"
    key_file.write_text(_key_text(web.box))
    key_file.chmod(0o600)
    policy = tmp_path / "policy.yaml"
    policy.write_text("retention:\n  archived_days: 30\n")
    env = {"ALLIANCE_ENCRYPTION_KEY_FILE": str(key_file), "ALLIANCE_DATABASE_URL": web.db.url,
           "ALLIANCE_POLICY_FILE": str(policy), "ALLIANCE_ENCRYPTION_KEY": ""}
    runner = CliRunner()
    added = runner.invoke(main, ["keys", "add", "--key-file", str(key_file)], env=env)
    assert added.exit_code == 0, added.output
    assert len(key_file.read_text().split()) == 2
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    rotated = runner.invoke(main, ["keys", "rotate", "--batch", "1"], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert "data keys re-wrapped: 1" in rotated.output
    assert "no longer used" in rotated.output
    dry = runner.invoke(main, ["retention", "apply", "--dry-run"], env=env)
    assert dry.exit_code == 0 and "would shred 0 case(s)" in dry.output
    shred = runner.invoke(main, ["cases", "shred", str(case_id)], env=env)
    assert shred.exit_code != 0 and "--yes" in shred.output
    shred = runner.invoke(main, ["cases", "shred", str(case_id), "--yes"], env=env)
    assert shred.exit_code == 0, shred.output
    with web.db.read() as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"keys.rotate", "case.shred", "retention.apply"} <= actions


def _key_text(box: Box) -> str:
    import base64

    return base64.urlsafe_b64encode(box.key).decode() + "\n"
