"""The monitoring commands: monitor, plot and examples synthetic."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from alliance.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cases" / "example.json"


def run(*args: str) -> click.testing.Result:
    return CliRunner().invoke(main, list(args))


def test_monitor_json_has_the_documented_shape() -> None:
    result = run("monitor", str(EXAMPLE), "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    case = out["cases"][0]
    assert set(case) == {"id", "signals", "episodes", "alert"}
    assert set(case["signals"][0]) == {"kind", "session", "member", "severity", "evidence",
                                       "explanation"}
    assert set(case["episodes"][0]) == {"start_session", "low_session", "end_session",
                                        "status", "criterion"}
    alerts = [c["alert"] for c in out["cases"] if c["alert"]]
    assert alerts and set(alerts[0]) == {"severity", "headline", "evidence",
                                         "findings", "steps"}


def test_monitor_text_summarises_each_case() -> None:
    result = run("monitor", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "case c2" in result.output and "What to do:" in result.output
    assert "Ambiguous in session 4" in result.output
    assert "4 case(s):" in result.output


def test_monitor_with_a_policy_file(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("split_alliance:\n  spread_pom: 90\n  one_low_gap_pom: 90\n")
    result = run("monitor", str(EXAMPLE), "--policy", str(policy), "--format", "json")
    kinds = {s["kind"] for c in json.loads(result.output)["cases"] for s in c["signals"]}
    assert "split_alliance" not in kinds


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("{not json", "invalid JSON"),
    ('{"cases": [{"id": "c1"}]}', "cases[0]: 'members' is required"),
])
def test_monitor_bad_input_is_a_one_line_error(tmp_path: Path, content: str | None,
                                               message: str) -> None:
    path = tmp_path / "cases.json"
    if content is not None:
        path.write_text(content)
    result = run("monitor", str(path))
    assert result.exit_code == 1
    assert result.output.startswith("error: ") and message in result.output
    assert "Traceback" not in result.output


def test_bad_policy_file_is_a_one_line_error(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("drop:\n  strict: 3\n")
    result = run("monitor", str(EXAMPLE), "--policy", str(policy))
    assert result.exit_code == 1 and "drop.strict: unknown setting" in result.output


def test_plot_writes_self_contained_html(tmp_path: Path) -> None:
    out = tmp_path / "c1.html"
    result = run("plot", str(EXAMPLE), "--case", "c1", "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "<script src=\"http" not in html and "Plotly.newPlot" in html
    assert len(html) > 1_000_000          # plotly.js is embedded from the installed package


@pytest.mark.browser
def test_plot_writes_a_png_through_the_local_chromium(tmp_path: Path) -> None:
    out = tmp_path / "c1.png"
    result = run("plot", str(EXAMPLE), "--case", "c1", "--out", str(out))
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1100, 650)


def test_plot_png_without_a_browser_says_to_use_html(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))   # no chromium to be found
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    result = run("plot", str(EXAMPLE), "--case", "c1", "--out", str(tmp_path / "c1.png"))
    assert result.exit_code == 1
    assert "PNG export needs a Chrome or Chromium browser" in result.output
    assert ".html" in result.output


@pytest.mark.parametrize("args, message", [
    (["--case", "zz"], "no case 'zz'"),
    (["--case", "c1", "--out", "x.svg"], "as .html or .png"),
])
def test_plot_bad_arguments(args: list[str], message: str) -> None:
    result = run("plot", str(EXAMPLE), *args)
    assert result.exit_code == 1 and message in result.output


def test_examples_synthetic_writes_cases_and_truth(tmp_path: Path) -> None:
    out = tmp_path / "demo.json"
    result = run("examples", "synthetic", "--cases", "5", "--seed", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    truth = json.loads((tmp_path / "demo.truth.json").read_text())
    assert len(data["cases"]) == 5 and set(truth["cases"]) == {c["id"] for c in data["cases"]}
    assert run("monitor", str(out), "--format", "json").exit_code == 0


def test_examples_synthetic_rejects_a_bad_count(tmp_path: Path) -> None:
    result = run("examples", "synthetic", "--cases", "0", "--out", str(tmp_path / "x.json"))
    assert result.exit_code == 2 and "--cases" in result.output


@pytest.mark.parametrize("command", [["monitor"], ["plot"], ["examples"],
                                     ["examples", "synthetic"]])
def test_every_monitoring_command_has_an_example_in_its_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output or "Examples:" in result.output


def test_monitor_leads_with_a_risk_answer_as_the_case_page_does(tmp_path: Path) -> None:
    sessions = [{"number": n, "attendance": "attended", "ratings": [
        {"rater": "m1", "instrument": "pulse-3", "items": {"bond": 6, "goal": 6, "task": 6}},
        {"rater": "m1", "instrument": "phq-9",
         "items": {**{f"phq{i}": 1 for i in range(1, 9)}, "phq9": answer}}]}
        for n, answer in [(1, 0), (2, 2)]]
    path = tmp_path / "risk.json"
    path.write_text(json.dumps({"cases": [{"id": "r1", "modality": "individual",
                                           "members": [{"id": "m1", "role": "client"}],
                                           "sessions": sessions}]}), encoding="utf-8")
    result = run("monitor", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    alert = json.loads(result.output)["cases"][0]["alert"]
    assert alert["severity"] == "act"
    assert "safety question on phq-9 (item phq9: 2) in session 2" in alert["headline"]
    assert alert["steps"][0].startswith("Contact the client today")
