"""``drop``, ``low_alliance``, ``early_warning`` and ``ceiling``: hand-computed cases and
properties."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.monitoring import monitor_case

from .conftest import a12, case_dict, one_case


def kinds(report, kind):  # type: ignore[no-untyped-def]
    return [s for s in report.signals if s.kind == kind]


def test_fall_of_one_point_on_pulse_meets_absolute_and_strict_but_not_reliable(build) -> None:
    # pulse-3: absolute drop 1, sd_change norm 0.5 (history too short), so 2 SD = 1.0;
    # RCI = -1 / (sqrt(2) * 0.9 * sqrt(1 - 0.8)) = -1.757 > -1.96: not a reliable change.
    report = monitor_case(build([6, 6, 5]))
    (drop,) = kinds(report, "drop")
    ev = drop.evidence
    assert (drop.session, drop.severity) == (3, "act")
    assert ev["absolute"]["met"] and ev["lenient_1sd"]["met"] and ev["strict_2sd"]["met"]
    assert ev["strict_2sd"]["sd"] == 0.5 and ev["strict_2sd"]["own_history"] == 0
    assert not ev["reliable_change"]["met"]
    assert math.isclose(ev["reliable_change"]["rci"], -1 / (math.sqrt(2) * 0.9 * math.sqrt(0.2)))


def test_drop_of_two_sd_of_own_history_uses_the_raters_own_changes() -> None:
    # alliance-12 totals 40 48 40 48 40 32: at the last change the rater's own earlier changes
    # (+8 -8 +8 -8) have sample SD sqrt(256/3) = 9.238 > the 3.5 norm floor, so the fall of 8
    # is below 1 SD; it still passes the absolute threshold (5) and the RCI:
    # -8 / (sqrt(2) * 7 * sqrt(0.1)) = -2.556 <= -1.96.
    levels = [(3, 3, 4), (4, 4, 4), (3, 3, 4), (4, 4, 4), (3, 3, 4), (3, 3, 2)]
    report = monitor_case(one_case(case_dict(levels, instrument="alliance-12",
                                             items=lambda v: a12(*v))))
    last = kinds(report, "drop")[-1]
    ev = last.evidence
    assert (last.session, ev["from_score"], ev["to_score"]) == (6, 40.0, 32.0)
    assert ev["lenient_1sd"]["own_history"] == 4
    assert math.isclose(ev["lenient_1sd"]["sd"], math.sqrt(256 / 3))
    assert not ev["lenient_1sd"]["met"] and not ev["strict_2sd"]["met"]
    assert ev["absolute"]["met"] and ev["reliable_change"]["met"]
    assert last.severity == "watch"
    # the first fall (48 -> 40, one change of history) is judged against the norm: 8 >= 7
    first = kinds(report, "drop")[0]
    assert (first.session, first.severity, first.evidence["strict_2sd"]["sd"]) == (3, "act", 3.5)


def test_rise_is_never_a_drop(build) -> None:
    assert kinds(monitor_case(build([3, 5, 7])), "drop") == []


def test_low_alliance_is_watch_then_act_on_the_second_low_in_a_row(build) -> None:
    report = monitor_case(build([6, 6, 6, 4, 4, 6]))
    low = kinds(report, "low_alliance")
    assert [(s.session, s.severity, s.evidence["consecutive_low"]) for s in low] == [
        (4, "watch", 1), (5, "act", 2)]
    assert low[0].evidence["cutoff"] == 5


def test_early_warning_for_low_or_falling_in_the_first_three_sessions(build) -> None:
    report = monitor_case(build([4, 6, 5, 3]))
    early = kinds(report, "early_warning")
    assert [(s.session, s.severity) for s in early] == [(1, "act"), (3, "watch")]
    assert early[1].evidence["falling"] and not early[1].evidence["below_cutoff"]


def test_ceiling_from_three_maximum_ratings_without_variance(build) -> None:
    (sig,) = kinds(monitor_case(build([7, 7, 7, 7])), "ceiling")
    assert (sig.session, sig.severity, sig.ambiguous) == (3, "watch", False)
    assert kinds(monitor_case(build([7, 7, 6])), "ceiling") == []


def test_ceiling_is_ambiguous_when_deference_is_a_cultural_norm(build) -> None:
    case = build([7, 7, 7], extra={"context": {"normative_cues": ["deference"]}})
    (sig,) = kinds(monitor_case(case), "ceiling")
    assert (sig.severity, sig.ambiguous) == ("info", True)
    assert "check in" in sig.explanation


@settings(max_examples=40, deadline=None)
@given(value=st.integers(1, 7), n=st.integers(1, 15))
def test_constant_series_yields_no_drop(value: int, n: int) -> None:
    report = monitor_case(one_case(case_dict([value] * n)))
    assert not [s for s in report.signals if s.kind in ("drop", "rupture_repair")]
    assert not [e for e in report.episodes]


SESSION = st.tuples(
    st.sampled_from(["attended", "attended", "attended", "late", "cancelled", "late_cancelled",
                     "no_show"]),
    st.sampled_from(["none", "completed", "partial", "not_done"]),
    st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7)),
)


@settings(max_examples=60, deadline=None)
@given(sessions=st.lists(SESSION, min_size=2, max_size=14), cut=st.integers(1, 13))
def test_appending_sessions_never_changes_signals_about_earlier_sessions(sessions, cut) -> None:  # type: ignore[no-untyped-def]
    cut = min(cut, len(sessions) - 1)

    def report(part):  # type: ignore[no-untyped-def]
        data = case_dict([s[2] for s in part], attendance=[s[0] for s in part],
                         homework=[s[1] for s in part])
        return monitor_case(one_case(data))

    before = [s.to_dict() for s in report(sessions[:cut]).signals]
    after = [s.to_dict() for s in report(sessions).signals if s.session <= cut]
    assert after == before
