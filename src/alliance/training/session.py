"""A practice session: the trainee answers the simulated client stage by stage.

Each stage, the client says the stage's statement; the trainee's response is scored
(:func:`~alliance.training.feedback.score_trainee_response`), the client's rupture state
moves (:func:`~alliance.training.client.next_state`) and the client answers with its
scripted line for the new state. At the end the client rates the session on ``alliance-12``.

:class:`PracticeRecord` is the serialisable result (JSON-ready ``to_dict``/``from_dict``): the
case, every turn with its score and the state before and after, the final state and rating,
and a score per competency, so a store can keep it and a page can replay it.

Competency scores (0-1, mean over turns) of a free-response session:

* ``noticing``: the response noticed the marker;
* ``repair``: share of named / invited / responsibility present; 0 for a judgmental or
  defensive response;
* ``assessment``: share of invited / reflected (gathering the client's view);
* ``intervention``: 1 when the response renegotiated the goal or task without technique
  first, 0 for technique before repair, 0.5 otherwise.

>>> from alliance.training.casebook import load_casebook
>>> s = PracticeSession(load_casebook()["quiet-homework"])
>>> turn = s.respond("I notice the sheet is blank again. I may have pushed it too hard. "
...                  "What has it been like for you?")
>>> turn.score.verdict, turn.state_after.bond > turn.state_before.bond
('repair', True)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from alliance.coding.coder import Coder
from alliance.errors import TrainingError
from alliance.training.casebook import Stage, TrainingCase
from alliance.training.client import (
    RuptureState,
    alliance12_rating,
    client_line,
    next_state,
)
from alliance.training.feedback import ResponseScore, score_trainee_response

RECORD_SCHEMA = "alliance.practice-record/1"
FREE_COMPETENCIES = ("noticing", "repair", "assessment", "intervention")


@dataclass(frozen=True)
class PracticeTurn:
    stage: int
    client: str
    response: str
    score: ResponseScore
    state_before: RuptureState
    state_after: RuptureState
    reply: str

    def to_dict(self) -> dict[str, Any]:
        score = self.score.to_dict()
        score["evidence"] = dict(self.score.evidence)
        return {"stage": self.stage, "client": self.client, "response": self.response,
                "score": score, "state_before": self.state_before.to_dict(),
                "state_after": self.state_after.to_dict(), "reply": self.reply}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PracticeTurn:
        return cls(int(d["stage"]), str(d["client"]), str(d["response"]),
                   ResponseScore.from_dict(d["score"]),
                   RuptureState.from_dict(d["state_before"]),
                   RuptureState.from_dict(d["state_after"]), str(d["reply"]))


def turn_competencies(score: ResponseScore) -> dict[str, float]:
    """One turn's contribution to each free-response competency (see module docstring)."""
    s = score.steps
    harmful = score.verdict in ("judgmental", "defensive")
    intervention = (0.0 if score.technique_before_repair else
                    1.0 if s["renegotiated"] and not harmful else 0.5)
    return {
        "noticing": 1.0 if s["noticed"] else 0.0,
        "repair": 0.0 if harmful else
        sum(s[k] for k in ("named", "invited", "responsibility")) / 3,
        "assessment": sum(s[k] for k in ("invited", "reflected")) / 2,
        "intervention": intervention,
    }


@dataclass(frozen=True)
class ExamAnswer:
    stage: int
    item: str
    competency: str
    chosen: str
    key: str

    @property
    def correct(self) -> bool:
        return self.chosen == self.key

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "item": self.item, "competency": self.competency,
                "chosen": self.chosen, "key": self.key, "correct": self.correct}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExamAnswer:
        return cls(int(d["stage"]), str(d["item"]), str(d["competency"]), str(d["chosen"]),
                   str(d["key"]))


@dataclass(frozen=True)
class PracticeRecord:
    """A finished (or abandoned) session, ready to store and replay."""

    case: str
    mode: str  # "practice" or "exam"
    competencies: Mapping[str, float]
    turns: tuple[PracticeTurn, ...] = ()
    answers: tuple[ExamAnswer, ...] = ()
    start: RuptureState | None = None
    final: RuptureState | None = None
    rating: Mapping[str, Any] | None = None
    complete: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"schema": RECORD_SCHEMA, "case": self.case, "mode": self.mode,
                "complete": self.complete, "competencies": dict(self.competencies),
                "start": self.start.to_dict() if self.start else None,
                "turns": [t.to_dict() for t in self.turns],
                "answers": [a.to_dict() for a in self.answers],
                "final": self.final.to_dict() if self.final else None,
                "rating": dict(self.rating) if self.rating else None}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: Any) -> PracticeRecord:
        if not isinstance(d, Mapping) or d.get("schema") != RECORD_SCHEMA:
            raise TrainingError(f"not a practice record (expected schema {RECORD_SCHEMA})")
        try:
            return cls(
                case=str(d["case"]), mode=str(d["mode"]),
                competencies={k: float(v) for k, v in d["competencies"].items()},
                turns=tuple(PracticeTurn.from_dict(t) for t in d.get("turns", [])),
                answers=tuple(ExamAnswer.from_dict(a) for a in d.get("answers", [])),
                start=RuptureState.from_dict(d["start"]) if d.get("start") else None,
                final=RuptureState.from_dict(d["final"]) if d.get("final") else None,
                rating=d.get("rating"), complete=bool(d.get("complete", True)))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TrainingError(f"practice record is incomplete or malformed "
                                f"({exc.__class__.__name__}: {exc})") from None


class PracticeSession:
    """Free-response practice against the simulated client (see the module docstring)."""

    def __init__(self, case: TrainingCase, coder: Coder | None = None) -> None:
        self.case = case
        self.coder = coder
        self.start = RuptureState.start(case)
        self.state = self.start
        self.turns: list[PracticeTurn] = []
        self._used: dict[str, int] = {}

    @classmethod
    def resume(cls, case: TrainingCase, record: PracticeRecord,
               coder: Coder | None = None) -> PracticeSession:
        """Continue a stored session of ``case`` where ``record`` left it (a web page keeps
        the record between requests). The turns are taken as recorded, not re-scored."""
        if record.case != case.id or record.mode != "practice":
            raise TrainingError(f"the record is a {record.mode} session of {record.case}, "
                                f"not a practice session of {case.id}")
        if len(record.turns) > len(case.stages):
            raise TrainingError(f"the record has more turns than case {case.id} has stages")
        session = cls(case, coder)
        for turn in record.turns:
            session.turns.append(turn)
            session.state = turn.state_after
            mode = turn.state_after.mode
            session._used[mode] = session._used.get(mode, 0) + 1
        return session

    @property
    def finished(self) -> bool:
        return len(self.turns) >= len(self.case.stages)

    @property
    def stage(self) -> Stage:
        if self.finished:
            raise TrainingError(f"case {self.case.id} is finished; every stage is answered")
        return self.case.stages[len(self.turns)]

    def respond(self, response: str) -> PracticeTurn:
        """Score ``response`` to the current stage, move the state, get the client's reply."""
        stage = self.stage
        score = score_trainee_response(response, stage.client, case=self.case,
                                       stage=stage.number, coder=self.coder)
        after = next_state(self.state, score.verdict, score.steps, self.case)
        reply = client_line(self.case, after, self._used)
        self._used[after.mode] = self._used.get(after.mode, 0) + 1
        turn = PracticeTurn(stage.number, stage.client, response.strip(), score, self.state,
                            after, reply)
        self.turns.append(turn)
        self.state = after
        return turn

    def competencies(self) -> dict[str, float]:
        if not self.turns:
            return {}
        per = [turn_competencies(t.score) for t in self.turns]
        return {c: round(sum(p[c] for p in per) / len(per), 3) for c in FREE_COMPETENCIES}

    def record(self) -> PracticeRecord:
        return PracticeRecord(self.case.id, "practice", self.competencies(), tuple(self.turns),
                              start=self.start, final=self.state,
                              rating=alliance12_rating(self.state), complete=self.finished)


def render_replay(record: PracticeRecord) -> str:
    """A plain-text replay: each turn with its verdict and the state after it."""
    lines = [f"Replay of {record.case} ({record.mode})"]
    if record.mode == "exam":
        for a in record.answers:
            mark = "correct" if a.correct else f"keyed {a.key}"
            lines.append(f"  stage {a.stage} item {a.item} [{a.competency}]: {a.chosen} "
                         f"({mark})")
    else:
        if record.start:
            lines.append(f"  start: {record.start.describe()}")
        for i, t in enumerate(record.turns, 1):
            lines += [f"  turn {i} (stage {t.stage})",
                      f"    client:  {t.client}",
                      f"    you:     {t.response}",
                      f"    verdict: {t.score.verdict} (score {t.score.score:.2f})",
                      f"    state:   {t.state_after.describe()}",
                      f"    client:  {t.reply}"]
        if record.rating:
            total = record.rating["scores"].get("total", {})
            lines.append(f"  simulated alliance-12 total: {total.get('raw')} "
                         f"(of 60; {total.get('pom')} % of maximum)")
    if record.competencies:
        lines.append("  competencies: " + ", ".join(f"{k} {v:.2f}" for k, v in
                                                    record.competencies.items()))
    return "\n".join(lines)
