"""Instrument specs: the bundled ones load, bad ones are refused naming file, item and field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from alliance.errors import InstrumentError
from alliance.instruments import builtin_catalog, get_instrument, parse_spec, spec_to_mapping
from alliance.instruments.catalog import parse_yaml_spec

GOOD: dict[str, Any] = {
    "id": "mini", "version": "1", "title": "Mini", "licence": "CC0-1.0",
    "rater_types": ["client"], "response_scale": {"min": 1, "max": 5},
    "subscales": [{"id": "a", "title": "A"}, {"id": "b", "title": "B"}],
    "items": [{"id": "a1", "subscale": "a", "text": "first"},
              {"id": "a2", "subscale": "a", "text": "second", "reverse": True},
              {"id": "b1", "subscale": "b", "text": "third"}],
    "scoring": {"method": "sum"},
    "cutoffs": [{"score": "total", "below": 9, "label": "low", "source": "made up for a test"}],
}


def bad(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(GOOD)
    for key, value in changes.items():
        spec[key] = value
    return spec


def refused(spec: Any) -> str:
    with pytest.raises(InstrumentError) as err:
        parse_spec(spec, "mini.yaml")
    return str(err.value)


def test_bundled_catalog_has_the_alliance_and_outcome_instruments() -> None:
    assert list(builtin_catalog()) == ["alliance-12", "gad-7", "ors", "phq-9", "pulse-3",
                                       "session-check-4", "srs", "wai-sr"]
    kinds = {i.id: i.kind for i in builtin_catalog().values()}
    assert {k for k, v in kinds.items() if v == "outcome"} == {"gad-7", "ors", "phq-9"}


@pytest.mark.parametrize("instrument_id", ["alliance-12", "gad-7", "ors", "phq-9", "pulse-3",
                                           "session-check-4", "srs", "wai-sr"])
def test_spec_round_trips_through_its_mapping(instrument_id: str) -> None:
    inst = get_instrument(instrument_id)
    assert parse_spec(spec_to_mapping(inst)) == inst


def test_alliance_12_has_four_items_per_component_in_two_versions() -> None:
    inst = get_instrument("alliance-12")
    assert [len(s.items) for s in inst.subscales] == [4, 4, 4]
    assert [s.component for s in inst.subscales] == ["bond", "goal", "task"]
    assert {"client", "therapist"} <= set(inst.rater_types)
    assert all(i.text_for("therapist") != i.text_for("client") for i in inst.items)


def test_wai_sr_structure_matches_published_item_assignment() -> None:
    inst = get_instrument("wai-sr")
    members = {s.id: s.items for s in inst.subscales}
    assert members == {"task": ("1", "2", "10", "12"), "goal": ("4", "6", "8", "11"),
                       "bond": ("3", "5", "7", "9")}
    assert inst.item_ids == tuple(str(i) for i in range(1, 13))


def test_licensed_specs_carry_no_wording() -> None:
    for instrument_id in ("wai-sr", "srs"):
        inst = get_instrument(instrument_id)
        assert inst.structure_only
        assert not any(item.text for item in inst.items)
        assert not inst.items[0].scale.anchors


def test_srs_total_runs_0_to_40_with_decimal_answers() -> None:
    inst = get_instrument("srs")
    assert inst.score_range() == (0.0, 40.0)
    assert not inst.items[0].scale.integer
    assert inst.cutoff().below == 36


def test_every_cutoff_threshold_and_reliability_names_a_source() -> None:
    for inst in builtin_catalog().values():
        for row in (*inst.cutoffs, *inst.thresholds, *inst.norms, *inst.reliability):
            assert len(row.source.strip()) > 10, (inst.id, row)


def test_unknown_field_is_named_with_its_item() -> None:
    spec = bad(items=[*GOOD["items"][:2], {"id": "b1", "subscale": "b", "text": "x", "colour": 1}])
    assert refused(spec) == "mini.yaml: item \"b1\": unknown field ('colour' was unexpected)"


def test_missing_top_level_field_is_named() -> None:
    spec = bad()
    del spec["scoring"]
    assert refused(spec) == "mini.yaml: 'scoring' is required"


def test_item_pointing_at_unknown_subscale_is_refused() -> None:
    spec = bad(items=[*GOOD["items"], {"id": "c1", "subscale": "c", "text": "x"}])
    assert 'item "c1", field subscale' in refused(spec)


def test_duplicate_item_id_is_refused() -> None:
    spec = bad(items=[*GOOD["items"], {"id": "a1", "subscale": "a", "text": "again"}])
    assert refused(spec) == 'mini.yaml: item "a1" appears twice'


def test_wrong_type_is_reported_at_its_path() -> None:
    spec = bad(response_scale={"min": "one", "max": 5})
    message = refused(spec)
    assert "field response_scale, field min" in message and "'one'" in message


def test_cutoff_outside_score_range_is_refused() -> None:
    spec = bad(cutoffs=[{"score": "total", "below": 99, "label": "low", "source": "made up"}])
    assert "outside the score's range 3..15" in refused(spec)


def test_cutoff_on_unknown_score_is_refused() -> None:
    spec = bad(cutoffs=[{"score": "bond", "below": 3, "label": "low", "source": "made up"}])
    assert "score 'bond' is not one of" in refused(spec)


def test_structure_only_spec_must_not_carry_wording() -> None:
    spec = bad(structure_only=True)
    assert "must not carry item wording" in refused(spec)


def test_full_spec_needs_wording_for_every_item() -> None:
    spec = bad(items=[*GOOD["items"], {"id": "b2", "subscale": "b"}])
    assert 'item "b2", field text is required' in refused(spec)


def test_anchor_outside_scale_is_refused() -> None:
    spec = bad(response_scale={"min": 1, "max": 5, "anchors": {7: "way too high"}})
    assert "7 is outside a whole number from 1 to 5" in refused(spec)


def test_wording_for_a_rater_not_listed_is_refused() -> None:
    spec = bad(items=[{"id": "a1", "subscale": "a", "text": {"therapist": "x"}},
                      *GOOD["items"][1:]])
    assert "who are not among the rater_types" in refused(spec)


def test_non_mapping_spec_is_refused() -> None:
    assert refused(["not", "a", "mapping"]) == ("mini.yaml: an instrument spec must be a "
                                                "mapping, not list")


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(InstrumentError, match=r"broken.yaml: line 2 is not valid YAML"):
        parse_yaml_spec("id: x\n\tversion: 1\n", "broken.yaml")


def test_unknown_instrument_lists_the_known_ones() -> None:
    with pytest.raises(InstrumentError, match="unknown instrument 'nope'; known: alliance-12"):
        get_instrument("nope")


def test_outcome_specs_carry_kind_direction_bands_and_the_risk_item() -> None:
    phq9, gad7, ors = (get_instrument(i) for i in ("phq-9", "gad-7", "ors"))
    assert (phq9.kind, phq9.higher_is, phq9.score_range()) == ("outcome", "worse", (0.0, 27.0))
    assert [b.at_least for b in phq9.bands] == [5, 10, 15, 20]
    assert [i.id for i in phq9.risk_items] == ["phq9"]
    assert (gad7.score_range(), [b.at_least for b in gad7.bands]) == ((0.0, 21.0), [5, 10, 15])
    assert (ors.higher_is, ors.score_range(), ors.cutoff().below) == ("better", (0.0, 40.0), 25)
    assert gad7.band(9).label == "mild" and gad7.band(15).label == "severe"


def _outcome_spec(**extra: object) -> dict:  # type: ignore[type-arg]
    spec = {"id": "mood", "version": "1", "title": "Mood", "licence": "CC0-1.0",
            "kind": "outcome", "higher_is": "worse", "rater_types": ["client"],
            "response_scale": {"min": 0, "max": 3},
            "items": [{"id": "a", "text": "One."}, {"id": "b", "text": "Two.", "risk": True}],
            "scoring": {"method": "sum"}}
    spec.update(extra)
    return spec


@pytest.mark.parametrize("extra, message", [
    ({"kind": "mood"}, "'mood' is not one of"),
    ({"bands": [{"score": "total", "at_least": 9, "label": "high", "source": "ours"}]},
     "starts at 9, outside the score's range 0..6"),
    ({"bands": [{"score": "total", "at_least": 2, "label": "x", "source": "ours"},
                {"score": "total", "at_least": 2, "label": "y", "source": "ours"}]},
     "two bands start at the same score"),
    ({"bands": [{"score": "mood", "at_least": 2, "label": "x", "source": "ours"}]},
     "score 'mood' is not one of"),
])
def test_bad_outcome_fields_name_the_problem(extra: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InstrumentError, match=message):
        parse_spec(_outcome_spec(**extra))


def test_outcome_fields_round_trip_through_the_mapping() -> None:
    inst = parse_spec(_outcome_spec(
        bands=[{"score": "total", "at_least": 3, "label": "raised", "source": "ours"}]))
    assert parse_spec(spec_to_mapping(inst)) == inst
    assert inst.risk_items[0].id == "b"
