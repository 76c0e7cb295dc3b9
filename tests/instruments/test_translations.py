"""Translations in a spec: the bundled ones are complete, fallback is flagged, bad ones refused."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
import yaml

from alliance.errors import InstrumentError
from alliance.instruments import builtin_catalog, get_instrument, parse_spec, spec_to_mapping
from alliance.instruments.catalog import parse_yaml_spec

OWN = ["alliance-12", "session-check-4", "pulse-3"]
LANGUAGES = ["de", "es", "fr"]
# Informal address a clinic would not use on a form (we write Spanish "usted", French "vous",
# German "Sie").
INFORMAL = {
    "es": re.compile(r"\b(tú|tu|tus|te|ti|contigo|piensa|valora)\b", re.IGNORECASE),
    "fr": re.compile(r"\b(tu|te|toi|ton|ta|tes)\b|\bt'", re.IGNORECASE),
    "de": re.compile(r"\b(du|dich|dir|dein|deine|deinen|deinem|deiner|denk|bewerte)\b",
                     re.IGNORECASE),
}

MINI: dict[str, Any] = {
    "id": "mini", "version": "1", "title": "Mini", "licence": "CC0-1.0",
    "rater_types": ["client", "therapist"],
    "instructions": {"client": "Rate it.", "therapist": "Rate it for them."},
    "response_scale": {"min": 1, "max": 5, "anchors": {1: "no", 5: "yes"}},
    "items": [{"id": "a", "text": {"client": "I agree.", "therapist": "They agree."}},
              {"id": "b", "text": {"client": "I like it.", "therapist": "They like it."}}],
    "scoring": {"method": "sum"},
    "translations": {"es": {
        "title": "Mini (es)",
        "instructions": {"client": "Valore.", "therapist": "Valore por esta persona."},
        "anchors": {1: "no", 5: "sí"},
        "items": {"a": {"client": "Estoy de acuerdo.", "therapist": "Está de acuerdo."},
                  "b": {"client": "Me gusta.", "therapist": "Le gusta."}}}},
}


def mini(**es_changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(MINI)
    spec["translations"]["es"].update(es_changes)
    return spec


def refused(spec: Any) -> str:
    with pytest.raises(InstrumentError) as err:
        parse_spec(spec, "mini.yaml")
    return str(err.value)


@pytest.mark.parametrize("instrument_id", OWN)
def test_own_instruments_come_in_english_spanish_french_and_german(instrument_id: str) -> None:
    assert get_instrument(instrument_id).languages == ("en", "de", "es", "fr")


@pytest.mark.parametrize("instrument_id", OWN)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_rater_version_is_translated_item_by_item(instrument_id: str,
                                                        language: str) -> None:
    inst = get_instrument(instrument_id)
    for rater in inst.rater_types:
        english, translated = inst.wording(rater, "en"), inst.wording(rater, language)
        assert (translated.language, translated.fallback, translated.note) == (language, False, "")
        assert translated.title and translated.title != "" and translated.instructions
        assert set(translated.items) == set(inst.item_ids)
        for item_id in inst.item_ids:
            assert translated.text(item_id), (rater, item_id)
            assert translated.text(item_id) != english.text(item_id), (rater, item_id)
        assert set(translated.anchors) == set(english.anchors)
        assert translated.instructions != english.instructions


def test_alliance_12_has_distinct_family_member_wording_in_every_language() -> None:
    inst = get_instrument("alliance-12")
    for language in ("en", *LANGUAGES):
        client = inst.wording("client", language)
        family = inst.wording("family_member", language)
        therapist = inst.wording("therapist", language)
        assert family.instructions not in (client.instructions, therapist.instructions)
        # The family version speaks of "the therapist" (not "my therapist") and of the family.
        assert family.text("b2") != client.text("b2")
        assert family.text("g1") != client.text("g1")
        assert all(therapist.text(i) != client.text(i) for i in inst.item_ids)


@pytest.mark.parametrize("instrument_id", OWN)
@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_use_the_formal_address_a_clinic_would(instrument_id: str,
                                                           language: str) -> None:
    inst = get_instrument(instrument_id)
    for rater in inst.rater_types:
        w = inst.wording(rater, language)
        for text in (w.title, w.instructions, *w.items.values(), *w.anchors.values()):
            assert not INFORMAL[language].search(text), (rater, text)


def test_formal_pronouns_appear_in_the_instructions() -> None:
    found = {lang: get_instrument("alliance-12").wording("client", lang).instructions
             for lang in LANGUAGES}
    assert "su terapeuta" in found["es"] and "votre" in found["fr"] and "Sie" in found["de"]


def test_a_missing_language_falls_back_to_english_with_a_note() -> None:
    w = get_instrument("pulse-3").wording("therapist", "it")
    assert (w.language, w.requested, w.fallback) == ("en", "it", True)
    assert w.note == "no Italian version of pulse-3: shown in English"
    assert w.text("bond") == get_instrument("pulse-3").item("bond").text_for("therapist")


def test_a_regional_tag_is_served_by_its_language_without_a_note() -> None:
    w = get_instrument("session-check-4").wording("client", "es-MX")
    assert (w.language, w.fallback, w.note) == ("es", False, "")
    assert get_instrument("session-check-4").wording("client", "FR").language == "fr"


def test_a_rater_without_own_wording_gets_the_client_wording_in_the_same_language() -> None:
    inst = get_instrument("pulse-3")
    assert inst.wording("family_member", "de").items == inst.wording("client", "de").items


def test_structure_only_specs_have_no_wording_in_any_language() -> None:
    for inst in builtin_catalog().values():
        if inst.structure_only:
            assert inst.languages == ()
            w = inst.wording(inst.rater_types[0], "es")
            assert w.items == {} and w.language == "" and "structure-only" in w.note


def test_wording_refuses_an_unknown_rater_and_a_malformed_tag() -> None:
    with pytest.raises(InstrumentError, match="has no 'observer' version"):
        get_instrument("alliance-12").wording("observer", "es")
    with pytest.raises(InstrumentError, match="'Spanish' is not a language tag like es"):
        get_instrument("alliance-12").wording("client", "Spanish")


@pytest.mark.parametrize("instrument_id", OWN)
def test_translations_round_trip_through_the_mapping_and_yaml(instrument_id: str) -> None:
    inst = get_instrument(instrument_id)
    mapping = spec_to_mapping(inst)
    assert sorted(mapping["translations"]) == LANGUAGES
    again = parse_yaml_spec(yaml.safe_dump(mapping, allow_unicode=True), "<round trip>")
    assert again.translations == inst.translations
    assert parse_spec(mapping) == inst


def test_a_spec_in_another_language_keeps_it_through_the_round_trip() -> None:
    spec = copy.deepcopy(MINI)
    spec["language"] = "de"
    inst = parse_spec(spec)
    assert inst.languages == ("de", "es")
    assert spec_to_mapping(inst)["language"] == "de"
    assert parse_spec(spec_to_mapping(inst)) == inst
    assert inst.wording("client", "en").note == "no English version of mini: shown in German"


def test_a_translation_may_carry_its_own_licence() -> None:
    inst = parse_spec(mini(licence="Licensed to Example Clinic, no. 7"))
    assert inst.wording("client", "es").licence == "Licensed to Example Clinic, no. 7"
    assert inst.wording("client", "en").licence == "CC0-1.0"


@pytest.mark.parametrize(("spec", "message"), [
    ({**MINI, "translations": {"Spanish": MINI["translations"]["es"]}},
     "mini.yaml: field translations: 'Spanish' is not a language tag like es, fr, de or pt-BR"),
    ({**MINI, "translations": {"es_ES": MINI["translations"]["es"]}},
     "'es_ES' is not a language tag"),
    ({**MINI, "translations": {False: MINI["translations"]["es"]}},
     "quote the tag"),
    ({**MINI, "translations": {"es": MINI["translations"]["es"],
                               "ES": MINI["translations"]["es"]}},
     'translation "es" appears twice'),
    ({**MINI, "translations": {"en": MINI["translations"]["es"]}},
     'translation "en" repeats the spec\'s own language (en)'),
    ({**MINI, "language": "english"}, "field language: 'english' is not a language tag"),
    (mini(items={"a": {"client": "x", "therapist": "y"}}),
     'translation "es": item "b" has no wording'),
    (mini(items={**MINI["translations"]["es"]["items"], "z": "x"}),
     'translation "es": item "z" is not in mini (items: a, b)'),
    (mini(items={**MINI["translations"]["es"]["items"], "b": {"client": "Me gusta."}}),
     'translation "es", item "b": no therapist wording (the en version has one)'),
    (mini(items={**MINI["translations"]["es"]["items"],
                 "a": {"client": "x", "therapist": "y", "observer": "z"}}),
     "translation \"es\", item \"a\": wording for ['observer'], who are not among the "
     "rater_types"),
    (mini(instructions="Valore."),
     'translation "es", field instructions: no therapist wording'),
    (mini(anchors={1: "no", 9: "sí"}),
     'translation "es", field anchors: 9 is outside a whole number from 1 to 5'),
    (mini(anchors={1: "no"}),
     'translation "es", field anchors: no label for 5 (the en version labels it)'),
    (mini(anchors={"high": "sí"}), "field anchors: 'high' is not a scale value"),
    (mini(title=""), 'mini.yaml: translation "es", field title: \'\' should be non-empty'),
    (mini(items={**MINI["translations"]["es"]["items"], "a": 3}),
     'mini.yaml: translation "es", item "a": 3 is not valid'),
    (mini(colour="red"), "unknown field ('colour' was unexpected)"),
])
def test_bad_translations_are_refused_naming_file_language_item_and_field(
        spec: dict[str, Any], message: str) -> None:
    assert message in refused(spec)


def test_a_translation_without_a_title_is_refused_by_the_schema() -> None:
    spec = mini()
    del spec["translations"]["es"]["title"]
    assert "'title' is required" in refused(spec)


def test_a_structure_only_spec_refuses_translations() -> None:
    spec = copy.deepcopy(MINI)
    spec["structure_only"] = True
    for item in spec["items"]:
        del item["text"]
    del spec["instructions"]
    assert "a structure-only spec has no wording in any language" in refused(spec)


def test_a_bare_yaml_no_key_asks_to_quote_the_norwegian_tag() -> None:
    text = yaml.safe_dump(spec_to_mapping(parse_spec(MINI)), allow_unicode=True)
    text = text.replace("  es:\n", "  no:\n")
    with pytest.raises(InstrumentError, match="quote the tag"):
        parse_yaml_spec(text, "mini.yaml")
    assert parse_yaml_spec(text.replace("  no:\n", "  'no':\n"), "mini.yaml").languages == (
        "en", "no")


def test_without_a_language_the_spec_s_own_wording_is_given() -> None:
    spec = copy.deepcopy(MINI)
    spec["language"] = "fr"
    inst = parse_spec(spec)
    assert (inst.wording().language, inst.wording().note) == ("fr", "")
    assert get_instrument("alliance-12").wording("therapist").language == "en"


def test_the_json_schema_alone_checks_the_shape_of_translations_and_tags() -> None:
    import jsonschema

    from alliance.instruments.spec import SPEC_SCHEMA

    validator = jsonschema.Draft202012Validator(SPEC_SCHEMA)
    for instrument_id in OWN:
        assert not list(validator.iter_errors(spec_to_mapping(get_instrument(instrument_id))))
    bad_tag = {**MINI, "translations": {"Spanish": MINI["translations"]["es"]}}
    no_title = mini()
    del no_title["translations"]["es"]["title"]
    for spec in (bad_tag, no_title, {**MINI, "language": "en_GB"}):
        assert list(validator.iter_errors(spec))
