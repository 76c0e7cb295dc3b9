"""Bulk import of cases, sessions and responses for one clinician (issue 12, item 6).

``alliance import FILE --clinician EMAIL`` reads a CSV, TSV, Excel or Parquet table (one row
per response) or a case-file JSON (``docs/case-file.md``), **validates every row before
writing anything**, and writes everything in **one transaction** (all or nothing). A file
with problems raises :class:`~alliance.errors.ImportRefused` listing every problem as
(where, field, why); nothing is written.

Table columns: ``case`` (the case label), ``session`` (its number), ``date``
(``YYYY-MM-DD``), ``instrument``, ``rater`` (``client``, ``therapist`` or
``family_member``); optional ``member`` (the member's label; default ``Client``; empty for
the therapist), ``attendance``, ``minutes_late``, ``homework``, ``modality``; every other
column is an item id (empty cells are unanswered).

**Idempotent**: natural keys are the case label (within the clinician's cases), the session
number, the rater (and member) and the instrument. An existing case, session or identical
answer is reused, never duplicated; a *different* answer for the same key is stored and
supersedes the earlier one (the rule of the paper form). New cases are opened with consent
to measures recorded by the importing clinician (the import states it); an existing case
without that consent is a problem. Answers are stored through
:func:`alliance.store.surveys.enter_paper` (source ``import``): same scoring and checks.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session as DbSession

from alliance.errors import AllianceError, ImportRefused, InstrumentError, ScoringError
from alliance.instruments import Catalog
from alliance.instruments.scoring import check_value
from alliance.store import audit, cases, changes, surveys
from alliance.store.actors import Actor
from alliance.store.models import (
    ATTENDANCE,
    HOMEWORK,
    MAX_MINUTES_LATE,
    MODALITIES,
    RATERS,
    Case,
    Response,
    Session,
)

FIXED = ("case", "session", "date", "instrument", "rater", "member", "attendance",
         "minutes_late", "homework", "modality")
REQUIRED = ("case", "session", "date", "instrument", "rater")
Problem = tuple[str, str, str]


@dataclass(frozen=True)
class Row:
    """One response to import, with where it came from (``row 3``, ``cases[0]…``)."""

    where: str
    case: str
    session: int
    date: dt.date
    instrument: str
    rater: str
    member: str | None
    answers: dict[str, float | None]
    attendance: str = "attended"
    minutes_late: int = 0
    homework: str = "none"
    modality: str | None = None


@dataclass
class ImportReport:
    cases_created: int = 0
    cases_reused: int = 0
    sessions_created: int = 0
    responses_created: int = 0
    responses_unchanged: int = 0
    superseding: int = 0
    rows: int = 0
    created_case_ids: list[int] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"rows read:            {self.rows}",
                f"cases created:        {self.cases_created} (existing reused: "
                f"{self.cases_reused})",
                f"sessions created:     {self.sessions_created}",
                f"responses created:    {self.responses_created} (superseding an earlier "
                f"answer: {self.superseding})",
                f"responses unchanged:  {self.responses_unchanged} (already imported)"]


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or \
        (isinstance(v, str) and not v.strip())


def _text(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def rows_from_table(table: Any, catalog: Catalog) -> tuple[list[Row], list[Problem]]:
    """Rows of a response table (pandas DataFrame), and every problem found reading them."""
    problems: list[Problem] = []
    columns = [str(c).strip() for c in table.columns]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        return [], [("header", c, "required column is missing") for c in missing]
    items = [c for c in columns if c not in FIXED]
    out: list[Row] = []
    for i, raw in enumerate(table.to_dict("records")):
        rec = {str(k).strip(): v for k, v in raw.items()}
        where = f"row {i + 2}"  # the header is line 1 of a CSV
        before = len(problems)

        def bad(col: str, why: str, _where: str = where) -> None:
            problems.append((_where, col, why))

        for col in REQUIRED:
            if _blank(rec.get(col)):
                bad(col, "is empty")
        if len(problems) > before:
            continue
        label = _text(rec["case"])
        if len(label) > 120:
            bad("case", "is longer than 120 characters")
        try:
            number = int(float(_text(rec["session"])))
            if number < 1 or float(_text(rec["session"])) != number:
                raise ValueError
        except ValueError:
            bad("session", f"{rec['session']!r} is not a session number (1, 2, …)")
            number = 0
        try:
            date = dt.date.fromisoformat(_text(rec["date"])[:10])
        except ValueError:
            bad("date", f"{rec['date']!r} is not a date (YYYY-MM-DD)")
            date = dt.date.min
        attendance = "attended" if _blank(rec.get("attendance")) else _text(rec["attendance"])
        if attendance not in ATTENDANCE:
            bad("attendance", f"{attendance!r} is not one of {', '.join(ATTENDANCE)}")
        homework = "none" if _blank(rec.get("homework")) else _text(rec["homework"])
        if homework not in HOMEWORK:
            bad("homework", f"{homework!r} is not one of {', '.join(HOMEWORK)}")
        late = 0
        if not _blank(rec.get("minutes_late")):
            try:
                late = int(float(_text(rec["minutes_late"])))
                if not 0 <= late <= MAX_MINUTES_LATE:
                    raise ValueError
            except ValueError:
                bad("minutes_late", f"must be a whole number from 0 to {MAX_MINUTES_LATE}")
        modality = None if _blank(rec.get("modality")) else _text(rec["modality"])
        if modality is not None and modality not in MODALITIES:
            bad("modality", f"{modality!r} is not one of {', '.join(MODALITIES)}")
        rater = _text(rec["rater"])
        member = None if _blank(rec.get("member")) else _text(rec["member"])
        if rater not in RATERS:
            bad("rater", f"{rater!r} is not one of {', '.join(RATERS)}")
        elif rater == "therapist" and member is not None:
            bad("member", "the therapist's own rating names no member")
        elif rater != "therapist" and member is None:
            member = "Client"
        answers = {c: rec[c] for c in items if not _blank(rec.get(c))}
        answers_clean = _check_answers(where, _text(rec["instrument"]), rater, answers,
                                       catalog, problems)
        if len(problems) == before and answers_clean is not None:
            out.append(Row(where, label, number, date, _text(rec["instrument"]), rater, member,
                           answers_clean, attendance, late if attendance == "late" else 0,
                           homework, modality))
    return out, problems


def _check_answers(where: str, instrument_id: str, rater: str, answers: dict[str, Any],
                   catalog: Catalog, problems: list[Problem]) -> dict[str, float | None] | None:
    try:
        inst = catalog[instrument_id]
    except InstrumentError as exc:
        problems.append((where, "instrument", str(exc)))
        return None
    if rater in RATERS and rater not in inst.rater_types:
        problems.append((where, "rater", f"{inst.id} has no {rater!r} version; it has "
                                         f"{', '.join(inst.rater_types)}"))
    clean: dict[str, float | None] = {}
    for key in answers:
        if key not in inst.item_ids:
            problems.append((where, key, f"{inst.id} has no item {key!r}"))
    by_id = {i.id: i for i in inst.items}
    for item_id in inst.item_ids:
        try:
            clean[item_id] = check_value(by_id[item_id], answers.get(item_id))
        except ScoringError as exc:
            problems.append((where, item_id, str(exc)))
    if all(v is None for v in clean.values()):
        problems.append((where, "answers", f"no item of {inst.id} is answered"))
        return None
    return clean


def rows_from_case_file(path: str | Path, catalog: Catalog) -> tuple[list[Row], list[Problem]]:
    """Rows of a case-file JSON; the case-file schema refuses a malformed file as a whole."""
    from alliance.interop.casefiles import load_case_file

    rows: list[Row] = []
    problems: list[Problem] = []
    for c in load_case_file(path):
        roles = {m.id: m.role for m in c.members}
        for s in c.sessions:
            if not s.ratings:
                continue
            try:
                date = dt.date.fromisoformat(s.date or "")
            except ValueError:
                problems.append((f"case {c.id} session {s.number}", "date",
                                 "a session with ratings needs a real date (YYYY-MM-DD)"))
                continue
            for k, r in enumerate(s.ratings):
                where = f"case {c.id} session {s.number} rating {k + 1}"
                rater = "therapist" if r.rater == "therapist" else roles.get(r.rater, "client")
                member = None if rater == "therapist" else r.rater
                clean = _check_answers(where, r.instrument, rater, dict(r.items), catalog,
                                       problems)
                if clean is not None:
                    rows.append(Row(where, c.id, s.number, date, r.instrument, rater, member,
                                    clean, s.attendance, s.minutes_late, s.homework,
                                    c.modality))
    return rows, problems


def read_rows(path: str | Path, catalog: Catalog) -> tuple[list[Row], list[Problem]]:
    """The rows of an import file by its suffix (``.json``: a case file; else a table)."""
    from alliance.interop.tables import read_table

    if Path(path).suffix.lower() == ".json":
        return rows_from_case_file(path, catalog)
    return rows_from_table(read_table(path, text_columns=None), catalog)


@dataclass
class _Plan:
    label: str
    existing: Case | None
    modality: str | None = None
    members: list[str] = field(default_factory=list)
    sessions: dict[int, Row] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)


def _plan(db: DbSession, actor: Actor, rows: Sequence[Row], catalog: Catalog
          ) -> tuple[dict[str, _Plan], list[Problem]]:
    problems: list[Problem] = []
    mine = {c.label: c for archived in (False, True)
            for c in cases.list_cases(db, actor, archived=archived)}
    plans: dict[str, _Plan] = {}
    for row in rows:
        plan = plans.setdefault(row.case, _Plan(row.case, mine.get(row.case)))
        plan.rows.append(row)
        if row.modality:
            if plan.modality and plan.modality != row.modality:
                problems.append((row.where, "modality", f"case {row.case!r} was given as "
                                 f"{plan.modality} on an earlier row"))
            plan.modality = row.modality
        if row.member is not None and row.member not in plan.members:
            plan.members.append(row.member)
        first = plan.sessions.setdefault(row.session, row)
        if (first.date, first.attendance) != (row.date, row.attendance):
            problems.append((row.where, "date", f"session {row.session} of case {row.case!r} "
                             f"has date {first.date} and attendance {first.attendance} on "
                             f"{first.where}"))
    for plan in plans.values():
        where = plan.rows[0].where
        if plan.existing is None:
            modality = plan.modality or ("individual" if len(plan.members) <= 1 else "")
            if not modality:
                problems.append((where, "modality", f"case {plan.label!r} has "
                                 f"{len(plan.members)} members; give a modality column "
                                 "(couple, family or group)"))
                continue
            plan.modality = modality
            try:
                _draft(plan).check(catalog)
            except AllianceError as exc:
                problems.append((where, "case", f"case {plan.label!r}: {exc}"))
            continue
        case = plan.existing
        if plan.modality and plan.modality != case.modality:
            problems.append((where, "modality", f"case {plan.label!r} exists as "
                             f"{case.modality}"))
        if not cases.consents(db, case.id)["measures"]:
            problems.append((where, "case", f"case {plan.label!r} has no consent to "
                             "measures recorded"))
        labels = {m.label for m in cases.members(db, case.id)}
        for name in plan.members:
            if name not in labels:
                problems.append((where, "member", f"{name!r} is not a member of case "
                                 f"{plan.label!r} (members: {', '.join(sorted(labels))})"))
        stored = {s.number: s for s in cases.sessions(db, case.id)}
        for number, row in plan.sessions.items():
            s = stored.get(number)
            if s is not None and s.date != row.date:
                problems.append((row.where, "date", f"session {number} of case "
                                 f"{plan.label!r} is stored with date {s.date}"))
    return plans, problems


def _draft(plan: _Plan) -> cases.CaseDraft:
    measures = sorted({(r.instrument, r.rater, 1) for r in plan.rows})
    return cases.CaseDraft(label=plan.label, modality=plan.modality or "individual",
                           members=plan.members or ["Client"], consent_measures=True,
                           measures=measures)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    def norm(d: dict[str, Any]) -> dict[str, float]:
        return {k: float(v) for k, v in d.items() if v is not None}
    return norm(a) == norm(b)


def import_rows(db: DbSession, actor: Actor, rows: Sequence[Row], catalog: Catalog,
                problems: Sequence[Problem] = ()) -> ImportReport:
    """Check everything, then write everything, in the caller's transaction (the caller's
    ``db.write()`` commits once, or rolls back on any error)."""
    if actor.role != "clinician":
        raise ImportRefused(f"{actor.email} is a {actor.role}; only clinicians import "
                            "cases", [("--clinician", "role", "not a clinician")])
    plans, more = _plan(db, actor, rows, catalog)
    found = [*problems, *more]
    if found:
        raise ImportRefused(f"{len(found)} problem(s); nothing was imported", found)
    report = ImportReport(rows=len(rows))
    for plan in plans.values():
        if plan.existing is None:
            case = cases.create_case(db, actor, _draft(plan), catalog)
            report.cases_created += 1
            report.created_case_ids.append(case.id)
        else:
            case = plan.existing
            report.cases_reused += 1
        members = {m.label: m.id for m in cases.members(db, case.id)}
        sessions = {s.number: s for s in cases.sessions(db, case.id)}
        for number, row in sorted(plan.sessions.items()):
            if number not in sessions:
                s = Session(case_id=case.id, number=number, date=row.date,
                            attendance=row.attendance, minutes_late=row.minutes_late,
                            homework=row.homework)
                db.add(s)
                db.flush()
                sessions[number] = s
                report.sessions_created += 1
                audit.record(db, actor, "session.create", case_id=case.id,
                             detail={"session": number, "source": "import"})
        current = {(r.session_id, r.rater, r.member_id, r.instrument_id): r
                   for r in surveys.current_responses(db, [case.id]).get(case.id, [])}
        for row in plan.rows:
            session_id = sessions[row.session].id
            member_id = members.get(row.member) if row.member is not None else None
            key = (session_id, row.rater, member_id, row.instrument)
            earlier: Response | None = current.get(key)
            if earlier is not None and _same(earlier.answers, row.answers):
                report.responses_unchanged += 1
                continue
            new = surveys.enter_paper(db, actor, case.id, session_id,
                                      instrument_id=row.instrument, rater=row.rater,
                                      member_id=member_id, answers=row.answers,
                                      catalog=catalog, source="import")
            current[key] = new
            report.responses_created += 1
            report.superseding += earlier is not None
        changes.touch(db, case.id)
    audit.record(db, actor, "import.cases",
                 detail={k: v for k, v in vars(report).items() if k != "created_case_ids"})
    return report
