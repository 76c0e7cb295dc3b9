"""Load with replays, short mode: 200 submissions from 10 clients, one replay of a used link
after every 10th, a log-in flood beside them: no server error, every replay refused, every
acknowledged submission stored once, nothing stored that was not acknowledged.

``benchmarks/load_replays.py`` with its defaults (10,000 submissions from 100 clients) gives
the figures in ``docs/reliability.md``; latency is reported there, never asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "load_replays.py"


@pytest.mark.slow
def test_replays_under_load_are_refused_and_every_acknowledged_submission_is_stored_once(
        tmp_path: Path) -> None:
    report = tmp_path / "load.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--clients", "10", "--per-client",
                           "20", "--rate", "200", "--flood", "1", "--report", str(report)],
                          capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert report.exists(), proc.stdout[-4000:] + proc.stderr[-4000:]
    r = json.loads(report.read_text(encoding="utf-8"))
    assert r["server_errors"] == 0, r["errors"]
    assert r["acknowledged"] == r["stored"] == 200
    assert r["acknowledged_not_stored"] == 0 and r["stored_not_acknowledged"] == 0
    assert r["links_answered_twice"] == 0
    assert r["replays"] == 20  # 2 per client: after its 10th and its 20th submission
    assert r["replays_refused"] == 20 and r["replays_accepted"] == 0
    assert r["logins"] > 0 and set(r["login_statuses"]) == {"401"}
    assert r["error_count"] == 0, r["errors"]
