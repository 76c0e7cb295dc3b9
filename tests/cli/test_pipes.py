"""A reader that stops early (`alliance … | head`) is not a bug report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    cases = tmp_path / "cases.json"
    subprocess.run([sys.executable, "-m", "alliance", "examples", "synthetic", "--cases", "200",
                    "--out", str(cases)], check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "alliance", "monitor", str(cases),
                             "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10).startswith(b"{")
    proc.stdout.close()                       # like `head -c 10`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert "internal error" not in err and "Traceback" not in err
