"""`alliance batch ...`: thin commands, a progress bar on stderr, readable errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from click.testing import CliRunner
from tests.batch.conftest import write

from alliance.cli import main


def test_batch_score_writes_parquet_and_reports_on_stderr(tmp_path: Path,
                                                          responses: pd.DataFrame) -> None:
    src = write(responses, tmp_path / "r.csv")
    out = tmp_path / "s.parquet"
    result = CliRunner().invoke(main, ["batch", "score", str(src), "--instrument",
                                       "alliance-12", "--out", str(out), "--chunk-rows",
                                       "1000"])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stderr and "3 chunk(s)" in result.stderr
    assert "reading" in result.stderr    # the progress bar goes to stderr
    assert result.stdout == ""
    assert pq.read_metadata(out).num_rows == len(responses)


def test_batch_monitor_command(tmp_path: Path, case_rows: pd.DataFrame) -> None:
    out = tmp_path / "m.parquet"
    result = CliRunner().invoke(main, ["batch", "monitor", str(write(
        case_rows, tmp_path / "rows.jsonl")), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert pq.read_metadata(out).num_rows == case_rows["case_id"].nunique()


def test_batch_analyze_command(tmp_path: Path, turns: pd.DataFrame) -> None:
    out = tmp_path / "c.parquet"
    result = CliRunner().invoke(main, ["batch", "analyze", str(write(
        turns, tmp_path / "t.parquet")), "--rules-only", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    assert pq.read_metadata(out).num_rows == len(turns)


def test_bad_input_is_one_error_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("client,b1\nx,3\n")
    result = CliRunner().invoke(main, ["batch", "score", str(tmp_path / "r.csv"),
                                       "--instrument", "alliance-12", "--out",
                                       str(tmp_path / "o.parquet"), "--quiet"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "no column for item" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_instrument_is_an_error_not_a_traceback(tmp_path: Path,
                                                        responses: pd.DataFrame) -> None:
    result = CliRunner().invoke(main, ["batch", "score", str(write(responses, tmp_path /
                                                                   "r.parquet")),
                                       "--instrument", "nope", "--out",
                                       str(tmp_path / "o.parquet")])
    assert result.exit_code == 1 and "error:" in result.stderr


def test_address_without_cluster_engine_is_refused(tmp_path: Path,
                                                   case_rows: pd.DataFrame) -> None:
    result = CliRunner().invoke(main, ["batch", "monitor", str(write(case_rows, tmp_path /
                                                                     "r.parquet")),
                                       "--address", "tcp://h:8786", "--out",
                                       str(tmp_path / "o.parquet")])
    assert result.exit_code == 1 and "--engine ray or dask" in result.stderr


def test_an_interrupted_run_says_how_to_resume(tmp_path: Path, responses: pd.DataFrame,
                                               monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from alliance.batch import parts

    def stop(*a: object, **k: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(parts.PartStore, "finish", stop)
    out = tmp_path / "o.parquet"
    result = CliRunner().invoke(main, ["batch", "score", str(write(responses, tmp_path /
                                                                   "r.parquet")),
                                       "--instrument", "alliance-12", "--out", str(out),
                                       "--quiet"])
    assert result.exit_code == 130
    assert "run the same command again to resume" in result.stderr
    assert (tmp_path / "o.parquet.parts" / "part-000000.parquet").is_file()
