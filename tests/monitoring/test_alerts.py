"""Alerts: opening rule, stable ids, repair steps and the appended status history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alliance.errors import AlertStateError
from alliance.monitoring import (
    apply_transition,
    current_status,
    monitor_case,
    open_event,
    repair_steps,
)

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_unrepaired_rupture_opens_an_act_alert_with_the_repair_sequence(build) -> None:
    report = monitor_case(build([6, 6, 6, 3, 4, 4, 4]))
    alert = report.alert
    assert alert is not None and alert.severity == "act"
    assert alert.headline.startswith("ACT: Unrepaired rupture for m1")
    phases = [s.phase for s in alert.steps]
    assert phases[0] == "notice" and phases[-1] == "feedback"
    assert phases.index("name") < phases.index("own_part") < phases.index("renegotiate")
    assert alert.to_dict().keys() == {"severity", "headline", "evidence", "findings",
                                      "steps"}


def test_no_alert_when_nothing_recent_calls_for_one(build) -> None:
    assert monitor_case(build([6, 6, 6, 6, 6])).alert is None
    # a repaired rupture long ago: no alert now
    assert monitor_case(build([6, 6, 6, 3, 6, 6, 6, 6, 6])).alert is None


def test_one_watch_signal_alone_does_not_open_an_alert(build) -> None:
    report = monitor_case(build([7, 7, 7, 7, 7]))   # ceiling (watch) only
    assert [s.kind for s in report.signals] == ["ceiling"] and report.alert is None


def test_alert_id_is_stable_and_follows_the_first_trigger(build) -> None:
    a = monitor_case(build([6, 6, 6, 3, 4, 4])).alert
    b = monitor_case(build([6, 6, 6, 3, 4, 4])).alert
    c = monitor_case(build([6, 6, 6, 3, 4, 4, 4])).alert
    assert a is not None and b is not None and c is not None
    assert a.id == b.id == c.id        # more evidence on the same strain: same alert
    assert a.id != monitor_case(build([6, 6, 6, 3, 4, 4], case_id="c2")).alert.id  # type: ignore[union-attr]


def test_steps_follow_rupture_type_and_weak_component() -> None:
    confront = repair_steps("confrontation", "goal")
    assert "curiosity" in confront[0].text and "goals" in confront[3].text
    withdraw = repair_steps("withdrawal", "task", container=True, split_member="m2")
    assert [s.phase for s in withdraw] == ["notice", "frame", "name", "name", "own_part",
                                           "renegotiate", "feedback"]
    assert "m2" in withdraw[3].text


def test_life_cycle_is_appended_rows(build) -> None:
    alert = monitor_case(build([6, 6, 6, 3, 4, 4, 4])).alert
    assert alert is not None
    history = [open_event(alert, T0)]
    history.append(apply_transition(history, "acknowledge", T0 + timedelta(hours=1), "dr.k"))
    history.append(apply_transition(history, "resolve", T0 + timedelta(days=1), "dr.k",
                                    "talked it through"))
    assert [(e.seq, e.action, e.status) for e in history] == [
        (1, "open", "open"), (2, "acknowledge", "acknowledged"), (3, "resolve", "resolved")]
    assert current_status(history) == "resolved"
    history.append(apply_transition(history, "reopen", T0 + timedelta(days=8), "monitor",
                                    evidence_session=alert.latest_session + 1))
    assert current_status(history) == "open"
    assert history[0].status == "open" and history[2].status == "resolved"  # nothing rewritten


@pytest.mark.parametrize("actions, bad, message", [
    ([], "acknowledge", "no history"),
    (["acknowledge"], "acknowledge", "is acknowledged; it cannot be acknowledged"),
    (["resolve"], "resolve", "is resolved; it cannot be resolved"),
    ([], "reopen", "is open; it cannot be reopened"),
    ([], "delete", "unknown action"),
])
def test_illegal_transitions_raise(build, actions, bad, message) -> None:  # type: ignore[no-untyped-def]
    alert = monitor_case(build([6, 6, 6, 3, 4, 4, 4])).alert
    assert alert is not None
    history = [] if message == "no history" else [open_event(alert, T0)]
    for n, action in enumerate(actions, 1):
        history.append(apply_transition(history, action, T0 + timedelta(hours=n), "dr.k"))
    with pytest.raises(AlertStateError, match=message):
        apply_transition(history, bad, T0 + timedelta(days=2), "dr.k")


def test_reopen_needs_newer_evidence_and_time_cannot_run_backwards(build) -> None:
    alert = monitor_case(build([6, 6, 6, 3, 4, 4, 4])).alert
    assert alert is not None
    history = [open_event(alert, T0)]
    history.append(apply_transition(history, "resolve", T0 + timedelta(hours=1), "dr.k"))
    with pytest.raises(AlertStateError, match="only be reopened by evidence"):
        apply_transition(history, "reopen", T0 + timedelta(hours=2), "monitor",
                         evidence_session=alert.latest_session)
    with pytest.raises(AlertStateError, match="before the last change"):
        apply_transition(history, "reopen", T0, "monitor", evidence_session=99)
    with pytest.raises(AlertStateError, match="actor"):
        apply_transition(history, "reopen", T0 + timedelta(hours=3), " ", evidence_session=99)


@pytest.mark.parametrize("values", [[2], [6, 2]])
def test_a_case_younger_than_the_alert_window_still_gets_its_alert(build, values) -> None:  # type: ignore[no-untyped-def]
    # Regression: fewer sessions than policy.alerts.recent_sessions (3) raised IndexError.
    report = monitor_case(build(values))
    assert report.alert is not None
    assert {s.kind for s in report.signals} >= {"low_alliance", "early_warning"}


def test_short_cases_give_the_same_result_per_case_and_in_batch(build) -> None:  # type: ignore[no-untyped-def]
    from alliance.monitoring import monitor_cases

    cases = [build([2]), build([6, 2], case_id="c2"), build([6, 6], case_id="c3")]
    per_case = [monitor_case(c).to_dict() for c in cases]
    assert [r.to_dict() for r in monitor_cases(cases)] == per_case


def test_build_alert_accepts_fewer_sessions_than_its_window(build) -> None:  # type: ignore[no-untyped-def]
    # Regression: build_alert indexed sorted(sessions)[-recent_sessions] and raised IndexError
    # for a case with fewer sessions than the window (3 by default).
    from alliance.monitoring import build_alert, default_policy

    report = monitor_case(build([2]))
    alert = build_alert("c1", report.signals, [1], default_policy())
    assert alert is not None and alert.severity == report.alert.severity  # type: ignore[union-attr]
