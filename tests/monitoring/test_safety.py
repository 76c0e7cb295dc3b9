"""A risk answer leads the alert: hand-made cases, PHQ-9 item 9 answered above 0 (the
question's wording is never needed: only the item id and the answer)."""

from __future__ import annotations

from typing import Any

from alliance.monitoring import monitor_case, parse_cases
from alliance.monitoring.alerts import alert_id
from alliance.monitoring.safety import STEPS, fold_risk, risk_signals


def case(item9: list[int], alliance: list[int] | None = None) -> Any:
    """One client; session n has PHQ-9 items 1-8 at 1 and item 9 at ``item9[n - 1]``, and a
    pulse-3 rating of ``alliance[n - 1]`` on every item (6 when not given)."""
    levels = alliance or [6] * len(item9)
    return parse_cases({"cases": [{"id": "c1", "modality": "individual",
        "members": [{"id": "m1", "role": "client"}],
        "sessions": [{"number": n, "attendance": "attended", "ratings": [
            {"rater": "m1", "instrument": "pulse-3",
             "items": {"bond": a, "goal": a, "task": a}},
            {"rater": "m1", "instrument": "phq-9",
             "items": {**{f"phq{i}": 1 for i in range(1, 9)}, "phq9": r}}]}
            for n, (r, a) in enumerate(zip(item9, levels, strict=True), start=1)]}]})[0]


def test_item_9_above_zero_opens_an_act_alert_with_the_safety_steps() -> None:
    c = case([0, 0, 2])
    report = fold_risk(c, monitor_case(c))
    alert = report.alert
    assert alert is not None and alert.severity == "act"
    assert alert.headline == ("ACT: Safety: m1 answered a safety question on phq-9 "
                              "(item phq9: 2) in session 3: contact the client today")
    assert tuple(str(s) for s in alert.steps) == STEPS
    (risk,) = [s for s in report.signals if s.kind == "risk"]
    assert (risk.session, risk.member, risk.severity) == (3, "m1", "act")
    assert risk.evidence["items"] == {"phq9": 2.0}


def test_an_answer_at_the_floor_raises_nothing() -> None:
    c = case([0, 0, 0])
    assert risk_signals(c) == []
    assert fold_risk(c, monitor_case(c)).alert is None


def test_a_risk_answer_older_than_the_last_three_sessions_no_longer_leads() -> None:
    # sessions 1-5, risk at 2: the recent window is sessions 3, 4, 5
    c = case([0, 1, 0, 0, 0])
    report = fold_risk(c, monitor_case(c))
    assert report.alert is None                         # the alliance is steady at 6 of 7
    assert [s.session for s in report.signals if s.kind == "risk"] == [2]   # still on record
    # at 4 sessions the window is 2, 3, 4: it still leads
    c4 = case([0, 1, 0, 0])
    assert fold_risk(c4, monitor_case(c4)).alert is not None


def test_risk_leads_an_alliance_alert_and_keeps_its_steps_after_the_safety_steps() -> None:
    # pulse-3 6, 6, 3: a drop at session 3 (the alliance rules' own alert), and item 9 = 1
    c = case([0, 0, 1], alliance=[6, 6, 3])
    plain = monitor_case(c)
    assert plain.alert is not None and not plain.alert.headline.startswith("ACT: Safety")
    folded = fold_risk(c, plain)
    assert folded.alert is not None
    assert folded.alert.headline.startswith("ACT: Safety: m1")
    assert folded.alert.evidence[0].kind == "risk"
    assert {s.kind for s in folded.alert.evidence} >= {"risk", "drop"}
    steps = [str(s) for s in folded.alert.steps]
    assert tuple(steps[:len(STEPS)]) == STEPS and len(steps) > len(STEPS)
    # its own id: acknowledging the alliance alert earlier does not hide the risk
    assert folded.alert.id != plain.alert.id
    assert folded.alert.id != alert_id("c1", 3)
