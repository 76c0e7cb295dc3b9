"""`alliance instruments`, `score` and `reliability` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from alliance.cli import main
from alliance.instruments import get_instrument
from alliance.testing.responses import simulate_responses

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture(autouse=True)
def deployer_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "deployer"
    monkeypatch.setenv("ALLIANCE_INSTRUMENTS_DIR", str(folder))
    return folder


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_list_as_json_names_every_instrument() -> None:
    code, out, _ = run("instruments", "list", "--format", "json")
    assert code == 0
    rows = {r["id"]: r for r in json.loads(out)}
    assert set(rows) == {"alliance-12", "gad-7", "ors", "phq-9", "pulse-3", "session-check-4",
                         "srs", "wai-sr"}
    assert rows["wai-sr"]["wording"] == "structure only"
    assert (rows["phq-9"]["kind"], rows["alliance-12"]["kind"]) == ("outcome", "alliance")


def test_list_as_text_is_never_cut_at_the_terminal_width() -> None:
    code, out, _ = run("instruments", "list")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("wai-sr "))
    assert "Working Alliance Inventory - Short Revised (structure only)" in line
    assert "session-check-4 " in out and "relationship, goals, approach, overall, total" in out


def test_show_prints_the_therapist_wording_and_sources() -> None:
    code, out, _ = run("instruments", "show", "alliance-12", "--rater", "therapist")
    assert code == 0
    assert get_instrument("alliance-12").item("b4").text_for("therapist") in out
    assert "cutoff: total below 42" in out and "source:" in out


def test_show_a_structure_only_spec_says_so() -> None:
    code, out, _ = run("instruments", "show", "wai-sr")
    assert code == 0 and "structure-only spec" in out


def test_show_unknown_rater_is_a_readable_error() -> None:
    code, _, err = run("instruments", "show", "wai-sr", "--rater", "therapist")
    assert code == 1 and "wai-sr has no 'therapist' version" in err


def test_validate_reports_each_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: Bad Id\n", encoding="utf-8")
    good = Path(__file__).parents[2] / "src/alliance/instruments/specs/pulse-3.yaml"
    code, out, err = run("instruments", "validate", str(good), str(bad))
    assert code == 1
    assert "ok:" in out and "pulse-3" in out
    assert "invalid:" in err and "bad.yaml" in err


def test_add_merges_licensed_wording_outside_the_repo(tmp_path: Path,
                                                      deployer_dir: Path) -> None:
    wording = {"instrument": "srs", "licence": "Test licence 123",
               "items": {"relationship": "Placeholder one", "goals": "Placeholder two",
                         "approach": "Placeholder three", "overall": "Placeholder four"},
               "anchors": {0: "low", 10: "high"}}
    path = tmp_path / "srs-wording.yaml"
    path.write_text(yaml.safe_dump(wording), encoding="utf-8")
    code, out, err = run("instruments", "add", str(path))
    assert code == 0, err
    assert (deployer_dir / "srs.yaml").exists()
    code, out, _ = run("instruments", "show", "srs")
    assert "Placeholder three" in out and "Test licence 123" in out
    code, _, err = run("instruments", "add", str(path))
    assert code == 1 and "already exists; pass --replace" in err
    assert run("instruments", "add", str(path), "--replace")[0] == 0


def test_add_refuses_wording_that_misses_an_item(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump({"instrument": "wai-sr", "licence": "x",
                                    "items": {"1": "only one"}}), encoding="utf-8")
    code, _, err = run("instruments", "add", str(path))
    assert code == 1 and 'item "2" has no text' in err


def test_score_csv_to_json_carries_id_columns() -> None:
    code, out, _ = run("score", str(EXAMPLES / "responses.csv"), "--instrument", "alliance-12",
                       "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 200
    assert rows[0]["client"] == "c001" and rows[0]["session"] == 1
    assert rows[0]["total_status"] in {"complete", "prorated"}


def test_score_parquet_round_trip(tmp_path: Path) -> None:
    inst = get_instrument("alliance-12")
    table = simulate_responses(inst, 50, seed=9)
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    table.to_parquet(src)
    code, _, err = run("score", str(src), "--instrument", "alliance-12", "--format", "parquet",
                       "--out", str(dst))
    assert code == 0 and "scored 50 responses" in err
    assert len(pd.read_parquet(dst)) == 50


def test_score_with_bad_values_exits_1_naming_row_and_item(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("client,bond,goal,task\nann,7,7,7\nben,9,x,7\n", encoding="utf-8")
    code, out, err = run("score", str(path), "--instrument", "pulse-3")
    assert code == 1 and out == ""
    assert "row 2 (client=ben), item 'bond': 9 is out of range" in err
    assert "row 2 (client=ben), item 'goal': 'x' is not a number" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("content", "suffix", "message"), [
    (b"", ".csv", "the file is empty"),
    (b"\xff\xfe\x00garbage", ".csv", "is not UTF-8 text"),
    (b"not parquet at all", ".parquet", "cannot read as parquet"),
    (b"{\"a\": 1", ".json", "invalid JSON"),
    (b"[1, 2]", ".json", "must be a list of objects"),
    (b"a,b\n1,2\n", ".txt", "cannot tell the format"),
    (b"client,bond,goal,task\n", ".csv", "has a header but no rows"),
    (b"client\tbond\tgoal\ttask\n", ".tsv", "has a header but no rows"),
    (b"PK\x03\x04 not really a workbook", ".xlsx", "is not an Excel .xlsx workbook"),
])
def test_score_unreadable_files_exit_1_with_a_message(tmp_path: Path, content: bytes,
                                                      suffix: str, message: str) -> None:
    path = tmp_path / f"input{suffix}"
    path.write_bytes(content)
    code, _, err = run("score", str(path), "--instrument", "pulse-3")
    assert code == 1 and message in err and "Traceback" not in err


def test_score_missing_file_and_unknown_instrument() -> None:
    assert "no such file" in run("score", "nope.csv", "--instrument", "pulse-3")[2]
    code, _, err = run("score", str(EXAMPLES / "responses.csv"), "--instrument", "wai")
    assert code == 1 and "unknown instrument 'wai'" in err


def test_parquet_output_needs_out() -> None:
    code, _, err = run("score", str(EXAMPLES / "responses.csv"), "--instrument", "alliance-12",
                       "--format", "parquet")
    assert code == 1 and "parquet output needs --out FILE" in err


def test_reliability_text_and_json() -> None:
    code, out, _ = run("reliability", str(EXAMPLES / "responses.csv"), "--instrument",
                       "alliance-12")
    assert code == 0 and "alpha =" in out and "omega total =" in out and "(Feldt)" in out
    code, out, _ = run("reliability", str(EXAMPLES / "responses.csv"), "--instrument",
                       "alliance-12", "--format", "json")
    results = json.loads(out)
    assert [r["score"] for r in results] == ["bond", "goal", "task", "total"]
    assert 0 < results[-1]["alpha"]["alpha"] < 1


def test_reliability_on_too_little_data_is_a_readable_error(tmp_path: Path) -> None:
    path = tmp_path / "tiny.csv"
    path.write_text("bond,goal,task\n7,7,7\n", encoding="utf-8")
    code, _, err = run("reliability", str(path), "--instrument", "pulse-3")
    assert code == 1 and "at least 3 complete responses" in err


def test_add_names_the_line_of_broken_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("instrument: srs\n\titems: {}\n", encoding="utf-8")
    code, _, err = run("instruments", "add", str(path))
    assert code == 1 and "broken.yaml: line 2 is not valid YAML" in err


def test_score_reads_tsv_and_xlsx_like_csv(tmp_path: Path) -> None:
    rows = "client,bond,goal,task\nann,7,6,5\nben,3,4,x\n"
    (tmp_path / "in.csv").write_text(rows, encoding="utf-8")
    (tmp_path / "in.tsv").write_text(rows.replace(",", "\t"), encoding="utf-8")
    pd.DataFrame({"client": ["ann", "ben"], "bond": [7, 3], "goal": [6, 4],
                  "task": [5, "x"]}).to_excel(tmp_path / "in.xlsx", index=False)
    outputs = {}
    for suffix in ("csv", "tsv", "xlsx"):
        bad = run("score", str(tmp_path / f"in.{suffix}"), "--instrument", "pulse-3")
        assert bad[0] == 1 and "row 2 (client=ben), item 'task': 'x' is not a number" in bad[2]
        (tmp_path / f"ok.{suffix}").write_bytes(b"")
    good = "client,bond,goal,task\nann,7,6,5\nben,3,4,2\n"
    (tmp_path / "ok.csv").write_text(good, encoding="utf-8")
    (tmp_path / "ok.tsv").write_text(good.replace(",", "\t"), encoding="utf-8")
    pd.read_csv(tmp_path / "ok.csv").to_excel(tmp_path / "ok.xlsx", index=False)
    for suffix in ("csv", "tsv", "xlsx"):
        code, out, _ = run("score", str(tmp_path / f"ok.{suffix}"), "--instrument", "pulse-3",
                           "--format", "json")
        assert code == 0
        outputs[suffix] = [(r["client"], r["total_raw"]) for r in json.loads(out)]
    assert outputs["csv"] == outputs["tsv"] == outputs["xlsx"] == [("ann", 6.0), ("ben", 3.0)]
