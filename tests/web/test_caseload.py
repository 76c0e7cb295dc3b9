"""The caseload as a triage list: last rating, alliance with trend, due and overdue measures,
alert severity; filters and search."""

from __future__ import annotations

from alliance.store import caseload as triage
from alliance.store.models import Measure

from .conftest import Web, make_case, plant_drop


def test_due_then_overdue_by_hand() -> None:
    every2 = Measure(instrument_id="phq-9", rater="client", every=2)
    weekly = Measure(instrument_id="alliance-12", rater="client", every=1)
    answered = {("phq-9", "client", 1), ("alliance-12", "client", 1),
                ("alliance-12", "client", 2)}
    # phq-9 due at 1, 3, 5: answered at 1, so due at 3; alliance-12 missed 3 only
    assert [(d.instrument_id, d.state, d.since_session) for d in
            triage.due_measures([every2, weekly], [1, 2, 3], answered)] == [
        ("phq-9", "due", 3), ("alliance-12", "due", 3)]
    assert [(d.instrument_id, d.state, d.since_session) for d in
            triage.due_measures([every2, weekly], [1, 2, 3, 4], answered)] == [
        ("phq-9", "overdue", 3), ("alliance-12", "overdue", 3)]
    late = answered | {("alliance-12", "client", 4)}        # a later answer catches up
    assert [d.instrument_id for d in triage.due_measures([weekly], [1, 2, 3, 4], late)] == []
    assert triage.due_measures([weekly], [], set()) == []


def test_caseload_rows_show_the_drop_its_trend_and_the_overdue_measures(web: Web) -> None:
    dropped, _ = make_case(web, web.people["dana"], label="Z dropped")
    plant_drop(web.db, web.people["dana"], dropped)
    make_case(web, web.people["dana"], label="A quiet case", sessions=0)
    web.worker.monitor_once()
    with web.db.read() as s:
        view = triage.caseload(s, web.people["dana"], web.clinic.catalog)
    top = view.rows[0]
    assert top.case.label == "Z dropped" and top.severity == "act"
    # every item scored 4 (reverse items answered 2): 48 of 60; then every item scored 2: 24
    assert (top.alliance_instrument, top.alliance_total, top.alliance_change,
            top.trend) == ("alliance-12", 24.0, -24.0, "down")
    assert top.last_rating is not None
    overdue = {(d.instrument_id, d.rater) for d in top.due if d.state == "overdue"}
    assert overdue == {("alliance-12", "therapist"), ("wai-sr", "client")}
    quiet = view.rows[1]
    assert quiet.due == () and quiet.alliance_total is None and quiet.severity == "none"


def test_filters_and_search_narrow_the_page(web: Web) -> None:
    dropped, _ = make_case(web, web.people["dana"], label="Z dropped")
    plant_drop(web.db, web.people["dana"], dropped)
    make_case(web, web.people["dana"], label="A quiet case", sessions=0)
    dana = web.session_for("dana")
    page = dana.get("/dashboard").text
    assert "Z dropped" in page and "A quiet case" in page and "overdue" in page
    assert "ACT:" not in page, "the badge says the severity; the headline does not repeat it"
    act = dana.get("/dashboard?severity=act").text
    assert "Z dropped" in act and "A quiet case" not in act
    assert "A quiet case" in dana.get("/dashboard?severity=none").text
    over = dana.get("/dashboard?overdue=1").text
    assert "Z dropped" in over and "A quiet case" not in over
    found = dana.get("/dashboard?q=quiet").text
    assert "A quiet case" in found and "Z dropped" not in found
    assert "No case matches" in dana.get("/dashboard?q=nothing-like-it").text


def test_supervisor_filters_by_clinician(web: Web) -> None:
    make_case(web, web.people["dana"], label="Supervised case", sessions=0)
    lee = web.session_for("lee")
    assert "Supervised case" in lee.get("/dashboard").text
    mine = lee.get(f"/dashboard?clinician={web.people['dana'].id}").text
    assert "Supervised case" in mine
    other = lee.get(f"/dashboard?clinician={web.people['sam'].id}").text
    assert "Supervised case" not in other and "No case matches" in other


def test_bad_filters_are_readable_400s(web: Web) -> None:
    dana = web.session_for("dana")
    r = dana.get("/dashboard?severity=urgent")
    assert r.status_code == 400 and "severity" in r.text and "act" in r.text
    r = dana.get("/dashboard?clinician=dana")
    assert r.status_code == 400 and "not a whole number" in r.text
    assert dana.get("/dashboard?q=" + "x" * 201).status_code == 400
