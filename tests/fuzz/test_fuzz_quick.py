"""The parser fuzzer's quick mode: every reader of outside input, 1,500 inputs, 0 crashes.

``benchmarks/fuzz_parsers.py --quick`` runs all readers in one process (atheris when it is
installed, else hypothesis); a crash is any exception that is not an ``AllianceError``. The
long mode that gives the figure in ``docs/reliability.md`` runs the same targets for
1,000,000+ inputs. The mutators are checked here too, since a mutator that silently returns
its input unchanged would make the fuzzer test nothing.
"""

from __future__ import annotations

import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from tests.benchmark_scripts import load

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "fuzz_parsers.py"


def _harness() -> ModuleType:
    return load("fuzz_parsers")


def _quick(tmp_path: Path, engine: str) -> dict[str, object]:
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--engine", engine, "--report", str(report),
         "--crash-dir", str(tmp_path / "crashes")],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    result: dict[str, object] = json.loads(report.read_text(encoding="utf-8"))
    return result


def test_quick_fuzz_finds_no_crash(tmp_path: Path) -> None:
    engine = "atheris" if importlib.util.find_spec("atheris") else "hypothesis"
    result = _quick(tmp_path, engine)
    assert result["engine"] == engine
    assert result["executions"] == 1500
    assert result["crashes"] == 0


@pytest.mark.slow
def test_quick_fuzz_with_hypothesis_finds_no_crash(tmp_path: Path) -> None:
    result = _quick(tmp_path, "hypothesis")
    assert result["executions"] == 1500
    assert result["crashes"] == 0


def test_every_target_has_seeds_and_a_share_of_the_million() -> None:
    fuzz = _harness()
    targets = fuzz.all_targets()
    assert sum(t.runs for t in targets) >= 1_000_000
    for target in targets:
        assert target.seeds(), target.name


def test_mutations_change_the_input_and_keep_it_bytes() -> None:
    fuzz = _harness()
    seed = (ROOT / "examples" / "cases" / "example.json").read_bytes()
    rng = random.Random(7)
    outputs = [fuzz.mutate(seed, rng, [seed]) for _ in range(200)]
    assert all(isinstance(out, bytes) for out in outputs)
    assert sum(out != seed for out in outputs) > 150
    assert any(b"NaN" in out or b"Infinity" in out for out in outputs)


def test_seed_files_of_non_transcript_readers_are_valid_inputs() -> None:
    # Fuzzing starts from files the reader accepts (transcript seeds mix formats on purpose).
    fuzz = _harness()
    for target in fuzz.all_targets():
        if not target.name.startswith("transcript-"):
            for seed in target.seeds():
                target.call(seed)
