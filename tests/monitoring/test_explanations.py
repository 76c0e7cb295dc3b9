"""Golden explanations: the exact sentences for hand-made cases (update deliberately)."""

from __future__ import annotations

from alliance.monitoring import monitor_case

from .conftest import a12, case_dict, one_case

GOLDEN = {
    ("drop", 3): "m1's alliance-12 total fell from 48 to 40 (−8) between sessions 2 and 3: "
                 "at least the absolute threshold of 5; at least 2 SD (SD 3.5, the "
                 "instrument's norm for session-to-session change); a reliable change (RCI "
                 "-2.56, reliability 0.9).",
    ("low_alliance", 3): "m1's alliance-12 total of 40 in session 3 is below the cutoff of 42.",
    ("early_warning", 3): "Early alliance warning: in session 3, m1's alliance-12 total of 40 "
                          "is below the cutoff of 42 and falling (−8 from the session before). "
                          "A weak alliance in the first 3 sessions predicts dropout; attend to "
                          "it now.",
    ("component_deficit", 3): "In session 3 task is m1's weakest component on alliance-12 (25 "
                              "of 100, 50 points below the other components; the gap is 50 "
                              "points wider than in m1's earlier sessions): renegotiate the "
                              "tasks: ask what makes the work or the homework hard and adapt "
                              "it together.",
    ("rupture_repair", 5): "Rupture repaired (strict 2 SD criterion): m1's alliance-12 total "
                           "fell from 48 after session 2 to 40 in session 3 and was back at 48 "
                           "by session 5. Repaired ruptures go with better outcomes; name what "
                           "helped.",
}


def test_explanations_read_exactly_as_written() -> None:
    levels = [(4, 4, 4), (4, 4, 4), (4, 4, 2), (4, 4, 3), (4, 4, 4)]
    report = monitor_case(one_case(case_dict(levels, instrument="alliance-12",
                                             items=lambda v: a12(*v))))
    found = {(s.kind, s.session): s.explanation for s in report.signals
             if s.kind != "rupture_repair" or s.evidence["criterion"] == "2sd"}
    for key, text in GOLDEN.items():
        assert found[key] == text, key


def test_alert_headline_and_first_step_are_golden(build) -> None:
    alert = monitor_case(build([6, 6, 6, 3, 4, 4, 4])).alert
    assert alert is not None
    # triggers in sessions 5-7: three low_alliance (act) and, at session 7, the unrepaired
    # episode under the absolute (watch), 1 SD (watch) and 2 SD (act) criteria
    assert alert.headline == ("ACT: Unrepaired rupture for m1, still below its earlier level at "
                              "session 7; 5 more signals")
    assert [(s.kind, s.session) for s in alert.evidence] == [
        ("low_alliance", 5), ("low_alliance", 6), ("low_alliance", 7),
        ("rupture_repair", 7), ("rupture_repair", 7), ("rupture_repair", 7)]
    assert str(alert.steps[0]).startswith("Notice the change in the ratings")
