"""The adapter between stored rows and :mod:`alliance.monitoring`.

The monitoring library reads the case-file format (``docs/case-file.md``); this module
builds that mapping from the database for one or many cases, runs
``parse_cases`` + ``monitor_case`` with the default policy, and joins the result with the
stored alert history. Reports are cached per case and recomputed only when the case's data
changed (a fingerprint of its row counts and newest ids), which keeps the caseload page fast.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from alliance.errors import AllianceError
from alliance.store import alerts
from alliance.store.models import AlertEvent, Case, Member, Response, Session, Transcript

log = logging.getLogger("alliance.web")
SEVERITY_RANK = {"act": 3, "watch": 2, "info": 1}


@dataclass(frozen=True)
class CaseMonitor:
    """What monitoring says about one case, plus what people did about its alert."""

    case_id: int
    available: bool
    report: dict[str, Any] | None = None
    alert: dict[str, Any] | None = None
    alert_id: str | None = None
    status: str | None = None
    history: Sequence[AlertEvent] = field(default_factory=tuple)
    error: str = ""

    @property
    def rank(self) -> int:
        """Sort key for the caseload: open alerts first, by severity."""
        if self.alert is None:
            return 0
        base = SEVERITY_RANK.get(str(self.alert.get("severity")), 0)
        return base * 10 + {"open": 2, "acknowledged": 1}.get(self.status or "", 0)


def _library() -> Any | None:
    try:
        import alliance.monitoring as monitoring
    except ImportError:
        return None
    return monitoring


def case_file_entry(case: Case, members: Sequence[Member], sessions: Sequence[Session],
                    responses: Sequence[Response],
                    summaries: dict[int, dict[str, int]] | None = None) -> dict[str, Any]:
    """One case in the case-file format (issue 3): members, context, sessions, ratings."""
    by_session: dict[int, list[Response]] = defaultdict(list)
    for r in responses:
        by_session[r.session_id].append(r)
    entry: dict[str, Any] = {
        "id": str(case.id),
        "modality": case.modality,
        "members": [{"id": f"m{m.id}", "role": "client"} for m in members],
        "context": {"cultural_notes": case.cultural_notes,
                    "normative_cues": list(case.normative_cues or [])},
        "sessions": [],
    }
    for s in sessions:
        ratings = [{"rater": "therapist" if r.rater == "therapist" else f"m{r.member_id}",
                    "instrument": r.instrument_id,
                    "items": {k: v for k, v in r.answers.items() if v is not None}}
                   for r in by_session.get(s.id, [])]
        row: dict[str, Any] = {"number": s.number, "date": s.date.isoformat(),
                               "attendance": s.attendance, "minutes_late": s.minutes_late,
                               "homework": s.homework, "ratings": ratings}
        if summaries and s.id in summaries:
            row["transcript_summary"] = summaries[s.id]
        entry["sessions"].append(row)
    return entry


_MEMBER_REF = re.compile(r"\bm(\d+)\b")


def humanise(value: Any, names: dict[int, str]) -> Any:
    """Replace case-file member ids (``m17``) with the members' labels in every string."""
    if isinstance(value, str):
        return _MEMBER_REF.sub(lambda m: names.get(int(m.group(1)), m.group(0)), value)
    if isinstance(value, list):
        return [humanise(v, names) for v in value]
    if isinstance(value, dict):
        return {k: humanise(v, names) for k, v in value.items()}
    return value


def _alert_id(case_id: int, alert: dict[str, Any]) -> str:
    if alert.get("id"):
        return str(alert["id"])
    basis = f"{case_id}|{alert.get('severity')}|{alert.get('headline')}"
    return f"a{case_id}-" + hashlib.sha256(basis.encode()).hexdigest()[:12]


class _Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reports: dict[tuple[str, int], tuple[tuple[Any, ...], dict[str, Any] | None,
                                                   str]] = {}

    def get(self, key: tuple[str, int], fp: tuple[Any, ...]) -> tuple[dict[str, Any] | None,
                                                                       str] | None:
        with self._lock:
            hit = self._reports.get(key)
        return (hit[1], hit[2]) if hit and hit[0] == fp else None

    def put(self, key: tuple[str, int], fp: tuple[Any, ...], report: dict[str, Any] | None,
            error: str) -> None:
        with self._lock:
            self._reports[key] = (fp, report, error)


_CACHE = _Cache()


def _fingerprints(db: DbSession, ids: Sequence[int]) -> dict[int, tuple[Any, ...]]:
    fps: dict[int, list[Any]] = {i: [] for i in ids}
    models: tuple[Any, ...] = (Response, Session, Member, Transcript)
    for model in models:
        cols: list[Any] = [model.case_id, func.count(), func.max(model.id)]
        if model is Transcript:
            cols.append(func.max(Transcript.analysed_at))
        rows = db.execute(select(*cols).where(model.case_id.in_(ids))
                          .group_by(model.case_id)).all()
        seen = {row[0]: tuple(row[1:]) for row in rows}
        for i in ids:
            fps[i].append(seen.get(i))
    cases = db.execute(select(Case.id, Case.cultural_notes, Case.normative_cues, Case.modality)
                       .where(Case.id.in_(ids))).all()
    for row in cases:
        fps[row[0]].append((row[1], tuple(row[2] or ()), row[3]))
    return {i: tuple(v) for i, v in fps.items()}


def _run(monitoring: Any, entries: Iterable[dict[str, Any]]) -> dict[str, tuple[
        dict[str, Any] | None, str]]:
    """Parse each case on its own (one bad case must not hide the others), then monitor the
    parsed ones together through the library's batch path."""
    out: dict[str, tuple[dict[str, Any] | None, str]] = {}
    parsed = []
    for entry in entries:
        try:
            parsed.extend(monitoring.parse_cases({"cases": [entry]}))
        except AllianceError as exc:
            out[entry["id"]] = (None, str(exc))
    policy = monitoring.default_policy()
    try:
        reports = monitoring.monitor_cases(parsed, policy)
    except Exception:  # one case tripped the batch: monitor one by one to isolate it
        reports = []
        for case in parsed:
            try:
                reports.append(monitoring.monitor_case(case, policy))
            except AllianceError as exc:
                out[case.id] = (None, str(exc))
            except Exception as exc:  # a library bug must not take the case page down
                log.warning("monitoring failed for case %s: %r", case.id, exc)
                out[case.id] = (None, f"monitoring could not assess this case "
                                f"({type(exc).__name__}); the data are shown unassessed")
    for report in reports:
        data = report.to_dict()
        if report.alert is not None:
            data["alert"]["id"] = report.alert.id
            data["alert"]["latest_session"] = report.alert.latest_session
        out[str(data["id"])] = (data, "")
    return out


def monitor_cases(db: DbSession, cases: Sequence[Case]) -> dict[int, CaseMonitor]:
    """Monitoring results for ``cases`` (already scoped to the actor by the caller)."""
    monitoring = _library()
    ids = [c.id for c in cases]
    if not ids:
        return {}
    url = str(db.get_bind().engine.url)
    fps = _fingerprints(db, ids)
    results: dict[int, tuple[dict[str, Any] | None, str]] = {}
    stale = []
    for c in cases:
        hit = _CACHE.get((url, c.id), fps[c.id])
        if hit is None:
            stale.append(c)
        else:
            results[c.id] = hit
    if stale and monitoring is not None:
        stale_ids = [c.id for c in stale]
        mem = defaultdict(list)
        for m in db.scalars(select(Member).where(Member.case_id.in_(stale_ids))
                            .order_by(Member.id)):
            mem[m.case_id].append(m)
        ses = defaultdict(list)
        for s in db.scalars(select(Session).where(Session.case_id.in_(stale_ids))
                            .order_by(Session.number)):
            ses[s.case_id].append(s)
        res = defaultdict(list)
        for r in db.scalars(select(Response).where(Response.case_id.in_(stale_ids))
                            .order_by(Response.id)):
            res[r.case_id].append(r)
        summaries: dict[int, dict[int, dict[str, int]]] = defaultdict(dict)
        for t in db.scalars(select(Transcript).where(Transcript.case_id.in_(stale_ids),
                                                      Transcript.status == "done")):
            if t.summary:
                summaries[t.case_id][t.session_id] = dict(t.summary)
        entries = [case_file_entry(c, mem[c.id], ses[c.id], res[c.id], summaries[c.id])
                   for c in stale]
        for key, (report, error) in _run(monitoring, entries).items():
            cid = int(key)
            if report is not None:
                alert_id = (report.get("alert") or {}).get("id")
                report = humanise(report, {m.id: m.label for m in mem[cid]})
                if alert_id:
                    report["alert"]["id"] = alert_id
            value = (report, error)
            results[cid] = value
            _CACHE.put((url, cid), fps[cid], *value)
    histories: dict[int, list[AlertEvent]] = defaultdict(list)
    for ev in db.scalars(select(AlertEvent).where(AlertEvent.case_id.in_(ids))
                         .order_by(AlertEvent.id)):
        histories[ev.case_id].append(ev)
    out = {}
    for c in cases:
        if monitoring is None:
            out[c.id] = CaseMonitor(c.id, False, history=histories[c.id],
                                    error="monitoring is not installed")
            continue
        report, error = results.get(c.id, (None, ""))
        alert = (report or {}).get("alert")
        alert_id = _alert_id(c.id, alert) if alert else None
        own = [e for e in histories[c.id] if e.alert_id == alert_id]
        out[c.id] = CaseMonitor(c.id, True, report, alert, alert_id,
                                alerts.status(own, alert.get("latest_session"))
                                if alert else None, histories[c.id], error)
    return out
