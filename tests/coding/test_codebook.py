from __future__ import annotations

import pytest
import yaml

from alliance.coding.codebook import FAMILIES, load_codebook, parse_codebook
from alliance.errors import CodingError

_ISSUE_TEXT = """
withdrawal.denial withdrawal.minimal_response withdrawal.abstract withdrawal.topic_shift
withdrawal.deferential withdrawal.content_affect_split withdrawal.self_criticism
confrontation.complaint_therapist confrontation.reject_intervention
confrontation.complaint_activities confrontation.complaint_parameters
confrontation.complaint_progress confrontation.defend_self confrontation.control_pressure
confrontation.attributes_intent safety.invites_judgment bond.reflection bond.affirmation
repair.name_rupture
repair.invite_feedback repair.take_responsibility repair.empathize_validate repair.clarify
repair.rationale repair.renegotiate repair.link_pattern repair.reaffirm_nonjudgment
threat.judgmental threat.mocking_humor threat.prosecutorial threat.lecturing
threat.unsolicited_advice threat.defensive_blaming threat.dismissive collaboration.we_language
collaboration.elicit
"""
ISSUE_CODES = _ISSUE_TEXT.split()


def test_packaged_codebook_has_exactly_the_issue_codes() -> None:
    assert list(load_codebook().names) == ISSUE_CODES


def test_codebook_v2_codes_name_their_boundaries() -> None:
    book = load_codebook()
    assert book.version == 2
    assert book.families["bond"].role == "therapist"
    advice = " ".join(book.codes["threat.unsolicited_advice"].exclude)
    assert "asked" in advice and "collaboration.elicit" in advice
    we = " ".join(book.codes["collaboration.we_language"].exclude)
    assert "Institutional" in we
    validate = " ".join(book.codes["repair.empathize_validate"].exclude)
    assert "bond.affirmation" in validate and "bond.reflection" in validate
    assert "threat.unsolicited_advice" in " ".join(book.codes["threat.lecturing"].exclude)


def test_every_code_has_definition_include_exclude_and_examples() -> None:
    book = load_codebook()
    for code in book.codes.values():
        assert code.definition and len(code.examples) >= 2
        assert code.include and code.exclude, code.name
        assert code.family in FAMILIES


def test_client_and_therapist_families_have_their_roles() -> None:
    book = load_codebook()
    assert set(book.codes_for_role("client")) == {
        c for c in ISSUE_CODES if c.split(".")[0] in ("withdrawal", "confrontation", "safety")}
    assert book.codes["repair.clarify"].role == "therapist"


def _raw() -> dict:
    from importlib import resources

    return yaml.safe_load(resources.files("alliance.coding").joinpath("codebook.yaml")
                          .read_text("utf-8"))


def test_code_outside_a_family_is_refused() -> None:
    raw = _raw()
    raw["codes"]["banter.joke"] = raw["codes"]["repair.clarify"]
    with pytest.raises(CodingError, match=r"banter\.joke"):
        parse_codebook(raw)


def test_missing_family_is_refused() -> None:
    raw = _raw()
    del raw["families"]["safety"]
    with pytest.raises(CodingError, match="safety"):
        parse_codebook(raw)


def test_code_without_examples_is_refused() -> None:
    raw = _raw()
    raw["codes"]["repair.clarify"]["examples"] = ["only one"]
    with pytest.raises(CodingError, match="examples"):
        parse_codebook(raw)


def test_unreadable_codebook_file_is_a_coding_error(tmp_path) -> None:
    p = tmp_path / "book.yaml"
    p.write_text("schema: [unclosed", encoding="utf-8")
    with pytest.raises(CodingError):
        load_codebook(p)
