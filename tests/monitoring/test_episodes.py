"""``rupture_repair``: V-shaped episodes under the absolute, 1 SD and 2 SD criteria."""

from __future__ import annotations

from alliance.monitoring import monitor_case


def test_drop_that_returns_within_the_window_is_repaired(build) -> None:
    report = monitor_case(build([6, 6, 6, 3, 4, 6]))
    assert {e.criterion for e in report.episodes} == {"absolute", "1sd", "2sd"}
    for ep in report.episodes:
        assert ep.to_dict() == {"start_session": 3, "low_session": 4, "end_session": 6,
                                "status": "repaired", "criterion": ep.criterion}
    repaired = [s for s in report.signals if s.kind == "rupture_repair"]
    assert {(s.session, s.severity) for s in repaired} == {(6, "info")}


def test_drop_still_below_after_the_window_is_unrepaired(build) -> None:
    report = monitor_case(build([6, 6, 6, 3, 4, 4, 4, 5]))
    (ep,) = [e for e in report.episodes if e.criterion == "2sd"]
    assert (ep.start_session, ep.low_session, ep.end_session, ep.status) == (3, 4, 7,
                                                                              "unrepaired")
    sig = [s for s in report.signals if s.kind == "rupture_repair"
           and s.evidence["criterion"] == "2sd"]
    assert [(s.session, s.severity) for s in sig] == [(7, "act")]
    assert report.alert is not None and report.alert.severity == "act"


def test_episode_inside_its_window_at_the_end_is_open_and_not_yet_a_signal(build) -> None:
    report = monitor_case(build([6, 6, 6, 3, 4]))
    assert all(e.status == "unrepaired" and e.end_session is None for e in report.episodes)
    assert not [s for s in report.signals if s.kind == "rupture_repair"]


def test_missed_sessions_are_skipped_when_counting_the_window(build) -> None:
    # session 5 was cancelled: the window counts rated sessions 6, 7 and 8
    report = monitor_case(build([6, 6, 6, 3, None, 4, 4, 6],
                                attendance=["attended"] * 4 + ["cancelled"] + ["attended"] * 3))
    (ep,) = [e for e in report.episodes if e.criterion == "2sd"]
    assert (ep.end_session, ep.status) == (8, "repaired")
