"""The case library: every case validates and covers the issue; errors name file and field."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from alliance.errors import TrainingError
from alliance.training import load_case_file, load_casebook
from alliance.training.casebook import builtin_case_dir, case_schema

CASE_FILES = sorted(builtin_case_dir().glob("*.yaml"))
SITUATIONS = case_schema()["properties"]["situations"]["items"]["enum"]


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.stem)
def test_every_bundled_case_validates(path: Path) -> None:
    case = load_case_file(path)
    assert case.id == path.stem
    assert 3 <= len(case.items) <= 6
    for item in case.items:
        assert len(item.options) == 4
        assert all(o.rationale for o in item.options)
        assert item.key in {o.key for o in item.options}
    for stage in case.stages:
        assert stage.cues and stage.alternative and stage.client


def test_library_has_at_least_sixteen_cases_covering_every_situation() -> None:
    book = load_casebook()
    assert len(book) >= 16
    covered = {s for c in book.values() for s in c.situations}
    assert covered == set(SITUATIONS)


def test_keyed_answers_are_spread_over_the_four_positions() -> None:
    keys = Counter(i.key for c in load_casebook().values() for i in c.items)
    assert set(keys) == {"A", "B", "C", "D"}
    assert max(keys.values()) < 0.4 * sum(keys.values())


def test_every_case_has_repair_and_intervention_items() -> None:
    for case in load_casebook().values():
        comps = {i.competency for i in case.items}
        assert "intervention" in comps or "frame" in comps, case.id
        assert comps & {"repair", "noticing", "frame"}, case.id


def test_unknown_case_is_a_training_error_naming_it() -> None:
    with pytest.raises(TrainingError, match="unknown case 'nope'"):
        load_casebook()["nope"]


def _write_variant(tmp_path: Path, change: object) -> Path:
    src = builtin_case_dir() / "quiet-homework.yaml"
    data = yaml.safe_load(src.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    out = tmp_path / "quiet-homework.yaml"
    out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return out


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["stages"][0]["items"][0].__setitem__("key", "E"),
     r"quiet-homework.yaml: stages\[0\].items\[0\].key: 'E' is not one of"),
    (lambda d: d["stages"][1]["items"][0]["options"].pop(),
     r"stages\[1\].items\[0\].options: .* is too short"),
    (lambda d: d.pop("lines"), r"\(top level\): 'lines' is required"),
    (lambda d: d["start"].__setitem__("bond", 9), r"start.bond: 9 is greater than"),
    (lambda d: d.__setitem__("colour", "blue"), r"unknown field 'colour'"),
    (lambda d: d["markers"].__setitem__("withdrawal", "withdrawal.sulking"),
     r"markers.withdrawal: 'withdrawal.sulking' is not a codebook marker"),
    (lambda d: d["stages"][2]["items"].clear(), r"stages\[2\].items: \[\] should be non-empty"),
    (lambda d: d["stages"][2]["items"][1].__setitem__("id", "notice"),
     r"duplicate item id 'notice'"),
    (lambda d: d.__setitem__("id", "other-name"), r"does not match the file name"),
])
def test_malformed_case_file_names_file_and_field(tmp_path: Path, change: object,
                                                   message: str) -> None:
    path = _write_variant(tmp_path, change)
    with pytest.raises(TrainingError, match=message):
        load_case_file(path)


def test_too_few_items_in_a_case_is_refused(tmp_path: Path) -> None:
    def drop(d: dict) -> None:
        for s in d["stages"]:
            del s["items"][1:]
        d["stages"] = d["stages"][:2]

    with pytest.raises(TrainingError, match="3-6 exam items in all, this one has 2"):
        load_case_file(_write_variant(tmp_path, drop))


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("schema: alliance.training-case/1\nid: [unclosed\n", encoding="utf-8")
    with pytest.raises(TrainingError, match=r"broken.yaml: line \d+ is not valid YAML"):
        load_case_file(bad)


def test_missing_case_file_is_a_training_error(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="cannot read case file"):
        load_case_file(tmp_path / "absent.yaml")


def test_a_folder_without_cases_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="no case files"):
        load_casebook(tmp_path)
