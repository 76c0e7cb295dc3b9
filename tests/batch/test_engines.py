"""Ray Data and Dask, each as a local cluster, give the local engine's output exactly."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.batch.conftest import corpus_turns, write

from alliance.batch import StepSpec, run_batch
from alliance.errors import BatchError


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(corpus_turns(12), tmp_path_factory.mktemp("engines") / "turns.parquet")


@pytest.fixture(scope="module")
def local_codes(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("local") / "codes.parquet"
    run_batch(StepSpec("analyze", {}), corpus, out, chunk_rows=200)
    return out


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.xdist_group("batch-engines")
@pytest.mark.parametrize("engine", ["ray", "dask"])
def test_engine_output_equals_the_local_engine(engine: str, corpus: Path, local_codes: Path,
                                               tmp_path: Path) -> None:
    out = tmp_path / "codes.parquet"
    summary = run_batch(StepSpec("analyze", {}), corpus, out, chunk_rows=200, engine=engine,
                        workers=2)
    assert summary.engine == engine and summary.chunks >= 3
    got, want = pq.read_table(out), pq.read_table(local_codes)
    assert got.equals(want)
    assert got.schema.metadata == want.schema.metadata
    assert any(len(c) for c in got.column("codes").to_pylist())
    assert any("model" in s for row in got.column("sources").to_pylist() for s in row)


@pytest.mark.slow
@pytest.mark.xdist_group("batch-engines")
def test_a_worker_error_reaches_the_driver_as_its_own_class(tmp_path: Path,
                                                            case_rows: pd.DataFrame) -> None:
    from alliance.errors import CaseFileError

    bad = case_rows.copy()
    bad.loc[len(bad) - 2, "attendance"] = "sort of"
    with pytest.raises(CaseFileError, match="sort of"):
        run_batch(StepSpec("monitor", {}), write(bad, tmp_path / "rows.parquet"),
                  tmp_path / "m.parquet", engine="dask", workers=1, chunk_rows=100)


def test_an_address_needs_a_cluster_engine(tmp_path: Path, case_rows: pd.DataFrame) -> None:
    with pytest.raises(BatchError, match="--engine ray or dask"):
        run_batch(StepSpec("monitor", {}), write(case_rows, tmp_path / "r.parquet"),
                  tmp_path / "m.parquet", address="tcp://10.0.0.1:8786")


def test_a_missing_engine_package_names_its_extra() -> None:
    from alliance.batch.engines import _import

    with pytest.raises(BatchError, match=r"install alliance\[ray\]"):
        _import("alliance_no_such_engine", "ray")


@pytest.mark.slow
@pytest.mark.xdist_group("batch-engines")
def test_python_dash_m_alliance_runs_a_dask_cluster(tmp_path: Path,
                                                    case_rows: pd.DataFrame) -> None:
    """The command line end to end on Dask: its workers are spawned processes, and the
    command runs once, in the driver."""
    import os
    import subprocess
    import sys

    src = write(case_rows, tmp_path / "rows.parquet")
    out = tmp_path / "m.parquet"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parents[2] / "src"),
                                         env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-m", "alliance", "batch", "monitor", str(src),
                           "--out", str(out), "--engine", "dask", "--workers", "1",
                           "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("wrote ") == 1
    assert pq.read_table(out).num_rows == case_rows["case_id"].nunique()
