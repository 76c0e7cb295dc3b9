"""Loading a case file (the monitoring input format, ``docs/case-file.md``) into the database.

Used by ``alliance demo`` to seed the demo clinic and by the benchmarks; the reverse
direction (rows → typed cases) is :mod:`alliance.store.monitoring`. Member ids of the file
(``m1``…) become member rows labelled by ``member_labels`` or the id; ratings are scored
with the instrument's own rules before they are stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session as DbSession

from alliance.errors import CaseFileError
from alliance.instruments import get_instrument, score_response
from alliance.store import audit, changes
from alliance.store.actors import Actor
from alliance.store.models import Case, Consent, Measure, Member, Response, Session


def import_case(db: DbSession, actor: Actor, entry: Mapping[str, Any], *, label: str,
                member_labels: Mapping[str, str] | None = None,
                consent_transcripts: bool = True) -> Case:
    """Create one case with its members, sessions and scored ratings; returns the case."""
    if actor.role != "clinician":
        raise CaseFileError("cases are imported into a clinician's caseload")
    context = entry.get("context") or {}
    case = Case(label=label, clinician_id=actor.id, modality=entry.get("modality", "individual"),
                cultural_notes=context.get("cultural_notes", ""),
                normative_cues=list(context.get("normative_cues") or []))
    db.add(case)
    db.flush()
    names = member_labels or {}
    members: dict[str, Member] = {}
    for m in entry.get("members") or [{"id": "m1", "role": "client"}]:
        members[m["id"]] = Member(case_id=case.id, label=names.get(m["id"], m["id"]))
    db.add_all(members.values())
    db.add_all([Consent(case_id=case.id, kind="measures", granted=True, recorded_by=actor.id),
                Consent(case_id=case.id, kind="transcripts", granted=consent_transcripts,
                        recorded_by=actor.id)])
    db.flush()
    measures: set[tuple[str, str]] = set()
    for raw in entry.get("sessions") or []:
        session = Session(case_id=case.id, number=int(raw["number"]),
                          date=dt.date.fromisoformat(raw["date"]),
                          attendance=raw.get("attendance", "attended"),
                          minutes_late=int(raw.get("minutes_late", 0)),
                          homework=raw.get("homework", "none"))
        db.add(session)
        db.flush()
        for rating in raw.get("ratings") or []:
            inst = get_instrument(rating["instrument"])
            rater_id = rating["rater"]
            if rater_id not in members and rater_id != "therapist":
                raise CaseFileError(f"{label}: session {session.number}: unknown rater "
                                    f"{rater_id!r}")
            rater = "therapist" if rater_id == "therapist" else "client"
            score = score_response(inst, rating["items"])
            measures.add((inst.id, rater))
            db.add(Response(case_id=case.id, session_id=session.id,
                            member_id=members[rater_id].id if rater != "therapist" else None,
                            rater=rater, instrument_id=inst.id, answers=dict(rating["items"]),
                            scores={n: {"raw": s.raw, "pom": s.pom, "status": s.status}
                                    for n, s in score.scores.items()},
                            total=score.total.raw, source="paper", entered_by=actor.id,
                            created_at=dt.datetime.combine(session.date, dt.time(18),
                                                           tzinfo=dt.UTC)))
    for instrument_id, rater in sorted(measures):
        db.add(Measure(case_id=case.id, instrument_id=instrument_id, rater=rater, every=1))
    audit.record(db, actor, "case.create", case_id=case.id, detail={"import": True})
    changes.touch(db, case.id)
    return case
