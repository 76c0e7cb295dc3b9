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
from alliance.instruments import TOTAL, Catalog, Instrument, builtin_catalog
from alliance.instruments.scoring import item_matrix
from alliance.monitoring.casefile import ATTENDANCE, HELD, HOMEWORK
from alliance.monitoring.panel import (
    COMPONENTS,
    MARKERS,
    Panel,
    component_subscales,
    empty_case_arrays,
)
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


def score_totals(inst: Instrument, table: pd.DataFrame
                 ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Total raw score, total percent of maximum and each component subscale's percent of
    maximum for every row (NaN when invalid).

    The numeric core of :func:`~alliance.instruments.score_table` without its text columns
    (status and notes for every row cost more than the arithmetic at millions of rows). Values
    are validated and reverse keyed by :func:`~alliance.instruments.scoring.item_matrix`; the
    proration arithmetic follows ``score_table`` operation for operation, so the numbers are
    identical (a test holds them to it).
    """
    x = item_matrix(inst, table)
    index = {iid: j for j, iid in enumerate(inst.item_ids)}
    rule = inst.missing
    allowed = 0 if rule.rule == "complete" else rule.max_missing_per_subscale
    units = ([(sub.id, sub.items) for sub in inst.subscales] if inst.subscales
             else [(TOTAL, inst.item_ids)])
    raw: dict[str, np.ndarray] = {}
    for name, ids in units:
        block = x[:, [index[i] for i in ids]]
        present = ~np.isnan(block)
        answered = present.sum(axis=1)
        k = len(ids)
        sums = np.where(present, block, 0.0).sum(axis=1)
        invalid = (answered == 0) | (k - answered > allowed)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = sums / answered
        value = mean * k if inst.method == "sum" else mean
        raw[name] = np.where(invalid, np.nan, value)
    if inst.subscales:
        names = [sub.id for sub in inst.subscales]
        total: Any
        if inst.method == "sum":
            total = sum(raw[n] for n in names)
        else:
            sizes = {sub.id: len(sub.items) for sub in inst.subscales}
            total = sum(raw[n] * sizes[n] for n in names) / len(inst.items)
        raw[TOTAL] = np.asarray(total, dtype=float)

    def pom(name: str) -> np.ndarray:
        lo, hi = inst.score_range(name)
        return 100.0 * (raw[name] - lo) / (hi - lo)

    comps = {c: pom(sub) for c, sub in component_subscales(inst).items()}
    return raw[TOTAL], pom(TOTAL), comps


def positions(column: pd.Series, case_index: pd.Index) -> np.ndarray:
    """Each row's case position (-1 when unknown), looking up each run of equal ids once:
    long tables list a case's rows together, so this costs one lookup per case, not per row."""
    values = column.to_numpy(dtype=object)
    n = len(values)
    if not n:
        return np.zeros(0, dtype=np.int64)
    change = np.ones(n, dtype=bool)
    change[1:] = values[1:] != values[:-1]
    starts = np.flatnonzero(change)
    found = case_index.get_indexer(pd.Index(values[starts]))
    return np.repeat(found, np.diff(np.append(starts, n))).astype(np.int64)


def _codes(values: pd.Series, allowed: tuple[str, ...], what: str) -> np.ndarray:
    codes = pd.Index(list(allowed)).get_indexer(pd.Index(values))
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
    s_case = positions(s["case_id"], case_index)
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
    m_case = positions(members["case_id"], case_index)
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
        if inst.kind != "alliance":   # outcome measures are read beside the alliance, not as it
            continue
        raw, pom_total, comps = score_totals(inst, table)
        r_case = positions(table["case_id"], case_index)
        keys = r_case.astype(np.int64) * key_base + table["session"].to_numpy(dtype=np.int64)
        pos = np.searchsorted(session_keys, keys)
        pos_ok = np.minimum(pos, len(session_keys) - 1)
        if (r_case < 0).any() or (session_keys[pos_ok] != keys).any():
            raise CaseFileError(f"ratings[{inst_id}]: a rating refers to a session that is not "
                                f"in the sessions table")
        if not np.isin(attendance[pos_ok], [ATTENDANCE.index(a) for a in HELD]).all():
            raise CaseFileError(f"ratings[{inst_id}]: a rating belongs to a session that did "
                                f"not take place")
        keep = ~np.isnan(raw)
        parts.append((inst_id, r_case[keep], table["rater"].to_numpy(dtype=object)[keep],
                      col[pos_ok][keep], raw[keep], pom_total[keep],
                      {c: (comps[c][keep] if c in comps else np.full(int(keep.sum()), np.nan))
                       for c in COMPONENTS}))
    inst_names = sorted(p[0] for p in parts)
    all_raters = (np.concatenate([p[2] for p in parts]) if parts
                  else np.array([], dtype=object))
    rater_codes, rater_values = pd.factorize(all_raters.astype(str), sort=True)
    inst_code = np.concatenate([np.full(len(p[1]), inst_names.index(p[0])) for p in parts]) \
        if parts else np.array([], dtype=np.int64)
    r_case_all = (np.concatenate([p[1] for p in parts]) if parts
                  else np.array([], dtype=np.int64)).astype(np.int64)
    cols_all = (np.concatenate([p[3] for p in parts]) if parts
                else np.array([], dtype=np.int64)).astype(np.int64)
    n_r, n_i = max(len(rater_values), 1), max(len(inst_names), 1)
    series_key = (r_case_all * n_r + rater_codes) * n_i + inst_code   # sorts like the triple
    codes, uniq_index = pd.factorize(series_key, sort=True)
    row = np.asarray(codes, dtype=np.int64)
    uniq = np.asarray(uniq_index, dtype=np.int64)
    n = len(uniq)
    if pd.Index(row * max(width, 1) + cols_all).has_duplicates:
        raise CaseFileError("ratings: a rater rated the same instrument twice in one session")
    total = np.full((n, width), np.nan)
    pom = np.full((n, width), np.nan)
    if parts:
        total[row, cols_all] = np.concatenate([p[4] for p in parts])
        pom[row, cols_all] = np.concatenate([p[5] for p in parts])
    comp: dict[str, np.ndarray] = {}
    for comp_name in COMPONENTS:
        arr = np.full((n, width), np.nan)
        if parts:
            arr[row, cols_all] = np.concatenate([p[6][comp_name] for p in parts])
        comp[comp_name] = arr
    s_case_rows = uniq // (n_r * n_i)
    raters = np.asarray(rater_values, dtype=object)[(uniq // n_i) % n_r] if n else \
        np.array([], dtype=object)
    instruments = np.array(inst_names, dtype=object)[uniq % n_i] if n else \
        np.array([], dtype=object)
    params_by_inst = {i: policy.params_for(catalog[i]) for i in inst_names}
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
    """``times`` copies of every case under new ids (``<id>.<k>``): a benchmark of scale."""
    def rename(df: pd.DataFrame) -> pd.DataFrame:
        out = pd.concat([df.assign(case_id=df["case_id"].astype(str) + f".{k}")
                         for k in range(times)], ignore_index=True)
        return out
    return CaseTables(rename(tables.cases), rename(tables.members), rename(tables.sessions),
                      {k: rename(v) for k, v in tables.ratings.items()})


@dataclass
class BatchResult:
    """Monitoring verdicts of many cases as arrays (the output of the parallel batch path).

    ``signals``: one entry per signal in report order (``case`` indexes ``case_ids``);
    ``episodes``: one per episode; ``alerts``: one per case with an alert. Evidence and
    explanations are not carried: re-run :func:`alliance.monitoring.monitor_case` on a case to
    read them.
    """

    case_ids: list[str]
    signals: dict[str, np.ndarray]
    episodes: dict[str, np.ndarray]
    alerts: dict[str, np.ndarray]

    def signal_rows(self, case_id: str) -> list[tuple[Any, ...]]:
        c = self.case_ids.index(case_id)
        sel = np.flatnonzero(self.signals["case"] == c)
        return [(str(self.signals["kind"][i]), int(self.signals["session"][i]),
                 self.signals["member"][i], str(self.signals["severity"][i])) for i in sel]

    def episode_rows(self, case_id: str) -> list[tuple[Any, ...]]:
        c = self.case_ids.index(case_id)
        sel = np.flatnonzero(self.episodes["case"] == c)
        e = self.episodes
        return [(str(e["member"][i]), str(e["criterion"][i]), int(e["start"][i]),
                 int(e["low"][i]), None if e["end"][i] < 0 else int(e["end"][i]),
                 str(e["status"][i])) for i in sel]

    def alert_row(self, case_id: str) -> tuple[Any, ...] | None:
        c = self.case_ids.index(case_id)
        sel = np.flatnonzero(self.alerts["case"] == c)
        if not len(sel):
            return None
        i = int(sel[0])
        return (str(self.alerts["id"][i]), str(self.alerts["severity"][i]),
                str(self.alerts["headline"][i]), int(self.alerts["evidence"][i]))


def report_rows(report: CaseReport) -> tuple[list[Any], list[Any], tuple[Any, ...] | None]:
    """A per-case report in the row form of :class:`BatchResult`, for comparing the paths."""
    sig = [(s.kind, s.session, s.member, s.severity) for s in report.signals]
    eps = [(e.member, e.criterion, e.start_session, e.low_session, e.end_session, e.status)
           for e in report.episodes]
    alert = report.alert
    return sig, eps, (None if alert is None else (alert.id, alert.severity, alert.headline,
                                                  len(alert.evidence)))


def _result(a: Any) -> BatchResult:
    from alliance.monitoring.signals import SEVERITIES

    e, o = a.episodes, a.episode_order
    alert_cases = sorted(c for c, al in a.alerts.items() if al is not None)
    alerts = [a.alerts[c] for c in alert_cases]
    return BatchResult(
        case_ids=a.case_ids,
        signals={"case": a.case, "kind": a.kind, "session": a.session, "member": a.member,
                 "severity": np.array(SEVERITIES, dtype=object)[a.severity]},
        episodes={"case": e.case[o], "member": e.member[o], "criterion": e.criterion[o],
                  "start": e.start[o], "low": e.low[o],
                  "end": np.where(e.closed[o], e.end[o], -1),
                  "status": np.where(e.repaired[o], "repaired", "unrepaired").astype(object)},
        alerts={"case": np.array(alert_cases, dtype=np.int64),
                "id": np.array([al.id for al in alerts], dtype=object),
                "severity": np.array([al.severity for al in alerts], dtype=object),
                "headline": np.array([al.headline for al in alerts], dtype=object),
                "evidence": np.array([len(al.evidence) for al in alerts], dtype=np.int64)})


def subset(tables: CaseTables, case_ids: Any) -> CaseTables:
    """The tables of the given cases only."""
    ids = pd.Index(case_ids)

    def pick(df: pd.DataFrame) -> pd.DataFrame:
        return df[positions(df["case_id"], ids) >= 0].reset_index(drop=True)

    return CaseTables(pick(tables.cases), pick(tables.members), pick(tables.sessions),
                      {k: pick(v) for k, v in tables.ratings.items()})


def _split(tables: CaseTables, parts: int) -> list[CaseTables]:
    """``parts`` tables of contiguous shares of the cases (in case order)."""
    index = pd.Index(tables.cases["case_id"].astype(str))
    bounds = np.linspace(0, len(index), parts + 1).astype(np.int64)

    def cut(df: pd.DataFrame) -> list[pd.DataFrame]:
        pos = positions(df["case_id"], index)
        if len(pos) and (np.diff(pos) >= 0).all() and pos[0] >= 0:
            # rows already in case order (as tables_from_casefile writes them): slice, no copy
            rows = np.searchsorted(pos, bounds)
            return [df.iloc[rows[k]:rows[k + 1]] for k in range(parts)]
        share = np.searchsorted(bounds, pos, side="right") - 1
        return [df[share == k].reset_index(drop=True) for k in range(parts)]

    cases, members, sessions = cut(tables.cases), cut(tables.members), cut(tables.sessions)
    ratings = {k: cut(v) for k, v in tables.ratings.items()}
    return [CaseTables(cases[k], members[k], sessions[k], {i: r[k] for i, r in ratings.items()})
            for k in range(parts)]


_SHARED: dict[str, Any] = {}


def _work(part: int) -> BatchResult:
    from alliance.monitoring.report import assemble

    policy, parts = _SHARED["policy"], _SHARED["parts"]
    return _result(assemble(panel_from_tables(parts[part], policy), policy))


def monitor_tables_parallel(tables: CaseTables, policy: Policy | None = None,
                            workers: int = 2) -> BatchResult:
    """Monitor every case with ``workers`` processes (fork), each taking a contiguous share of
    the cases; verdicts come back as arrays (:class:`BatchResult`), in case order."""
    import multiprocessing

    policy = policy if policy is not None else default_policy()
    if workers <= 1:
        from alliance.monitoring.report import assemble

        return _result(assemble(panel_from_tables(tables, policy), policy))
    parts = _split(tables, workers)
    _SHARED.update(policy=policy, parts=parts)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            results = pool.map(_work, range(len(parts)))
    finally:
        _SHARED.clear()
    offsets = np.cumsum([0] + [len(r.case_ids) for r in results])

    def join(attr: str) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for key in getattr(results[0], attr):
            arrays = [getattr(r, attr)[key] + offsets[n] if key == "case"
                      else getattr(r, attr)[key] for n, r in enumerate(results)]
            out[key] = np.concatenate(arrays)
        return out

    return BatchResult([c for r in results for c in r.case_ids], join("signals"),
                       join("episodes"), join("alerts"))
