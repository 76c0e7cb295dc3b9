"""Commands that do not need the model never import torch (checked in a fresh process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHECK = """
import sys
from click.testing import CliRunner
from alliance.cli import main
result = CliRunner().invoke(main, {args!r})
assert result.exit_code == 0, result.output
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers", "sklearn")
               if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


@pytest.mark.parametrize("args", [
    ["--help"],
    ["coding", "stats"],
    ["analyze", "--rules-only", "--format", "json", "{file}"],
    ["analyze", "--rules-only", "--format", "html", "{file}"],
])
def test_command_does_not_import_torch(args, tmp_path: Path) -> None:
    f = tmp_path / "s.txt"
    f.write_text("T: What was it like?\nC: Dunno.\n", encoding="utf-8")
    args = [a.replace("{file}", str(f)) for a in args]
    src = str(Path(__file__).resolve().parents[2] / "src")
    proc = subprocess.run([sys.executable, "-c", CHECK.format(args=args)],
                          capture_output=True, text=True, env={"PYTHONPATH": src},
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY:\n" in proc.stdout or proc.stdout.strip().endswith("HEAVY:")
