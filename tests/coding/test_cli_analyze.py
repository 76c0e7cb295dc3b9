from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alliance.cli import main
from alliance.coding.report import validate_report

TEXT = """T: What was this week like for you?
C: I don't know.
T: I notice you went quiet. How is this going for you, talking with me right now?
C: It's hard. I felt judged last time, like you thought I was lazy.
T: That makes sense. Let's look at it together.
C: Okay, yes, because the week was really rough at work and I want to talk about it.
"""


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text(TEXT, encoding="utf-8")
    b.write_text(TEXT.replace("lazy", "useless"), encoding="utf-8")
    return [a, b]


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_analyze_json_report_validates(files) -> None:
    result = run("analyze", "--rules-only", "--format", "json", str(files[0]))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    validate_report(report)
    assert report["coder"]["rules_only"] is True
    assert report["utterances"][1]["codes"][0]["code"] == "withdrawal.minimal_response"


def test_analyze_jsonl_writes_one_report_per_line(files, tmp_path) -> None:
    out = tmp_path / "out"
    result = run("analyze", "--rules-only", "--format", "jsonl", "--out", str(out),
                 *map(str, files))
    assert result.exit_code == 0, result.output
    lines = (out / "reports.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    for line in lines:
        validate_report(json.loads(line))


def test_analyze_html_to_folder(files, tmp_path) -> None:
    out = tmp_path / "html"
    result = run("analyze", "--rules-only", "--format", "html", "--out", str(out),
                 str(files[0]))
    assert result.exit_code == 0, result.output
    page = (out / "a.txt.report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page


def test_text_output_says_rules_only(files) -> None:
    result = run("analyze", "--rules-only", str(files[0]))
    assert result.exit_code == 0
    assert "rules-only" in result.output and "alliance index" in result.output


def test_bad_file_among_many_is_reported_and_others_still_processed(files, tmp_path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["analyze", "--rules-only", "--format", "json",
                                       "--out", str(out), str(files[0]), str(empty),
                                       str(tmp_path / "missing.txt"), str(files[1])])
    assert result.exit_code == 1
    assert "empty.txt" in result.output and "missing.txt" in result.output
    assert "2 of 4 file(s) failed" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.txt.report.json", "b.txt.report.json"]


def test_roles_option_maps_speakers(tmp_path) -> None:
    p = tmp_path / "d.txt"
    p.write_text("ANA: How was it?\nBEN: Dunno.\n", encoding="utf-8")
    result = run("analyze", "--rules-only", "--format", "json", "--roles",
                 "ANA=therapist,BEN=client", str(p))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["speakers"] == {"ANA": "therapist", "BEN": "client"}


def test_analyze_needs_a_file() -> None:
    result = CliRunner().invoke(main, ["analyze"])
    assert result.exit_code == 2 and "Missing argument" in result.output


def test_tampered_model_path_is_refused_readably(files, tmp_path) -> None:
    model = tmp_path / "m"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"x")
    result = CliRunner().invoke(main, ["analyze", "--model", str(model), str(files[0])])
    assert result.exit_code == 1
    assert "does not match" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", [["analyze"], ["coding"], ["coding", "train"],
                                     ["coding", "eval"], ["coding", "stats"]])
def test_every_command_help_has_an_example(command) -> None:
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output or "Examples:" in result.output


def test_coding_stats_counts_the_corpus() -> None:
    result = run("coding", "stats")
    assert result.exit_code == 0, result.output
    assert "Examples per code" in result.output and "withdrawal.denial" in result.output


def test_coding_stats_on_broken_corpus_is_a_readable_error(tmp_path) -> None:
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "x.jsonl").write_text("{oops\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["coding", "stats", "--corpus", str(tmp_path)])
    assert result.exit_code == 1 and "not JSON" in result.output


def test_coding_eval_rules_only_prints_tables() -> None:
    result = run("coding", "eval", "--coder", "rules")
    assert result.exit_code == 0, result.output
    for part in ("rules-only coder on the test split", "Per code", "Macro-F1 per family",
                 "Family confusion", "episodes ("):
        assert part in result.output


def test_deidentify_removes_identifiers_before_coding(tmp_path) -> None:
    p = tmp_path / "id.txt"
    p.write_text("T: What happened?\nC: I don't know. Call me on 07700 900123 or mail "
                 "jo.bloggs@example.com, ask for Maria.\n", encoding="utf-8")
    roster = tmp_path / "names.txt"
    roster.write_text("Maria\n", encoding="utf-8")
    result = run("analyze", "--rules-only", "--format", "json", "--deidentify", "--roster",
                 str(roster), str(p))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    validate_report(report)
    text = report["utterances"][1]["text"]
    assert report["deidentified"] is True
    for secret in ("07700", "jo.bloggs", "Maria"):
        assert secret not in result.output
    assert "I don't know." in text


def test_same_file_name_from_two_folders_keeps_both_reports(tmp_path) -> None:
    for sub in ("x", "y"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "s.txt").write_text(TEXT, encoding="utf-8")
    out = tmp_path / "out"
    result = run("analyze", "--rules-only", "--format", "json", "--out", str(out),
                 str(tmp_path / "x" / "s.txt"), str(tmp_path / "y" / "s.txt"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["s.txt-2.report.json", "s.txt.report.json"]


@pytest.mark.parametrize("command", [["coding", "train"], ["coding", "eval"]])
def test_train_and_eval_refuse_a_broken_corpus_before_loading_the_model(command,
                                                                       tmp_path) -> None:
    (tmp_path / "snippets").mkdir()
    (tmp_path / "snippets" / "x.jsonl").write_text(
        '{"id": "a", "group": "g", "split": "train", "role": "client", "text": "hi", '
        '"codes": ["withdrawal.sulking"]}\n', encoding="utf-8")
    result = CliRunner().invoke(main, [*command, "--corpus", str(tmp_path)])
    assert result.exit_code == 1
    assert "unknown code 'withdrawal.sulking'" in result.output
    assert "Traceback" not in result.output


def test_analyze_with_missing_heads_says_how_to_fix(files, tmp_path) -> None:
    result = CliRunner().invoke(main, ["analyze", "--heads", str(tmp_path / "none"),
                                       str(files[0])])
    assert result.exit_code == 1
    assert "no trained heads" in result.output and "--rules-only" in result.output
