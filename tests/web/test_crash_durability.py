"""Crash durability, short mode: ``kill -9`` of the server during submissions and transcript
analysis loses no acknowledged submission and leaves no transcript claimed.

``benchmarks/crash_durability.py --rounds 3`` runs here; the long mode (200 rounds) gives
the figure in ``docs/reliability.md``. The checker itself is tested too, so that a proof
that could not see a loss cannot pass.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from tests.benchmark_scripts import load

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "crash_durability.py"


def _script() -> ModuleType:
    return load("crash_durability")


@pytest.mark.slow
def test_three_rounds_of_kill_9_lose_no_acknowledged_submission(tmp_path: Path) -> None:
    report = tmp_path / "crash.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--rounds", "3", "--report",
                           str(report), "--keep", str(tmp_path / "work")],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    figures = json.loads(report.read_text(encoding="utf-8"))
    assert figures["rounds"] == 3
    assert figures["rounds_with_acknowledged"] == 3  # each kill came among submissions
    assert figures["lost"] == 0 and figures["duplicates"] == 0
    assert figures["integrity_failures"] == 0 and figures["server_errors"] == 0
    assert figures["transcripts_queued"] >= 5  # a backlog of 5, topped up each round
    assert figures["transcripts_left_claimed"] == 0
    assert figures["cases_not_reassessed"] == 0


def _answered_links(path: Path, answered: list[str], open_: list[str]) -> None:
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE survey_links (id INTEGER PRIMARY KEY, token_hash TEXT);"
                       "CREATE TABLE responses (id INTEGER PRIMARY KEY, link_id INTEGER);"
                       "CREATE TABLE transcripts (id INTEGER PRIMARY KEY, status TEXT);")
    for i, h in enumerate(answered + open_, 1):
        conn.execute("INSERT INTO survey_links VALUES (?, ?)", (i, h))
    for i in range(1, len(answered) + 1):
        conn.execute("INSERT INTO responses (link_id) VALUES (?)", (i,))
    conn.execute("INSERT INTO transcripts (status) VALUES ('running')")
    conn.commit()
    conn.close()


def test_the_checker_counts_an_acknowledged_submission_that_is_not_stored(
        tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    _answered_links(path, ["h1", "h2"], ["h3"])
    integrity, missing, twice, states = _script().check(path, {"h1", "h2", "h3"})
    assert (integrity, missing, twice, states) == ("ok", 1, 0, {"running": 1})


def test_the_checker_counts_a_link_answered_twice(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    _answered_links(path, ["h1"], [])
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO responses (link_id) VALUES (1)")
    conn.commit()
    conn.close()
    assert _script().check(path, {"h1"})[1:3] == (0, 1)


def test_the_checker_reports_a_damaged_file_as_an_integrity_failure(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    _answered_links(path, ["h1"], [])
    data = bytearray(path.read_bytes())
    data[:16] = b"not a database!!"  # the header: every page unreadable
    path.write_bytes(bytes(data))
    integrity, missing, _, _ = _script().check(path, {"h1"})
    assert integrity != "ok" and missing == 1
