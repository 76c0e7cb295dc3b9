"""``batch monitor``: cases given as rating rows, monitored with the rules of ``alliance monitor``.

Input: one row per completed questionnaire (or per session without one), rows of a case
together. Columns (only ``case_id``, ``session`` and, on rating rows, ``rater`` and
``instrument`` are required):

========================  =====================================================================
``case_id``               the case (text)
``session``               session number (1, 2, ...)
``rater``                 a member id, ``therapist`` or ``observer``; empty: no rating
``instrument``            instrument id; the row's answers are in the columns of its items
*item ids*                one column per item of any instrument used (empty where not asked)
``role``                  ``client`` (default) or ``family_member``, for a member rater
``members``               case-level, optional: ``m1:client,m2:family_member`` (else: the raters)
``modality``              case-level: individual (default), couple, family, group
``normative_cues``        case-level: cues that are norms here, comma-separated
``attendance``            session-level: attended (default), late, cancelled, ...
``date``, ``minutes_late``, ``homework``     session-level, as in a case file
``withdrawal``, ``confrontation``, ``unresolved``, ``threats``, ``cues``   session-level
                          transcript summary (any given: the session has a summary)
========================  =====================================================================

Each chunk's rows become a case-file document, validated by
:func:`~alliance.monitoring.parse_cases` (so a bad value is the same
:class:`~alliance.errors.CaseFileError` ``alliance monitor`` gives, naming the case and
session) and monitored by :func:`~alliance.monitoring.monitor_cases`. Output: one row per
case with its signals and episodes as lists of structs and its alert, if any.
"""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa

from alliance.batch.columns import missing_columns, unknown_columns
from alliance.errors import InputFileError

CASE_LEVEL = ("members", "modality", "normative_cues")
SESSION_LEVEL = ("attendance", "date", "minutes_late", "homework")
SUMMARY = ("withdrawal", "confrontation", "unresolved", "threats", "cues")
RATING = ("rater", "role", "instrument")
REQUIRED = ("case_id", "session")

SIGNAL = pa.struct([("kind", pa.string()), ("session", pa.int64()), ("member", pa.string()),
                    ("severity", pa.string())])
EPISODE = pa.struct([("member", pa.string()), ("instrument", pa.string()),
                     ("criterion", pa.string()), ("start_session", pa.int64()),
                     ("low_session", pa.int64()), ("end_session", pa.int64()),
                     ("status", pa.string())])
OUTPUT = pa.schema([("case_id", pa.string()), ("signals", pa.list_(SIGNAL)),
                    ("episodes", pa.list_(EPISODE)), ("alert_id", pa.string()),
                    ("alert_severity", pa.string()), ("alert_headline", pa.string())])


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _number(value: Any) -> Any:
    """Whole floats back to int (CSV numbers may arrive as doubles)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _split(text: Any) -> list[str]:
    return [] if _blank(text) else [t.strip() for t in str(text).split(",") if t.strip()]


class MonitorStep:
    """Monitor the cases of a chunk (``policy``: a policy YAML file, else the default)."""

    group_key: str | None = "case_id"
    default_chunk_rows = 20_000

    def __init__(self, policy: str | None = None) -> None:
        from alliance.interop.casefiles import load_policy_file
        from alliance.interop.specfiles import load_catalog
        from alliance.monitoring import default_policy

        self.policy_path = policy
        self.policy = load_policy_file(policy) if policy else default_policy()
        self.catalog = load_catalog()
        self.item_columns = sorted({i for inst in self.catalog.values() for i in inst.item_ids})
        self.types: dict[str, pa.DataType] = {
            "case_id": pa.string(), "session": pa.int64(), "rater": pa.string(),
            "role": pa.string(), "instrument": pa.string(), "members": pa.string(),
            "modality": pa.string(), "normative_cues": pa.string(),
            "attendance": pa.string(), "date": pa.string(), "homework": pa.string(),
            "cues": pa.string(), **dict.fromkeys(self.item_columns, pa.float64())}

    def check(self, schema: pa.Schema, origin: str) -> None:
        missing_columns(schema, REQUIRED, origin, "monitor reads one row per rating with "
                        "case_id, session, rater, instrument and item columns")
        known = {*REQUIRED, *CASE_LEVEL, *SESSION_LEVEL, *SUMMARY, *RATING,
                 *self.item_columns}
        unknown_columns(schema, known, origin, "columns are case_id, session, rater, role, "
                        "instrument, the instruments' item ids and the case and session "
                        "fields listed in docs/scale.md")

    def output_schema(self, schema: pa.Schema) -> pa.Schema:
        return OUTPUT

    def metadata(self) -> dict[str, str]:
        return {"alliance.policy": self.policy_path or "default"}

    def casefile(self, table: pa.Table) -> dict[str, Any]:
        """The case-file document of a chunk's rows (cases in order of appearance)."""
        rows = table.to_pylist()
        cases: dict[str, dict[str, Any]] = {}
        for n, row in enumerate(rows, 1):
            cid = str(row["case_id"])
            case = cases.get(cid)
            if case is None:
                case = cases[cid] = {
                    "id": cid, "modality": row.get("modality") or "individual",
                    "members": [], "sessions": {}, "_given": None}
                if not _blank(row.get("members")):
                    case["_given"] = [self._member(m, cid) for m in _split(row["members"])]
                cues = _split(row.get("normative_cues"))
                if cues:
                    case["context"] = {"normative_cues": cues}
            number = row.get("session")
            if _blank(number):
                raise InputFileError(f"case {cid!r}: a row has no session number (row {n} "
                                     "of its chunk)")
            session = case["sessions"].get(number)
            if session is None:
                session = case["sessions"][number] = self._session(row)
            rater = row.get("rater")
            if _blank(rater):
                continue
            rater = str(rater)
            if rater not in ("therapist", "observer") and case["_given"] is None and \
                    rater not in [m["id"] for m in case["members"]]:
                case["members"].append({"id": rater, "role": row.get("role") or "client"})
            inst_id = row.get("instrument")
            if _blank(inst_id):
                raise InputFileError(f"case {cid!r}, session {number}: rater {rater!r} has no "
                                     "instrument")
            inst = self.catalog[str(inst_id)]
            session.setdefault("ratings", []).append({
                "rater": rater, "instrument": inst.id,
                "items": {i: (None if _blank(row.get(i)) else _number(row.get(i)))
                          for i in inst.item_ids}})
        out = []
        for case in cases.values():
            given = case.pop("_given")
            if given is not None:
                case["members"] = given
            case["sessions"] = list(case["sessions"].values())
            out.append(case)
        return {"cases": out}

    @staticmethod
    def _member(text: str, cid: str) -> dict[str, str]:
        mid, _, role = text.partition(":")
        return {"id": mid.strip(), "role": role.strip() or "client"}

    @staticmethod
    def _session(row: dict[str, Any]) -> dict[str, Any]:
        s: dict[str, Any] = {"number": _number(row["session"]),
                             "attendance": row.get("attendance") or "attended"}
        for key in ("date", "homework"):
            if not _blank(row.get(key)):
                s[key] = row[key]
        if not _blank(row.get("minutes_late")):
            s["minutes_late"] = _number(row["minutes_late"])
        summary = {k: _number(row[k]) for k in SUMMARY[:4] if not _blank(row.get(k))}
        cues = _split(row.get("cues"))
        if summary or cues:
            s["transcript_summary"] = {**summary, **({"cues": cues} if cues else {})}
        return s

    def __call__(self, table: pa.Table) -> pa.Table:
        from alliance.monitoring import monitor_cases, parse_cases

        cases = parse_cases(self.casefile(table), origin="batch input",
                            catalog=self.catalog)
        reports = monitor_cases(cases, self.policy, self.catalog)
        out = []
        for r in reports:
            alert = r.alert
            out.append({
                "case_id": r.case_id,
                "signals": [{"kind": s.kind, "session": s.session, "member": s.member,
                             "severity": s.severity} for s in r.signals],
                "episodes": [{"member": e.member, "instrument": e.instrument,
                              "criterion": e.criterion, "start_session": e.start_session,
                              "low_session": e.low_session, "end_session": e.end_session,
                              "status": e.status} for e in r.episodes],
                "alert_id": alert.id if alert else None,
                "alert_severity": alert.severity if alert else None,
                "alert_headline": alert.headline if alert else None})
        return pa.Table.from_pylist(out, schema=OUTPUT)


def rows_from_casefile(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A case-file document as ``batch monitor`` input rows (one per rating, or per session
    without ratings): the inverse of :meth:`MonitorStep.casefile`.

    >>> rows = rows_from_casefile({"cases": [{"id": "c1", "modality": "individual",
    ...     "members": [{"id": "m1", "role": "client"}], "sessions": [
    ...     {"number": 1, "attendance": "attended", "ratings": [{"rater": "m1",
    ...      "instrument": "pulse-3", "items": {"bond": 8, "goal": 7, "task": 9}}]},
    ...     {"number": 2, "attendance": "no_show"}]}]})
    >>> [(r["session"], r["attendance"], r["rater"], r.get("bond")) for r in rows]
    [(1, 'attended', 'm1', 8), (2, 'no_show', None, None)]
    """
    out: list[dict[str, Any]] = []
    for case in data["cases"]:
        base = {"case_id": case["id"], "modality": case["modality"],
                "members": ",".join(f"{m['id']}:{m['role']}" for m in case["members"]),
                "normative_cues": ",".join((case.get("context") or {}).get("normative_cues",
                                                                          ()))}
        for s in case["sessions"]:
            ts = s.get("transcript_summary")
            session = {**base, "session": s["number"], "attendance": s["attendance"],
                       "date": s.get("date"), "minutes_late": s.get("minutes_late"),
                       "homework": s.get("homework"),
                       **{k: (ts or {}).get(k) for k in SUMMARY[:4]},
                       "cues": ",".join((ts or {}).get("cues", ())) if ts else None}
            if ts is not None:  # a summary with every count zero is still a summary
                for k in SUMMARY[:4]:
                    session[k] = session[k] if session[k] is not None else 0
            ratings = s.get("ratings") or [None]
            for r in ratings:
                row = dict(session)
                row["rater"] = r["rater"] if r else None
                row["instrument"] = r["instrument"] if r else None
                if r:
                    row.update(r["items"])
                out.append(row)
    return out
