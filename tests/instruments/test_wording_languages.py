"""A deployer's wording file in a language: a first wording, or one more translation."""

from __future__ import annotations

from typing import Any

import pytest

from alliance.errors import InstrumentError
from alliance.instruments import get_instrument, merge_wording, parse_spec, spec_to_mapping

WAI = get_instrument("wai-sr")


def wording(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"instrument": "wai-sr", "licence": "Licensed for testing",
                            "items": {str(i): f"Placeholder {i}" for i in range(1, 13)}}
    base.update(changes)
    return base


def spanish(**changes: Any) -> dict[str, Any]:
    return wording(**{"language": "es", "title": "Título de prueba",
                      "licence": "Spanish licence for testing",
                      "items": {str(i): f"Texto {i}" for i in range(1, 13)}, **changes})


ENGLISH = merge_wording(WAI, wording(instructions="Rate each.", anchors={1: "low", 5: "high"}))


def test_a_first_wording_in_spanish_makes_a_spanish_spec() -> None:
    merged = merge_wording(WAI, spanish())
    assert merged.languages == ("es",)
    assert merged.wording("client", "es").text("3") == "Texto 3"
    w = merged.wording("client", "en")
    assert w.fallback and w.note == "no English version of wai-sr: shown in Spanish"
    assert parse_spec(spec_to_mapping(merged)) == merged


def test_a_wording_file_in_another_language_adds_a_translation() -> None:
    both = merge_wording(ENGLISH, spanish(instructions="Valore cada frase.",
                                          anchors={1: "poco", 5: "mucho"}))
    assert both.languages == ("en", "es")
    es = both.wording("client", "es")
    assert (es.title, es.instructions, es.text("12")) == ("Título de prueba",
                                                          "Valore cada frase.", "Texto 12")
    assert es.anchors == {1.0: "poco", 5.0: "mucho"}
    assert es.licence == "Spanish licence for testing"
    assert both.wording("client", "en").text("12") == "Placeholder 12"
    assert both.items == ENGLISH.items and both.licence == ENGLISH.licence
    assert parse_spec(spec_to_mapping(both)) == both


def test_replacing_a_language_needs_to_be_asked_for() -> None:
    both = merge_wording(ENGLISH, spanish(instructions="x", anchors={1: "a", 5: "b"}))
    with pytest.raises(InstrumentError, match=r"already has a Spanish \(es\) version; pass "
                                              r"--replace"):
        merge_wording(both, spanish(instructions="y", anchors={1: "a", 5: "b"}), "w.yaml")
    again = merge_wording(both, spanish(title="Otro", instructions="y", anchors={1: "a", 5: "b"}),
                          replace_language=True)
    assert again.wording("client", "es").title == "Otro"


@pytest.mark.parametrize(("changes", "message"), [
    ({"title": None}, "w.yaml: field title is required for a translation (the title clients "
                      "see in Spanish)"),
    ({"items": {"1": "x"}}, 'w.yaml: translation "es": item "2" has no wording'),
    ({"items": {**{str(i): "x" for i in range(1, 13)}, "13": "y"}},
     'w.yaml: translation "es": item "13" is not in wai-sr'),
    ({"items": {**{str(i): "x" for i in range(1, 13)}, "4": ""}}, 'item "4": text must be'),
    ({"items": {**{str(i): "x" for i in range(1, 13)}, "4": {"therapist": "x"}}},
     "wording for ['therapist'], who are not among the rater_types ['client']"),
    ({"anchors": {1: "a", 9: "b"}}, 'translation "es", field anchors: 9 is outside'),
    ({"anchors": {1: "a"}}, "no label for 5 (the en version labels it)"),
    ({}, "field instructions: no client wording (the en version has one)"),
    ({"language": "castellano"}, "w.yaml: field language: 'castellano' is not a language tag"),
])
def test_bad_translation_files_are_refused_readably(changes: dict[str, Any],
                                                    message: str) -> None:
    base = {"instructions": "x", "anchors": {1: "a", 5: "b"}}
    if not changes:
        base.pop("instructions")
    with pytest.raises(InstrumentError) as err:
        merge_wording(ENGLISH, spanish(**{**base, **changes}), "w.yaml")
    assert message in str(err.value)


def test_a_bundled_instrument_takes_a_deployers_extra_language() -> None:
    inst = get_instrument("pulse-3")
    texts = {i: {"client": f"Texto {i}", "therapist": f"Texto t {i}"} for i in inst.item_ids}
    extended = merge_wording(inst, {
        "instrument": "pulse-3", "language": "pt-BR", "licence": "CC-BY-4.0",
        "title": "Pulso", "instructions": {"client": "a", "therapist": "b"},
        "anchors": {1: "x", 4: "y", 7: "z"}, "items": texts})
    assert extended.languages == ("en", "de", "es", "fr", "pt-BR")
    assert extended.wording("therapist", "pt").text("goal") == "Texto t goal"
    assert extended.wording("client", "pt").note == ""
