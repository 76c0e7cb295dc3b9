"""Stored practice: trainees' practice and exam sessions on training cases (issue 13).

Each session is one :class:`~alliance.store.models.Practice` row holding the core's
:class:`~alliance.training.PracticeRecord` as JSON, rewritten after every turn (practice) or
section (exam), so an unfinished session is kept and can be continued.

Who sees what (decided here, by :func:`practice_scope`, the way
:func:`~alliance.store.actors.case_scope` decides cases):

* a ``trainee`` reads and plays their own sessions;
* a ``supervisor`` reads (never plays) the sessions of the trainees assigned to them;
* nobody else sees any: another trainee's, an unassigned trainee's or a nonexistent
  session raises :class:`~alliance.errors.NotFound` (404), alike.

The record holds the trainee's own words and the scripted client's lines, never client data;
it is still scoped like case data and every read is audited (``practice.read``,
``practice.list``) by the pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from alliance.coding.coder import Coder
from alliance.errors import InputError, NotFound, PermissionDenied, TrainingError
from alliance.store import audit
from alliance.store.actors import Actor, require_role
from alliance.store.models import Practice, User, utcnow
from alliance.training import ExamSession, PracticeRecord, PracticeSession, load_casebook
from alliance.training.casebook import COMPETENCIES, Stage, TrainingCase
from alliance.training.session import ExamAnswer, PracticeTurn

MODES = ("practice", "exam")
Cases = Mapping[str, TrainingCase]


def practice_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause limiting ``practice_sessions`` to those ``actor`` may read."""
    if actor.role == "trainee":
        return Practice.trainee_id == actor.id
    if actor.role == "supervisor" and actor.supervisees:
        return Practice.trainee_id.in_(sorted(actor.supervisees))
    return false()


def get_practice(db: Session, actor: Actor, practice_id: int, *,
                 write: bool = False) -> Practice:
    """The session ``practice_id`` if ``actor`` may read it (and play it, with ``write``)."""
    row = db.scalars(select(Practice).where(Practice.id == practice_id,
                                            practice_scope(actor))).first()
    if row is None:
        raise NotFound(f"practice session {practice_id} not found")
    if write and not (actor.role == "trainee" and row.trainee_id == actor.id):
        raise PermissionDenied("you may review this practice session but not play it")
    return row


def _cases(cases: Cases | None) -> Cases:
    return cases if cases is not None else load_casebook()


def _save(row: Practice, record: PracticeRecord) -> None:
    now = utcnow()
    row.record = record.to_dict()
    row.competencies = dict(record.competencies)
    row.updated_at = now
    if record.complete and not row.complete:
        row.complete = True
        row.finished_at = now


def start(db: Session, actor: Actor, case_id: str, mode: str, *,
          cases: Cases | None = None) -> Practice:
    """Open a new practice (free responses) or exam session of ``case_id`` for a trainee."""
    require_role(actor, "trainee")
    if mode not in MODES:
        raise InputError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    case = _cases(cases)[case_id]  # an unknown case is a TrainingError (400)
    record = (PracticeSession(case).record() if mode == "practice"
              else ExamSession(case).record())
    row = Practice(trainee_id=actor.id, training_case=case.id, mode=mode, complete=False,
                   competencies={}, record=record.to_dict())
    db.add(row)
    db.flush()
    audit.record(db, actor, "practice.start", subject=case.id,
                 detail={"practice": row.id, "mode": mode})
    return row


def _record_of(row: Practice) -> PracticeRecord:
    return PracticeRecord.from_dict(row.record)


def respond(db: Session, actor: Actor, practice_id: int, response: str, *, coder: Coder,
            cases: Cases | None = None) -> PracticeTurn:
    """Score the trainee's ``response`` to the open stage, move the simulated client and
    store the new record. Empty or over-long responses are a :class:`TrainingError`."""
    row = get_practice(db, actor, practice_id, write=True)
    if row.mode != "practice":
        raise InputError("this is an exam: choose an answer for each item")
    case = _cases(cases)[row.training_case]
    session = PracticeSession.resume(case, _record_of(row), coder)
    if session.finished:
        raise TrainingError("this practice session is finished; start a new one")
    turn = session.respond(response)
    _save(row, session.record())
    audit.record(db, actor, "practice.respond", subject=case.id,
                 detail={"practice": row.id, "stage": turn.stage})
    return turn


def answer(db: Session, actor: Actor, practice_id: int, section: int,
           choices: Mapping[str, str], *, cases: Cases | None = None) -> list[ExamAnswer]:
    """Answer every item of exam section ``section`` at once; the section then locks.

    A section other than the open one (an earlier, locked one or a later one), an item that
    is not in it, a missing item or an answer other than A-D is refused and nothing is stored.
    """
    row = get_practice(db, actor, practice_id, write=True)
    if row.mode != "exam":
        raise InputError("this is a practice session: write a response")
    case = _cases(cases)[row.training_case]
    exam = ExamSession.resume(case, _record_of(row))
    if exam.finished:
        raise TrainingError("this exam is finished; start a new one")
    open_section = exam.section.number
    if section != open_section:
        state = "locked" if section < open_section else "not open yet"
        raise TrainingError(f"section {section} is {state}; section {open_section} is open")
    wanted = {i.id for i in exam.open_items}
    unknown = sorted(set(choices) - wanted)
    if unknown:
        raise TrainingError(f"item {unknown[0]!r} is not in section {section}")
    missing = [i.id for i in exam.open_items if i.id not in choices]
    if missing:
        raise InputError(f"answer every item of section {section} (missing: "
                         f"{', '.join(missing)})")
    given = [exam.answer(i.id, choices[i.id]) for i in exam.open_items.copy()]
    _save(row, exam.record())
    audit.record(db, actor, "practice.answer", subject=case.id,
                 detail={"practice": row.id, "section": section})
    return given


@dataclass(frozen=True)
class PracticeView:
    """Everything a page shows of one stored session."""

    id: int
    trainee: str
    case: TrainingCase
    mode: str
    record: PracticeRecord
    started_at: dt.datetime
    finished_at: dt.datetime | None
    can_play: bool
    stage: Stage | None = None  # practice: the stage to answer next
    exam: ExamSession | None = None

    @property
    def complete(self) -> bool:
        return self.record.complete


def view(db: Session, actor: Actor, practice_id: int, *,
         cases: Cases | None = None) -> PracticeView:
    """One session for its page (the caller audits the read)."""
    row = get_practice(db, actor, practice_id)
    case = _cases(cases)[row.training_case]
    record = _record_of(row)
    trainee = db.get(User, row.trainee_id)
    stage, exam = None, None
    if row.mode == "practice":
        session = PracticeSession.resume(case, record)
        stage = None if session.finished else session.stage
    else:
        exam = ExamSession.resume(case, record)
    return PracticeView(row.id, trainee.name if trainee else "", case, row.mode, record,
                        row.started_at, row.finished_at,
                        can_play=actor.id == row.trainee_id and not record.complete,
                        stage=stage, exam=exam)


@dataclass(frozen=True)
class Trainee:
    id: int
    name: str
    email: str


@dataclass
class Progress:
    """A trainee's sessions, newest first, and per competency the finished sessions' scores
    in time order (``(finished_at, score, practice id, mode)``)."""

    trainee: Trainee
    sessions: Sequence[Practice]
    series: dict[str, list[tuple[dt.datetime, float, int, str]]] = field(default_factory=dict)

    @property
    def latest(self) -> dict[str, float]:
        return {c: points[-1][1] for c, points in self.series.items() if points}


def trainees(db: Session, actor: Actor) -> list[Trainee]:
    """The trainees assigned to a supervisor (a trainee: themself), by name."""
    require_role(actor, "trainee", "supervisor")
    ids = [actor.id] if actor.role == "trainee" else sorted(actor.supervisees)
    rows = db.scalars(select(User).where(User.id.in_(ids), User.role == "trainee")
                      .order_by(User.name, User.email)).all()
    return [Trainee(u.id, u.name, u.email) for u in rows]


def progress(db: Session, actor: Actor, trainee_id: int | None = None) -> Progress:
    """The progress of ``trainee_id`` (default: the acting trainee): a trainee sees only
    their own, a supervisor that of an assigned trainee; anyone else :class:`NotFound`."""
    require_role(actor, "trainee", "supervisor")
    if trainee_id is None:
        trainee_id = actor.id
    match = [t for t in trainees(db, actor) if t.id == trainee_id]
    if not match:
        raise NotFound(f"trainee {trainee_id} not found")
    rows = db.scalars(select(Practice).where(Practice.trainee_id == trainee_id,
                                             practice_scope(actor))
                      .order_by(Practice.started_at.desc(), Practice.id.desc())).all()
    series: dict[str, list[tuple[dt.datetime, float, int, str]]] = {c: [] for c in COMPETENCIES}
    for row in sorted((r for r in rows if r.complete), key=lambda r: (r.finished_at, r.id)):
        for competency, score in (row.competencies or {}).items():
            if competency in series and row.finished_at is not None:
                series[competency].append((row.finished_at, float(score), row.id, row.mode))
    return Progress(match[0], rows, {c: p for c, p in series.items() if p})

