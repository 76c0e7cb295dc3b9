"""``container_strain`` and ``homework``: hand-computed patterns."""

from __future__ import annotations

from alliance.monitoring import monitor_case


def signals(case, kind):  # type: ignore[no-untyped-def]
    return [(s.session, s.severity, s.evidence["patterns"]) for s in monitor_case(case).signals
            if s.kind == kind]


def test_single_late_cancellation_is_info_and_a_repeat_within_four_is_watch(build) -> None:
    att = ["attended", "late_cancelled", "attended", "no_show", "no_show"]
    found = signals(build([6] * 5, attendance=att), "container_strain")
    assert found == [(2, "info", ["late_cancellation"]),
                     (4, "watch", ["no_show", "recurrent_missed"]),
                     (5, "act", ["no_show", "missed_run"])]


def test_three_late_arrivals_in_a_row_are_a_lateness_streak(build) -> None:
    att = ["attended", "late", "late", "late"]
    assert signals(build([6] * 4, attendance=att), "container_strain") == [
        (4, "watch", ["lateness_streak"])]


def test_rising_cancellation_rate(build) -> None:
    # last four sessions: 3 of 4 cancelled (0.75) against 0 of 4 before: a rise of 0.75
    att = ["attended"] * 4 + ["cancelled", "attended", "cancelled", "cancelled"]
    assert signals(build([6] * 8, attendance=att), "container_strain") == [
        (8, "watch", ["rising_cancellations"])]


def test_homework_run_and_rate(build) -> None:
    hw = ["none", "completed", "partial", "not_done", "not_done"]
    assert signals(build([6] * 5, homework=hw), "homework") == [
        (4, "watch", ["run"]), (5, "act", ["run", "rate"])]


def test_sessions_without_homework_do_not_break_a_run(build) -> None:
    hw = ["none", "partial", "none", "not_done"]
    assert signals(build([6] * 4, homework=hw), "homework") == [(4, "watch", ["run"])]
