"""Regression found by benchmarks/fuzz_parsers.py: a JSON table escaping half a surrogate pair.

``"\\ud800"`` is valid JSON but not text; pandas' string columns (pyarrow) refuse it with a
UnicodeEncodeError while scoring. ``read_table`` refuses the file instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alliance.errors import InputFileError
from alliance.interop.tables import read_table


def test_unpaired_surrogate_escape_is_an_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "responses.json"
    path.write_text('[{"b1": "\\ud800", "b2": 3}]', encoding="utf-8")
    with pytest.raises(InputFileError, match="unpaired surrogate"):
        read_table(path)


def test_paired_surrogate_escape_is_text(tmp_path: Path) -> None:
    path = tmp_path / "responses.json"
    path.write_text('[{"client": "\\ud83d\\ude00", "b1": 3}]', encoding="utf-8")
    assert read_table(path)["client"][0] == "\N{GRINNING FACE}"
