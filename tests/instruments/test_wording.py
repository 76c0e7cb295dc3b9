"""Merging a deployer's licensed wording into a structure-only spec."""

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


def test_merged_spec_keeps_scoring_and_gains_text() -> None:
    merged = merge_wording(WAI, wording(anchors={1: "low", 5: "high"}))
    assert not merged.structure_only and merged.has_text
    assert merged.item("7").text_for("client") == "Placeholder 7"
    assert merged.subscales == WAI.subscales and merged.method == WAI.method
    assert merged.items[0].scale.anchors == {1.0: "low", 5.0: "high"}
    assert parse_spec(spec_to_mapping(merged)) == merged


@pytest.mark.parametrize(("changes", "message"), [
    ({"instrument": "srs"}, "field instrument is 'srs' but the spec is 'wai-sr'"),
    ({"licence": ""}, "field licence is required"),
    ({"items": {"1": "x"}}, 'item "2" has no text'),
    ({"items": {**{str(i): "x" for i in range(1, 13)}, "13": "y"}}, 'item "13" is not in wai-sr'),
    ({"items": {**{str(i): "x" for i in range(1, 13)}, "4": ""}}, 'item "4": text must be'),
    ({"anchors": {9: "too high"}}, "field anchors: 9 is outside"),
    ({"colour": "red"}, "unknown field(s) ['colour']"),
])
def test_bad_wording_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InstrumentError) as err:
        merge_wording(WAI, wording(**changes), "w.yaml")
    assert message in str(err.value)


def test_wording_must_be_a_mapping() -> None:
    with pytest.raises(InstrumentError, match="must be a mapping"):
        merge_wording(WAI, ["x"])
