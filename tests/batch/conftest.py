"""Shared inputs of the batch tests: responses, case rows and session turns, small and real."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="session")
def responses() -> pd.DataFrame:
    """3,000 simulated alliance-12 responses with missing answers and carried id columns."""
    from alliance.instruments import get_instrument
    from alliance.testing.responses import simulate_responses

    table = simulate_responses(get_instrument("alliance-12"), 3000, seed=7, missing_rate=0.05)
    table.insert(1, "client", [f"c{i % 97:03d}" for i in range(len(table))])
    table.insert(2, "session", np.arange(len(table)) % 12 + 1)
    return table


@pytest.fixture(scope="session")
def casefile() -> dict:
    return json.loads((ROOT / "examples" / "cases" / "synthetic-20.json").read_text())


@pytest.fixture(scope="session")
def case_rows(casefile: dict) -> pd.DataFrame:
    from alliance.batch.monitor import rows_from_casefile

    return pd.DataFrame(rows_from_casefile(casefile))


def corpus_turns(sessions: int) -> pd.DataFrame:
    """``sessions`` sessions of real labelled-corpus turns as a table of turns."""
    from alliance.coding.corpus import load_corpus

    convs = load_corpus().sessions
    rows = [{"session": f"s{n:03d}", "speaker": t.speaker, "role": t.role, "text": t.text}
            for n in range(sessions) for t in convs[n % len(convs)].turns]
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def turns() -> pd.DataFrame:
    return corpus_turns(8)


def write(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as CSV, Parquet or JSON Lines, by the suffix of ``path``."""
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True)
    return path
