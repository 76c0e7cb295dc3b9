"""Not on track beside the alliance: hand-computed against a hand-made curve.

The curve: PHQ-9 expected change -3 per unit of ln(rank), variance 4 (SD 2), z = 2, so the
band's upper edge is ``intake - 3 ln t + 4``. Intake 20: rank 2 → 17.92 + 4 = 21.92; rank 3 →
16.70 + 4 = 20.70.
"""

from __future__ import annotations

import math
from typing import Any

from alliance.monitoring import monitor_case, parse_cases
from alliance.monitoring.alerts import findings
from alliance.monitoring.guidance import repair_steps
from alliance.monitoring.outcomes import ExpectedCurve, ExpectedResponse
from alliance.monitoring.progress import assess_progress
from alliance.monitoring.signals import Signal

MODEL = ExpectedResponse(
    instrument="phq-9", higher_is="worse", z=2.0, source="hand-made",
    curves=(ExpectedCurve("all", -math.inf, math.inf, -3.0, 4.0, 0.0, 10),))


def phq(total: int) -> dict[str, int]:
    """PHQ-9 items summing to ``total`` (0-27)."""
    return {f"phq{i}": min(3, max(0, total - 3 * (i - 1))) for i in range(1, 10)}


def case(alliance: list[int], outcome: list[int]) -> Any:
    sessions = [{"number": n, "attendance": "attended", "ratings": [
        {"rater": "m1", "instrument": "pulse-3", "items": {"bond": a, "goal": a, "task": a}},
        {"rater": "m1", "instrument": "phq-9", "items": phq(o)}]}
        for n, (a, o) in enumerate(zip(alliance, outcome, strict=True), 1)]
    return parse_cases({"cases": [{"id": "c1", "modality": "individual",
                                   "members": [{"id": "m1", "role": "client"}],
                                   "sessions": sessions}]})[0]


def test_outcome_above_the_band_twice_is_not_on_track_from_the_second() -> None:
    c = case([6, 6, 6], [20, 22, 21])           # 22 > 21.92, 21 > 20.70
    p = assess_progress(c, monitor_case(c), {"phq-9": MODEL})
    (sig,) = [s for s in p.report.signals if s.kind == "not_on_track"]
    assert p.not_on_track and sig.session == 3 and sig.severity == "act"
    assert sig.evidence["limit"] == round(20 - 3 * math.log(3) + 4, 1) == 20.7
    assert sig.evidence["expected"] == 16.7


def test_one_rating_inside_the_band_is_on_track() -> None:
    c = case([6, 6, 6], [20, 21, 21])           # 21 < 21.92 at rank 2: the run is broken
    p = assess_progress(c, monitor_case(c), {"phq-9": MODEL})
    assert not p.not_on_track
    assert not any(s.kind == "not_on_track" for s in p.report.signals)
    assert p.to_dict()["outcome"][0]["points"][1]["off_track"] is False


def test_not_on_track_with_falling_alliance_leads_with_alliance_repair() -> None:
    c = case([6, 6, 3], [20, 22, 21])
    p = assess_progress(c, monitor_case(c), {"phq-9": MODEL})
    assert p.alliance_strained
    alert = p.report.alert
    assert alert is not None and alert.severity == "act"
    assert alert.headline.startswith("ACT: Not on track on phq-9 and the alliance is low or "
                                     "falling")
    assert alert.steps[0].phase == "alliance_first"        # type: ignore[union-attr]
    assert alert.evidence[0].kind == "not_on_track"


def test_not_on_track_with_a_sound_alliance_asks_for_a_plan_review() -> None:
    c = case([6, 6, 6], [20, 22, 21])
    p = assess_progress(c, monitor_case(c), {"phq-9": MODEL})
    assert not p.alliance_strained
    assert p.report.alert is not None
    assert "alliance sound" in p.report.alert.headline
    assert p.report.alert.steps[0].phase == "review_plan"  # type: ignore[union-attr]


def test_instrument_without_curves_is_not_tracked() -> None:
    c = case([6, 6, 3], [20, 22, 21])
    report = monitor_case(c)
    p = assess_progress(c, report, {})
    assert not p.not_on_track and p.report is report


def test_one_low_point_is_one_finding_with_its_criteria() -> None:
    ev = [Signal("early_warning", 3, "m1", "act", {}, "early"),
          Signal("low_alliance", 3, "m1", "watch", {}, "low"),
          Signal("drop", 3, "m1", "act", {}, "drop"),
          Signal("homework", 2, None, "watch", {}, "homework")]
    out = findings(ev)
    assert [f["kinds"] for f in out] == [["drop", "early_warning", "low_alliance"],
                                         ["homework"]]
    assert out[0]["criteria"] == ["a drop", "early warning", "below the cutoff"]
    assert out[0]["severity"] == "act" and out[0]["explanation"] == "drop"


def test_early_warning_in_session_one_does_not_speak_of_an_earlier_level() -> None:
    c = parse_cases({"cases": [{"id": "c1", "modality": "individual",
                                "members": [{"id": "m1", "role": "client"}],
                                "sessions": [{"number": 1, "attendance": "attended",
                                              "ratings": [{"rater": "m1",
                                                           "instrument": "pulse-3",
                                                           "items": {"bond": 2, "goal": 2,
                                                                     "task": 2}}]}]}]})[0]
    alert = monitor_case(c).alert
    assert alert is not None
    assert not any("earlier level" in str(s) for s in alert.steps)
    assert any("earlier level" in str(s) for s in repair_steps("unspecified", None))


def test_chart_draws_the_outcome_under_the_alliance_with_a_legend_for_every_mark() -> None:
    from alliance.monitoring.plot import trajectory_figure

    c = case([6, 6, 3], [20, 22, 21])
    p = assess_progress(c, monitor_case(c), {"phq-9": MODEL})
    fig = trajectory_figure(c, p.report, tracks=p.tracks)
    names = {t.name for t in fig.data if t.showlegend is not False}
    assert {"phq-9: expected path", "phq-9: outside the band (worse)",
            "phq-9: tolerance band (all)", "below pulse-3 cutoff"} <= names
    outcome = next(t for t in fig.data if t.name == "m1 · phq-9 total")
    assert list(outcome.y) == [20, 22, 21] and outcome.yaxis == "y2"   # raw, middle panel
    alliance = next(t for t in fig.data if t.name == "m1 · pulse-3 total")
    assert list(alliance.y) == [6, 6, 3]                               # raw, one instrument
    assert fig.layout.yaxis.title.text == "pulse-3 total"
