"""``alliance report``: a PDF case report from a case file; bad input is a readable error."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from alliance.cli import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "cases" / "example.json"


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


@pytest.mark.browser
@pytest.mark.skipif(not shutil.which("chromium"), reason="no local chromium")
def test_report_writes_a_pdf_titled_after_the_case(tmp_path: Path) -> None:
    out = tmp_path / "c.pdf"
    first = run("monitor", str(EXAMPLE), "--format", "json")
    case_id = re.search(r'"id": "([^"]+)"', first.output).group(1)  # type: ignore[attr-defined,union-attr]
    result = run("report", str(EXAMPLE), "--case", case_id, "--out", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf.replace(b"/Type/Page", b"/Type /Page")
    title = re.search(rb"/Title\s*<([0-9A-Fa-f]+)>|/Title\s*\(([^)]*)\)", pdf)
    assert title is not None
    text = (bytes.fromhex(title.group(1).decode()).decode("utf-16") if title.group(1)
            else title.group(2).decode("latin-1"))
    assert text == f"Case report: {case_id}"


@pytest.mark.parametrize(("args", "message"), [
    (["--case", "nope", "--out", "x.pdf"], "no case 'nope'"),
    (["--case", "c1", "--out", "x.txt"], "written as .pdf"),
    (["--case", "c1", "--out", "x.pdf", "--expected", "/no/such/folder"], "no such folder"),
])
def test_bad_input_is_a_readable_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = run("report", str(EXAMPLE), *[str(tmp_path / a) if a.startswith("x.") else a
                                           for a in args])
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert message in result.output and "Traceback" not in result.output  # type: ignore[attr-defined]


def test_a_missing_case_file_is_a_readable_error(tmp_path: Path) -> None:
    result = run("report", str(tmp_path / "none.json"), "--case", "c1", "--out",
                 str(tmp_path / "c.pdf"))
    assert result.exit_code == 1 and "error:" in result.output  # type: ignore[attr-defined]
