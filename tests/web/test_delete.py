"""Deleting a case removes every row about the client (proven by walking the schema)."""

from __future__ import annotations

from sqlalchemy import inspect, select, text
from tests.web.conftest import ALL_FOUR, make_case

from alliance.store import cases, delivery, surveys
from alliance.store.actors import Actor
from alliance.store.database import Database
from alliance.store.models import (
    AlertEvent,
    AlertFlip,
    AuditEvent,
    Base,
    CaseSignal,
    DeliverySend,
    DeliveryState,
    JobFailure,
    LinkToken,
    Transcript,
    Void,
)


def _tables_about_cases(db: Database) -> dict[str, list[str]]:
    """Every table with a foreign key chain to ``cases``, and the columns that reach it."""
    insp = inspect(db.engine)
    reach: dict[str, list[str]] = {"cases": ["id"]}
    changed = True
    while changed:
        changed = False
        for table in insp.get_table_names():
            for fk in insp.get_foreign_keys(table):
                if fk["referred_table"] in reach and table != fk["referred_table"]:
                    cols = reach.setdefault(table, [])
                    if fk["constrained_columns"][0] not in cols:
                        cols.append(fk["constrained_columns"][0])
                        changed = True
    return reach


def test_delete_removes_every_row_that_refers_to_the_case(db: Database,
                                                          people: dict[str, Actor],
                                                          box: object) -> None:
    dana = people["dana"]
    doomed, (s1,) = make_case(db, dana, label="doomed", modality="couple",
                              members=("P1", "P2"))
    kept, (k1,) = make_case(db, dana, label="kept")
    for case_id, session_id in ((doomed, s1), (kept, k1)):
        with db.write() as s:
            member = cases.members(s, case_id)[0]
            issued = surveys.create_link(s, dana, case_id, session_id,
                                         instrument_id="alliance-12", member_id=member.id)
            surveys.open_link(s, issued.token)
            surveys.submit(s, issued.token, ALL_FOUR)
            s.add(AlertEvent(case_id=case_id, alert_id="a", action="acknowledge",
                             actor_id=dana.id))
            s.add(Transcript(case_id=case_id, session_id=session_id, filename="t.txt",
                             content=b"sealed", uploaded_by=dana.id))
            s.add_all([AlertFlip(case_id=case_id, alert_id="a", change="opened", assessment=1),
                       JobFailure(case_id=case_id, job="transcript", error="x"),
                       Void(case_id=case_id, session_id=session_id, reason="wrong day",
                            actor_id=dana.id)])
            delivery.set_contact(s, dana, box, case_id, member.id,  # type: ignore[arg-type]
                                 email="client@example.org")
            s.add_all([CaseSignal(case_id=case_id, kind="risk", items=["b1"],
                                  notice_status="", notice_reason=""),
                       DeliveryState(case_id=case_id, seen_version=0, lease_owner=""),
                       LinkToken(link_id=issued.link.id, case_id=case_id, sealed=b"x"),
                       DeliverySend(case_id=case_id, link_id=issued.link.id,
                                    member_id=member.id, kind="link", channel="email",
                                    status="sent")])
    reach = _tables_about_cases(db)
    assert {"members", "sessions", "responses", "survey_links", "consents", "measures",
            "alert_events", "transcripts", "voids", "job_failures", "alert_flips",
            "case_monitor"} <= set(reach)
    with db.write() as s:
        cases.delete_case(s, dana, doomed)
    with db.engine.connect() as conn:
        for table in reach:
            if table == "cases":
                ids = [r[0] for r in conn.execute(text("SELECT id FROM cases"))]
                assert ids == [kept]
                continue
            rows = conn.execute(text(f"SELECT case_id FROM {table}")).all()
            assert rows, f"{table} lost the kept case's rows too"
            assert {r[0] for r in rows} == {kept}, f"{table} still holds rows of the case"
    with db.read() as s:
        deletion = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.delete")).one()
        assert deletion.case_id == doomed and deletion.detail == {}


def test_every_client_table_reaches_cases_through_a_cascading_key() -> None:
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name in ("cases", "members", "sessions", "survey_links"):
                assert fk.ondelete == "CASCADE", f"{table.name}.{fk.parent.name}"
