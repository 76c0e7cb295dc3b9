"""Alerts on the caseload and case page: planted drop, acknowledge, resolve, history."""

from __future__ import annotations

import pytest
from tests.web.conftest import Web, make_case, plant_drop

from alliance.errors import AlertStateError, PermissionDenied
from alliance.store import alerts
from alliance.store.actors import get_case
from alliance.store.monitoring import case_monitors, load_cases


def _monitor(web: Web, case_id: int):  # type: ignore[no-untyped-def]
    while web.worker.monitor_once():
        pass
    with web.db.read() as s:
        case = get_case(s, web.people["dana"], case_id)
        return case_monitors(s, [case])[case_id]


def test_rows_become_a_typed_monitoring_case(web: Web) -> None:
    from alliance.store import cases

    case_id, _ = make_case(web, web.people["dana"], modality="couple", members=("A", "B"))
    plant_drop(web.db, web.people["dana"], case_id)
    with web.db.read() as s:
        loaded = load_cases(s, [case_id], web.clinic.catalog)[case_id]
        first = cases.members(s, case_id)[0]
    parsed = loaded.case
    assert parsed.modality == "couple" and len(parsed.sessions) == 6
    assert parsed.sessions[1].ratings[0].rater == parsed.members[0].id == f"m{first.id}"
    assert loaded.labels[f"m{first.id}"] == "A"


def test_planted_drop_opens_an_alert_at_the_top_of_the_caseload(web: Web) -> None:
    quiet, _ = make_case(web, web.people["dana"], label="A quiet case")
    plant_drop(web.db, web.people["dana"], quiet, high=4, low=4)
    dropped, _ = make_case(web, web.people["dana"], label="Z dropped")
    plant_drop(web.db, web.people["dana"], dropped)
    monitor = _monitor(web, dropped)
    assert monitor.alert is not None and monitor.status == "open"
    assert monitor.alert["steps"], "an alert carries repair steps"
    page = web.session_for("dana").get("/dashboard").text
    assert page.index("Z dropped") < page.index("A quiet case")
    case_page = web.session_for("dana").get(f"/cases/{dropped}").text
    assert "Repair steps" in case_page and "Acknowledge" in case_page


def test_acknowledge_then_resolve_with_note_keeps_the_history(web_any: Web) -> None:
    web = web_any
    case_id, _ = make_case(web, web.people["dana"])
    plant_drop(web.db, web.people["dana"], case_id)
    alert_id = _monitor(web, case_id).alert_id
    client = web.session_for("dana")
    url = f"/cases/{case_id}/alerts/{alert_id}"
    assert client.post(url, data={"csrf": client.csrf, "action": "acknowledge"}  # type: ignore[attr-defined]
                       ).status_code == 303
    refused = client.post(url, data={"csrf": client.csrf, "action": "resolve"})  # type: ignore[attr-defined]
    assert refused.status_code == 400 and "note" in refused.text
    assert client.post(url, data={"csrf": client.csrf, "action": "resolve",  # type: ignore[attr-defined]
                                  "note": "talked it through"}).status_code == 303
    monitor = _monitor(web, case_id)
    assert monitor.status == "resolved"
    assert [(e.action, e.status) for e in monitor.history] == [
        ("open", "open"), ("acknowledge", "acknowledged"), ("resolve", "resolved")]
    assert "talked it through" in client.get(f"/cases/{case_id}").text


def test_resolved_alert_reopens_when_newer_evidence_arrives(web: Web) -> None:
    dana = web.people["dana"]
    case_id, _ = make_case(web, dana)
    plant_drop(web.db, dana, case_id)
    first = _monitor(web, case_id)
    with web.db.write() as s:
        alerts.transition(s, dana, case_id, first.alert_id or "", "resolve", note="ok",
                          latest_session=first.alert["latest_session"])  # type: ignore[index]
    plant_drop(web.db, dana, case_id, before=1)  # one more high session, then a new drop
    again = _monitor(web, case_id)
    assert again.alert is not None and again.status == "open"


def test_illegal_transition_and_supervisor_action_are_refused(web: Web) -> None:
    case_id, _ = make_case(web, web.people["dana"])
    plant_drop(web.db, web.people["dana"], case_id)
    alert_id = _monitor(web, case_id).alert_id or ""
    with web.db.write() as s, pytest.raises(AlertStateError):
        alerts.transition(s, web.people["dana"], case_id, alert_id, "reopen")
    with web.db.write() as s, pytest.raises(PermissionDenied):
        alerts.transition(s, web.people["lee"], case_id, alert_id, "acknowledge")


def test_an_alert_that_fires_and_clears_unseen_leaves_its_rows(web: Web) -> None:
    from sqlalchemy import select

    from alliance.store import surveys
    from alliance.store.models import AlertFlip, Response

    case_id, _ = make_case(web, web.people["dana"])
    plant_drop(web.db, web.people["dana"], case_id)
    opened = _monitor(web, case_id)
    assert opened.alert is not None
    with web.db.write() as s:
        last = s.scalars(select(Response).where(Response.case_id == case_id)
                         .order_by(Response.id.desc())).first()
        assert last is not None
        surveys.void_response(s, web.people["dana"], case_id, last.id, "wrong client")
    assert _monitor(web, case_id).alert is None
    with web.db.read() as s:
        rows = s.scalars(select(AlertFlip).where(AlertFlip.case_id == case_id)
                         .order_by(AlertFlip.id)).all()
    assert [(f.change, f.alert_id) for f in rows] == [("opened", opened.alert_id),
                                                      ("cleared", opened.alert_id)]
    page = web.session_for("dana").get(f"/cases/{case_id}").text
    assert "What monitoring saw change (2)" in page


def test_flips_between_two_assessments() -> None:
    from alliance.store.monitoring import flips

    watch = {"id": "a1", "severity": "watch"}
    act = {"id": "a1", "severity": "act"}
    other = {"id": "a2", "severity": "info"}
    assert flips(None, watch) == [("opened", watch)]
    assert flips(watch, act) == [("escalated", act)]
    assert flips(act, watch) == []  # a softer reading of the same alert is not a flip
    assert flips(act, other) == [("cleared", act), ("opened", other)]
    assert flips(other, None) == [("cleared", other)]
    assert flips(None, None) == []


def test_a_worker_that_lost_its_lease_writes_nothing(web: Web) -> None:
    import datetime as dt

    from sqlalchemy import select

    from alliance.store.models import AlertFlip, CaseMonitor
    from alliance.store.monitoring import assess_due

    case_id, _ = make_case(web, web.people["dana"])
    plant_drop(web.db, web.people["dana"], case_id)
    c = web.clinic
    t0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    lease = dt.timedelta(minutes=5)
    with web.db.write() as s:  # a worker claimed the case, then was killed
        row = s.get(CaseMonitor, case_id)
        assert row is not None
        row.lease_until, row.lease_owner = t0 + lease, "dead-worker"
    assert assess_due(web.db, catalog=c.catalog, policy=c.policy, now=t0, lease=lease,
                      owner="w2") == 0, "a live lease is respected"
    assert assess_due(web.db, catalog=c.catalog, policy=c.policy, now=t0 + 2 * lease,
                      lease=lease, owner="w2") == 1, "an expired lease is taken over"
    with web.db.read() as s:
        assert len(s.scalars(select(AlertFlip).where(AlertFlip.case_id == case_id)).all()) == 1


def test_changes_within_the_spacing_share_one_assessment_that_still_comes(web: Web) -> None:
    import datetime as dt

    from alliance.store.models import CaseMonitor
    from alliance.store.monitoring import assess_due

    case_id, _ = make_case(web, web.people["dana"])
    plant_drop(web.db, web.people["dana"], case_id)
    c = web.clinic
    t0 = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    lease, spacing = dt.timedelta(minutes=5), dt.timedelta(seconds=10)

    def step(now: dt.datetime) -> int:
        return assess_due(web.db, catalog=c.catalog, policy=c.policy, now=now, lease=lease,
                          owner="w", spacing=spacing)

    assert step(t0) == 1, "a case never assessed does not wait"
    plant_drop(web.db, web.people["dana"], case_id, before=1)  # two more answers
    assert step(t0 + dt.timedelta(seconds=4)) == 0, "assessed 4 s ago: waits"
    with web.db.read() as s:
        row = s.get(CaseMonitor, case_id)
        assert row is not None and row.version > row.assessed_version  # still pending
    assert step(t0 + spacing) == 1, "due once the spacing has passed, all answers at once"
    with web.db.read() as s:
        row = s.get(CaseMonitor, case_id)
        assert row is not None and row.version == row.assessed_version
        assert row.assessments == 2


def test_the_background_loop_spaces_assessments_and_drain_does_not(web: Web) -> None:
    case_id, _ = make_case(web, web.people["dana"])
    plant_drop(web.db, web.people["dana"], case_id)
    assert web.worker.run_once(spaced=True)
    plant_drop(web.db, web.people["dana"], case_id, before=1)
    assert web.worker.monitor_once(spaced=True) == 0  # assessed a moment ago
    assert web.worker.monitor_once() == 1  # tests, `alliance worker --once` and drain: now


def test_cases_assessed_together_get_the_reports_they_get_alone(web: Web) -> None:
    from alliance.store.monitoring import assess, assess_all, report_dict

    ids = []
    for high, low in [(4, 2), (4, 4), (5, 1)]:
        case_id, _ = make_case(web, web.people["dana"], label=f"{high}-{low}")
        plant_drop(web.db, web.people["dana"], case_id, high=high, low=low)
        ids.append(case_id)
    c = web.clinic
    with web.db.read() as s:
        loaded = load_cases(s, ids, c.catalog)
    together = assess_all(loaded, c.policy, c.catalog, c.expected)
    for cid in ids:
        alone, error = assess(loaded[cid], c.policy, c.catalog, c.expected)
        report, error_together = together[cid]
        assert error == error_together == ""
        assert report_dict(report) == report_dict(alone)
    assert report_dict(together[ids[0]][0])["alert"] is not None  # a drop, not all quiet


def test_when_the_shared_panel_fails_each_case_is_assessed_alone(
        web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    import alliance.monitoring
    from alliance.store.monitoring import assess_all

    ids = []
    for label in ("A", "B"):
        case_id, _ = make_case(web, web.people["dana"], label=label)
        plant_drop(web.db, web.people["dana"], case_id)
        ids.append(case_id)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a rule's bug on one case of the panel")

    monkeypatch.setattr(alliance.monitoring, "monitor_cases", broken)
    c = web.clinic
    with web.db.read() as s:
        loaded = load_cases(s, ids, c.catalog)
    results = assess_all(loaded, c.policy, c.catalog, c.expected)
    assert all(report is not None and error == "" for report, error in results.values())
