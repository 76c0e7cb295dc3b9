"""Bulk import (``alliance import``): checked completely first, all or nothing, every problem
reported, idempotent on re-run; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from tests.web.conftest import ALL_FOUR, add_people

from alliance.cli import main
from alliance.errors import ImportRefused
from alliance.instruments import builtin_catalog
from alliance.store import cases, imports
from alliance.store.actors import Actor
from alliance.store.database import Database
from alliance.store.models import AuditEvent, Case, Response, Session

LOW = {k: (5 if k.endswith("3") else 2) for k in ALL_FOUR}


def table(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def good_rows() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for n, answers in enumerate([ALL_FOUR, ALL_FOUR, LOW], start=1):
        out.append({"case": "K.L.", "session": n, "date": f"2026-02-0{n}",
                    "instrument": "alliance-12", "rater": "client", "member": "Client",
                    **answers})
    out.append({"case": "K.L.", "session": 1, "date": "2026-02-01", "instrument": "pulse-3",
                "rater": "therapist", "bond": 6, "goal": 6, "task": 5})
    out.append({"case": "M.N.", "session": 1, "date": "2026-02-03",
                "instrument": "alliance-12", "rater": "client", **ALL_FOUR})
    return out


def counts(db: Database) -> tuple[int, int, int]:
    with db.read() as s:
        return tuple(int(s.scalar(select(func.count()).select_from(t)) or 0)  # type: ignore[return-value]
                     for t in (Case, Session, Response))


def run(db: Database, actor: Actor, frame: pd.DataFrame) -> imports.ImportReport:
    catalog = builtin_catalog()
    rows, problems = imports.rows_from_table(frame, catalog)
    with db.write() as s:
        return imports.import_rows(s, actor, rows, catalog, problems)


def test_good_table_imports_cases_sessions_and_responses(db: Database,
                                                         people: dict[str, Actor]) -> None:
    report = run(db, people["dana"], table(good_rows()))
    assert (report.cases_created, report.sessions_created, report.responses_created) == (2, 4, 5)
    assert counts(db) == (2, 4, 5)
    with db.read() as s:
        (kl,) = [c for c in cases.list_cases(s, people["dana"]) if c.label == "K.L."]
        assert cases.consents(s, kl.id)["measures"] is True
        sources = set(s.scalars(select(Response.source)))
        assert sources == {"import"}
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "import.cases")) == 1
        assert not cases.list_cases(s, people["sam"])  # only the named clinician's caseload


def test_rerun_adds_nothing_twice(db: Database, people: dict[str, Actor]) -> None:
    run(db, people["dana"], table(good_rows()))
    again = run(db, people["dana"], table(good_rows()))
    assert (again.cases_created, again.sessions_created, again.responses_created) == (0, 0, 0)
    assert again.responses_unchanged == 5 and again.cases_reused == 2
    assert counts(db) == (2, 4, 5)


def test_changed_answer_supersedes_instead_of_duplicating(db: Database,
                                                          people: dict[str, Actor]) -> None:
    run(db, people["dana"], table(good_rows()))
    rows = good_rows()
    rows[0] = {**rows[0], **LOW}
    report = run(db, people["dana"], table(rows))
    assert (report.responses_created, report.superseding, report.responses_unchanged) == (1, 1, 4)


def test_bad_file_writes_nothing_and_lists_every_problem(db: Database,
                                                         people: dict[str, Actor]) -> None:
    rows = good_rows()
    rows[1] = {**rows[1], "b1": 9}                        # out of range
    rows[2] = {**rows[2], "date": "2026-02-31"}           # impossible date
    rows[3] = {**rows[3], "rater": "parent"}              # unknown rater
    rows.append({"case": "M.N.", "session": 1, "date": "2026-02-04",  # date clash
                 "instrument": "alliance-12", "rater": "client", **ALL_FOUR})
    rows.append({"case": "O.P.", "session": 1, "date": "2026-02-01",
                 "instrument": "no-such", "rater": "client", "b1": 3})
    with pytest.raises(ImportRefused) as caught:
        run(db, people["dana"], table(rows))
    found = {(where, column) for where, column, _ in caught.value.problems}
    assert {("row 3", "b1"), ("row 4", "date"), ("row 5", "rater"), ("row 7", "date"),
            ("row 8", "instrument")} <= found
    assert counts(db) == (0, 0, 0)


def test_existing_case_without_consent_or_with_unknown_member_is_refused(
        db: Database, people: dict[str, Actor]) -> None:
    run(db, people["dana"], table(good_rows()))
    with db.write() as s:
        (mn,) = [c for c in cases.list_cases(s, people["dana"]) if c.label == "M.N."]
        cases.record_consent(s, people["dana"], mn.id, "measures", False)
    rows = good_rows()
    rows[0] = {**rows[0], "member": "Someone else"}
    with pytest.raises(ImportRefused) as caught:
        run(db, people["dana"], table(rows))
    whys = " | ".join(why for _, _, why in caught.value.problems)
    assert "'Someone else' is not a member" in whys and "no consent to measures" in whys
    assert counts(db) == (2, 4, 5)


def test_only_clinicians_import(db: Database, people: dict[str, Actor]) -> None:
    with pytest.raises(ImportRefused):
        run(db, people["lee"], table(good_rows()))
    assert counts(db) == (0, 0, 0)


def test_missing_columns_are_named(db: Database, people: dict[str, Actor]) -> None:
    frame = table(good_rows()).drop(columns=["date", "rater"])
    with pytest.raises(ImportRefused) as caught:
        run(db, people["dana"], frame)
    assert [(w, c) for w, c, _ in caught.value.problems] == [("header", "date"),
                                                             ("header", "rater")]


# -- the command, on files (SQLite) -----------------------------------------------------------

@pytest.fixture
def clinic_people(sqlite_db: Database, password_hash: str) -> dict[str, Actor]:
    return add_people(sqlite_db, password_hash)


def _cli(sqlite_db: Database, *args: str) -> object:
    return CliRunner().invoke(main, [*args, "--database-url", sqlite_db.url])


def test_cli_imports_csv_then_parquet_rerun_adds_nothing(sqlite_db: Database,
                                                         clinic_people: dict[str, Actor],
                                                         tmp_path: Path) -> None:
    csv = tmp_path / "ratings.csv"
    table(good_rows()).to_csv(csv, index=False)
    r = _cli(sqlite_db, "import", str(csv), "--clinician", "dana@example.org")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    assert "responses created:    5" in r.output  # type: ignore[attr-defined]
    parquet = tmp_path / "ratings.parquet"
    table(good_rows()).to_parquet(parquet)
    r = _cli(sqlite_db, "import", str(parquet), "--clinician", "dana@example.org")
    assert r.exit_code == 0 and "responses unchanged:  5" in r.output  # type: ignore[attr-defined]
    assert counts(sqlite_db) == (2, 4, 5)


def test_cli_reports_every_problem_and_exits_1(sqlite_db: Database, clinic_people: dict[str, Actor],
                                               tmp_path: Path) -> None:
    rows = good_rows()
    rows[0] = {**rows[0], "b1": "lots", "session": "first"}
    csv = tmp_path / "bad.csv"
    table(rows).to_csv(csv, index=False)
    r = _cli(sqlite_db, "import", str(csv), "--clinician", "dana@example.org")
    assert r.exit_code == 1
    out = r.output  # type: ignore[attr-defined]
    assert "row 2: session: 'first' is not a session number" in out
    assert "row 2: b1:" in out and "error: 2 problem(s); nothing was imported" in out
    assert "Traceback" not in out
    assert counts(sqlite_db) == (0, 0, 0)


def test_cli_imports_a_case_file(sqlite_db: Database, clinic_people: dict[str, Actor],
                                 tmp_path: Path) -> None:
    data = {"cases": [{"id": "c1", "modality": "couple",
                       "members": [{"id": "m1", "role": "client"},
                                   {"id": "m2", "role": "client"}],
                       "sessions": [
                           {"number": 1, "date": "2026-01-05", "attendance": "attended",
                            "ratings": [{"rater": "m1", "instrument": "pulse-3",
                                         "items": {"bond": 6, "goal": 6, "task": 5}},
                                        {"rater": "m2", "instrument": "pulse-3",
                                         "items": {"bond": 3, "goal": 4, "task": 4}}]},
                           {"number": 2, "date": "2026-01-12", "attendance": "no_show"}]}]}
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(data))
    for expected in ("responses created:    2", "responses unchanged:  2"):
        r = _cli(sqlite_db, "import", str(path), "--clinician", "dana@example.org")
        assert r.exit_code == 0 and expected in r.output, r.output  # type: ignore[attr-defined]
    with sqlite_db.read() as s:
        (case,) = cases.list_cases(s, clinic_people["dana"])
        assert case.modality == "couple"
        assert [m.label for m in cases.members(s, case.id)] == ["m1", "m2"]


def test_cli_unknown_clinician_and_missing_file_are_readable(sqlite_db: Database,
                                                             clinic_people: dict[str, Actor],
                                                             tmp_path: Path) -> None:
    csv = tmp_path / "ratings.csv"
    table(good_rows()).to_csv(csv, index=False)
    r = _cli(sqlite_db, "import", str(csv), "--clinician", "nobody@example.org")
    assert r.exit_code == 1 and "no account for nobody@example.org" in r.output  # type: ignore[attr-defined]
    r = _cli(sqlite_db, "import", str(tmp_path / "gone.csv"), "--clinician", "dana@example.org")
    assert r.exit_code == 1 and "no such file" in r.output  # type: ignore[attr-defined]


def test_cli_tokens_create_list_revoke(sqlite_db: Database,
                                       clinic_people: dict[str, Actor]) -> None:
    r = CliRunner().invoke(main, ["tokens", "create", "--user", "dana@example.org", "--scope",
                                  "write", "--days", "7", "--name", "ehr",
                                  "--database-url", sqlite_db.url])
    assert r.exit_code == 0, r.output
    plain = r.stdout.strip()
    assert plain.startswith("alliance_") and len(plain) > 40
    r = _cli(sqlite_db, "tokens", "list", "--user", "dana@example.org")
    assert "write" in r.output and "active" in r.output and plain not in r.output  # type: ignore[attr-defined]
    r = _cli(sqlite_db, "tokens", "revoke", "1")
    assert r.exit_code == 0  # type: ignore[attr-defined]
    assert "revoked" in _cli(sqlite_db, "tokens", "list", "--user",  # type: ignore[attr-defined]
                             "dana@example.org").output
    r = _cli(sqlite_db, "tokens", "revoke", "99")
    assert r.exit_code == 1 and "not found" in r.output  # type: ignore[attr-defined]
    r = _cli(sqlite_db, "tokens", "create", "--user", "dana@example.org", "--days", "999")
    assert r.exit_code == 1 and "between 1 and 366" in r.output  # type: ignore[attr-defined]
