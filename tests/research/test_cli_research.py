"""``alliance stats …`` and ``alliance fhir …``: thin commands, readable errors, exit codes."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from alliance.cli import main

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
FIXTURE = Path(__file__).parent / "data" / "shrout-lane-2012.csv"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, list(args))


def test_stats_reliability_reports_the_published_example(tmp_path: Path) -> None:
    plain = tmp_path / "sl.csv"
    plain.write_text(pd.read_csv(FIXTURE, comment="#").to_csv(index=False))
    result = run("stats", "reliability", str(plain), "--items", "item1,item2,item3",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["method"] == "anova"
    assert round(data["coefficients"]["RkF"], 2) == 0.97
    assert round(data["coefficients"]["Rc"], 2) == 0.74
    fig = tmp_path / "rel.json"
    text = run("stats", "reliability", str(plain), "--items", "item1,item2,item3",
               "--figure", str(fig))
    assert "person:time" in text.output and "RkRn" in text.output
    assert json.loads(fig.read_text())["data"][2]["name"] == "coefficient"


def test_stats_reliability_with_an_instrument_keys_its_items() -> None:
    result = run("stats", "reliability", str(EXAMPLES / "responses.csv"), "--person", "client",
                 "--time", "session", "--instrument", "alliance-12", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "coefficient,value"
    assert len(result.output.splitlines()) == 8


def test_stats_alliance_outcome_writes_table_and_figure(tmp_path: Path) -> None:
    fig = tmp_path / "effects.html"
    result = run("stats", "alliance-outcome", str(EXAMPLES / "research" / "sessions.csv"),
                 "--figure", str(fig), "--format", "csv")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert "alliance_within" in set(table["term"])
    html = fig.read_text(encoding="utf-8")
    assert "plotly" in html.lower()
    assert not re.search(r"<script[^>]*\bsrc=", html)  # self-contained: loads nothing


def test_fhir_export_import_round_trip(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    result = run("fhir", "export", "responses", str(EXAMPLES / "responses.csv"),
                 "--instrument", "alliance-12", "--out", str(bundle))
    assert result.exit_code == 0, result.output
    assert json.loads(bundle.read_text())["resourceType"] == "Bundle"
    out = tmp_path / "back.csv"
    result = run("fhir", "import", str(bundle), "--out", str(out))
    assert result.exit_code == 0, result.output
    back, original = pd.read_csv(out), pd.read_csv(EXAMPLES / "responses.csv")
    pd.testing.assert_series_equal(back["b1"], original["b1"].astype(float))
    assert run("fhir", "export", "questionnaire", "wai-sr").exit_code == 0
    cs = run("fhir", "export", "codesystem", "--base", "https://clinic.example/fhir")
    assert json.loads(cs.output)["url"] == "https://clinic.example/fhir/CodeSystem/alliance"


def test_convokit_export_and_import(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    result = run("convokit", "export", "--rules-only", "--out", str(corpus),
                 str(EXAMPLES / "transcripts" / "session.txt"),
                 str(EXAMPLES / "transcripts" / "rupture-repair.txt"))
    assert result.exit_code == 0, result.output
    assert (corpus / "utterances.jsonl").is_file()
    episodes = run("convokit", "import", str(corpus), "--episodes")
    assert episodes.exit_code == 0, episodes.output
    table = pd.read_csv(io.StringIO(episodes.stdout))
    assert len(table) == 3 and set(table["session"]) == {"rupture-repair-0000"}
    out = tmp_path / "codes.json"
    assert run("convokit", "import", str(corpus), "--out", str(out)).exit_code == 0
    assert {"code", "confidence", "evidence"} <= set(json.loads(out.read_text())[0])


@pytest.mark.parametrize(("args", "message"), [
    (["stats", "reliability", "nope.csv", "--items", "a,b"], "no such file"),
    (["stats", "reliability", "{examples}/research/diary.csv"], "give either --items"),
    (["stats", "reliability", "{examples}/research/diary.csv", "--items", "i1,zz"],
     "no column 'zz'"),
    (["stats", "reliability", "{examples}/responses.csv", "--instrument", "alliance-12",
      "--score", "trust", "--person", "client", "--time", "session"], "no subscale 'trust'"),
    (["stats", "reliability", "{examples}/responses.csv", "--instrument", "alliance-12"],
     "no column 'person'"),
    (["stats", "alliance-outcome", "{examples}/responses.csv"], "no column 'alliance'"),
    (["stats", "reliability", "{examples}/research/diary.csv", "--items", "i1,i2",
      "--figure", "out.svg"], "written as .html or .json"),
    (["stats", "alliance-outcome", "{examples}/research/sessions.csv", "--figure", "x.png"],
     "written as .html or .json"),
    (["fhir", "export", "questionnaire", "beck-99"], "unknown instrument"),
    (["fhir", "export", "questionnaire", "alliance-12", "--base", "ftp://x"], "--base must"),
    (["fhir", "export", "responses", "{examples}/responses.csv", "--instrument", "pulse-3"],
     "no item column"),
    (["fhir", "import", "{examples}/responses.csv"], "not JSON"),
    (["fhir", "import", "missing.json"], "no such file"),
    (["convokit", "import", "missing-corpus"], "not a ConvoKit corpus"),
    (["convokit", "export", "--rules-only", "--out", "x", "{examples}/responses.csv"],
     "responses.csv"),
])
def test_bad_input_is_one_line_error_and_exit_1(args: list[str], message: str) -> None:
    result = run(*[a.replace("{examples}", str(EXAMPLES)) for a in args])
    assert result.exit_code == 1, result.output
    assert "error:" in result.output and message in result.output
    assert "Traceback" not in result.output
