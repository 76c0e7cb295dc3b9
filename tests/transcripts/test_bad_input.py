"""Bad input of every kind is a TranscriptError naming the file, line and problem."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from alliance.errors import TranscriptError
from alliance.transcripts import parse_transcript, read_transcript


@pytest.mark.parametrize("data", [b"", "   \n\n", b"\xef\xbb\xbf\n"])
def test_empty_input_is_refused(data: bytes | str) -> None:
    with pytest.raises(TranscriptError, match=r"e\.txt: is empty"):
        parse_transcript(data, "e.txt")


def test_nul_bytes_are_binary_and_name_the_line() -> None:
    with pytest.raises(TranscriptError, match=r"b\.txt: line 2: .*binary"):
        parse_transcript(b"T: hi\nC: \x00\x01", "b.txt")


def test_undecodable_bytes_name_the_line() -> None:
    with pytest.raises(TranscriptError, match=r"line 3: is not UTF-8"):
        parse_transcript(b"T: hi\nC: ho\nT: caf\xe9\n", "latin.txt")


def test_utf16_with_bom_is_read() -> None:
    data = codecs.BOM_UTF16_LE + "T: Hi.\nC: Hello.".encode("utf-16-le")
    assert [u.text for u in parse_transcript(data)] == ["Hi.", "Hello."]


def test_over_the_size_limit_is_refused_before_parsing() -> None:
    with pytest.raises(TranscriptError, match="over the limit of 10 bytes"):
        parse_transcript("T: Hello there.\nC: Hi.", "big.txt", max_bytes=10)


def test_file_over_the_limit_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("T: hi\nC: ho\n" * 100)
    with pytest.raises(TranscriptError, match="over the limit"):
        read_transcript(path, max_bytes=100)


def test_missing_file_is_a_transcript_error(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match=r"nope\.vtt: file not found"):
        read_transcript(tmp_path / "nope.vtt")


def test_directory_without_utterances_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TranscriptError, match=r"without utterances\.jsonl"):
        read_transcript(tmp_path)


def test_unknown_format_name_lists_the_formats() -> None:
    with pytest.raises(TranscriptError, match="whisper-json"):
        parse_transcript("T: hi\nC: ho", input_format="docx")


def test_unrecognisable_content_asks_for_input_format() -> None:
    with pytest.raises(TranscriptError, match="--input-format"):
        parse_transcript("just some words\nand more words", "mystery.dat")


def test_input_that_is_neither_text_nor_bytes_is_refused() -> None:
    with pytest.raises(TranscriptError, match="expected text or bytes"):
        parse_transcript(None, "x")  # type: ignore[arg-type]
    assert len(parse_transcript(bytearray(b"T: hi\nC: ho"))) == 2


def test_format_aliases_are_accepted() -> None:
    assert parse_transcript("T: hi\nC: ho", input_format="TXT").format == "text"
