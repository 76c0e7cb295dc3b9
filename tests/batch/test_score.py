"""`batch score`: streamed, chunked scoring equals the in-memory scorer, row for row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.batch.conftest import write

from alliance.batch import StepSpec, run_batch
from alliance.errors import BatchError, InputFileError, ScoringError
from alliance.instruments import get_instrument, score_table

SPEC = StepSpec("score", {"instrument": "alliance-12"})


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_chunked_scores_equal_score_table(tmp_path: Path, responses: pd.DataFrame,
                                          suffix: str) -> None:
    src = write(responses, tmp_path / f"responses{suffix}")
    out = tmp_path / "scores.parquet"
    summary = run_batch(SPEC, src, out, chunk_rows=700)
    assert summary.chunks == 5 and summary.rows_out == len(responses)
    got = pq.read_table(out).to_pandas()
    want = score_table(get_instrument("alliance-12"), responses)
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        if col.endswith(("_raw", "_pom")):
            np.testing.assert_array_equal(got[col].to_numpy(dtype=float),
                                          want[col].to_numpy(dtype=float))
        elif col.endswith(("_status", "_note")):
            assert got[col].tolist() == want[col].astype(str).tolist(), col
    assert got["client"].tolist() == responses["client"].tolist()


def test_output_schema_is_the_documented_one(tmp_path: Path, responses: pd.DataFrame) -> None:
    out = tmp_path / "scores.parquet"
    run_batch(SPEC, write(responses, tmp_path / "r.parquet"), out)
    schema = pq.read_schema(out)
    assert str(schema.field("total_raw").type) == "double"
    assert schema.field("total_status").type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("bond_note").type == schema.field("total_status").type
    assert b"alliance.batch" in schema.metadata and b"alliance.instrument" in schema.metadata


def test_the_output_appears_only_when_complete_and_parts_are_removed(
        tmp_path: Path, responses: pd.DataFrame) -> None:
    out = tmp_path / "scores.parquet"
    run_batch(SPEC, write(responses, tmp_path / "r.parquet"), out, chunk_rows=1000)
    assert out.is_file() and not (tmp_path / "scores.parquet.parts").exists()
    assert not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_missing_item_columns_are_a_scoring_error(tmp_path: Path, responses: pd.DataFrame,
                                                  suffix: str) -> None:
    src = write(responses.drop(columns=["g3"]), tmp_path / f"r{suffix}")
    with pytest.raises(ScoringError, match="no column for item"):
        run_batch(SPEC, src, tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet").exists()


def test_a_word_among_numbers_names_the_file_and_place(tmp_path: Path,
                                                       responses: pd.DataFrame) -> None:
    bad = responses.astype({"g1": object})
    bad.loc[2500, "g1"] = "often"
    with pytest.raises(InputFileError, match=r"r\.csv.*'often'"):
        run_batch(SPEC, write(bad, tmp_path / "r.csv"), tmp_path / "o.parquet")


def test_out_of_range_answer_names_the_chunk_rows(tmp_path: Path,
                                                  responses: pd.DataFrame) -> None:
    bad = responses.copy()
    bad.loc[1500, "b2"] = 99
    with pytest.raises(ScoringError, match=r"(?s)rows 1401-2100.*row 101, item 'b2': 99"):
        run_batch(SPEC, write(bad, tmp_path / "r.parquet"), tmp_path / "o.parquet",
                  chunk_rows=700)


def test_mixed_json_lines_records_are_refused(tmp_path: Path, responses: pd.DataFrame,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from alliance.batch import sources

    monkeypatch.setattr(sources, "BLOCK_BYTES", 1 << 16)  # the new field is in a later block
    src = write(responses, tmp_path / "r.jsonl")
    with src.open("a") as fh:
        fh.write('{"response_id": 1, "b1": 3, "surprise": true}\n')
    with pytest.raises(InputFileError, match="mixed schemas"):
        run_batch(SPEC, src, tmp_path / "o.parquet")


def test_a_short_csv_row_is_refused(tmp_path: Path, responses: pd.DataFrame) -> None:
    src = write(responses, tmp_path / "r.csv")
    with src.open("a") as fh:
        fh.write("9,c001\n")
    with pytest.raises(InputFileError, match="Expected 15 columns"):
        run_batch(SPEC, src, tmp_path / "o.parquet")


def test_a_broken_parquet_file_is_an_input_error(tmp_path: Path) -> None:
    src = tmp_path / "r.parquet"
    src.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(InputFileError, match="not a readable Parquet file"):
        run_batch(SPEC, src, tmp_path / "o.parquet")


@pytest.mark.parametrize(("name", "message"), [("r.xlsx", "cannot tell the format"),
                                               ("missing.csv", "no such file")])
def test_unreadable_inputs_are_input_errors(tmp_path: Path, name: str, message: str) -> None:
    if name.endswith("xlsx"):
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(InputFileError, match=message):
        run_batch(SPEC, tmp_path / name, tmp_path / "o.parquet")


def test_an_empty_file_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("")
    with pytest.raises(InputFileError, match="empty"):
        run_batch(SPEC, tmp_path / "r.csv", tmp_path / "o.parquet")


def test_a_folder_is_refused_for_scoring(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    with pytest.raises(InputFileError, match="is a folder"):
        run_batch(SPEC, tmp_path / "in", tmp_path / "o.parquet")


def test_an_existing_output_is_kept_unless_overwrite(tmp_path: Path,
                                                     responses: pd.DataFrame) -> None:
    src = write(responses, tmp_path / "r.parquet")
    out = tmp_path / "o.parquet"
    out.write_bytes(b"precious")
    with pytest.raises(BatchError, match="exists"):
        run_batch(SPEC, src, out)
    assert out.read_bytes() == b"precious"
    run_batch(SPEC, src, out, overwrite=True)
    assert pq.read_metadata(out).num_rows == len(responses)


def test_output_must_be_named_parquet(tmp_path: Path, responses: pd.DataFrame) -> None:
    with pytest.raises(BatchError, match=r"\*\.parquet"):
        run_batch(SPEC, write(responses, tmp_path / "r.parquet"), tmp_path / "o.csv")


def test_a_column_empty_in_the_first_block_takes_later_values(
        tmp_path: Path, responses: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = responses.copy()
    frame["note"] = None
    frame.loc[len(frame) - 1, "note"] = "late entry"
    src = tmp_path / "r.csv"
    write(frame, src)
    from alliance.batch import sources

    monkeypatch.setattr(sources, "BLOCK_BYTES", 4096)  # the first blocks see an empty column
    run_batch(SPEC, src, tmp_path / "o.parquet")
    assert pq.read_table(tmp_path / "o.parquet").column("note").to_pylist()[-1] == "late entry"


def test_streaming_holds_a_bounded_share_of_the_input_in_memory(tmp_path: Path) -> None:
    from alliance.testing.responses import simulate_responses

    table = simulate_responses(get_instrument("alliance-12"), 400_000, seed=5)
    src = tmp_path / "big.parquet"
    pq.write_table(pa.Table.from_pandas(table, preserve_index=False), src,
                   row_group_size=20_000, compression="none", use_dictionary=False)
    column_bytes = pq.read_table(src).nbytes   # the input's size in memory, read whole
    held: list[int] = []

    def watch(phase: str, done: int, total: int) -> None:
        held.append(pa.total_allocated_bytes())

    run_batch(SPEC, src, tmp_path / "o.parquet", chunk_rows=20_000, progress=watch)
    assert len(held) >= 20
    # one chunk's worth (a twentieth of the input) plus scores, never the file so far
    assert max(held) < 0.25 * column_bytes, (max(held), column_bytes)
    assert column_bytes > 30e6
