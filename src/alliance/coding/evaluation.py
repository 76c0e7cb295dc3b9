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
from typing import Any

import numpy as np

from alliance.coding.calibration import expected_calibration_error
from alliance.coding.codebook import FAMILIES, FAMILY_ROLE, family_of, load_codebook
from alliance.coding.coder import Coder, EncodeFn
from alliance.coding.corpus import Corpus
from alliance.coding.trainer import conversation_inputs, unit_gold

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
             encode: EncodeFn | None = None) -> Evaluation:
    """Score ``coder`` on the labelled turns of ``split``.

    A turn joined to the one it continues is scored with that turn (its codes count for
    the joined unit); listener tokens and crosstalk fragments are scored as turns with no
    code.
    """
    convs = corpus.split(split)
    results = coder.analyse([conversation_inputs(c) for c in convs], encode)
    book = load_codebook()
    counts = {c: [0, 0, 0] for c in book.names}
    confusion: dict[str, Counter[str]] = {f: Counter() for f in (*FAMILIES, NONE)}
    scores: list[float] = []
    truth: list[int] = []
    turns = 0
    for conv, res in zip(convs, results, strict=True):
        for i in conv.labels:
            analysis = res[i]
            unit_codes = unit_gold(conv, analysis, i)
            if unit_codes is None:
                continue
            turns += 1
            gold = set(unit_codes)
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


# ------------------------------------------------------------------------------ episodes
def episode_agreement(corpus: Corpus, coder: Coder, split: str = "test") -> dict[str, Any]:
    """How the episode logic matches the annotated episodes of the split's sessions.

    * ``gold_codes``: episodes built from the *gold* codes: the share of annotated
      episodes whose resolution we reproduce (tests the episode logic alone);
    * ``predicted_codes``: episodes built from the coder's codes: marker recall/precision
      (same utterance index) and resolution agreement on the matched markers.
    """
    from alliance.coding.coder import CodeAssignment, CodedUtterance
    from alliance.coding.episodes import find_episodes
    from alliance.transcripts.model import Utterance

    sessions = [c for c in corpus.split(split) if c.kind == "session"]
    results = coder.analyse([conversation_inputs(c) for c in sessions])
    gold_match = gold_total = 0
    ann_total = pred_total = matched = res_match = 0
    for conv, res in zip(sessions, results, strict=True):
        utts = [Utterance(i, t.speaker, t.role, t.text)  # type: ignore[arg-type]
                for i, t in enumerate(conv.turns)]
        gold = [CodedUtterance(u, tuple(CodeAssignment(c, 1.0, "", 0, 0, "rule")
                                        for c in conv.labels.get(u.index, ())))
                for u in utts]
        pred = [CodedUtterance(u, a.assigned) for u, a in zip(utts, res, strict=True)]
        annotated = {e.marker_index: e.resolution for e in conv.episodes}
        for e in find_episodes(gold):
            if e.marker_index in annotated:
                gold_total += 1
                gold_match += int(annotated[e.marker_index] == e.resolution)
        found = {e.marker_index: e.resolution for e in find_episodes(pred)}
        ann_total += len(annotated)
        pred_total += len(found)
        for idx, resolution in annotated.items():
            if idx in found:
                matched += 1
                res_match += int(found[idx] == resolution)
    return {
        "sessions": len(sessions), "annotated_episodes": ann_total,
        "gold_codes": {"resolution_agreement": _ratio(gold_match, gold_total),
                       "episodes": gold_total},
        "predicted_codes": {"marker_recall": _ratio(matched, ann_total),
                            "marker_precision": _ratio(matched, pred_total),
                            "resolution_agreement": _ratio(res_match, matched),
                            "episodes": pred_total},
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


# ------------------------------------------------------------------------------- render
def _console(width: int = 110) -> Any:
    import io

    from rich.console import Console

    return Console(width=width, record=True, color_system=None, file=io.StringIO())


def render_evaluation(ev: Evaluation, episodes: dict[str, Any] | None = None) -> str:
    from rich.table import Table

    console = _console()
    micro = ev.micro
    console.print(f"[bold]{ev.mode} coder[/bold] on the {ev.split} split: {ev.turns} labelled "
                  f"turns | macro-F1 {ev.macro_f1:.3f} | micro P {micro.precision:.3f} "
                  f"R {micro.recall:.3f} F1 {micro.f1:.3f} | ECE {ev.ece:.3f}")
    table = Table(title=f"Per code ({ev.mode}, {ev.split})")
    for col in ("code", "support", "TP", "FP", "FN", "precision", "recall", "F1"):
        table.add_column(col, justify="left" if col == "code" else "right")
    for code, s in ev.codes.items():
        table.add_row(code, str(s.support), str(s.tp), str(s.fp), str(s.fn),
                      f"{s.precision:.2f}", f"{s.recall:.2f}",
                      f"{s.f1:.2f}" if s.support else "n/a")
    console.print(table)
    fam = Table(title="Macro-F1 per family (codes with test support)")
    for f in FAMILIES:
        fam.add_column(f, justify="right")
    fam.add_row(*("n/a" if (m := ev.family_macro_f1(f)) is None else f"{m:.3f}"
                  for f in FAMILIES))
    console.print(fam)
    conf = Table(title="Family confusion (rows: gold, columns: predicted)")
    cols = (*FAMILIES, NONE)
    conf.add_column("gold \\ predicted")
    for c in cols:
        conf.add_column(c, justify="right")
    for g in cols:
        conf.add_row(g, *(str(ev.confusion.get(g, Counter()).get(p, 0)) for p in cols))
    console.print(conf)
    if episodes:
        gc, pc = episodes["gold_codes"], episodes["predicted_codes"]
        console.print(
            f"episodes ({episodes['sessions']} sessions, {episodes['annotated_episodes']} "
            f"annotated): resolution agreement from gold codes {_fmt(gc['resolution_agreement'])}"
            f"; from predicted codes: marker recall {_fmt(pc['marker_recall'])}, precision "
            f"{_fmt(pc['marker_precision'])}, resolution agreement "
            f"{_fmt(pc['resolution_agreement'])}")
    console.print("")
    return str(console.export_text())


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def render_corpus_stats(corpus: Corpus) -> str:
    from rich.table import Table

    console = _console()
    sessions = corpus.sessions
    modalities = Counter(c.modality for c in sessions)
    console.print(f"corpus {corpus.root}: {corpus.files} files, sha256 {corpus.data_hash[:16]}")
    console.print(f"{len(sessions)} sessions ("
                  + ", ".join(f"{m} {n}" for m, n in sorted(modalities.items()))
                  + f"), {sum(len(c.episodes) for c in sessions)} annotated episodes, "
                  f"{len(corpus.conversations) - len(sessions)} snippets")
    console.print("labelled turns: " + ", ".join(
        f"{s} {corpus.labelled_count(s)}" for s in ("train", "dev", "test"))
        + f", total {corpus.labelled_count()}")
    table = Table(title="Examples per code")
    for col in ("code", "train", "dev", "test", "total"):
        table.add_column(col, justify="left" if col == "code" else "right")
    per = {s: corpus.code_counts(s) for s in ("train", "dev", "test")}
    for code in load_codebook().names:
        n = [per[s][code] for s in ("train", "dev", "test")]
        table.add_row(code, *map(str, n), str(sum(n)))
    console.print(table)
    negatives = sum(1 for c in corpus.conversations for codes in c.labels.values() if not codes)
    console.print(f"turns with no code (negatives, incl. hard negatives): {negatives}")
    return str(console.export_text())
