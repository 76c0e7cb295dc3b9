"""One client's record as a file: ``alliance export-client`` / ``alliance import-client``.

The client file (``"format": "alliance-client/1"``) is the right-of-access record of
:func:`alliance.store.exports.case_record` made portable: no database ids (members are
named by label, sessions by number, a voided response by its place in ``responses``),
plus what a faithful copy needs (each member's rater role, each response's total, every
field of the alert history). Written as canonical JSON (sorted keys), so exporting,
importing into another database (or after deleting the case) and exporting again gives
the same bytes.

Imported into the importing clinician's caseload, in one transaction, with the original
times (case opened, consents recorded, answers given, voids, alert actions). Answers are
scored again with the clinic's instrument rules. Not carried: transcripts, risk signals,
survey links and their delivery (links are one-time and belong to the old record), and
the monitoring state (recomputed by the worker).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from alliance.errors import AllianceError, InputFileError, StoreError
from alliance.store import audit, cases, changes, exports, surveys
from alliance.store.actors import Actor
from alliance.store.models import (
    AlertEvent,
    Case,
    Consent,
    Measure,
    Member,
    Response,
    Session,
    Void,
)

if TYPE_CHECKING:
    from alliance.instruments import Catalog

FORMAT = "alliance-client/1"


def export_client(db: DbSession, actor: Actor, case_id: int) -> dict[str, Any]:
    """The client file of one case (the actor's own, as for the right-of-access export)."""
    record = exports.case_record(db, actor, case_id)
    rows = surveys.responses(db, case_id)
    number = {s.id: s.number for s in cases.sessions(db, case_id)}
    order = sorted(range(len(rows)), key=lambda i: (number[rows[i].session_id], rows[i].id))
    place = {rows[i].id: k for k, i in enumerate(order)}
    responses = [{**record["responses"][i], "total": rows[i].total,
                  "created_at": _utc(record["responses"][i]["created_at"])} for i in order]
    case = {**{k: v for k, v in record["case"].items() if k != "id"},
            "created_at": _utc(record["case"]["created_at"]),
            "archived_at": _utc(record["case"]["archived_at"])}
    events = db.scalars(select(AlertEvent).where(AlertEvent.case_id == case_id)
                        .order_by(AlertEvent.id)).all()
    return {
        "format": FORMAT,
        "case": case,
        "members": [{"label": m.label, "rater": m.rater} for m in cases.members(db, case_id)],
        "consents": [{**c, "recorded_at": _utc(c["recorded_at"])} for c in record["consents"]],
        "measures": record["measures"],
        "sessions": record["sessions"],
        "responses": responses,
        "voids": [{**v, "response": place[v["response"]] if v["response"] else None,
                   "at": _utc(v["at"])} for v in record["voids"]],
        "alert_history": [{"alert": e.alert_id, "action": e.action, "status": e.status,
                           "evidence_session": e.evidence_session, "severity": e.severity,
                           "headline": e.headline, "note": e.note, "at": _utc(e.at.isoformat()),
                           "by": "monitor" if e.actor_id is None else "clinician"}
                          for e in events],
    }


def _utc(stamp: str | None) -> str | None:
    """An instant as ISO text with its UTC offset (SQLite hands times back without one)."""
    if stamp is None:
        return None
    t = dt.datetime.fromisoformat(stamp)
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()


def dumps(client: Mapping[str, Any]) -> str:
    """The canonical text of a client file."""
    return json.dumps(client, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def loads(text: str, where: str = "client file") -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputFileError(f"{where}: not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputFileError(f"{where}: not an alliance client file (\"format\" must be "
                             f"{FORMAT!r})")
    return data


def _when(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value))


def import_client(db: DbSession, actor: Actor, client: Mapping[str, Any],
                  catalog: Catalog | None = None) -> Case:
    """Recreate the client file's case in ``actor``'s caseload (the caller's transaction:
    all or nothing). A malformed file is an :class:`InputFileError`; a label already in
    the caseload is refused."""
    if not actor.writes_cases:
        raise StoreError("only clinicians import a client's record")
    try:
        return _import(db, actor, client, catalog)
    except AllianceError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise InputFileError(f"not a valid alliance client file: {type(exc).__name__} "
                             f"{exc}"[:300]) from None


def _import(db: DbSession, actor: Actor, client: Mapping[str, Any],
            catalog: Catalog | None) -> Case:
    head = client["case"]
    label = str(head["label"]).strip()
    mine = {c.label for archived in (False, True)
            for c in cases.list_cases(db, actor, archived=archived)}
    if label in mine:
        raise StoreError(f"a case labelled {label!r} is already in your caseload")
    cases.CaseDraft(label=label, modality=head["modality"],
                    members=[m["label"] for m in client["members"]],
                    normative_cues=list(head["normative_cues"]),
                    measures=[(m["instrument"], m["rater"], int(m["every"]))
                              for m in client["measures"]]).check(catalog)
    case = Case(label=label, clinician_id=actor.id, modality=head["modality"],
                cultural_notes=str(head["cultural_notes"]),
                normative_cues=list(head["normative_cues"]),
                created_at=_when(head["created_at"]),
                archived_at=_when(head["archived_at"]) if head["archived_at"] else None)
    db.add(case)
    db.flush()
    members = {}
    for m in client["members"]:
        members[m["label"]] = Member(case_id=case.id, label=str(m["label"]),
                                     rater=str(m["rater"]))
    db.add_all(members.values())
    for c in client["consents"]:
        db.add(Consent(case_id=case.id, kind=str(c["kind"]), granted=bool(c["granted"]),
                       recorded_at=_when(c["recorded_at"]), recorded_by=actor.id))
    for m in client["measures"]:
        db.add(Measure(case_id=case.id, instrument_id=str(m["instrument"]),
                       rater=str(m["rater"]), every=int(m["every"])))
    sessions = {}
    for s in sorted(client["sessions"], key=lambda s: int(s["number"])):
        sessions[int(s["number"])] = Session(
            case_id=case.id, number=int(s["number"]), date=dt.date.fromisoformat(s["date"]),
            attendance=str(s["attendance"]), minutes_late=int(s["minutes_late"]),
            homework=str(s["homework"]))
    db.add_all(sessions.values())
    db.flush()
    responses = []
    for r in client["responses"]:
        clean, scores, total = surveys.score_answers(str(r["instrument"]), r["answers"],
                                                      catalog)
        member = members[r["member"]].id if r["member"] is not None else None
        row = Response(case_id=case.id, session_id=sessions[int(r["session"])].id,
                       member_id=member, rater=str(r["rater"]),
                       instrument_id=str(r["instrument"]), answers=clean, scores=scores,
                       total=total, source=str(r["source"]),
                       entered_by=None if r["source"] == "link" else actor.id,
                       created_at=_when(r["created_at"]))
        db.add(row)
        db.flush()   # ids in file order: which answer supersedes which is kept
        responses.append(row)
    for v in client["voids"]:
        db.add(Void(case_id=case.id, reason=str(v["reason"]), actor_id=actor.id,
                    at=_when(v["at"]),
                    response_id=responses[int(v["response"])].id
                    if v["response"] is not None else None,
                    session_id=sessions[int(v["session"])].id
                    if v["session"] is not None else None))
        db.flush()
    for e in client["alert_history"]:
        db.add(AlertEvent(case_id=case.id, alert_id=str(e["alert"]), action=str(e["action"]),
                          status=str(e["status"]), evidence_session=e["evidence_session"],
                          severity=str(e["severity"]), headline=str(e["headline"]),
                          note=str(e["note"]), at=_when(e["at"]),
                          actor_id=None if e["by"] == "monitor" else actor.id))
        db.flush()
    audit.record(db, actor, "import.cases", case_id=case.id,
                 detail={"client_file": True, "sessions": len(sessions),
                         "responses": len(responses)})
    changes.touch(db, case.id)
    return case
