"""No canary: a canary seeded into every free-text field, name and transcript never shows in
a log, nor in clear in a column that must be ciphertext.

``benchmarks/canary_scan.py`` runs here once (module-scoped); its figures are in
``docs/reliability.md``. Logs never hold it; no sealed column holds it in clear; the only
hits in the database, WAL and backup are the staff name (in clear by design).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.benchmark_scripts import load

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "canary_scan.py"


def _script() -> ModuleType:
    return load("canary_scan")


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("canary")
    report = folder / "hits.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--report", str(report), "--keep",
                           str(folder / "clinic")], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert report.exists(), proc.stdout[-4000:] + proc.stderr[-4000:]
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    result["folder"] = folder / "clinic"
    result["returncode"] = proc.returncode
    return result


def test_no_log_holds_the_canary_though_the_log_has_the_500s_traceback(
        scan: dict[str, Any]) -> None:
    log = (scan["folder"] / "logs" / "app.log").read_text(encoding="utf-8")
    assert "no_such_table" in log  # the 500 was logged, with its statement
    assert "ServerErrorNote" in scan["seeded"]
    assert scan["log_hits"] == 0
    assert scan["returncode"] == 0


def test_the_sealed_columns_hold_no_canary_and_the_scan_finds_clear_text(
        scan: dict[str, Any]) -> None:
    assert scan["sealed_leaks"] == []
    # the seeded transcript text, client message and contact are sealed: no hit anywhere
    fields = {h["field"] for h in scan["hits"]}
    assert not fields & {"TranscriptText", "ClientMessage", "ContactEmail"}
    # and the scan is not blind: the staff name is stored in clear today (or, once
    # encrypted, a sealed column is the only place left, which the first assert covers)
    assert scan["columns_in_clear"], "nothing found in clear: was anything seeded?"


def test_every_column_found_in_clear_is_classified(scan: dict[str, Any]) -> None:
    assert scan["unlisted_in_clear"] == []


def test_no_client_text_is_in_clear_in_the_database_wal_or_backup(
        scan: dict[str, Any]) -> None:
    assert scan["pending_in_clear"] == []
    assert {h["field"] for h in scan["hits"]} == {"StaffName"}


def test_base64_of_the_canary_is_found_at_every_byte_alignment() -> None:
    canary = "Cnry0123456789ab"
    for shift in range(3):
        data = base64.b64encode(b"x" * shift + canary.encode() + b"tail")
        assert [h.form for h in _script().scan_bytes("f", data, canary)] == ["base64"]


def test_hex_and_utf16_forms_are_found() -> None:
    canary = "Cnry0123456789ab"
    scan = _script().scan_bytes
    assert [h.form for h in scan("f", b"<" + canary.encode().hex().encode() + b">", canary)] \
        == ["hex"]
    assert [h.form for h in scan("f", canary.encode("utf-16-le"), canary)] == ["utf-16-le"]
    assert [h.form for h in scan("f", canary.encode("utf-16-be"), canary)] == ["utf-16-be"]


def test_a_plain_hit_names_the_seeded_field_and_its_offset() -> None:
    hits = _script().scan_bytes("f", b"abc Cnry42VoidReason. def", "Cnry42")
    assert [(h.form, h.field, h.detail) for h in hits] == [("plain", "VoidReason", "offset 4")]
