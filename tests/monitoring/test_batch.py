"""The vectorised batch path equals the per-case path exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.errors import CaseFileError
from alliance.instruments import get_instrument, score_table
from alliance.monitoring import monitor_cases, parse_cases, synthetic
from alliance.monitoring.batch import (
    monitor_tables,
    monitor_tables_parallel,
    report_rows,
    score_totals,
    subset,
    tables_from_casefile,
)


@pytest.fixture(scope="module")
def generated() -> dict:  # type: ignore[type-arg]
    data, _ = synthetic.generate(150, 21)
    return data


def test_batch_reports_equal_per_case_reports(generated) -> None:  # type: ignore[no-untyped-def]
    per_case = [r.to_dict() for r in monitor_cases(parse_cases(generated))]
    batch = [r.to_dict() for r in monitor_tables(tables_from_casefile(generated))]
    assert batch == per_case
    assert sum(len(r["signals"]) for r in batch) > 500      # a real workload, not empty


def test_one_case_at_a_time_equals_all_cases_together(generated) -> None:  # type: ignore[no-untyped-def]
    cases = parse_cases(generated)
    together = [r.to_dict() for r in monitor_cases(cases)]
    alone = [monitor_cases([c])[0].to_dict() for c in cases[:40]]
    assert alone == together[:40]


def test_parallel_rows_equal_the_per_case_reports(generated) -> None:  # type: ignore[no-untyped-def]
    tables = tables_from_casefile(generated)
    result = monitor_tables_parallel(tables, workers=2)
    for report in monitor_cases(parse_cases(generated)):
        assert report_rows(report) == (result.signal_rows(report.case_id),
                                       result.episode_rows(report.case_id),
                                       result.alert_row(report.case_id))


def test_subset_keeps_only_the_named_cases(generated) -> None:  # type: ignore[no-untyped-def]
    tables = tables_from_casefile(generated)
    part = subset(tables, ["syn007", "syn100"])
    assert part.cases["case_id"].tolist() == ["syn007", "syn100"]
    assert set(part.sessions["case_id"]) == {"syn007", "syn100"}


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["alliance-12", "pulse-3", "session-check-4", "wai-sr"]),
       st.data())
def test_lean_scores_equal_score_table(instrument_id, data) -> None:  # type: ignore[no-untyped-def]
    inst = get_instrument(instrument_id)
    rows = data.draw(st.integers(1, 12))
    table = {}
    for item in inst.items:
        values = st.one_of(st.none(), st.integers(int(item.scale.min), int(item.scale.max)))
        table[item.id] = data.draw(st.lists(values, min_size=rows, max_size=rows))
    import pandas as pd

    frame = pd.DataFrame({k: pd.array(v, dtype="Float64") for k, v in table.items()})
    raw, pom, comps = score_totals(inst, frame)
    ref = score_table(inst, frame, id_columns=[])
    np.testing.assert_array_equal(raw, ref["total_raw"].to_numpy(dtype=float))
    np.testing.assert_array_equal(pom, ref["total_pom"].to_numpy(dtype=float))
    for sub in inst.subscales:
        if sub.component in comps:
            np.testing.assert_array_equal(comps[sub.component],
                                          ref[f"{sub.id}_pom"].to_numpy(dtype=float))


def test_batch_rejects_ratings_for_unknown_sessions(generated) -> None:  # type: ignore[no-untyped-def]
    tables = tables_from_casefile(generated)
    first = next(iter(tables.ratings))
    tables.ratings[first].loc[0, "session"] = 999
    with pytest.raises(CaseFileError, match="not in the sessions table"):
        monitor_tables(tables)


def test_batch_rejects_unknown_attendance_codes(generated) -> None:  # type: ignore[no-untyped-def]
    tables = tables_from_casefile(generated)
    tables.sessions.loc[0, "attendance"] = "absent"
    with pytest.raises(CaseFileError, match="'absent' is not one of"):
        monitor_tables(tables)
