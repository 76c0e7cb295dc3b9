"""Exports: everything about one case (right of access) and the de-identified research table.

The research table keeps no labels, names, notes, free text, dates or database ids: cases
get a random code drawn afresh for every export (so two exports cannot be linked), dates
become days since the case's first session, and members become ``member 1, 2, …``. It is
refused while the clinic has fewer than :data:`MIN_CASES` cases, since tiny tables are
easy to re-identify.
"""

from __future__ import annotations

import random
import secrets
from collections import defaultdict
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from alliance.errors import StoreError
from alliance.store import cases, surveys
from alliance.store.actors import Actor, get_case, require_role
from alliance.store.models import AlertEvent, Case, Member, Response, Session

MIN_CASES = 5


def case_record(db: DbSession, actor: Actor, case_id: int) -> dict[str, Any]:
    """Every stored fact about a case, as JSON-ready data (transcript text excluded)."""
    case = get_case(db, actor, case_id, write=True)
    members = cases.members(db, case_id)
    label = {m.id: m.label for m in members}
    number = {s.id: s.number for s in cases.sessions(db, case_id)}
    state = surveys.response_states(db, case_id)
    return {
        "case": {"id": case.id, "label": case.label, "modality": case.modality,
                 "cultural_notes": case.cultural_notes,
                 "normative_cues": list(case.normative_cues or []),
                 "created_at": case.created_at.isoformat(),
                 "archived_at": case.archived_at.isoformat() if case.archived_at else None},
        "members": [{"id": m.id, "label": m.label} for m in members],
        "consents": [{"kind": c.kind, "granted": c.granted,
                      "recorded_at": c.recorded_at.isoformat()}
                     for c in cases.consent_history(db, case_id)],
        "measures": [{"instrument": m.instrument_id, "rater": m.rater, "every": m.every}
                     for m in cases.measures(db, case_id)],
        "sessions": [{"number": s.number, "date": s.date.isoformat(),
                      "attendance": s.attendance, "minutes_late": s.minutes_late,
                      "homework": s.homework} for s in cases.sessions(db, case_id)],
        "responses": [{"session": number[r.session_id], "instrument": r.instrument_id,
                       "rater": r.rater, "member": label.get(r.member_id or -1),
                       "answers": r.answers, "scores": r.scores, "source": r.source,
                       "created_at": r.created_at.isoformat(),
                       "state": state.get(r.id, "current")}
                      for r in surveys.responses(db, case_id)],
        "voids": [{"session": number.get(v.session_id) if v.session_id else None,
                   "response": v.response_id, "reason": v.reason, "at": v.at.isoformat()}
                  for v in surveys.voids(db, case_id)],
        "alert_history": [{"alert": e.alert_id, "action": e.action, "note": e.note,
                           "at": e.at.isoformat()}
                          for e in db.scalars(select(AlertEvent).where(
                              AlertEvent.case_id == case_id).order_by(AlertEvent.id))],
    }


def case_table(db: DbSession, actor: Actor, case_id: int) -> pd.DataFrame:
    """One row per response with its scores and session facts (the CSV export)."""
    record = case_record(db, actor, case_id)
    sessions = {s["number"]: s for s in record["sessions"]}
    rows = []
    for r in record["responses"]:
        s = sessions[r["session"]]
        row: dict[str, Any] = {"case": record["case"]["label"], "session": r["session"],
                               "date": s["date"], "attendance": s["attendance"],
                               "homework": s["homework"], "instrument": r["instrument"],
                               "rater": r["rater"], "member": r["member"],
                               "source": r["source"], "state": r["state"]}
        row.update({f"item_{k}": v for k, v in r["answers"].items()})
        row.update({f"{k}_raw": v.get("raw") for k, v in r["scores"].items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["case", "session", "date"])


RESEARCH_COLUMNS = ["case_code", "modality", "member", "rater", "session", "day",
                    "attendance", "homework", "instrument", "total", "bond", "goal", "task"]


def research_counts(db: DbSession, actor: Actor) -> dict[str, int]:
    require_role(actor, "researcher")
    return {"cases": len(db.scalars(select(Case.id)).all()),
            "responses": len(db.scalars(select(Response.id)).all())}


def research_table(db: DbSession, actor: Actor, *,
                   rng: random.Random | None = None) -> pd.DataFrame:
    """The clinic-wide de-identified table: one row per response that counts (voided and
    superseded answers, and the answers of voided sessions, are left out)."""
    require_role(actor, "researcher")
    rng = rng or random.Random(secrets.randbits(64))
    case_rows = db.execute(select(Case.id, Case.modality)).all()
    if len(case_rows) < MIN_CASES:
        raise StoreError(f"the clinic has fewer than {MIN_CASES} cases; a de-identified export "
                         "this small could identify clients")
    ids = [c.id for c in case_rows]
    rng.shuffle(ids)
    code = {cid: f"C{i + 1:04d}" for i, cid in enumerate(ids)}
    modality = dict(case_rows)
    voided = surveys.voided_sessions(db, ids)
    sessions = {s.id: s for s in db.scalars(select(Session)) if s.id not in voided}
    first: dict[int, Any] = {}
    for s in sessions.values():
        if s.case_id not in first or s.date < first[s.case_id]:
            first[s.case_id] = s.date
    member_no: dict[int, int] = {}
    per_case: dict[int, int] = defaultdict(int)
    for m in db.scalars(select(Member).order_by(Member.id)):
        per_case[m.case_id] += 1
        member_no[m.id] = per_case[m.case_id]
    rows = []
    counted = surveys.current_responses(db, ids)
    for r in sorted((r for rs in counted.values() for r in rs), key=lambda r: r.id):
        s = sessions[r.session_id]
        rows.append({
            "case_code": code[r.case_id], "modality": modality[r.case_id],
            "member": member_no.get(r.member_id) if r.member_id else None,
            "rater": r.rater, "session": s.number, "day": (s.date - first[r.case_id]).days,
            "attendance": s.attendance, "homework": s.homework,
            "instrument": r.instrument_id, "total": r.total,
            **{k: (r.scores.get(k) or {}).get("raw") for k in ("bond", "goal", "task")}})
    table = pd.DataFrame(rows, columns=RESEARCH_COLUMNS)
    table = table.sort_values(["case_code", "session", "rater", "member"],
                              na_position="first", kind="stable").reset_index(drop=True)
    table["member"] = table["member"].astype("Int64")
    return table
