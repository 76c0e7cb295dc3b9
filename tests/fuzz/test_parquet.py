"""Regression found by benchmarks/fuzz_parsers.py: a Parquet file with broken pandas metadata.

pandas writes its own JSON description of the columns into a Parquet file; pyarrow reads
it back when converting, and a damaged one raised ``KeyError: 'pandas_type'`` from inside
pyarrow. ``read_table`` must say the file is not readable.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from alliance.errors import InputFileError
from alliance.interop.tables import read_table


def test_parquet_with_damaged_pandas_metadata_is_an_input_file_error(tmp_path: Path) -> None:
    table = pa.Table.from_pandas(pd.DataFrame({"b1": [1, 2], "b2": [3, 4]}))
    meta = json.loads(table.schema.metadata[b"pandas"])
    for column in meta["columns"]:
        del column["pandas_type"]
    table = table.replace_schema_metadata({b"pandas": json.dumps(meta).encode()})
    path = tmp_path / "responses.parquet"
    pq.write_table(table, path)
    with pytest.raises(InputFileError, match="not a readable Parquet file"):
        read_table(path)


def test_parquet_that_is_not_parquet_is_an_input_file_error(tmp_path: Path) -> None:
    path = tmp_path / "responses.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(InputFileError, match="cannot read as parquet"):
        read_table(path)
