"""Scoring a trainee response: worked examples, the JSON shape, coder codes, bad input."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from alliance.errors import TrainingError
from alliance.training import load_casebook, score_trainee_response
from alliance.training.feedback import CODE_STEPS, MAX_CHARS
from alliance.training.verdicts import VERDICTS

CLIENT = "Didn't get to it. Busy week."


@pytest.mark.parametrize(("response", "client", "verdict", "steps"), [
    ("I notice the sheet came back empty again. I think I've been pushing the worksheets "
     "harder than made sense. What has it been like for you?", CLIENT, "repair",
     {"noticed", "named", "invited", "responsibility"}),
    ("So the sheet ends up feeling like another test you're failing. Could we find "
     "something smaller together?", "Sitting there with that sheet makes me feel thick.",
     "repair", {"noticed", "reflected", "renegotiated"}),
    ("Busy week. What happened?", CLIENT, "partial", set()),
    ("I'm so sorry, I'm a terrible therapist, I've failed you.", CLIENT, "partial",
     {"noticed"}),
    ("Let's fill in the thought record together now so you get the hang of it.", CLIENT,
     "technique_first", set()),
    ("You need to take responsibility for your homework; that's part of getting better.",
     CLIENT, "technique_first", set()),
    ("I did explain at the start that homework is part of the work.", CLIENT, "defensive",
     {"noticed"}),
    ("Two weeks running. Why are you so unwilling to try?", CLIENT, "judgmental",
     {"noticed"}),
])
def test_worked_scoring_examples(response: str, client: str, verdict: str,
                                 steps: set[str]) -> None:
    s = score_trainee_response(response, client)
    assert s.verdict == verdict
    assert {k for k, v in s.steps.items() if v} == steps


def test_json_shape_is_exactly_the_documented_one() -> None:
    d = score_trainee_response("I may have pushed too hard. How has it been for you?",
                               CLIENT).to_dict()
    assert list(d) == ["codes", "steps", "technique_before_repair", "score", "verdict",
                       "good", "to_improve", "alternative"]
    assert list(d["steps"]) == ["noticed", "named", "invited", "responsibility",
                                "renegotiated", "reflected"]
    assert all(isinstance(v, bool) for v in d["steps"].values())
    assert 0 <= d["score"] <= 1 and d["verdict"] in VERDICTS
    assert isinstance(d["codes"], list) and d["alternative"]
    json.dumps(d)


def test_over_apology_does_not_count_as_taking_responsibility() -> None:
    s = score_trainee_response("I'm so sorry, I've harmed you, I feel terrible.", CLIENT)
    assert not s.steps["responsibility"]
    assert any("over-apology" in t for t in s.to_improve)


def test_harm_caps_the_score_below_any_repair() -> None:
    harm = score_trainee_response("I notice you're quiet. Why are you so difficult? What "
                                  "do you want from me?", CLIENT)
    good = score_trainee_response("I notice you're quiet. I may have pushed. What do you "
                                  "make of it?", CLIENT)
    assert harm.verdict == "judgmental" and harm.score <= 0.2 < good.score


def test_every_response_gets_feedback_and_an_alternative() -> None:
    for text in ("Okay.", "Let's do the exercise.", "I hear you, and I may have rushed."):
        s = score_trainee_response(text, CLIENT)
        assert s.good or s.to_improve
        assert s.alternative


def test_case_and_stage_give_the_stage_alternative_and_client_line() -> None:
    case = load_casebook()["not-helping"]
    s = score_trainee_response("Let's keep going with the breathing.", case=case, stage=2)
    assert s.alternative == case.stage(2).alternative
    assert s.verdict == "technique_first"


def test_stage_out_of_range_is_a_training_error() -> None:
    with pytest.raises(TrainingError, match="stages 1-3, not 7"):
        score_trainee_response("Hello.", case=load_casebook()["not-helping"], stage=7)


def test_stage_without_case_is_refused() -> None:
    with pytest.raises(TrainingError, match="--stage needs --case"):
        score_trainee_response("Hello.", stage=1)


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_response_is_a_training_error(text: str) -> None:
    with pytest.raises(TrainingError, match="the response is empty"):
        score_trainee_response(text, CLIENT)


def test_oversized_response_is_a_training_error() -> None:
    with pytest.raises(TrainingError, match="102,400 characters"):
        score_trainee_response("a" * 102_400, CLIENT)
    with pytest.raises(TrainingError, match="client line"):
        score_trainee_response("Okay.", "b" * (MAX_CHARS + 1))


@dataclass(frozen=True)
class _Code:
    code: str

    @property
    def family(self) -> str:
        return self.code.split(".")[0]


@dataclass(frozen=True)
class _Utt:
    codes: tuple[_Code, ...]


class _CoderV2:
    """Stands in for a coder whose codebook has the coder-v2 codes (not the real coder)."""

    def __init__(self, codes: tuple[str, ...]) -> None:
        self.codes = codes

    def code(self, transcript: object) -> list[_Utt]:
        return [_Utt((_Code("withdrawal.minimal_response"),)),
                _Utt(tuple(_Code(c) for c in self.codes))]


def test_coder_v2_codes_count_as_steps_and_harms() -> None:
    assert CODE_STEPS["bond.reflection"] == "reflected"
    s = score_trainee_response("Mm.", CLIENT, coder=_CoderV2(("bond.reflection",
                                                              "collaboration.elicit")))
    assert s.steps["reflected"] and s.steps["invited"] and s.verdict == "repair"
    assert s.codes == ("bond.reflection", "collaboration.elicit")
    s = score_trainee_response("Mm.", CLIENT, coder=_CoderV2(("threat.unsolicited_advice",)))
    assert s.verdict == "technique_first" and s.technique_before_repair


def test_the_real_rules_coder_codes_the_response() -> None:
    s = score_trainee_response("Why are you so defensive about the drinking?",
                               "You're just trying to get me to stop drinking.")
    assert s.verdict == "judgmental"
    assert all(c.split(".")[0] in ("repair", "threat", "collaboration", "bond")
               for c in s.codes)


def test_an_unknown_coder_kind_is_refused() -> None:
    from alliance.training.coders import practice_coder

    with pytest.raises(TrainingError, match="unknown coder 'magic'"):
        practice_coder("magic")
    assert practice_coder("rules").mode == "rules-only"


def test_well_is_not_we_will_and_curly_apostrophes_read_as_plain() -> None:
    s = score_trainee_response("Well, I did explain that homework is part of CBT.", CLIENT)
    assert s.verdict == "defensive" and not s.technique_before_repair
    curly = score_trainee_response("I think I pushed too hard. What’s it been like for you?",
                                   CLIENT)
    assert curly.verdict == "repair"


def test_a_weak_judgmental_verdict_needs_a_judgement_the_rules_found() -> None:
    from alliance.training.feedback import gated_verdict

    classes = ("defensive", "judgmental", "partial", "repair", "technique_first")
    weak = [0.05, 0.42, 0.35, 0.13, 0.05]  # the head's top verdict is judgmental, under 0.5
    assert gated_verdict(classes, weak, rules_judgmental=False) == "partial"  # next best
    assert gated_verdict(classes, weak, rules_judgmental=True) == "judgmental"
    strong = [0.05, 0.62, 0.2, 0.08, 0.05]
    assert gated_verdict(classes, strong, rules_judgmental=False) == "judgmental"
    other = [0.45, 0.1, 0.2, 0.2, 0.05]  # the gate concerns judgement only
    assert gated_verdict(classes, other, rules_judgmental=False) == "defensive"


CLASSES = ("defensive", "judgmental", "partial", "repair", "technique_first")


def test_a_repair_verdict_needs_two_step_heads_behind_it() -> None:
    from alliance.training.feedback import REPAIR_STEP_P, backed_verdict

    probs = [0.05, 0.05, 0.3, 0.55, 0.05]
    one = {"noticed": 0.9, "named": 0.2, "invited": 0.9, "responsibility": 0.1,
           "renegotiated": REPAIR_STEP_P - 0.01, "reflected": 0.3}
    assert backed_verdict(CLASSES, probs, one, rules_judgmental=False) == "partial"
    two = {**one, "renegotiated": REPAIR_STEP_P}
    assert backed_verdict(CLASSES, probs, two, rules_judgmental=False) == "repair"


def test_noticing_does_not_back_a_repair() -> None:
    from alliance.training.feedback import backed_verdict

    probs = [0.05, 0.05, 0.3, 0.55, 0.05]
    steps = {"noticed": 0.99, "named": 0.1, "invited": 0.95, "responsibility": 0.1,
             "renegotiated": 0.1, "reflected": 0.1}
    assert backed_verdict(CLASSES, probs, steps, rules_judgmental=False) == "partial"


def test_an_unbacked_repair_falls_to_the_next_verdict_through_the_judgement_gate() -> None:
    from alliance.training.feedback import backed_verdict

    steps = {"named": 0.1, "invited": 0.1}
    probs = [0.05, 0.3, 0.2, 0.4, 0.05]  # next is a weak judgement
    assert backed_verdict(CLASSES, probs, steps, rules_judgmental=False) == "partial"
    assert backed_verdict(CLASSES, probs, steps, rules_judgmental=True) == "judgmental"
    harm = [0.35, 0.05, 0.1, 0.45, 0.05]
    assert backed_verdict(CLASSES, harm, steps, rules_judgmental=False) == "defensive"


def test_a_head_without_step_heads_keeps_its_repair() -> None:
    from alliance.training.feedback import backed_verdict

    probs = [0.05, 0.05, 0.3, 0.55, 0.05]
    assert backed_verdict(CLASSES, probs, {}, rules_judgmental=False) == "repair"


def test_a_harm_the_rules_found_overrides_a_mild_verdict_when_the_head_allows_it() -> None:
    from alliance.training.feedback import HARM_GATE, harm_gated_verdict

    probs = [HARM_GATE, 0.05, 0.6, 0.1, 0.05]
    found = {"defensive": True, "judgmental": False}
    assert harm_gated_verdict(CLASSES, probs, "partial", found) == "defensive"
    assert harm_gated_verdict(CLASSES, probs, "technique_first", found) == "defensive"
    below = [HARM_GATE - 0.01, 0.05, 0.6, 0.1, 0.05]
    assert harm_gated_verdict(CLASSES, below, "partial", found) == "partial"
    unflagged = {"defensive": False, "judgmental": False}
    assert harm_gated_verdict(CLASSES, probs, "partial", unflagged) == "partial"


def test_the_harm_gate_leaves_repair_alone_and_puts_judgement_first() -> None:
    from alliance.training.feedback import harm_gated_verdict

    probs = [0.3, 0.3, 0.1, 0.25, 0.05]
    both = {"defensive": True, "judgmental": True}
    assert harm_gated_verdict(CLASSES, probs, "repair", both) == "repair"
    assert harm_gated_verdict(CLASSES, probs, "partial", both) == "judgmental"
