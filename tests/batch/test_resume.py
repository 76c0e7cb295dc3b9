"""Resuming: a run killed midway (SIGKILL, no clean-up) finishes to the same output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.batch.conftest import write

from alliance.batch import StepSpec, run_batch
from alliance.errors import BatchError

SRC = Path(__file__).parents[2] / "src"
SPEC = StepSpec("score", {"instrument": "alliance-12"})


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "alliance", "batch", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture(scope="module")
def big_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600,000 responses: 120 chunks of 5,000, several seconds of work to interrupt."""
    from alliance.instruments import get_instrument
    from alliance.testing.responses import simulate_responses

    table = simulate_responses(get_instrument("alliance-12"), 600_000, seed=3,
                               missing_rate=0.02)
    table.insert(1, "client", np.arange(len(table)) % 4000)
    path = tmp_path_factory.mktemp("big") / "responses.parquet"
    table.to_parquet(path, index=False, row_group_size=50_000)
    return path


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_output(tmp_path: Path, big_input: Path) -> None:
    out = tmp_path / "scores.parquet"
    parts = tmp_path / "scores.parquet.parts"
    args = _cli("score", str(big_input), "--instrument", "alliance-12", "--out", str(out),
                "--chunk-rows", "5000", "--quiet")
    proc = subprocess.Popen(args, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list(parts.glob("part-*.parquet"))) < 3:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the run wrote no parts"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not out.exists(), "the run finished before it could be killed"
    done_before = {p.name: p.stat().st_mtime_ns for p in parts.glob("part-*.parquet")}
    assert 3 <= len(done_before) < 120

    resumed = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(done_before)} done before (resumed)" in resumed.stderr or \
        "done before (resumed)" in resumed.stderr
    assert not parts.exists()

    fresh = tmp_path / "fresh.parquet"
    run_batch(SPEC, big_input, fresh, chunk_rows=5000)
    a, b = pq.read_table(out), pq.read_table(fresh)
    assert a.num_rows == 600_000 and a.equals(b)
    assert a.schema.metadata == b.schema.metadata


def test_finished_chunks_are_skipped_not_redone(tmp_path: Path, responses: pd.DataFrame,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    src = write(responses, tmp_path / "r.parquet")
    out = tmp_path / "o.parquet"
    from alliance.batch import parts

    real_finish = parts.PartStore.finish

    def crash(self, *a, **k):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(parts.PartStore, "finish", crash)
    with pytest.raises(KeyboardInterrupt):
        run_batch(SPEC, src, out, chunk_rows=1000)
    monkeypatch.setattr(parts.PartStore, "finish", real_finish)
    summary = run_batch(SPEC, src, out, chunk_rows=1000)
    assert (summary.chunks, summary.skipped) == (3, 3)
    assert pq.read_metadata(out).num_rows == len(responses)


def test_an_unfinished_run_with_other_options_is_not_mixed_in(
        tmp_path: Path, responses: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    src = write(responses, tmp_path / "r.parquet")
    out = tmp_path / "o.parquet"
    from alliance.batch import parts

    monkeypatch.setattr(parts.PartStore, "finish", lambda *a, **k: (_ for _ in ()).throw(
        KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        run_batch(SPEC, src, out, chunk_rows=1000)
    monkeypatch.undo()
    with pytest.raises(BatchError, match="unfinished run with other chunk_rows"):
        run_batch(SPEC, src, out, chunk_rows=500)
    summary = run_batch(SPEC, src, out, chunk_rows=500, restart=True)
    assert summary.skipped == 0 and summary.chunks == 6


def test_a_changed_input_is_not_resumed_silently(tmp_path: Path, responses: pd.DataFrame,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    src = write(responses, tmp_path / "r.csv")
    out = tmp_path / "o.parquet"
    from alliance.batch import parts

    monkeypatch.setattr(parts.PartStore, "finish", lambda *a, **k: (_ for _ in ()).throw(
        KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        run_batch(SPEC, src, out)
    monkeypatch.undo()
    write(responses.head(100), src)
    with pytest.raises(BatchError, match="other input"):
        run_batch(SPEC, src, out)


def test_a_half_written_part_is_ignored(tmp_path: Path, responses: pd.DataFrame) -> None:
    src = write(responses, tmp_path / "r.parquet")
    out = tmp_path / "o.parquet"
    from alliance.batch.parts import PartStore

    store = PartStore(out)
    run_batch(SPEC, src, tmp_path / "ref.parquet", chunk_rows=1000)
    # a crash during a write leaves only a temporary file; it is neither done nor read
    store.folder.mkdir()
    (store.folder / ".part-000000.parquet.999.tmp").write_bytes(b"PAR1 half")
    summary = run_batch(SPEC, src, out, chunk_rows=1000, restart=True)
    assert summary.skipped == 0
    assert pq.read_table(out).equals(pq.read_table(tmp_path / "ref.parquet"))
