"""Regressions found by benchmarks/fuzz_parsers.py: corrupt Excel workbooks.

A workbook is a zip of XML parts; a damaged one fails inside zipfile, zlib, the XML parser
or openpyxl's typed descriptors, each with its own exception type. ``read_table`` must say
"not a readable workbook" for all of them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from alliance.errors import InputFileError
from alliance.interop.tables import read_table

SHEET = "xl/worksheets/sheet1.xml"


def _workbook() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"b1": [1, 2], "b2": [3, 4]}).to_excel(buffer, index=False)
    return buffer.getvalue()


def _with_sheet(sheet: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_workbook())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, sheet if info.filename == SHEET else src.read(info))
    return out.getvalue()


def _sheet_xml() -> bytes:
    with zipfile.ZipFile(io.BytesIO(_workbook())) as z:
        return z.read(SHEET)


def _read(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "responses.xlsx"
    path.write_bytes(data)
    read_table(path)


def test_worksheet_with_a_non_number_view_id_is_an_input_file_error(tmp_path: Path) -> None:
    sheet = _sheet_xml().replace(b'workbookViewId="0"', b'workbookViewId="null"')
    assert b'"null"' in sheet
    with pytest.raises(InputFileError, match="not a readable Excel"):
        _read(tmp_path, _with_sheet(sheet))


def test_empty_worksheet_xml_is_an_input_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="not a readable Excel"):
        _read(tmp_path, _with_sheet(b""))


def test_corrupt_compressed_part_is_an_input_file_error(tmp_path: Path) -> None:
    data = bytearray(_workbook())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo(SHEET)
    # Damage the deflate stream of the sheet (after its local header), not the zip directory.
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for i in range(start + 2, start + 12):
        data[i] ^= 0x5A
    with pytest.raises(InputFileError, match=r"not a readable Excel|not an Excel"):
        _read(tmp_path, bytes(data))


@pytest.mark.parametrize("row", ["9223372036854775808", "1048577"])
def test_row_number_past_excels_last_row_is_refused_not_padded(tmp_path: Path, row: str
                                                                ) -> None:
    # pandas pads missing rows up to the highest row number: 2^63 never finished reading.
    sheet = _sheet_xml().replace(b'<row r="2"', f'<row r="{row}"'.encode(), 1)
    assert row.encode() in sheet
    with pytest.raises(InputFileError, match="past Excel's last row"):
        _read(tmp_path, _with_sheet(sheet))


def test_workbook_within_excels_rows_is_read(tmp_path: Path) -> None:
    path = tmp_path / "responses.xlsx"
    path.write_bytes(_workbook())
    assert list(read_table(path)["b2"]) == [3, 4]
