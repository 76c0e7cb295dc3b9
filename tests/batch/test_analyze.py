"""`batch analyze`: tables of turns and folders of transcripts coded as `alliance analyze` codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.batch.conftest import ROOT, write

from alliance.batch import StepSpec, run_batch
from alliance.coding.coder import load_coder
from alliance.errors import InputFileError, TranscriptError
from alliance.transcripts import read_transcript
from alliance.transcripts.model import Transcript, Utterance

RULES = StepSpec("analyze", {"rules_only": True})


def _coded(transcripts: list[Transcript]) -> list[tuple[str, list[str], list[float]]]:
    coded = load_coder(rules_only=True).code_many(transcripts)
    return [(ct.transcript.source, [c.code for c in cu.codes],
             [c.confidence for c in cu.codes]) for ct in coded for cu in ct.utterances]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_table_of_turns_is_coded_like_the_transcripts(tmp_path: Path, turns: pd.DataFrame,
                                                      suffix: str) -> None:
    out = tmp_path / "codes.parquet"
    summary = run_batch(RULES, write(turns, tmp_path / f"turns{suffix}"), out, chunk_rows=150)
    assert summary.chunks > 2 and summary.rows_out == len(turns)
    got = pq.read_table(out).to_pandas()
    transcripts = [Transcript(tuple(Utterance(i, r.speaker, r.role, r.text)
                                    for i, r in enumerate(g.itertuples())), source=str(s))
                   for s, g in turns.groupby("session", sort=False)]
    want = _coded(transcripts)
    assert list(zip(got["session"], got["codes"].map(list), got["confidences"].map(list),
                    strict=True)) == want
    assert any(len(c) for c in got["codes"])


def test_a_folder_of_transcripts_is_coded_file_by_file(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    (folder / "week2").mkdir(parents=True)
    for name in ("session.txt", "session.vtt", "rupture-repair.txt"):
        shutil.copy(ROOT / "examples" / "transcripts" / name, folder / name)
    shutil.copy(ROOT / "examples" / "transcripts" / "session.csv", folder / "week2" / "a.csv")
    (folder / ".DS_Store").write_bytes(b"\0")   # hidden files are not sessions
    out = tmp_path / "codes.parquet"
    summary = run_batch(RULES, folder, out, chunk_rows=2)
    assert summary.chunks == 2
    got = pq.read_table(out).to_pandas()
    names = ["rupture-repair.txt", "session.txt", "session.vtt", "week2/a.csv"]
    assert list(dict.fromkeys(got["session"])) == names
    want = _coded([read_transcript(folder / n) for n in names])
    assert [c for _, c, _ in want] == got["codes"].map(list).tolist()


def test_a_folder_with_a_non_transcript_is_refused_up_front(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "transcripts" / "session.txt", folder)
    (folder / "consent.pdf").write_bytes(b"%PDF-1.7")
    with pytest.raises(InputFileError, match=r"not transcripts: consent\.pdf"):
        run_batch(RULES, folder, tmp_path / "o.parquet")
    assert not (tmp_path / "o.parquet.parts").exists()


def test_an_unparsable_transcript_stops_the_run_and_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "sessions"
    folder.mkdir()
    shutil.copy(ROOT / "examples" / "transcripts" / "session.txt", folder / "a.txt")
    (folder / "b.vtt").write_text("WEBVTT\n\nnot a cue at all\n")
    with pytest.raises(TranscriptError, match=r"b\.vtt"):
        run_batch(RULES, folder, tmp_path / "o.parquet", chunk_rows=1)
    assert not (tmp_path / "o.parquet").exists()
    assert (tmp_path / "o.parquet.parts" / "part-000000.parquet").is_file()


def test_a_turn_table_without_text_is_refused(tmp_path: Path, turns: pd.DataFrame) -> None:
    with pytest.raises(InputFileError, match=r"missing column.*'text'"):
        run_batch(RULES, write(turns.drop(columns=["text"]), tmp_path / "t.parquet"),
                  tmp_path / "o.parquet")


def test_a_turn_table_with_unknown_columns_is_refused(tmp_path: Path,
                                                      turns: pd.DataFrame) -> None:
    with pytest.raises(InputFileError, match=r"unknown column.*'client_name'"):
        run_batch(RULES, write(turns.assign(client_name="x"), tmp_path / "t.csv"),
                  tmp_path / "o.parquet")


def test_an_unknown_role_is_a_transcript_error(tmp_path: Path, turns: pd.DataFrame) -> None:
    bad = turns.copy()
    bad.loc[0, "role"] = "supervisor"
    with pytest.raises(TranscriptError, match="unknown role 'supervisor'"):
        run_batch(RULES, write(bad, tmp_path / "t.parquet"), tmp_path / "o.parquet")


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_numeric_session_ids_are_read_as_names(tmp_path: Path, turns: pd.DataFrame,
                                               suffix: str) -> None:
    numbered = turns.assign(session=turns["session"].str[1:].astype(int) + 1)
    out = tmp_path / "codes.parquet"
    run_batch(RULES, write(numbered, tmp_path / f"t{suffix}"), out)
    sessions = pq.read_table(out).column("session").to_pylist()
    assert sessions[0] == "1" and len(sessions) == len(turns)
