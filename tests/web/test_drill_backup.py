"""The backup drill's quick mode (``benchmarks/drill_backup.py --short``): backups taken
while two writer threads submit surveys all restore with every table hash equal to the
manifest (and, on SQLite, ``integrity_check`` ok), and the last one holds every
acknowledged submission. SQLite, then PostgreSQL (pg_dump / pg_restore)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.web.test_backup import require_pg_tools

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres",
                                                           marks=pytest.mark.postgres)])
def test_backups_taken_under_write_load_restore_intact_and_lose_nothing(
        engine: str, request: pytest.FixtureRequest) -> None:
    if engine == "postgres":
        require_pg_tools()
    extra = [] if engine == "sqlite" else ["--pg", request.getfixturevalue("pg_server_url")]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "drill_backup.py"),
                           "--short", *extra], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "acknowledged 200, writer errors 0" in done.stdout
    assert "mismatches 0 " in done.stdout
    assert "missing from the final backup: 0" in done.stdout
