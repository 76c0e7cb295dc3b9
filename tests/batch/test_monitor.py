"""`batch monitor`: rating rows give the reports `alliance monitor` gives for the case file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.batch.conftest import write

from alliance.batch import StepSpec, run_batch
from alliance.errors import CaseFileError, InputFileError, InstrumentError
from alliance.monitoring import monitor_cases, parse_cases
from alliance.monitoring.batch import report_rows

SPEC = StepSpec("monitor", {})


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_batch_reports_equal_the_case_file_reports(tmp_path: Path, casefile: dict,
                                                   case_rows: pd.DataFrame,
                                                   suffix: str) -> None:
    out = tmp_path / "monitoring.parquet"
    summary = run_batch(SPEC, write(case_rows, tmp_path / f"rows{suffix}"), out, chunk_rows=60)
    assert summary.chunks > 3
    got = pq.read_table(out).to_pylist()
    want = monitor_cases(parse_cases(casefile))
    assert [g["case_id"] for g in got] == [r.case_id for r in want]
    for g, report in zip(got, want, strict=True):
        signals, episodes, alert = report_rows(report)
        assert [(s["kind"], s["session"], s["member"], s["severity"])
                for s in g["signals"]] == [tuple(s) for s in signals]
        assert [(e["member"], e["criterion"], e["start_session"], e["low_session"],
                 e["end_session"], e["status"]) for e in g["episodes"]] == \
            [tuple(e) for e in episodes]
        assert (g["alert_id"], g["alert_severity"], g["alert_headline"]) == \
            ((alert[0], alert[1], alert[2]) if alert else (None, None, None))


def test_some_synthetic_case_raises_an_alert(tmp_path: Path, case_rows: pd.DataFrame) -> None:
    out = tmp_path / "m.parquet"
    run_batch(SPEC, write(case_rows, tmp_path / "rows.parquet"), out)
    assert any(a is not None for a in pq.read_table(out).column("alert_id").to_pylist())


def test_rows_of_a_case_must_be_together(tmp_path: Path, case_rows: pd.DataFrame) -> None:
    first = case_rows[case_rows["case_id"] == case_rows["case_id"].iloc[0]]
    shuffled = pd.concat([case_rows, first.head(1)], ignore_index=True)
    with pytest.raises(InputFileError, match=r"not together.*sort the input by case_id"):
        run_batch(SPEC, write(shuffled, tmp_path / "rows.parquet"), tmp_path / "m.parquet",
                  chunk_rows=50)


def test_unknown_columns_are_refused_before_any_work(tmp_path: Path,
                                                     case_rows: pd.DataFrame) -> None:
    with pytest.raises(InputFileError, match=r"unknown column.*'therapist_mood'"):
        run_batch(SPEC, write(case_rows.assign(therapist_mood=1), tmp_path / "rows.csv"),
                  tmp_path / "m.parquet")
    assert not (tmp_path / "m.parquet.parts").exists()


def test_missing_required_columns_are_refused(tmp_path: Path, case_rows: pd.DataFrame) -> None:
    with pytest.raises(InputFileError, match=r"missing column.*'session'"):
        run_batch(SPEC, write(case_rows.drop(columns=["session"]), tmp_path / "rows.csv"),
                  tmp_path / "m.parquet")


def test_a_bad_attendance_is_the_case_file_error(tmp_path: Path,
                                                 case_rows: pd.DataFrame) -> None:
    bad = case_rows.copy()
    bad.loc[3, "attendance"] = "sort of"
    with pytest.raises(CaseFileError):
        run_batch(SPEC, write(bad, tmp_path / "rows.parquet"), tmp_path / "m.parquet")


def test_an_unknown_instrument_is_an_instrument_error(tmp_path: Path,
                                                      case_rows: pd.DataFrame) -> None:
    bad = case_rows.copy()
    bad.loc[bad["instrument"].notna().idxmax(), "instrument"] = "no-such-scale"
    with pytest.raises(InstrumentError, match="no-such-scale"):
        run_batch(SPEC, write(bad, tmp_path / "rows.parquet"), tmp_path / "m.parquet")
