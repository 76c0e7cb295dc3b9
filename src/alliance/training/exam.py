"""Exam mode: a case played section by section, as in case-simulation licensure exams.

Each stage of the case is a section. Only the open section can be answered; once all its
items are answered the section locks and the next opens, so an earlier answer cannot be
changed and a later section cannot be read ahead. At the end the result gives a score per
competency and, for every item, the keyed answer with the rationale of every option.

>>> from alliance.training.casebook import load_casebook
>>> exam = ExamSession(load_casebook()["quiet-homework"])
>>> exam.section.number, [i.id for i in exam.open_items]
(1, ['notice'])
>>> exam.answer("notice", "B").correct
True
>>> exam.section.number
2
>>> exam.answer("notice", "A")
Traceback (most recent call last):
...
alliance.errors.TrainingError: item 'notice' is in section 1, which is locked
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alliance.errors import TrainingError
from alliance.training.casebook import COMPETENCIES, KEYS, ExamItem, Stage, TrainingCase
from alliance.training.session import ExamAnswer, PracticeRecord


@dataclass(frozen=True)
class ItemResult:
    stage: int
    item: ExamItem
    chosen: str | None

    @property
    def correct(self) -> bool:
        return self.chosen == self.item.key

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "item": self.item.id, "competency": self.item.competency,
                "stem": self.item.stem, "chosen": self.chosen, "key": self.item.key,
                "correct": self.correct,
                "options": [{"key": o.key, "text": o.text, "rationale": o.rationale}
                            for o in self.item.options]}


class ExamSession:
    """One case in exam mode (see the module docstring)."""

    def __init__(self, case: TrainingCase) -> None:
        self.case = case
        self._answers: dict[str, ExamAnswer] = {}
        self._section = 0  # index of the open section

    @classmethod
    def resume(cls, case: TrainingCase, record: PracticeRecord) -> ExamSession:
        """Continue a stored exam of ``case``: its answers are given again, in order, so a
        record that breaks the section order is refused like the answers would be."""
        if record.case != case.id or record.mode != "exam":
            raise TrainingError(f"the record is a {record.mode} session of {record.case}, "
                                f"not an exam on {case.id}")
        exam = cls(case)
        for answer in record.answers:
            exam.answer(answer.item, answer.chosen)
        return exam

    @property
    def finished(self) -> bool:
        return self._section >= len(self.case.stages)

    @property
    def section(self) -> Stage:
        if self.finished:
            raise TrainingError(f"the exam on {self.case.id} is finished")
        return self.case.stages[self._section]

    @property
    def open_items(self) -> list[ExamItem]:
        if self.finished:
            return []
        return [i for i in self.section.items if i.id not in self._answers]

    def _locate(self, item_id: str) -> tuple[int, ExamItem]:
        for idx, stage in enumerate(self.case.stages):
            for item in stage.items:
                if item.id == item_id:
                    return idx, item
        raise TrainingError(f"case {self.case.id} has no item {item_id!r}", item=item_id)

    def answer(self, item_id: str, key: str) -> ExamAnswer:
        """Answer ``item_id`` with option ``key`` (A-D) in the open section."""
        idx, item = self._locate(item_id)
        choice = key.strip().upper() if isinstance(key, str) else ""
        if choice not in KEYS:
            raise TrainingError(f"answer {key!r} is not one of {', '.join(KEYS)}",
                                item=item_id, value=key)
        if idx < self._section or item_id in self._answers:
            raise TrainingError(f"item {item_id!r} is in section {idx + 1}, which is locked",
                                item=item_id)
        if idx > self._section:
            raise TrainingError(f"item {item_id!r} is in section {idx + 1}, which is not "
                                f"open yet", item=item_id)
        ans = ExamAnswer(idx + 1, item.id, item.competency, choice, item.key)
        self._answers[item_id] = ans
        if not self.open_items:
            self._section += 1
        return ans

    def results(self) -> list[ItemResult]:
        return [ItemResult(s.number, i, self._answers[i.id].chosen
                           if i.id in self._answers else None)
                for s in self.case.stages for i in s.items]

    def competencies(self) -> dict[str, dict[str, Any]]:
        """Per competency: correct, total and share (only competencies the case tests)."""
        out: dict[str, dict[str, Any]] = {}
        for r in self.results():
            c = out.setdefault(r.item.competency, {"correct": 0, "total": 0})
            c["total"] += 1
            c["correct"] += r.correct
        for c in out.values():
            c["share"] = round(c["correct"] / c["total"], 3)
        return {k: out[k] for k in COMPETENCIES if k in out}

    def record(self) -> PracticeRecord:
        return PracticeRecord(
            self.case.id, "exam", {k: v["share"] for k, v in self.competencies().items()},
            answers=tuple(self._answers[i.id] for s in self.case.stages for i in s.items
                          if i.id in self._answers),
            complete=self.finished)
