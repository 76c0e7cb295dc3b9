"""Row-level security on PostgreSQL (issue 11, item 12): two clinics in one database, each
application role sees and writes only its own clinic's cases and client data, even with raw
SQL that leaves out every WHERE clause. The application's own scoping stays beside it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError
from tests.web.conftest import Web, _truncate_pg, add_people, make_case
from tests.web.test_app_role import drop_role, url_as

from alliance.store import Box, Database
from alliance.store.actors import Actor
from alliance.store.approle import grant_app_role
from alliance.store.models import Base

pytestmark = pytest.mark.postgres


@dataclass
class Clinics:
    owner: Database
    a: Database  # connected as clinic 1's role
    b: Database  # connected as clinic 2's role
    people: dict[str, Actor]
    case_a: int
    case_b: int


@pytest.fixture
def clinics(pg_server_url: str, password_hash: str) -> Iterator[Clinics]:
    suffix = secrets.token_hex(4)
    roles = {1: f"alliance_a_{suffix}", 2: f"alliance_b_{suffix}"}
    owner = Database(pg_server_url)
    _truncate_pg(owner)
    opened: list[Database] = [owner]
    try:
        for clinic, role in roles.items():
            grant_app_role(owner.engine, role, clinic)
        people = add_people(owner, password_hash)  # accounts are not client data: shared
        a, b = (Database(url_as(pg_server_url, roles[n])) for n in (1, 2))
        opened += [a, b]
        case_a, _ = make_case(a, people["dana"], label="Clinic A case", sessions=2)
        case_b, _ = make_case(b, people["sam"], label="Clinic B case", sessions=2)
        yield Clinics(owner, a, b, people, case_a, case_b)
    finally:
        for database in opened:
            database.dispose()
        for role in roles.values():
            drop_role(pg_server_url, role, missing_ok=True)


def raw(db: Database, sql: str, **params: object) -> list[tuple[object, ...]]:
    with db.engine.begin() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


def rowcount(db: Database, sql: str, **params: object) -> int:
    with db.engine.begin() as conn:
        return conn.execute(text(sql), params).rowcount


def refused(db: Database, sql: str, **params: object) -> str:
    with pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
        conn.execute(text(sql), params)
    return str(getattr(caught.value.orig, "sqlstate", ""))


CLIENT_TABLES = ["cases", "members", "consents", "measures", "sessions"]


def test_each_clinic_reads_only_its_own_rows_without_any_where_clause(clinics: Clinics) -> None:
    assert raw(clinics.a, "SELECT id, clinic_id FROM cases") == [(clinics.case_a, 1)]
    assert raw(clinics.b, "SELECT id, clinic_id FROM cases") == [(clinics.case_b, 2)]
    for table in CLIENT_TABLES[1:]:
        mine = raw(clinics.a, f"SELECT DISTINCT case_id FROM {table}")
        theirs = raw(clinics.b, f"SELECT DISTINCT case_id FROM {table}")
        assert (mine, theirs) == ([(clinics.case_a,)], [(clinics.case_b,)]), table
    # the owner (migrations) is not subject to the policies: both clinics' rows are there
    assert raw(clinics.owner, "SELECT count(*) FROM sessions") == [(4,)]
    # a foreign id named outright is as invisible as a missing one
    assert raw(clinics.a, "SELECT id FROM sessions WHERE case_id = :c", c=clinics.case_b) == []


def test_no_clinic_can_change_or_delete_the_others_rows(clinics: Clinics) -> None:
    assert rowcount(clinics.a, "UPDATE sessions SET homework = 'done'") == 2  # its own two
    assert rowcount(clinics.a, "UPDATE cases SET label = 'x'") == 1
    assert rowcount(clinics.a, "DELETE FROM members WHERE case_id = :c", c=clinics.case_b) == 0
    assert rowcount(clinics.a, "DELETE FROM sessions WHERE case_id = :c", c=clinics.case_b) == 0
    assert raw(clinics.owner, "SELECT homework FROM sessions WHERE case_id = :c",
               c=clinics.case_b) == [("none",), ("none",)]
    assert raw(clinics.owner, "SELECT label FROM cases WHERE id = :c",
               c=clinics.case_b) == [("Clinic B case",)]
    assert raw(clinics.owner, "SELECT count(*) FROM members WHERE case_id = :c",
               c=clinics.case_b) == [(1,)]


def test_no_clinic_can_write_rows_into_the_others_case_or_move_its_own(
        clinics: Clinics) -> None:
    # 42501: "new row violates row-level security policy" (WITH CHECK)
    assert refused(clinics.a, "INSERT INTO sessions (case_id, number, date, attendance, "
                   "minutes_late, homework) VALUES (:c, 9, '2026-02-02', 'attended', 0, "
                   "'none')", c=clinics.case_b) == "42501"
    assert refused(clinics.a, "INSERT INTO cases (label, clinician_id, modality, "
                   "cultural_notes, normative_cues, created_at, clinic_id) VALUES ('x', :u, "
                   "'individual', '', '[]', now(), 2)", u=clinics.people["dana"].id) == "42501"
    assert refused(clinics.a, "UPDATE cases SET clinic_id = 2") == "42501"
    assert refused(clinics.a, "UPDATE sessions SET case_id = :c",
                   c=clinics.case_b) == "42501"
    # a case inserted without naming a clinic is the inserting role's
    assert rowcount(clinics.b, "INSERT INTO cases (label, clinician_id, modality, "
                    "cultural_notes, normative_cues, created_at) VALUES ('y', :u, "
                    "'individual', '', '[]', now())", u=clinics.people["sam"].id) == 1
    assert raw(clinics.owner, "SELECT clinic_id FROM cases WHERE label = 'y'") == [(2,)]


def test_the_app_scoping_and_the_policies_both_hold(clinics: Clinics, box: Box) -> None:
    """Clinic A's app, for dana: her case opens; clinic B's case answers 404. Sam's own case
    is in clinic B, so on clinic A's app even its own clinician does not see it."""
    web = Web(clinics.a, clinics.people, box)
    dana, sam = web.session_for("dana"), web.session_for("sam")
    assert dana.get(f"/cases/{clinics.case_a}").status_code == 200
    assert dana.get(f"/cases/{clinics.case_b}").status_code == 404
    assert sam.get(f"/cases/{clinics.case_b}").status_code == 404
    assert "Clinic B case" not in sam.get("/dashboard").text


def test_a_role_without_a_clinic_sees_no_client_data(clinics: Clinics,
                                                      pg_server_url: str) -> None:
    role = f"alliance_x_{secrets.token_hex(4)}"
    try:
        grant_app_role(clinics.owner.engine, role)
        rowcount(clinics.owner, "DELETE FROM clinic_roles WHERE role_name = :r", r=role)
        stray = Database(url_as(pg_server_url, role))
        try:
            assert raw(stray, "SELECT count(*) FROM cases") == [(0,)]
            assert raw(stray, "SELECT count(*) FROM sessions") == [(0,)]
        finally:
            stray.dispose()
    finally:
        drop_role(pg_server_url, role)


def test_every_table_with_client_data_has_a_policy_with_using_and_with_check(
        clinics: Clinics) -> None:
    # the audit log is one hash chain for the whole database (ids and actions, no client
    # text): every clinic's rows stay in it, so that `alliance audit verify` sees them all
    phi = {t.name for t in Base.metadata.sorted_tables
           if "case_id" in t.c and t.name != "audit_events"} | {"cases"}
    with clinics.owner.engine.connect() as conn:
        secured = {name for name, on in conn.execute(text(
            "SELECT relname, relrowsecurity FROM pg_class WHERE relname = ANY(:t)"),
            {"t": sorted(phi)}) if on}
        policies = {row[0] for row in conn.execute(text(
            "SELECT tablename FROM pg_policies WHERE qual IS NOT NULL AND with_check IS NOT "
            "NULL"))}
        assert "clinic_id" in {c["name"] for c in inspect(conn).get_columns("cases")}
    assert phi - secured == set(), "tables with a case_id and no row-level security"
    assert phi - policies == set(), "tables with a case_id and no USING/WITH CHECK policy"
    assert len(phi) >= 18
