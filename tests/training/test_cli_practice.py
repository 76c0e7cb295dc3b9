"""``alliance practice``: list, run (scripted through stdin), score, replay, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from alliance.cli import main
from alliance.training.casebook import builtin_case_dir

DATA = Path(__file__).parents[2] / "data" / "training"


def run(*args: str, input: str | None = None) -> object:
    # scoring commands use the rules coder here (no model); the model path has its own tests
    if args and args[0] in ("run", "score", "evaluate") and "--coder" not in args:
        args = (*args, "--coder", "rules")
    return CliRunner().invoke(main, ["practice", *args], input=input)


def test_list_shows_every_case() -> None:
    r = run("list", "--format", "json")
    assert r.exit_code == 0
    rows = json.loads(r.output)
    assert len(rows) >= 16 and {"id", "title", "setting", "situations"} <= set(rows[0])
    text = run("list")
    assert "quiet-homework" in text.output


def test_run_is_playable_through_stdin_and_writes_a_replayable_record(tmp_path: Path) -> None:
    record = tmp_path / "session.json"
    answers = "\n".join([
        "I notice the sheet is blank again, and I wonder if the homework isn't working for "
        "you. What has it been like?",
        "",  # an empty answer is refused and asked again
        "I think I pushed the sheets too hard. How have they really felt?",
        "So it feels like another test. Could we find something smaller together?",
    ]) + "\n"
    r = run("run", "quiet-homework", "--record", str(record), input=answers)
    assert r.exit_code == 0, r.output
    assert "the response is empty; please answer again" in r.output
    assert "verdict: repair" in r.output
    assert "simulated alliance-12 total" in r.output
    data = json.loads(record.read_text(encoding="utf-8"))
    assert data["schema"] == "alliance.practice-record/1" and len(data["turns"]) == 3
    replay = run("replay", str(record))
    assert replay.exit_code == 0 and "turn 3 (stage 3)" in replay.output


def test_run_exam_locks_sections_and_prints_rationales() -> None:
    r = run("run", "quiet-homework", "--exam", input="B\nZ\nC\nC\nA\n")
    assert r.exit_code == 0, r.output
    assert "(section 1 locked)" in r.output
    assert "is not one of A, B, C, D" in r.output
    assert "noticing" in r.output and "Keyed." in r.output


def test_run_that_runs_out_of_input_is_an_error_not_a_traceback() -> None:
    r = run("run", "quiet-homework", input="Okay.\n")
    assert r.exit_code == 1
    assert "error: input ended before the case was finished" in r.output
    assert "Traceback" not in r.output


def test_score_json_has_the_documented_shape() -> None:
    r = run("score", "I may have pushed too hard. What has it been like for you?",
            "--client", "Didn't get to it.", "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert list(d) == ["codes", "steps", "technique_before_repair", "score", "verdict",
                       "good", "to_improve", "alternative"]
    assert d["verdict"] == "repair"


def test_score_for_a_case_stage_uses_its_alternative() -> None:
    r = run("score", "Let's do the breathing again.", "--case", "not-helping", "--stage",
            "1", "--format", "json")
    assert r.exit_code == 0
    assert json.loads(r.output)["verdict"] == "technique_first"
    assert "eight weeks in" in json.loads(r.output)["alternative"]


def test_score_reads_the_response_from_stdin_with_a_dash() -> None:
    r = run("score", "-", "--format", "json", input="Why are you so difficult?\n")
    assert r.exit_code == 0 and json.loads(r.output)["verdict"] == "judgmental"


@pytest.mark.parametrize(("args", "message"), [
    (("score", ""), "error: the response is empty"),
    (("score", "   "), "error: the response is empty"),
    (("score", "x" * 100_000), "error: the response is 100,000 characters"),
    (("score", "Okay.", "--case", "no-such-case"), "error: unknown case 'no-such-case'"),
    (("score", "Okay.", "--stage", "2"), "error: --stage needs --case"),
    (("score", "Okay.", "--case", "quiet-homework", "--stage", "9"), "not 9"),
    (("run", "no-such-case"), "error: unknown case 'no-such-case'"),
    (("replay", "/nonexistent/record.json"), "cannot read a practice record"),
])
def test_bad_input_answers_with_a_clear_error_and_exit_code_1(args: tuple[str, ...],
                                                               message: str) -> None:
    r = run(*args)
    assert r.exit_code == 1, r.output
    assert message in r.output
    assert "Traceback" not in r.output


def test_a_malformed_case_file_is_reported_by_validate_and_by_cases_dir(
        tmp_path: Path) -> None:
    good = builtin_case_dir() / "quiet-homework.yaml"
    shutil.copy(good, tmp_path / "quiet-homework.yaml")
    bad = tmp_path / "quiet-homework.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("key: B", "key: Q", 1),
                   encoding="utf-8")
    r = run("validate", str(bad))
    assert r.exit_code == 1
    assert "quiet-homework.yaml: stages[0].items[0].key: 'Q' is not one of" in r.output
    r = run("list", "--cases-dir", str(tmp_path))
    assert r.exit_code == 1 and "stages[0].items[0].key" in r.output
    ok = run("validate", str(good))
    assert ok.exit_code == 0 and "ok (quiet-homework" in ok.output


def test_agreement_and_evaluate_commands_print_figures() -> None:
    r = run("agreement", str(DATA / "labels-pass1.yaml"), str(DATA / "labels-selfcheck.yaml"))
    assert r.exit_code == 0 and json.loads(r.output)["n"] == 30
    r = run("evaluate", "--responses", str(DATA / "responses.yaml"), "--labels",
            str(DATA / "labels-pass1.yaml"), "--split", "dev")
    assert r.exit_code == 0, r.output
    assert "verdict accuracy" in r.output and "| technique_before_repair |" in r.output
