"""Reading and writing response tables (CSV, TSV, Excel, Parquet, JSON) with readable errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

import pandas as pd

from alliance.errors import InputFileError

TableFormat = Literal["csv", "tsv", "xlsx", "parquet", "json"]
_SUFFIXES: dict[str, TableFormat] = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv",
                                     ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet",
                                     ".json": "json"}
_FORMATS = ("csv", "tsv", "xlsx", "parquet", "json")


def format_of(path: str | Path, given: str | None = None) -> TableFormat:
    """The table format named by ``given`` or by the file's suffix."""
    if given:
        if given not in _FORMATS:
            raise InputFileError(f"unknown format {given!r}; use {', '.join(_FORMATS)}")
        return given  # type: ignore[return-value]
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise InputFileError(f"{path}: cannot tell the format from the suffix {suffix!r}; "
                             f"use .csv, .tsv, .xlsx, .parquet or .json")
    return _SUFFIXES[suffix]


def read_table(path: str | Path, fmt: str | None = None,
               text_columns: list[str] | None = None) -> pd.DataFrame:
    """Read a table of responses (one row per response): CSV, TSV, Excel, Parquet or JSON.

    ``text_columns`` (CSV and TSV) are read as text so that a non-numeric cell in an item
    column reaches the scorer, which reports it with its row and item; other columns are
    inferred. Excel files are read from their first sheet. A table with a header and no rows
    is refused: there is nothing to score, and saying so beats writing an empty result.
    """
    table = _read(path, fmt, text_columns)
    if not len(table):
        raise InputFileError(f"{path}: has a header but no rows: nothing to read")
    return table


def _read(path: str | Path, fmt: str | None, text_columns: list[str] | None) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"{p}: no such file")
    if p.is_dir():
        raise InputFileError(f"{p}: is a directory, not a table file")
    kind = format_of(p, fmt)
    try:
        if kind in ("csv", "tsv"):
            dtype = dict.fromkeys(text_columns, str) if text_columns is not None else str
            return pd.read_csv(p, dtype=dtype, keep_default_na=False, na_values=[""],
                               encoding="utf-8", sep="\t" if kind == "tsv" else ",")
        if kind == "xlsx":
            return _read_excel(p, text_columns)
        if kind == "parquet":
            return _read_parquet(p)
        with p.open(encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data, dict) and "responses" in data:
            data = data["responses"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise InputFileError(f"{p}: a JSON table must be a list of objects (one per "
                                 f"response) or {{\"responses\": [...]}}")
        try:  # JSON may escape half a surrogate pair ("\ud800"), which is not text
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise InputFileError(f"{p}: holds an unpaired surrogate escape (\\ud800-\\udfff); "
                                 f"it is not valid text") from None
        return pd.DataFrame.from_records(data)
    except InputFileError:
        raise
    except UnicodeDecodeError:
        raise InputFileError(f"{p}: is not UTF-8 text; is it really a {kind} file?") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{p}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise InputFileError(f"{p}: nested too deeply to be a {kind} table") from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{p}: the file is empty") from None
    except pd.errors.ParserError as exc:
        raise InputFileError(f"{p}: cannot parse as CSV ({str(exc).strip()})") from None
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{p}: cannot read as {kind} ({exc})") from None
    except Exception as exc:  # pyarrow raises its own error types for corrupt files
        if type(exc).__module__.startswith("pyarrow"):
            raise InputFileError(f"{p}: not a readable Parquet file ({exc})") from None
        raise


def _read_parquet(p: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(p)
    except (ImportError, OSError, ValueError):  # reported by _read ("cannot read as parquet")
        raise
    except Exception as exc:  # corrupt pandas metadata fails inside pyarrow with any type
        raise InputFileError(f"{p}: not a readable Parquet file ({type(exc).__name__})"
                             ) from None


# Excel's own limits. A row number past them (row r="9223372036854775808") made pandas pad
# the sheet with empty rows up to it: a file of 7 kB that never finished reading.
_EXCEL_ROWS = 1_048_576
_ROW_NUMBER = re.compile(rb"<(?:\w+:)?(?:row|c)\b[^>]*?\sr=\"[A-Za-z]*(\d+)\"")


def _check_excel_rows(p: Path) -> None:
    import zipfile

    with zipfile.ZipFile(p) as workbook:
        for name in workbook.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                for m in _ROW_NUMBER.finditer(workbook.read(name)):
                    if int(m.group(1)) > _EXCEL_ROWS:
                        raise InputFileError(f"{p}: {name} names row {int(m.group(1)):,}, past "
                                             f"Excel's last row ({_EXCEL_ROWS:,})")


def _read_excel(p: Path, text_columns: list[str] | None) -> pd.DataFrame:
    import zipfile

    try:
        _check_excel_rows(p)
        table = pd.read_excel(p, sheet_name=0, engine="openpyxl")
    except zipfile.BadZipFile:
        raise InputFileError(f"{p}: is not an Excel .xlsx workbook") from None
    except InputFileError:
        raise
    except ImportError:  # pragma: no cover - openpyxl is a core dependency
        raise InputFileError("reading .xlsx needs the openpyxl package") from None
    except Exception as exc:  # a corrupt workbook fails inside zipfile, zlib, XML or openpyxl
        raise InputFileError(f"{p}: is not a readable Excel .xlsx workbook "
                             f"({type(exc).__name__})") from None
    # Cells typed as numbers stay numbers; an item cell holding text reaches the scorer as
    # text, like CSV, so it is reported with its row and item rather than turned into NaN.
    for col in text_columns or []:
        if col in table.columns and table[col].dtype == object:
            table[col] = table[col].map(lambda v: v if pd.isna(v) else str(v))
    return table


def write_table(table: pd.DataFrame, path: str | Path | None, fmt: TableFormat) -> str | None:
    """Write ``table`` to ``path`` in ``fmt``; with no path return the text (csv, json)."""
    if fmt == "parquet":
        if path is None:
            raise InputFileError("parquet output needs --out FILE")
        try:
            table.to_parquet(path, index=False)
        except OSError as exc:
            raise InputFileError(f"{path}: cannot write ({exc.strerror or exc})") from None
        return None
    if fmt in ("tsv", "xlsx"):
        raise InputFileError(f"{fmt} is an input format only; write csv, parquet or json")
    if fmt == "csv":
        text = table.to_csv(index=False)
    else:
        text = table.to_json(orient="records", indent=2, force_ascii=False) + "\n"
    if path is None:
        return text
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"{path}: cannot write ({exc.strerror or exc})") from None
    return None
