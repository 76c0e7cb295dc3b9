"""The adapter between stored rows and :mod:`alliance.monitoring` (the inverse of
:mod:`alliance.store.casefile`), and the alert worker's step.

* :func:`load_cases`: case rows → typed :class:`alliance.monitoring.Case` (context and
  normative cues included; voided sessions and responses left out; of several answers by
  one rater to one instrument for one session, the latest counts; transcript summaries
  handed over as typed :class:`~alliance.monitoring.TranscriptSummary`).
* :func:`assess_due`: the alert worker's step (healthchecks' ``sendalerts`` is the model).
  It claims cases whose data (or the clinic's policy or catalogue) changed since they were
  last assessed (``case_monitor``,
  with a lease and ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), runs monitoring with the
  clinic's policy and catalogue, stores the report and appends
  :class:`~alliance.store.models.AlertFlip` rows (opened, escalated, cleared).
* :func:`case_monitors`: what pages show; it reads rows only and takes no writer lock.

No cache: the stored report is the one derived value, and it is tied to the case's row
(deleted with it) and to the data version it was computed from.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from alliance.errors import AllianceError
from alliance.store import alerts
from alliance.store.models import AlertEvent, AlertFlip, Case, CaseMonitor, Member, Session
from alliance.store.surveys import current_responses, voided_sessions
from alliance.store.transcripts import summaries
from alliance.vocabulary import SEVERITY_RANK

if TYPE_CHECKING:
    from alliance.instruments import Catalog
    from alliance.monitoring import Policy

log = logging.getLogger("alliance.monitor")


def severity_rank(severity: str | None) -> int:
    """1 (info) to 3 (act); 0 for no alert. The order is monitoring's ``SEVERITIES``."""
    return SEVERITY_RANK[severity] + 1 if severity in SEVERITY_RANK else 0


def member_ref(member_id: int) -> str:
    """A member's id in monitoring's case model (``m17``)."""
    return f"m{member_id}"


@dataclass(frozen=True)
class LoadedCase:
    """A case as monitoring sees it, with the labels of its members, or why it cannot be."""

    case_id: int
    case: Any  # alliance.monitoring.Case
    labels: dict[str, str]
    error: str = ""


def _entry(case: Case, members: Sequence[Member], sessions: Sequence[Session],
           responses: Sequence[Any]) -> dict[str, Any]:
    by_session: dict[int, list[Any]] = defaultdict(list)
    for r in responses:
        by_session[r.session_id].append(r)
    return {
        "id": str(case.id), "modality": case.modality,
        "members": [{"id": member_ref(m.id), "role": "client"} for m in members],
        "context": {"cultural_notes": case.cultural_notes,
                    "normative_cues": list(case.normative_cues or [])},
        "sessions": [{
            "number": s.number, "date": s.date.isoformat(), "attendance": s.attendance,
            "minutes_late": s.minutes_late, "homework": s.homework,
            "ratings": [{"rater": "therapist" if r.rater == "therapist"
                         else member_ref(r.member_id),
                         "instrument": r.instrument_id,
                         "items": {k: v for k, v in r.answers.items() if v is not None}}
                        for r in by_session.get(s.id, [])]} for s in sessions],
    }


def load_cases(db: DbSession, case_ids: Sequence[int], catalog: Catalog) -> dict[int, LoadedCase]:
    """Typed monitoring cases for ``case_ids`` (already scoped to the actor by the caller);
    one case that cannot be read does not hide the others."""
    from alliance.monitoring import parse_cases

    ids = list(case_ids)
    if not ids:
        return {}
    rows = {c.id: c for c in db.scalars(select(Case).where(Case.id.in_(ids)))}
    members: dict[int, list[Member]] = defaultdict(list)
    for m in db.scalars(select(Member).where(Member.case_id.in_(ids)).order_by(Member.id)):
        members[m.case_id].append(m)
    voided = voided_sessions(db, ids)
    sessions: dict[int, list[Session]] = defaultdict(list)
    for s in db.scalars(select(Session).where(Session.case_id.in_(ids))
                        .order_by(Session.number)):
        if s.id not in voided:
            sessions[s.case_id].append(s)
    responses = current_responses(db, ids)
    typed = summaries(db, ids)
    out: dict[int, LoadedCase] = {}
    for cid in ids:
        if cid not in rows:
            continue
        labels = {member_ref(m.id): m.label for m in members[cid]}
        try:
            (case,) = parse_cases({"cases": [_entry(rows[cid], members[cid], sessions[cid],
                                                    responses.get(cid, []))]},
                                  f"case {rows[cid].label}", catalog)
        except AllianceError as exc:
            out[cid] = LoadedCase(cid, None, labels, humanise(str(exc), labels))
            continue
        numbers = {s.id: s.number for s in sessions[cid]}
        by_number = {numbers[sid]: summary for sid, summary in typed.get(cid, {}).items()
                     if sid in numbers}
        if by_number:
            case = replace(case, sessions=tuple(
                replace(s, transcript=by_number[s.number]) if s.number in by_number else s
                for s in case.sessions))
        out[cid] = LoadedCase(cid, case, labels)
    return out


def assess(loaded: LoadedCase, policy: Policy, catalog: Catalog,
           expected: Any = None, *, report: Any = None) -> tuple[Any, str]:
    """``(CaseReport, "")`` or ``(None, why)``; a library bug does not take a page down.
    With ``expected`` (instrument id → curves) the report is a
    :class:`~alliance.monitoring.progress.Progress` (outcome tracked, not-on-track folded in).
    ``report``: the case's monitoring report when already computed (:func:`assess_all`)."""
    from alliance.monitoring import monitor_case
    from alliance.monitoring.progress import assess_progress
    from alliance.monitoring.safety import fold_risk

    if loaded.case is None:
        return None, loaded.error
    try:
        if report is None:
            report = monitor_case(loaded.case, policy, catalog)
        if expected is None:
            return fold_risk(loaded.case, report, catalog), ""
        progress = assess_progress(loaded.case, report, expected, catalog)
        # last, so a risk answer leads the alert even when the outcome is off track
        return replace(progress, report=fold_risk(loaded.case, progress.report, catalog)), ""
    except AllianceError as exc:
        return None, humanise(str(exc), loaded.labels)
    except Exception as exc:  # a bug in a rule must not stop the worker for every case
        log.warning("monitoring failed for case %s: %r", loaded.case_id, exc)
        return None, (f"monitoring could not assess this case ({type(exc).__name__}); the "
                      "data are shown unassessed")


def assess_all(loaded: Mapping[int, LoadedCase], policy: Policy, catalog: Catalog,
               expected: Any = None) -> dict[int, tuple[Any, str]]:
    """:func:`assess` for many cases, monitoring them on one panel: the rules are
    vectorised over the cases of a panel, so ten cases cost little more than one (the alert
    worker's step assesses every case it claimed at once). Should the panel fail, each case
    is assessed alone, so one case's failure hides no other's report."""
    from alliance.monitoring import monitor_cases

    ready = [c for c in loaded.values() if c.case is not None]
    reports: dict[int, Any] = {}
    if len(ready) > 1:
        try:
            reports = dict(zip([c.case_id for c in ready],
                               monitor_cases([c.case for c in ready], policy, catalog),
                               strict=True))
        except Exception as exc:  # assess() below then reports per case
            log.warning("monitoring %d cases together failed (%r); one by one", len(ready),
                        exc)
            reports = {}
    return {cid: assess(c, policy, catalog, expected, report=reports.get(cid))
            for cid, c in loaded.items()}


def report_dict(report: Any) -> dict[str, Any]:
    data: dict[str, Any] = report.to_dict()
    report = getattr(report, "report", report)       # a Progress wraps its CaseReport
    if report.alert is not None:
        data["alert"]["id"] = report.alert.id
        data["alert"]["latest_session"] = report.alert.latest_session
    return data


_MEMBER_REF = re.compile(r"\bm(\d+)\b")


def humanise(value: Any, names: dict[str, str]) -> Any:
    """Replace monitoring's member ids (``m17``) with the members' labels in every string."""
    if isinstance(value, str):
        return _MEMBER_REF.sub(lambda m: names.get(m.group(0), m.group(0)), value)
    if isinstance(value, list):
        return [humanise(v, names) for v in value]
    if isinstance(value, dict):
        return {k: v if k == "id" else humanise(v, names) for k, v in value.items()}
    return value


# -- the alert worker's step -------------------------------------------------------------

Flip = tuple[str, dict[str, Any]]


def flips(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Flip]:
    """The changes between two stored alerts: ``opened``, ``escalated``, ``cleared``."""
    out: list[Flip] = []
    if before and (not after or after.get("id") != before.get("id")):
        out.append(("cleared", before))
    if after and (not before or after.get("id") != before.get("id")):
        out.append(("opened", after))
    elif after and before and severity_rank(after.get("severity")) > \
            severity_rank(before.get("severity")):
        out.append(("escalated", after))
    return out


def basis_of(policy: Policy, catalog: Catalog, expected: Any = None) -> str:
    """A digest of what a report depends on besides the case's rows: the policy, the
    instruments and the expected-response curves (a clinic that changes any gets every case
    re-assessed)."""
    import hashlib

    parts = [repr(policy)] + [f"{i.id}:{i.version}:{i.has_text}" for i in catalog.values()]
    if expected:
        parts += [f"{k}:{v!r}" for k, v in sorted(expected.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def assess_due(db: Any, *, catalog: Catalog, policy: Policy, now: dt.datetime,
               lease: dt.timedelta, owner: str, limit: int = 50,
               basis: str | None = None, expected: Any = None,
               spacing: dt.timedelta = dt.timedelta(0)) -> int:
    """Re-assess up to ``limit`` changed cases; returns how many were assessed (``expected``:
    the clinic's expected-response curves, to track outcomes).

    With ``spacing``, a case assessed less than ``spacing`` ago waits until then, so a burst
    of changes (the answers of a busy case under load) costs one assessment, not one each;
    its version stays ahead, so it is still due (and shown as pending) meanwhile, and a crash
    loses nothing. A change of basis (policy, catalogue) does not wait."""
    basis = basis if basis is not None else basis_of(policy, catalog, expected)
    with db.write() as s:
        changed = CaseMonitor.version > CaseMonitor.assessed_version
        if spacing > dt.timedelta(0):
            changed &= (CaseMonitor.assessed_at.is_(None)
                        | (CaseMonitor.assessed_at <= now - spacing))
        query = (select(CaseMonitor).where(
            changed | (CaseMonitor.basis != basis),
            (CaseMonitor.lease_until.is_(None)) | (CaseMonitor.lease_until < now))
            .order_by(CaseMonitor.case_id).limit(limit))
        if not db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        claimed = {row.case_id: row.version for row in s.scalars(query)}
        if not claimed:
            return 0
        s.execute(update(CaseMonitor).where(CaseMonitor.case_id.in_(list(claimed)))
                  .values(lease_until=now + lease, lease_owner=owner[:80])
                  .execution_options(synchronize_session=False))
    with db.read() as s:
        loaded = load_cases(s, list(claimed), catalog)
    assessed = assess_all({cid: loaded[cid] for cid in claimed if cid in loaded}, policy,
                          catalog, expected)
    results = {cid: assessed.get(cid, (None, "")) for cid in claimed}
    with db.write() as s:
        query = select(CaseMonitor).where(CaseMonitor.case_id.in_(list(claimed)),
                                          CaseMonitor.lease_owner == owner[:80])
        if not db.is_sqlite:
            query = query.with_for_update()
        for row in s.scalars(query):
            report, error = results[row.case_id]
            data = report_dict(report) if report is not None else None
            before = (row.report or {}).get("alert")
            after = (data or {}).get("alert") if data is not None or not error else before
            row.assessments = (row.assessments or 0) + 1
            for change, alert in flips(before, after):
                s.add(AlertFlip(case_id=row.case_id, alert_id=str(alert.get("id")),
                                change=change, severity=str(alert.get("severity") or ""),
                                headline=str(alert.get("headline") or ""),
                                assessment=row.assessments, at=now))
            row.report = data if data is not None else row.report
            row.error = error
            row.assessed_version = claimed[row.case_id]
            row.basis = basis
            row.assessed_at = now
            row.lease_until, row.lease_owner = None, ""
    return len(claimed)


# -- what pages read ---------------------------------------------------------------------

@dataclass(frozen=True)
class MonitorView:
    """What monitoring says about one case, plus what people did about its alert."""

    case_id: int
    report: dict[str, Any] | None = None
    alert: dict[str, Any] | None = None
    alert_id: str | None = None
    status: str | None = None
    history: Sequence[AlertEvent] = field(default_factory=tuple)
    flips: Sequence[AlertFlip] = field(default_factory=tuple)
    error: str = ""
    pending: bool = False
    available: bool = True

    @property
    def rank(self) -> int:
        """Sort key for the caseload: open alerts first, by severity."""
        if self.alert is None:
            return 0
        base = severity_rank(str(self.alert.get("severity")))
        return base * 10 + {"open": 2, "acknowledged": 1}.get(self.status or "", 0)


def case_monitors(db: DbSession, cases: Sequence[Case]) -> dict[int, MonitorView]:
    """The stored monitoring state of ``cases`` (already scoped to the actor)."""
    ids = [c.id for c in cases]
    if not ids:
        return {}
    states = {r.case_id: r for r in db.scalars(select(CaseMonitor)
                                               .where(CaseMonitor.case_id.in_(ids)))}
    labels: dict[int, dict[str, str]] = defaultdict(dict)
    for m in db.scalars(select(Member).where(Member.case_id.in_(ids))):
        labels[m.case_id][member_ref(m.id)] = m.label
    histories: dict[int, list[AlertEvent]] = defaultdict(list)
    for ev in db.scalars(select(AlertEvent).where(AlertEvent.case_id.in_(ids))
                         .order_by(AlertEvent.id)):
        histories[ev.case_id].append(ev)
    flipped: dict[int, list[AlertFlip]] = defaultdict(list)
    for fl in db.scalars(select(AlertFlip).where(AlertFlip.case_id.in_(ids))
                         .order_by(AlertFlip.id)):
        flipped[fl.case_id].append(fl)
    out = {}
    for cid in ids:
        state = states.get(cid)
        report = humanise(state.report, labels[cid]) if state and state.report else None
        alert = (report or {}).get("alert")
        alert_id = str(alert["id"]) if alert else None
        own = [e for e in histories[cid] if e.alert_id == alert_id]
        out[cid] = MonitorView(
            cid, report, alert, alert_id,
            alerts.status(own, alert.get("latest_session")) if alert else None,
            histories[cid], flipped[cid], state.error if state else "",
            pending=state is None or state.version > state.assessed_version)
    return out


def act_on_alert(db: DbSession, actor: Any, case_id: int, alert_id: str, action: str, *,
                 note: str = "") -> AlertEvent:
    """A clinician acknowledges, resolves or reopens the case's current (or an earlier)
    alert, as the worker last stored it."""
    from alliance.errors import StoreError
    from alliance.store.actors import get_case

    case = get_case(db, actor, case_id, write=True)
    view = case_monitors(db, [case])[case.id]
    known = {view.alert_id} | {e.alert_id for e in view.history} | \
        {f.alert_id for f in view.flips}
    if alert_id not in known:
        raise StoreError("this alert is no longer current; reload the page")
    alert = view.alert if alert_id == view.alert_id else {}
    return alerts.transition(db, actor, case_id, alert_id, action, note=note,
                             severity=str((alert or {}).get("severity") or ""),
                             headline=str((alert or {}).get("headline") or ""),
                             latest_session=(alert or {}).get("latest_session"))
