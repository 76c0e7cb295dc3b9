"""The practice scorer on the hybrid (embedding) coder: the real packaged model."""

from __future__ import annotations

import pytest

from alliance.training import PracticeSession, load_casebook, score_trainee_response
from alliance.training.coders import practice_coder

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def hybrid():  # type: ignore[no-untyped-def]
    coder = practice_coder("hybrid")
    assert coder.mode == "hybrid"
    return coder


def test_hybrid_scoring_keeps_the_shape_and_the_clear_verdicts(hybrid) -> None:  # type: ignore[no-untyped-def]
    good = score_trainee_response("I notice you've gone quiet, and I think I pushed the "
                                  "sheets too hard. What has it been like for you?",
                                  "Didn't get to it. Busy week.", coder=hybrid)
    assert good.verdict == "repair"
    bad = score_trainee_response("Why are you so lazy about this? Be honest.",
                                 "Didn't get to it. Busy week.", coder=hybrid)
    assert bad.verdict == "judgmental"
    assert list(good.to_dict()) == ["codes", "steps", "technique_before_repair", "score",
                                    "verdict", "good", "to_improve", "alternative"]


def test_a_hybrid_repair_play_through_still_beats_technique_first(hybrid) -> None:  # type: ignore[no-untyped-def]
    case = load_casebook()["not-helping"]
    repair = PracticeSession(case, hybrid)
    technique = PracticeSession(case, hybrid)
    for stage in case.stages:
        repair.respond(stage.alternative)
        technique.respond("Let's keep going with the breathing exercise as planned.")
    total = lambda s: s.record().rating["scores"]["total"]["raw"]  # noqa: E731
    assert total(repair) > total(technique)


def test_with_the_model_the_verdict_head_decides(hybrid) -> None:  # type: ignore[no-untyped-def]
    s = score_trainee_response("Okay, I want you to rate how anxious you are right now from "
                               "0 to 10.", "You're going to think I'm crazy.", coder=hybrid)
    assert "verdict head" in s.evidence["verdict"]
    assert s.verdict == "technique_first" and s.technique_before_repair


def test_the_cli_default_uses_the_model_when_it_loads() -> None:
    import json

    from click.testing import CliRunner

    from alliance.cli import main

    r = CliRunner().invoke(main, ["practice", "score", "I may have pushed too hard. What "
                                  "has it been like for you?", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["verdict"] in ("repair", "partial")
