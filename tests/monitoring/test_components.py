"""``component_deficit``: the weakest of bond, goal and task, against the others and history."""

from __future__ import annotations

from alliance.monitoring import monitor_case

from .conftest import a12, case_dict, one_case


def deficits(levels):  # type: ignore[no-untyped-def]
    case = one_case(case_dict(levels, instrument="alliance-12", items=lambda v: a12(*v)))
    return [s for s in monitor_case(case).signals if s.kind == "component_deficit"]


def test_new_task_deficit_is_acted_on() -> None:
    # subscale pom = (v - 1) * 25: task 25 vs bond and goal 75 is a gap of 50 >= 20, and
    # 50 points wider than task's earlier gaps (0) >= 15
    (sig,) = deficits([(4, 4, 4), (4, 4, 4), (4, 4, 2)])
    assert (sig.session, sig.severity, sig.evidence["component"]) == (3, "act", "task")
    assert sig.evidence["gap_pom"] == 50.0 and sig.evidence["own_earlier_gap_pom"] == 0.0
    assert "renegotiate the tasks" in sig.explanation


def test_stable_profile_is_info_after_the_first_session() -> None:
    sigs = deficits([(4, 4, 2), (4, 4, 2), (4, 4, 2)])
    assert [(s.session, s.severity) for s in sigs] == [(1, "watch"), (2, "info"), (3, "info")]


def test_small_gap_is_not_a_deficit() -> None:
    # goal 50 vs bond and task 75: gap 25 >= 20 is a deficit
    assert [s.evidence["component"] for s in deficits([(4, 4, 4), (4, 3, 4)])] == ["goal"]
    # goal 75 and task 75 vs bond 100: the weakest (goal, first of the tie) is 12.5 below
    # the mean of the others: no deficit
    assert deficits([(4, 4, 4), (5, 4, 4)]) == []


def test_rupture_lowering_every_component_alike_is_not_a_deficit() -> None:
    assert deficits([(4, 4, 4), (4, 4, 4), (2, 2, 2), (2, 2, 2)]) == []
