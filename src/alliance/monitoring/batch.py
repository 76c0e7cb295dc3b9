"""The vectorised batch path: many cases from long tables, scored and monitored at once.

Input is a :class:`CaseTables`: four pandas tables (cases, members, sessions, and one ratings
table per instrument with one column per item). :func:`panel_from_tables` scores every rating
with :func:`~alliance.instruments.score_table` (NumPy, one call per instrument) and lays the
results out as a :class:`~alliance.monitoring.panel.Panel`; :func:`monitor_tables` then runs
the same rules as the per-case path. The reports equal those of
:func:`~alliance.monitoring.monitor_cases` exactly (the benchmark and a test check this on
samples).

The batch path assumes tables that came from a validated source (for example
:func:`tables_from_casefile` on a file :func:`~alliance.monitoring.parse_cases` accepted, or a
database); it checks the codes and keys it relies on and raises
:class:`~alliance.errors.CaseFileError` for anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alliance.errors import CaseFileError
from alliance.instruments import TOTAL, Catalog, builtin_catalog, score_table
from alliance.monitoring.casefile import ATTENDANCE, HELD, HOMEWORK
from alliance.monitoring.panel import COMPONENTS, MARKERS, Panel, component_subscales, \
    empty_case_arrays
from alliance.monitoring.policy import Policy, default_policy
from alliance.monitoring.report import CaseReport, reports_from_panel

CASE_COLUMNS = ("case_id", "modality", "normative_cues")
MEMBER_COLUMNS = ("case_id", "member", "role")
SESSION_COLUMNS = ("case_id", "number", "attendance", "minutes_late", "homework",
                   "has_transcript", *MARKERS, "cues")


@dataclass
class CaseTables:
    """Cases as long tables.

    * ``cases``: ``case_id, modality, normative_cues`` (cues comma-separated);
    * ``members``: ``case_id, member, role`` in each case's member order;
    * ``sessions``: ``case_id, number, attendance, minutes_late, homework, has_transcript,
      withdrawal, confrontation, unresolved, threats, cues``;
    * ``ratings``: instrument id → ``case_id, session, rater`` and one column per item.
    """

    cases: pd.DataFrame
    members: pd.DataFrame
    sessions: pd.DataFrame
    ratings: Mapping[str, pd.DataFrame]

    @property
    def n_ratings(self) -> int:
        return sum(len(t) for t in self.ratings.values())


def tables_from_casefile(data: Mapping[str, Any], catalog: Catalog | None = None) -> CaseTables:
    """Flatten a (validated) case-file mapping into :class:`CaseTables`."""
    catalog = catalog if catalog is not None else builtin_catalog()
    cases: dict[str, list[Any]] = {c: [] for c in CASE_COLUMNS}
    members: dict[str, list[Any]] = {c: [] for c in MEMBER_COLUMNS}
    sessions: dict[str, list[Any]] = {c: [] for c in SESSION_COLUMNS}
    ratings: dict[str, dict[str, list[Any]]] = {}
    for case in data["cases"]:
        cid = case["id"]
        cases["case_id"].append(cid)
        cases["modality"].append(case["modality"])
        cases["normative_cues"].append(",".join((case.get("context") or {}).get(
            "normative_cues", ())))
        for m in case["members"]:
            members["case_id"].append(cid)
            members["member"].append(m["id"])
            members["role"].append(m["role"])
        for s in case["sessions"]:
            ts = s.get("transcript_summary")
            row = {"case_id": cid, "number": s["number"], "attendance": s["attendance"],
                   "minutes_late": s.get("minutes_late", 0),
                   "homework": s.get("homework", "none"), "has_transcript": ts is not None,
                   **{m: (ts or {}).get(m, 0) for m in MARKERS},
                   "cues": ",".join((ts or {}).get("cues", ()))}
            for key, value in row.items():
                sessions[key].append(value)
            for r in s.get("ratings", ()):
                inst = r["instrument"]
                if inst not in ratings:
                    ratings[inst] = {"case_id": [], "session": [], "rater": [],
                                     **{i: [] for i in catalog[inst].item_ids}}
                table = ratings[inst]
                table["case_id"].append(cid)
                table["session"].append(s["number"])
                table["rater"].append(r["rater"])
                for item in catalog[inst].item_ids:
                    table[item].append(r["items"].get(item))
    return CaseTables(
        pd.DataFrame(cases), pd.DataFrame(members),
        pd.DataFrame(sessions),
        {k: pd.DataFrame({c: (np.array(v, dtype=float) if c not in ("case_id", "session",
                                                                    "rater") else v)
                          for c, v in t.items()}) for k, t in ratings.items()})


def _codes(values: pd.Series, allowed: tuple[str, ...], what: str) -> np.ndarray:
    cat = pd.Categorical(values, categories=list(allowed))
    codes = np.asarray(cat.codes)
    if (codes < 0).any():
        bad = values[codes < 0].iloc[0]
        raise CaseFileError(f"sessions.{what}: {bad!r} is not one of {list(allowed)}")
    return codes.astype(np.int8)


def panel_from_tables(tables: CaseTables, policy: Policy,
                      catalog: Catalog | None = None) -> Panel:
    """Build the panel of many cases from long tables (the batch path)."""
    catalog = catalog if catalog is not None else builtin_catalog()
    case_ids = tables.cases["case_id"].astype(str).tolist()
    case_index = pd.Index(case_ids)
    if not case_index.is_unique:
        raise CaseFileError("cases.case_id: case ids must be unique")
    n_cases = len(case_ids)

    s = tables.sessions
    s_case = case_index.get_indexer(s["case_id"])
    if (s_case < 0).any():
        raise CaseFileError(f"sessions.case_id: {s['case_id'][s_case < 0].iloc[0]!r} is not "
                            f"in the cases table")
    number = s["number"].to_numpy(dtype=np.int64)
    order = np.lexsort((number, s_case))
    s_case, number = s_case[order], number[order]
    if len(order) and ((np.diff(s_case) == 0) & (np.diff(number) == 0)).any():
        raise CaseFileError("sessions.number: a session number appears twice in a case")
    starts = np.searchsorted(s_case, np.arange(n_cases))
    col = np.arange(len(order)) - starts[s_case]
    width = int(col.max()) + 1 if len(col) else 0
    arrays = empty_case_arrays(n_cases, width)
    arrays["session_no"][s_case, col] = number
    attendance = _codes(s["attendance"], ATTENDANCE, "attendance")[order]
    arrays["attendance"][s_case, col] = attendance
    arrays["homework"][s_case, col] = _codes(s["homework"], HOMEWORK, "homework")[order]
    arrays["minutes_late"][s_case, col] = s["minutes_late"].to_numpy(dtype=np.int64)[order]
    arrays["has_transcript"][s_case, col] = s["has_transcript"].to_numpy(dtype=bool)[order]
    for k, m in enumerate(MARKERS):
        arrays["marks"][s_case, col, k] = s[m].to_numpy(dtype=np.int64)[order]
    cue_text = s["cues"].to_numpy(dtype=object)[order]
    has_cues = np.flatnonzero(cue_text != "")
    for i in has_cues:
        arrays["cues"][s_case[i], col[i]] = tuple(str(cue_text[i]).split(","))
    key_base = int(number.max()) + 1 if len(number) else 1
    session_keys = s_case.astype(np.int64) * key_base + number      # sorted ascending

    members = tables.members
    member_lists: list[list[str]] = [[] for _ in range(n_cases)]
    m_case = case_index.get_indexer(members["case_id"])
    role_of: dict[tuple[int, str], str] = {}
    for c, mid, role in zip(m_case.tolist(), members["member"].tolist(),
                            members["role"].tolist(), strict=True):
        member_lists[c].append(mid)
        role_of[(c, mid)] = role

    parts = []
    for inst_id, table in tables.ratings.items():
        if not len(table):
            continue
        inst = catalog[inst_id]
        scored = score_table(inst, table[list(inst.item_ids)], id_columns=[])
        r_case = case_index.get_indexer(table["case_id"])
        keys = r_case.astype(np.int64) * key_base + table["session"].to_numpy(dtype=np.int64)
        pos = np.searchsorted(session_keys, keys)
        pos_ok = np.minimum(pos, len(session_keys) - 1)
        if (r_case < 0).any() or (session_keys[pos_ok] != keys).any():
            raise CaseFileError(f"ratings[{inst_id}]: a rating refers to a session that is not "
                                f"in the sessions table")
        if not np.isin(attendance[pos_ok], [ATTENDANCE.index(a) for a in HELD]).all():
            raise CaseFileError(f"ratings[{inst_id}]: a rating belongs to a session that did "
                                f"not take place")
        part = pd.DataFrame({"case": r_case, "rater": table["rater"].astype(str).to_numpy(),
                             "instrument": inst_id, "col": col[pos_ok],
                             "raw": scored[f"{TOTAL}_raw"].to_numpy(dtype=float),
                             "pom": scored[f"{TOTAL}_pom"].to_numpy(dtype=float)})
        subs = component_subscales(inst)
        for comp in COMPONENTS:
            part[comp] = (scored[f"{subs[comp]}_pom"].to_numpy(dtype=float) if comp in subs
                          else np.nan)
        parts.append(part[~np.isnan(part["raw"].to_numpy())])
    if parts:
        long = pd.concat(parts, ignore_index=True)
    else:
        long = pd.DataFrame({"case": np.array([], dtype=np.int64), "rater": [],
                             "instrument": [], "col": np.array([], dtype=np.int64),
                             "raw": [], "pom": [], **{c: [] for c in COMPONENTS}})
    series = long[["case", "rater", "instrument"]].drop_duplicates().sort_values(
        ["case", "rater", "instrument"], kind="stable").reset_index(drop=True)
    series["row"] = np.arange(len(series))
    long = long.merge(series, on=["case", "rater", "instrument"], how="left")
    if long.duplicated(["row", "col"]).any():
        raise CaseFileError("ratings: a rater rated the same instrument twice in one session")
    n = len(series)
    row = long["row"].to_numpy(dtype=np.int64)
    cols = long["col"].to_numpy(dtype=np.int64)
    total = np.full((n, width), np.nan)
    pom = np.full((n, width), np.nan)
    total[row, cols] = long["raw"].to_numpy(dtype=float)
    pom[row, cols] = long["pom"].to_numpy(dtype=float)
    comp = {}
    for c in COMPONENTS:
        arr = np.full((n, width), np.nan)
        arr[row, cols] = long[c].to_numpy(dtype=float)
        comp[c] = arr
    s_case_rows = series["case"].to_numpy(dtype=np.int64)
    raters = series["rater"].to_numpy(dtype=object)
    instruments = series["instrument"].to_numpy(dtype=object)
    params_by_inst = {i: policy.params_for(catalog[i]) for i in tables.ratings}
    roles = np.array([role_of.get((c, r), r) for c, r in zip(s_case_rows.tolist(),
                                                            raters.tolist(), strict=True)],
                     dtype=object)
    cases = tables.cases
    return Panel(
        case_ids=case_ids, modality=cases["modality"].astype(str).tolist(),
        members=[tuple(m) for m in member_lists],
        normative=[frozenset(x.split(",")) if x else frozenset()
                   for x in cases["normative_cues"].astype(str).tolist()],
        **arrays, s_case=s_case_rows, s_rater=raters, s_role=roles, s_instrument=instruments,
        total=total, pom=pom, comp=comp,
        params=[params_by_inst[i] for i in instruments.tolist()])


def monitor_tables(tables: CaseTables, policy: Policy | None = None,
                   catalog: Catalog | None = None) -> list[CaseReport]:
    """Monitor every case in ``tables``; one report per row of ``tables.cases``, in order."""
    policy = policy if policy is not None else default_policy()
    return reports_from_panel(panel_from_tables(tables, policy, catalog), policy)


def tile(tables: CaseTables, times: int) -> CaseTables:
    """``times`` copies of every case under new ids (``<id>~<k>``): a benchmark of scale."""
    def rename(df: pd.DataFrame) -> pd.DataFrame:
        out = pd.concat([df.assign(case_id=df["case_id"].astype(str) + f"~{k}")
                         for k in range(times)], ignore_index=True)
        return out
    return CaseTables(rename(tables.cases), rename(tables.members), rename(tables.sessions),
                      {k: rename(v) for k, v in tables.ratings.items()})
