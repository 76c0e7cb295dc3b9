"""The demo clinic: accounts, about 40 cases with months of sessions, and a few transcripts.

Deterministic for a given seed and fast (a few seconds): cases are written as case files
(the monitoring input format) and loaded with :func:`alliance.store.casefile.import_case`.
Each case follows one planted course so the caseload shows every kind of alert: steady,
repaired and unrepaired ruptures, a slow decline, ceiling ratings, low early alliance, a
task deficit, a strained frame (late cancellations, no-shows), missed homework, a couple
with a split alliance and a family with one disengaging member. Eight more cases come from
:func:`alliance.monitoring.synthetic.generate` (other instruments, their planted events, and
outcome measures, PHQ-9, GAD-7 or ORS, with planted paths: some not on track).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alliance.clinic import Clinic
from alliance.instruments import get_instrument
from alliance.store import accounts, sealing
from alliance.store.actors import Actor, load_actor
from alliance.store.casefile import import_case
from alliance.store.models import Session as SessionRow
from alliance.store.models import Supervision, Transcript
from alliance.store.transcripts import content_aad

DEMO_PASSWORD = "demo-password"
ACCOUNTS = (("admin@example.org", "Ada Admin", "admin"),
            ("ari@example.org", "Ari Admin", "admin"),  # the second admin of dual control
            ("dana@example.org", "Dana Clinician", "clinician"),
            ("sam@example.org", "Sam Clinician", "clinician"),
            ("lee@example.org", "Lee Supervisor", "supervisor"),
            ("rowan@example.org", "Rowan Researcher", "researcher"),
            ("tia@example.org", "Tia Trainee", "trainee"))
INSTRUMENT = "alliance-12"

Level = Callable[[int, int], dict[str, float]]  # (session, n) -> level per subscale


def _flat(v: float) -> dict[str, float]:
    return {"bond": v, "goal": v, "task": v}


COURSES: dict[str, Level] = {
    "steady": lambda i, n: _flat(4.2),
    "repaired": lambda i, n: _flat({n // 2: 2.7, n // 2 + 1: 3.3}.get(i, 4.1)),
    "unrepaired": lambda i, n: _flat(2.6 if i >= n - 1 else 4.1),
    "declining": lambda i, n: _flat(4.3 - max(0, i - (n - 6)) * 0.25),
    "ceiling": lambda i, n: _flat(5.0),
    "early_low": lambda i, n: _flat(2.9 if i <= 3 else 3.9),
    "task_deficit": lambda i, n: {"bond": 4.6, "goal": 4.2, "task": 2.7 if i > 3 else 3.8},
    "container": lambda i, n: _flat(3.9),
    "homework": lambda i, n: {"bond": 4.3, "goal": 4.0, "task": 3.4},
}
PLAN = (["steady"] * 4 + ["repaired"] * 6 + ["unrepaired"] * 5 + ["declining"] * 3
        + ["ceiling"] * 3 + ["early_low"] * 2 + ["task_deficit"] * 3 + ["container"] * 2
        + ["homework"] * 2)

TRANSCRIPTS = [
    "T: Last week you said the exposure plan felt like too much. How did this week go?\n"
    "C: Fine. I guess.\n"
    "T: You sound unsure. I wonder whether I pushed the plan harder than you wanted.\n"
    "C: A bit, yes. It felt like it was your plan, not mine.\n"
    "T: Thank you for telling me. That is on me. Shall we work out the next step together?\n"
    "C: I would like that. Maybe something smaller first.\n",
    "T: Where would you like to start today?\n"
    "C: I don't know. Nothing really happened.\n"
    "T: Okay.\n"
    "C: Can we talk about something else? This isn't helping anyway.\n"
    "T: Let's go back to the worksheet.\n"
    "C: Whatever.\n",
    "T: How are you both feeling about coming here today?\n"
    "C: Honestly, I feel like you always side with her.\n"
    "T: I am glad you said that. Can you tell me when it felt that way?\n"
    "C: When we talked about the money. You nodded at everything she said.\n"
    "T: I can see how that looked. I want this to be a place that works for both of you.\n",
]


@dataclass(frozen=True)
class DemoSummary:
    cases: int
    sessions: int
    responses: int
    transcripts: int
    password: str


def _answers(rng: random.Random, levels: dict[str, float]) -> dict[str, int]:
    inst = get_instrument(INSTRUMENT)
    out = {}
    for item in inst.items:
        v = round(levels.get(item.subscale or "bond", 4.0) + rng.gauss(0, 0.35))
        v = max(1, min(5, v))
        out[item.id] = 6 - v if item.reverse else v
    return out


def _session_facts(rng: random.Random, course: str, i: int, n: int) -> tuple[str, int, str]:
    attendance, late, homework = "attended", 0, rng.choice(["completed"] * 3 + ["partial", "none"])
    if course == "container" and i > n - 5:
        attendance = rng.choice(["late_cancelled", "no_show", "late"])
        late = 20 if attendance == "late" else 0
    elif course == "homework" and i > n - 5:
        homework = "not_done"
    elif rng.random() < 0.05:
        attendance = "cancelled"
    return attendance, late, homework


def _entry(rng: random.Random, course: str, members: list[str], today: dt.date,
           weekly_levels: Callable[[str, int, int], dict[str, float]] | None = None,
           n: int | None = None) -> dict[str, Any]:
    n = n or rng.randint(8, 20)
    start = today - dt.timedelta(weeks=n, days=rng.randint(0, 6))
    sessions = []
    for i in range(1, n + 1):
        attendance, late, homework = _session_facts(rng, course, i, n)
        ratings = []
        if attendance in ("attended", "late"):
            for m in members:
                levels = weekly_levels(m, i, n) if weekly_levels else COURSES[course](i, n)
                ratings.append({"rater": m, "instrument": INSTRUMENT,
                                "items": _answers(rng, levels)})
            if i % 2 == 0:
                ratings.append({"rater": "therapist", "instrument": INSTRUMENT,
                                "items": _answers(rng, _flat(4.3))})
        sessions.append({"number": i, "date": (start + dt.timedelta(weeks=i)).isoformat(),
                         "attendance": attendance, "minutes_late": late, "homework": homework,
                         "ratings": ratings})
    return {"members": [{"id": m, "role": "client"} for m in members], "sessions": sessions}


def _label(rng: random.Random, used: set[str]) -> str:
    letters = "ABCDEFGHJKLMNPRSTVWZ"
    while True:
        label = f"{rng.choice(letters)}.{rng.choice(letters)}. ({rng.randint(1960, 2006)})"
        if label not in used:
            used.add(label)
            return label


SYNTHETIC_CASES = 8


def _synthetic_cases(s: Any, clinician: Any, rng: random.Random, today: dt.date,
                     used: set[str], seed: int) -> list[int]:
    """Cases from the monitoring library's generator (its own instruments and planted
    events), shifted in time so that their last session falls in the past week."""
    from alliance.monitoring import synthetic

    case_file, _truth = synthetic.generate(SYNTHETIC_CASES, seed, multi_member=False,
                                           transcripts=False, outcomes=True)
    ids = []
    for entry in case_file["cases"]:
        last = max(dt.date.fromisoformat(x["date"]) for x in entry["sessions"])
        shift = dt.timedelta(weeks=(today - last).days // 7)
        for x in entry["sessions"]:
            x["date"] = (dt.date.fromisoformat(x["date"]) + shift).isoformat()
        case = import_case(s, clinician, entry, label=_label(rng, used),
                           member_labels={"m1": "Client"}, consent_transcripts=False)
        ids.append(case.id)
    return ids


def _practice(s: Any, trainee: Actor, coder: Any) -> None:
    """The demo trainee's history: one exam and one practice session, both finished."""
    from alliance.store import practice
    from alliance.training import load_casebook

    case = load_casebook()["quiet-homework"]
    exam = practice.start(s, trainee, case.id, "exam")
    for stage in case.stages:
        practice.answer(s, trainee, exam.id, stage.number,
                        {i.id: i.key if stage.number > 1 else "A" for i in stage.items})
    played = practice.start(s, trainee, case.id, "practice")
    for stage in case.stages:
        practice.respond(s, trainee, played.id, stage.alternative, coder=coder)


def seed_demo(clinic: Clinic, *, password: str = DEMO_PASSWORD, seed: int = 7,
              today: dt.date | None = None, analyse_now: bool = True) -> DemoSummary:
    """Fill an empty, migrated database with the demo clinic.

    With ``analyse_now`` off the demo transcripts and alerts wait for the server's
    background worker, so the server starts without waiting for the coder's model to load."""
    db, box = clinic.db, clinic.box
    rng = random.Random(seed)
    today = today or dt.date.today()
    used: set[str] = set()
    with db.write() as s:
        users = {email: accounts.create_user(s, email, name, role, password)
                 for email, name, role in ACCOUNTS}
        s.add(Supervision(supervisor_id=users["lee@example.org"].id,
                          clinician_id=users["dana@example.org"].id))
        s.add(Supervision(supervisor_id=users["lee@example.org"].id,
                          clinician_id=users["tia@example.org"].id))
        _practice(s, load_actor(s, users["tia@example.org"]), clinic.practice_coder())
        clinicians = [load_actor(s, users["dana@example.org"]),
                      load_actor(s, users["sam@example.org"])]
        case_ids = []
        for k, course in enumerate(PLAN):
            entry = _entry(rng, course, ["m1"], today)
            entry["modality"] = "individual"
            if k % 9 == 4:
                entry["context"] = {"cultural_notes": "Raised in a tradition where disagreeing "
                                    "with an expert openly is impolite; long pauses are "
                                    "respectful.", "normative_cues": ["deference", "silence"]}
            case = import_case(s, clinicians[k % 2], entry, label=_label(rng, used),
                               member_labels={"m1": "Client"}, consent_transcripts=k % 3 == 0)
            case_ids.append(case.id)
        case_ids += _synthetic_cases(s, clinicians[1], rng, today, used, seed)
        couple = _entry(rng, "steady", ["m1", "m2"], today, n=14,
                        weekly_levels=lambda m, i, n: _flat(4.5 if m == "m1" else
                                                            (3.9 if i < 8 else 2.9)))
        couple["modality"] = "couple"
        family = _entry(rng, "steady", ["m1", "m2", "m3"], today, n=12,
                        weekly_levels=lambda m, i, n: _flat(4.2 if m != "m3" else
                                                            max(2.2, 4.0 - 0.2 * i)))
        family["modality"] = "family"
        c1 = import_case(s, clinicians[0], couple, label="R. & J. (couple)",
                         member_labels={"m1": "Partner R", "m2": "Partner J"})
        c2 = import_case(s, clinicians[0], family, label="The M. family",
                         member_labels={"m1": "Parent", "m2": "Second parent", "m3": "Teen"})
        case_ids += [c1.id, c2.id]
        n_transcripts = 0
        if box is not None:
            for case_id, text in zip((case_ids[0], c1.id, case_ids[3]), TRANSCRIPTS,
                                     strict=True):
                last = max((r for r in s.query(SessionRow).filter_by(case_id=case_id)),
                           key=lambda r: r.number)
                row = Transcript(case_id=case_id, session_id=last.id,
                                 filename=f"session-{last.number}.txt", content=b"",
                                 uploaded_by=clinicians[0].id if case_id != case_ids[3]
                                 else clinicians[1].id)
                s.add(row)
                s.flush()
                row.content = sealing.seal_bytes(s, box, case_id, text.encode(),
                                                 content_aad(row.id))
                n_transcripts += 1
        from sqlalchemy import func, select

        from alliance.store.models import Response

        sessions = int(s.scalar(select(func.count()).select_from(SessionRow)) or 0)
        responses = int(s.scalar(select(func.count()).select_from(Response)) or 0)
    if analyse_now:
        from alliance.worker import Worker

        Worker(clinic).drain()
    return DemoSummary(len(case_ids), sessions, responses, n_transcripts, password)
