"""Evaluating a coder on a held-out split of the labelled corpus.

Per code (on the split's labelled turns of the code's role): precision = TP / (TP + FP),
recall = TP / (TP + FN), F1 = 2PR / (P + R) (0 where undefined). Macro-F1 of a family is the
unweighted mean F1 of its codes that have at least one gold example in the split (codes
without support cannot be scored and are listed apart). The family confusion table counts,
for every labelled turn, each (gold family, predicted family) pair, with ``none`` standing
for "no code of any family"; the diagonal is agreement on the family. Calibration: the
expected calibration error of the final scores over all role-compatible (turn, code) pairs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from alliance.coding.calibration import expected_calibration_error
from alliance.coding.codebook import FAMILIES, FAMILY_ROLE, family_of, load_codebook
from alliance.coding.coder import Coder
from alliance.coding.corpus import Corpus
from alliance.coding.trainer import conversation_inputs

NONE = "none"


@dataclass(frozen=True)
class CodeScore:
    code: str
    tp: int
    fp: int
    fn: int

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Evaluation:
    split: str
    mode: str
    turns: int
    codes: dict[str, CodeScore]
    confusion: dict[str, Counter[str]] = field(default_factory=dict)
    ece: float = 0.0

    def family_macro_f1(self, family: str) -> float | None:
        scored = [s.f1 for c, s in self.codes.items() if family_of(c) == family and s.support]
        return float(np.mean(scored)) if scored else None

    @property
    def macro_f1(self) -> float:
        scored = [s.f1 for s in self.codes.values() if s.support]
        return float(np.mean(scored)) if scored else 0.0

    @property
    def micro(self) -> CodeScore:
        return CodeScore("micro", sum(s.tp for s in self.codes.values()),
                         sum(s.fp for s in self.codes.values()),
                         sum(s.fn for s in self.codes.values()))

    def to_dict(self) -> dict[str, object]:
        return {
            "split": self.split, "mode": self.mode, "turns": self.turns,
            "macro_f1": round(self.macro_f1, 4), "micro_f1": round(self.micro.f1, 4),
            "ece": round(self.ece, 4),
            "families": {f: (None if (m := self.family_macro_f1(f)) is None else round(m, 4))
                         for f in FAMILIES},
            "codes": {c: {"precision": round(s.precision, 4), "recall": round(s.recall, 4),
                          "f1": round(s.f1, 4), "support": s.support, "tp": s.tp, "fp": s.fp,
                          "fn": s.fn} for c, s in self.codes.items()},
            "confusion": {g: dict(row) for g, row in self.confusion.items()},
        }


def evaluate(corpus: Corpus, coder: Coder, split: str = "test",
             embeddings: list[np.ndarray] | None = None) -> Evaluation:
    """Score ``coder`` on the labelled turns of ``split``."""
    convs = corpus.split(split)
    if embeddings is not None:
        index = {id(c): k for k, c in enumerate(corpus.conversations)}
        embeddings = [embeddings[index[id(c)]] for c in convs]
    results = coder.analyse([conversation_inputs(c) for c in convs], embeddings)
    book = load_codebook()
    counts = {c: [0, 0, 0] for c in book.names}
    confusion: dict[str, Counter[str]] = {f: Counter() for f in (*FAMILIES, NONE)}
    scores: list[float] = []
    truth: list[int] = []
    turns = 0
    for conv, res in zip(convs, results, strict=True):
        for i, gold_codes in conv.labels.items():
            turns += 1
            gold = set(gold_codes)
            analysis = res[i]
            pred = {a.code for a in analysis.assigned}
            role = conv.turns[i].role
            for code in book.names:
                if FAMILY_ROLE[family_of(code)] != role:
                    continue
                g, p = code in gold, code in pred
                counts[code][0] += int(g and p)
                counts[code][1] += int(p and not g)
                counts[code][2] += int(g and not p)
                scores.append(analysis.scores.get(code, 0.0))
                truth.append(int(g))
            gold_f = {family_of(c) for c in gold} or {NONE}
            pred_f = {family_of(c) for c in pred} or {NONE}
            for gf in gold_f:
                for pf in pred_f:
                    confusion[gf][pf] += 1
    return Evaluation(split, coder.mode, turns,
                      {c: CodeScore(c, *v) for c, v in counts.items()}, confusion,
                      expected_calibration_error(scores, truth))
