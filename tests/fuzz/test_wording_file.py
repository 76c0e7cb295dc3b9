"""Regressions found by benchmarks/fuzz_parsers.py: wording files with the wrong types.

``alliance instruments add`` reads a deployer's YAML; YAML gives numbers where text was
meant (``instructions: 1.5``) and number keys beside text keys (``1: x``). Both must be an
:class:`InstrumentError` that names the field.
"""

from __future__ import annotations

from typing import Any

import pytest

from alliance.errors import InstrumentError
from alliance.instruments.catalog import builtin_catalog, merge_wording


def _wording(**changes: Any) -> dict[Any, Any]:
    inst = builtin_catalog()["ors"]
    wording: dict[Any, Any] = {"instrument": "ors", "licence": "Licensed for testing",
                               "items": {i: f"Item {i}" for i in inst.item_ids}}
    wording.update(changes)
    return wording


def test_wording_as_given_merges() -> None:
    merged = merge_wording(builtin_catalog()["ors"], _wording(instructions="Rate each."))
    assert not merged.structure_only


def test_numeric_instructions_are_an_instrument_error() -> None:
    with pytest.raises(InstrumentError, match="instructions must be text"):
        merge_wording(builtin_catalog()["ors"], _wording(instructions=1.5))


def test_unknown_number_and_text_keys_are_an_instrument_error() -> None:
    wording = _wording()
    wording[1] = "x"
    wording["extra"] = "y"
    with pytest.raises(InstrumentError, match=r"unknown field\(s\) \['1', 'extra'\]"):
        merge_wording(builtin_catalog()["ors"], wording)


@pytest.mark.parametrize("key", [10**400, None, "x"])
def test_anchor_key_that_is_not_a_usable_number_is_an_instrument_error(key: Any) -> None:
    with pytest.raises(InstrumentError, match="anchors must map scale values"):
        merge_wording(builtin_catalog()["ors"], _wording(anchors={key: "label"}))
