"""``alliance export-client`` / ``alliance import-client`` (issue 11, item 10): one client's
record exported, the case deleted (or a fresh database), imported and exported again gives
the same bytes; SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.web.conftest import add_people, make_case, plant_drop

from alliance.cli import main
from alliance.errors import InputFileError, NotFound, StoreError
from alliance.store import alerts, cases, clientfile, surveys
from alliance.store.actors import Actor
from alliance.store.database import Database
from alliance.store.schema import upgrade


def _rich_case(db: Database, dana: Actor) -> int:
    """A couple case with notes, cues, an archived date, a superseded answer, a voided
    answer, a voided session and an alert acknowledged then resolved."""
    case_id, _ = make_case(db, dana, label="R. & J.", modality="couple",
                           members=("Robin", "Jo"))
    plant_drop(db, dana, case_id)
    with db.write() as s:
        cases.update_context(s, dana, case_id, cultural_notes="prefers mornings",
                             normative_cues=["indirect_disagreement"])
        robin, jo = cases.members(s, case_id)
        last = cases.sessions(s, case_id)[-1]
        answers = {k: 3 for k in ("b1", "b2", "b3", "b4", "g1", "g2", "g3", "g4",
                                  "t1", "t2", "t3", "t4")}
        surveys.enter_paper(s, dana, case_id, last.id, instrument_id="alliance-12",
                            rater="client", member_id=robin.id, answers=answers)
        wrong = surveys.enter_paper(s, dana, case_id, last.id, instrument_id="alliance-12",
                                    rater="client", member_id=jo.id, answers=answers)
        surveys.void_response(s, dana, case_id, wrong.id, "entered for the wrong person")
        surveys.void_session(s, dana, case_id, cases.sessions(s, case_id)[1].id, "no-show")
        alerts.transition(s, dana, case_id, "drop:alliance-12", "acknowledge",
                          severity="high", headline="Alliance drop", latest_session=6)
        alerts.transition(s, dana, case_id, "drop:alliance-12", "resolve",
                          note="talked it through", latest_session=6)
        cases.set_archived(s, dana, case_id, True)
    return case_id


def _export(db: Database, actor: Actor, case_id: int) -> str:
    with db.read() as s:
        return clientfile.dumps(clientfile.export_client(s, actor, case_id))


def _import(db: Database, actor: Actor, text: str) -> int:
    with db.write() as s:
        return clientfile.import_client(s, actor, clientfile.loads(text)).id


def test_the_client_file_names_no_database_ids_and_keeps_every_state(
        db: Database, people: dict[str, Actor]) -> None:
    case_id = _rich_case(db, people["dana"])
    data = json.loads(_export(db, people["dana"], case_id))
    assert "id" not in data["case"] and data["members"] == [
        {"label": "Robin", "rater": "client"}, {"label": "Jo", "rater": "client"}]
    states = [(r["session"], r["member"], r["state"]) for r in data["responses"]]
    # plant_drop: Robin (the first member) rated sessions 2-6; then Robin again and Jo in 6
    assert states == [(2, "Robin", "voided"), (3, "Robin", "current"),
                      (4, "Robin", "current"), (5, "Robin", "current"),
                      (6, "Robin", "superseded"), (6, "Robin", "current"),
                      (6, "Jo", "voided")]
    assert [(v["session"], v["response"]) for v in data["voids"]] == [(None, 6), (2, None)]
    assert [(e["action"], e["by"]) for e in data["alert_history"]] == [
        ("open", "monitor"), ("acknowledge", "clinician"), ("resolve", "clinician")]


def test_export_delete_import_export_gives_the_same_bytes(db: Database,
                                                          people: dict[str, Actor]) -> None:
    dana = people["dana"]
    case_id = _rich_case(db, dana)
    first = _export(db, dana, case_id)
    with db.write() as s:
        cases.delete_case(s, dana, case_id)
    again = _import(db, dana, first)
    assert again != case_id
    assert _export(db, dana, again) == first


def test_a_client_file_moves_into_a_fresh_database_unchanged(
        db: Database, people: dict[str, Actor], password_hash: str, tmp_path: Path) -> None:
    first = _export(db, people["dana"], _rich_case(db, people["dana"]))
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        upgrade(fresh.engine)
        sam = add_people(fresh, password_hash)["sam"]   # another clinician receives it
        assert _export(fresh, sam, _import(fresh, sam, first)) == first
    finally:
        fresh.dispose()


def test_a_label_already_in_the_caseload_is_refused(sqlite_db: Database, password_hash: str
                                                    ) -> None:
    dana = add_people(sqlite_db, password_hash)["dana"]
    case_id, _ = make_case(sqlite_db, dana, label="K.L.")
    text = _export(sqlite_db, dana, case_id)
    with pytest.raises(StoreError, match=r"'K\.L\.' is already in your caseload"):
        _import(sqlite_db, dana, text)


def test_another_clinicians_case_is_not_exported(sqlite_db: Database,
                                                 password_hash: str) -> None:
    people = add_people(sqlite_db, password_hash)
    case_id, _ = make_case(sqlite_db, people["dana"])
    with pytest.raises(NotFound):
        _export(sqlite_db, people["sam"], case_id)


@pytest.mark.parametrize("text", ["[1, 2", '{"format": "something-else"}',
                                  '{"format": "alliance-client/1", "case": {}}',
                                  '{"format": "alliance-client/1", "case": {"label": 5}}'])
def test_a_malformed_client_file_is_a_readable_error(sqlite_db: Database, password_hash: str,
                                                     text: str) -> None:
    dana = add_people(sqlite_db, password_hash)["dana"]
    with pytest.raises(InputFileError):
        _import(sqlite_db, dana, text)


def test_the_cli_exports_and_imports_a_client(password_hash: str, tmp_path: Path) -> None:
    from alliance.clinic import Clinic, Settings
    from alliance.store import generate_key

    env = {"ALLIANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
           "ALLIANCE_ENCRYPTION_KEY": generate_key(), "ALLIANCE_ENCRYPTION_KEY_FILE": ""}
    clinic = Clinic(Settings.from_environment(env))   # the database as the CLI opens it
    try:
        upgrade(clinic.db.engine)
        people = add_people(clinic.db, password_hash)
        case_id, _ = make_case(clinic.db, people["dana"], label="C.D.")
    finally:
        clinic.dispose()
    out = tmp_path / "client.json"
    runner = CliRunner()
    done = runner.invoke(main, ["export-client", str(case_id), str(out),
                                "--clinician", "dana@example.org"], env=env)
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    taken = runner.invoke(main, ["import-client", str(out), "--clinician", "dana@example.org"],
                          env=env)
    assert taken.exit_code == 1 and "already in your caseload" in taken.output
    moved = runner.invoke(main, ["import-client", str(out), "--clinician", "sam@example.org"],
                          env=env)
    assert moved.exit_code == 0 and "1 sessions, 0 responses" in moved.output, moved.output
