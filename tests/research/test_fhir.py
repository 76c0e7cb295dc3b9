"""FHIR R4: Questionnaire, QuestionnaireResponse and Observation export, import round trips,
validation with fhir.resources (R4B) and typed errors for malformed FHIR."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire

from alliance.errors import FhirError, ScoringError
from alliance.instruments import builtin_catalog, get_instrument, merge_wording, score_response
from alliance.interop.fhir import (
    DEFAULT_BASE,
    ORDINAL,
    case_bundle,
    code_system,
    fhir_id,
    questionnaire,
    questionnaire_response,
    read_responses,
    responses_bundle,
    responses_table,
    score_observations,
    validate_resource,
)

EXAMPLES = Path(__file__).parents[2] / "examples"


def table() -> pd.DataFrame:
    return pd.read_csv(EXAMPLES / "responses.csv")


@pytest.mark.parametrize("instrument_id", sorted(builtin_catalog()))
def test_every_instrument_exports_a_valid_questionnaire(instrument_id: str) -> None:
    inst = get_instrument(instrument_id)
    q = questionnaire(inst)
    Questionnaire.model_validate(q)  # the R4B model accepts it as it is
    assert q["url"] == f"{DEFAULT_BASE}/Questionnaire/{instrument_id}"
    assert q["version"] == inst.version
    questions = [i for i in q["item"] if i["type"] != "display"]
    assert [i["linkId"] for i in questions] == list(inst.item_ids)


def test_choice_items_carry_answer_options_with_ordinal_values() -> None:
    q = questionnaire(get_instrument("alliance-12"))
    b1 = next(i for i in q["item"] if i["linkId"] == "b1")
    assert b1["type"] == "choice" and b1["text"].startswith("I feel safe")
    options = [o["valueCoding"] for o in b1["answerOption"]]
    assert [o["code"] for o in options] == [f"alliance-12.answer.{v}" for v in range(1, 6)]
    assert options[0]["display"] == "Strongly disagree"
    assert [o["extension"][0]["url"] for o in options] == [ORDINAL] * 5
    assert [o["extension"][0]["valueDecimal"] for o in options] == [1, 2, 3, 4, 5]


def test_continuous_scale_is_a_bounded_decimal_item() -> None:
    q = questionnaire(get_instrument("srs"))
    item = q["item"][0]
    assert item["type"] == "decimal" and "answerOption" not in item
    assert [e["valueDecimal"] for e in item["extension"]] == [0, 10]


def test_structure_only_instrument_exports_no_wording() -> None:
    q = questionnaire(get_instrument("wai-sr"))
    assert all("text" not in i for i in q["item"])
    displays = {o["valueCoding"]["display"] for i in q["item"] for o in i["answerOption"]}
    assert displays == {"1", "2", "3", "4", "5"}


def test_licensed_wording_added_locally_stays_out_unless_asked_for() -> None:
    # Made-up placeholder wording standing in for a deployer's licensed text.
    wording = {"instrument": "wai-sr", "licence": "Licensed to Test Clinic, no. 1",
               "anchors": {1: "placeholder low", 5: "placeholder high"},
               "items": {str(n): f"placeholder statement {n}" for n in range(1, 13)}}
    inst = merge_wording(get_instrument("wai-sr"), wording)
    plain = json.dumps(questionnaire(inst))
    assert "placeholder" not in plain
    licensed = json.dumps(questionnaire(inst, include_licensed_wording=True))
    assert "placeholder statement 1" in licensed and "placeholder low" in licensed


def test_code_system_has_items_scores_and_answers_of_every_instrument() -> None:
    cs = code_system()
    by_code = {c["code"]: c for c in cs["concept"]}
    assert set(by_code) == set(builtin_catalog())
    children = {c["code"] for c in by_code["alliance-12"]["concept"]}
    assert {"alliance-12.item.b1", "alliance-12.score.bond", "alliance-12.score.total",
            "alliance-12.answer.5"} <= children
    assert cs["url"] == f"{DEFAULT_BASE}/CodeSystem/alliance"


def test_response_references_its_questionnaire_and_uses_its_codes() -> None:
    inst = get_instrument("pulse-3")
    qr = questionnaire_response(inst, {"bond": 6, "goal": 5, "task": None},
                                response_id="r1", subject="Patient/c001",
                                authored="2026-03-01", rater="client")
    assert qr["questionnaire"] == f"{questionnaire(inst)['url']}|{inst.version}"
    assert [i["linkId"] for i in qr["item"]] == ["bond", "goal"]  # missing answers left out
    assert qr["item"][0]["answer"][0]["valueCoding"]["code"] == "pulse-3.answer.6"
    assert qr["subject"] == {"reference": "Patient/c001"} and qr["authored"] == "2026-03-01"


def test_scores_become_observations_derived_from_the_response() -> None:
    inst = get_instrument("alliance-12")
    answers = table().iloc[0][list(inst.item_ids)].to_dict()
    qr = questionnaire_response(inst, answers, response_id="1", subject="Patient/c001")
    score = score_response(inst, answers)
    observations = score_observations(inst, score, qr)
    codes = [o["code"]["coding"][0]["code"] for o in observations]
    assert codes == [f"alliance-12.score.{n}" for n in ("bond", "goal", "task", "total")]
    for obs, name in zip(observations, ("bond", "goal", "task", "total"), strict=True):
        assert obs["derivedFrom"] == [{"reference": "QuestionnaireResponse/1"}]
        assert obs["valueQuantity"]["value"] == pytest.approx(score[name].raw)
        assert obs["subject"] == {"reference": "Patient/c001"}


def test_invalid_scores_are_left_out_and_prorated_ones_say_so() -> None:
    inst = get_instrument("pulse-3")
    answers = {"bond": 6, "goal": None, "task": None}
    qr = questionnaire_response(inst, answers, response_id="x")
    observations = score_observations(inst, score_response(inst, answers), qr)
    assert [o["code"]["coding"][0]["code"] for o in observations] == ["pulse-3.score.bond"]
    inst12 = get_instrument("alliance-12")
    row = table().iloc[2]  # g1 is missing: goal and total are prorated
    answers12 = row[list(inst12.item_ids)].to_dict()
    obs = score_observations(inst12, score_response(inst12, answers12),
                             questionnaire_response(inst12, answers12, response_id="3"))
    notes = {o["code"]["coding"][0]["code"]: o.get("note") for o in obs}
    assert notes["alliance-12.score.goal"][0]["text"].startswith("prorated")
    assert notes["alliance-12.score.bond"] is None


def test_table_round_trips_through_a_bundle() -> None:
    inst = get_instrument("alliance-12")
    original = table()
    bundle = responses_bundle(inst, original)
    Bundle.model_validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("QuestionnaireResponse") == len(original)
    assert kinds.count("Observation") > len(original)
    back = responses_table(read_responses(json.dumps(bundle)))
    assert back["response_id"].tolist() == original["response_id"].astype(str).tolist()
    assert back["client"].tolist() == original["client"].tolist()
    pd.testing.assert_frame_equal(back[list(inst.item_ids)].astype(float),
                                  original[list(inst.item_ids)].astype(float))


def test_single_response_round_trips_with_decimal_answers() -> None:
    inst = get_instrument("srs")
    answers = {i: 7.5 for i in inst.item_ids}
    qr = questionnaire_response(inst, answers, response_id="srs-1", rater="client")
    [back] = read_responses(qr)
    assert back.answers == answers and back.rater == "client" and back.version == inst.version


def test_foreign_codings_with_ordinal_values_and_integers_are_read() -> None:
    inst = get_instrument("pulse-3")
    qr = {"resourceType": "QuestionnaireResponse", "id": "ext", "status": "completed",
          "questionnaire": "http://other.example/Questionnaire/pulse-3",
          "item": [{"linkId": "bond", "answer": [{"valueCoding": {
              "system": "http://other.example/cs", "code": "six",
              "extension": [{"url": ORDINAL, "valueDecimal": 6}]}}]},
              {"linkId": "group", "item": [
                  {"linkId": "goal", "answer": [{"valueInteger": 4}]}]}]}
    [back] = read_responses(qr)
    assert back.instrument == inst.id and back.answers == {"bond": 6.0, "goal": 4.0}


def test_entered_in_error_responses_are_skipped() -> None:
    qr = questionnaire_response(get_instrument("pulse-3"), {"bond": 5}, response_id="e")
    assert read_responses({**qr, "status": "entered-in-error"}) == []


def test_case_bundle_serves_a_cases_ratings() -> None:
    from alliance.interop.casefiles import load_case_file

    case = load_case_file(EXAMPLES / "cases" / "example.json")[0]
    bundle = case_bundle(case)
    Bundle.model_validate(bundle)
    responses = [e["resource"] for e in bundle["entry"]
                 if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert len(responses) == sum(len(s.ratings) for s in case.sessions)
    assert {r["subject"]["reference"].split("/")[0] for r in responses} <= {"Patient", "Group"}
    assert {"2026-02-23", "2026-03-09"} <= {r.get("authored") for r in responses}
    ids = {r["id"] for r in responses}
    for obs in (e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Observation"):
        assert obs["derivedFrom"][0]["reference"].split("/")[1] in ids


def test_fhir_ids_are_made_valid() -> None:
    assert fhir_id("a b/c") == "a-b-c"
    assert len(fhir_id("x" * 80)) == 36


# --- malformed input -------------------------------------------------------------------


def good_response() -> dict:
    return questionnaire_response(get_instrument("pulse-3"), {"bond": 6, "goal": 5},
                                  response_id="ok")


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: {**r, "resourceType": "Patient"}, "expected a QuestionnaireResponse or a Bundle"),
    (lambda r: {k: v for k, v in r.items() if k != "questionnaire"}, "no questionnaire"),
    (lambda r: {**r, "questionnaire": "http://x/Questionnaire/beck-99"}, "unknown instrument"),
    (lambda r: {**r, "status": None}, "not valid FHIR R4"),
    (lambda r: {**r, "item": [{"linkId": "nope", "answer": [{"valueInteger": 1}]}]},
     "linkId 'nope' is not an item"),
    (lambda r: {**r, "item": [{"linkId": "bond", "answer": [{"valueInteger": 1},
                                                            {"valueInteger": 2}]}]},
     "more than one answer"),
    (lambda r: {**r, "item": [{"linkId": "bond", "answer": [{"valueInteger": 99}]}]},
     "out of range"),
    (lambda r: {**r, "item": [{"linkId": "bond", "answer": [{"valueString": "high"}]}]},
     "unsupported answer"),
    (lambda r: {**r, "item": [{"linkId": "bond", "answer": [{"valueCoding": {
        "code": "pulse-3.answer.x"}}]}]}, "is not one of pulse-3's answers"),
    (lambda r: {**r, "item": "bond"}, "not valid FHIR R4"),
])
def test_malformed_response_raises_fhir_error(change, message: str) -> None:
    with pytest.raises(FhirError, match=message):
        read_responses(change(copy.deepcopy(good_response())))


@pytest.mark.parametrize(("data", "message"), [
    ("{not json", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    ({"resourceType": "Bundle", "type": "collection", "entry": []}, "no QuestionnaireResponse"),
    ({"resourceType": "Bundle", "entry": []}, "not valid FHIR R4"),
    ({}, "no resourceType"),
])
def test_malformed_documents_raise_fhir_error(data, message: str) -> None:
    with pytest.raises(FhirError, match=message):
        read_responses(data)


def test_bundle_error_names_the_entry() -> None:
    bad = copy.deepcopy(good_response())
    bad["item"] = [{"linkId": "zzz", "answer": [{"valueInteger": 1}]}]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": good_response()}, {"resource": bad}]}
    with pytest.raises(FhirError, match=r"Bundle entry 2: QuestionnaireResponse/ok"):
        read_responses(bundle)


def test_export_errors_are_typed() -> None:
    inst = get_instrument("alliance-12")
    with pytest.raises(FhirError, match="no 'observer' version"):
        questionnaire(inst, rater="observer")
    with pytest.raises(ScoringError, match="row 2"):
        responses_bundle(inst, table().head(3).assign(b1=[4, 9, 4]))
    with pytest.raises(FhirError, match="no item column"):
        responses_bundle(inst, pd.DataFrame({"x": [1]}))
    with pytest.raises(FhirError, match="appears twice"):
        responses_bundle(inst, table().head(2).assign(response_id=["a", "a"]))
    with pytest.raises(FhirError, match="not an R4 resource type"):
        validate_resource({"resourceType": "Spaceship"})
    with pytest.raises(FhirError, match="no responses"):
        responses_table([])


def test_reading_a_file_names_it_in_errors(tmp_path: Path) -> None:
    from alliance.interop.fhir import read_responses_file

    good = tmp_path / "qr.json"
    good.write_text(json.dumps(good_response()))
    assert read_responses_file(good)[0].answers == {"bond": 6.0, "goal": 5.0}
    with pytest.raises(FhirError, match="no such file"):
        read_responses_file(tmp_path / "missing.json")
    latin = tmp_path / "latin.json"
    latin.write_bytes("{\"x\": \"caf\xe9\"}".encode("latin-1"))
    with pytest.raises(FhirError, match="not UTF-8"):
        read_responses_file(latin)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(FhirError, match=r"broken\.json: not JSON"):
        read_responses_file(broken)


def test_missing_fhir_extra_is_a_readable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "fhir.resources", None)
    with pytest.raises(FhirError, match=r"install alliance\[fhir\]"):
        questionnaire(get_instrument("pulse-3"))


def test_each_rater_wording_has_its_own_canonical_url() -> None:
    inst = get_instrument("alliance-12")
    client, therapist = questionnaire(inst), questionnaire(inst, rater="therapist")
    assert client["url"].endswith("/Questionnaire/alliance-12")
    assert therapist["url"].endswith("/Questionnaire/alliance-12-therapist")
    assert therapist["id"] == "alliance-12-therapist"
    b1 = next(i for i in therapist["item"] if i["linkId"] == "b1")
    assert b1["text"].startswith("This client")
    qr = questionnaire_response(inst, {"b1": 4}, response_id="t1", rater_type="therapist")
    assert qr["questionnaire"] == f"{therapist['url']}|{inst.version}"
    [back] = read_responses(qr)
    assert back.instrument == "alliance-12" and back.rater_type == "therapist"
    [plain] = read_responses(questionnaire_response(inst, {"b1": 4}, response_id="c1"))
    assert plain.rater_type == "client"
    with pytest.raises(FhirError, match="no 'observer' version"):
        questionnaire_response(inst, {"b1": 4}, rater_type="observer")


def test_case_bundle_points_therapist_ratings_at_the_therapist_version() -> None:
    from alliance.interop.casefiles import load_case_file

    cases = load_case_file(EXAMPLES / "cases" / "synthetic-20.json")
    case = next(c for c in cases if any(r.rater == "therapist" for s in c.sessions
                                        for r in s.ratings))
    responses = [e["resource"] for e in case_bundle(case)["entry"]
                 if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    by_rater = {r["extension"][0]["valueString"]: r["questionnaire"] for r in responses}
    assert "-therapist|" in by_rater["therapist"]
    assert all("-therapist|" not in q for rater, q in by_rater.items() if rater != "therapist")


def test_nullable_integer_columns_export_like_plain_ones() -> None:
    inst = get_instrument("alliance-12")
    original = table().head(5)
    nullable = original.astype({i: "Int64" for i in inst.item_ids})  # pd.NA for missing
    a, b = responses_bundle(inst, original), responses_bundle(inst, nullable)
    assert a == b


@pytest.mark.parametrize("instrument_id", sorted(builtin_catalog()))
def test_any_valid_response_survives_the_round_trip(instrument_id: str) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    inst = get_instrument(instrument_id)

    def value(item):  # type: ignore[no-untyped-def]
        scale = item.scale
        if scale.integer:
            return st.integers(int(scale.min), int(scale.max)).map(float)
        return st.floats(scale.min, scale.max, allow_nan=False).map(lambda v: round(v, 3))

    answers = st.fixed_dictionaries({i.id: st.one_of(st.none(), value(i)) for i in inst.items})

    @settings(max_examples=25, deadline=None)
    @given(answers)
    def check(given_answers: dict) -> None:
        [back] = read_responses(questionnaire_response(inst, given_answers, response_id="h"))
        assert back.answers == {k: v for k, v in given_answers.items() if v is not None}

    check()
