"""Validation data and the agreement/accuracy script."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from alliance.errors import TrainingError
from alliance.training import load_casebook
from alliance.training.validation import (
    Label,
    agreement,
    cohen_kappa,
    evaluate,
    load_labels,
    load_responses,
    render_confusion,
    split_of,
)
from alliance.training.verdicts import VERDICTS

DATA = Path(__file__).parents[2] / "data" / "training"
RESPONSES = load_responses(DATA / "responses.yaml")
PASS1 = load_labels(DATA / "labels-pass1.yaml")


def test_at_least_200_responses_across_every_case_and_verdict() -> None:
    assert len(RESPONSES) >= 200
    book = load_casebook()
    assert {r.case for r in RESPONSES} == set(book)
    for r in RESPONSES:
        assert r.client == book[r.case].stage(r.stage).client
    assert set(PASS1) == {r.id for r in RESPONSES}
    counts = Counter(lab.verdict for lab in PASS1.values())
    assert set(counts) == set(VERDICTS) and min(counts.values()) >= 20


def test_the_responses_file_carries_no_labels() -> None:
    text = (DATA / "responses.yaml").read_text(encoding="utf-8")
    assert "verdict:" not in text and "steps:" not in text


def test_the_split_is_fixed_by_id_and_holds_out_about_forty_percent() -> None:
    assert split_of("r001") == split_of("r001")
    share = sum(split_of(r.id) == "heldout" for r in RESPONSES) / len(RESPONSES)
    assert 0.3 < share < 0.5


def test_kappa_matches_the_textbook_example() -> None:
    # two raters, 50 items: 20 yes/yes, 15 no/no, 5 yes/no, 10 no/yes -> kappa = 0.4
    a = ["y"] * 20 + ["y"] * 5 + ["n"] * 10 + ["n"] * 15
    b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa(["a", "a"], ["a", "a"]) is None


def test_kappa_agrees_with_scikit_learn() -> None:
    sklearn = pytest.importorskip("sklearn.metrics")
    a = [lab.verdict for lab in PASS1.values()]
    b = list(reversed(a))
    assert cohen_kappa(a, b) == pytest.approx(sklearn.cohen_kappa_score(a, b))


def test_agreement_of_a_pass_with_itself_is_perfect() -> None:
    ag = agreement(PASS1, PASS1)
    assert ag["n"] == len(PASS1) and ag["verdict"]["kappa"] == 1.0


def test_agreement_script_runs_on_the_selfcheck_subset_and_on_pass2_when_present() -> None:
    second = load_labels(DATA / "labels-selfcheck.yaml")
    ag = agreement(PASS1, second)
    assert ag["n"] == len(second) and -1 <= ag["verdict"]["kappa"] <= 1
    pass2 = DATA / "labels-pass2.yaml"
    if pass2.exists():
        ag2 = agreement(PASS1, load_labels(pass2))
        assert ag2["n"] > 0


def test_evaluate_reports_accuracy_confusion_and_step_f1() -> None:
    ev = evaluate(RESPONSES, PASS1, "dev")
    assert ev["n"] == sum(split_of(r.id) == "dev" for r in RESPONSES)
    assert sum(sum(row.values()) for row in ev["confusion"].values()) == ev["n"]
    assert set(ev["steps"]) >= {"noticed", "named", "invited", "responsibility",
                                "renegotiated", "reflected", "technique_before_repair"}
    assert render_confusion(ev["confusion"]).startswith("| label \\ scorer |")


def test_a_label_file_with_an_unknown_verdict_names_the_entry(tmp_path: Path) -> None:
    bad = tmp_path / "labels-bad.yaml"
    bad.write_text("schema: alliance.training-labels/1\npass: 2\nlabels:\n"
                   "  r001: {verdict: great, steps: []}\n", encoding="utf-8")
    with pytest.raises(TrainingError, match=r"labels.r001.verdict"):
        load_labels(bad)


def test_a_label_file_with_an_unknown_step_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "labels-bad.yaml"
    bad.write_text("schema: alliance.training-labels/1\nlabels:\n"
                   "  r001: {verdict: repair, steps: [apologised]}\n", encoding="utf-8")
    with pytest.raises(TrainingError, match="unknown step 'apologised'"):
        load_labels(bad)


def test_two_passes_without_shared_ids_are_refused() -> None:
    with pytest.raises(TrainingError, match="share no response ids"):
        agreement({"a": Label("repair", frozenset(), False)},
                  {"b": Label("repair", frozenset(), False)})


@pytest.mark.parametrize("suffix", ["fresh", *(f"fresh{n}" for n in range(2, 9))])
def test_each_fresh_set_has_labels_for_exactly_its_responses(suffix: str) -> None:
    responses = load_responses(DATA / f"responses-{suffix}.yaml")
    labels = load_labels(DATA / f"labels-{suffix}-pass1.yaml")
    assert len(responses) == (64 if suffix == "fresh8" else 40)
    assert {r.id for r in responses} == set(labels)
    text = (DATA / f"responses-{suffix}.yaml").read_text(encoding="utf-8")
    assert "verdict:" not in text and "steps:" not in text
    ev = evaluate(responses, labels, "all")
    assert ev["n"] == len(responses) and 0 <= ev["accuracy"] <= 1


def test_fresh_set_8_has_two_passes_over_every_case_and_verdict() -> None:
    responses = load_responses(DATA / "responses-fresh8.yaml")
    first = load_labels(DATA / "labels-fresh8-pass1.yaml")
    second = load_labels(DATA / "labels-fresh8-pass2.yaml")
    assert set(first) == set(second) == {r.id for r in responses}
    assert len({r.case for r in responses}) == 19
    assert {lab.verdict for lab in first.values()} == {"repair", "partial", "technique_first",
                                                         "defensive", "judgmental"}


@pytest.mark.parametrize("suffix", [f"fresh{n}" for n in range(10, 21)])
def test_each_clean_set_of_80_quotes_its_case_stages_and_is_labelled_in_every_pass(
        suffix: str) -> None:
    from alliance.training import load_casebook

    book = load_casebook()
    responses = load_responses(DATA / f"responses-{suffix}.yaml")
    assert len(responses) == 80 and len({r.id for r in responses}) == 80
    for r in responses:  # the client line is the case's own statement for that stage
        assert r.client == book[r.case].stage(r.stage).client, r.id
    passes = sorted(DATA.glob(f"labels-{suffix}-pass*.yaml"))
    assert passes, suffix
    for path in passes:
        assert set(load_labels(path)) == {r.id for r in responses}, path.name
    assert {lab.verdict for lab in load_labels(passes[0]).values()} == {
        "repair", "partial", "technique_first", "defensive", "judgmental"}
