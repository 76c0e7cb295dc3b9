"""No command imports torch unless asked for the reference encoder (checked in a fresh
process): rules-only needs no model at all, and the model runs on ONNX Runtime."""

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
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers", "sklearn",
                           "onnxruntime") if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


@pytest.mark.parametrize(("args", "loaded"), [
    (["--help"], ""),
    (["coding", "stats"], ""),
    (["analyze", "--rules-only", "--format", "json", "{file}"], ""),
    (["analyze", "--rules-only", "--format", "html", "{file}"], ""),
    pytest.param(["analyze", "--format", "json", "{file}"], "onnxruntime",
                 marks=pytest.mark.model),
])
def test_command_does_not_import_torch(args, loaded, tmp_path: Path) -> None:
    f = tmp_path / "s.txt"
    f.write_text("T: What was it like?\nC: Dunno.\n", encoding="utf-8")
    args = [a.replace("{file}", str(f)) for a in args]
    src = str(Path(__file__).resolve().parents[2] / "src")
    proc = subprocess.run([sys.executable, "-c", CHECK.format(args=args)],
                          capture_output=True, text=True, env={"PYTHONPATH": src},
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY:" + loaded
