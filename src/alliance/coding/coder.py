"""The transcript coder: rules and context features, plus classifier heads on embeddings.

Two modes:

* **rules-only** (no torch): a code is assigned when one of its rules fires; its confidence
  is the rule's precision measured on the train and dev splits (Laplace-smoothed), so it
  reads as "how often this rule was right".
* **hybrid**: each code's head gives a Platt-calibrated confidence from the embedding, the
  context features and the rule hits; the final score is the larger of the head's
  confidence and the firing rule's measured precision, and the code is assigned when the
  score reaches the code's threshold (tuned in cross-validation on train + dev).

Every assignment carries evidence: the span a rule matched, or, for a code only the head
found, the sentence sharing most vocabulary with the code's codebook text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from alliance.coding.codebook import FAMILY_ROLE, family_of, load_codebook
from alliance.coding.embedder import Embedder
from alliance.coding.features import TurnFeatures, content_stems, turn_features
from alliance.coding.heads import Heads
from alliance.coding.rules import RuleHit, RuleSet
from alliance.transcripts.model import Transcript, Utterance

MODE_RULES = "rules-only"
MODE_HYBRID = "hybrid"
EVIDENCE_MAX = 200
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


@dataclass(frozen=True)
class CodeAssignment:
    code: str
    confidence: float
    evidence: str
    start: int
    end: int
    source: str  # "rule", "model" or "rule+model"

    @property
    def family(self) -> str:
        return family_of(self.code)


@dataclass(frozen=True)
class CodedUtterance:
    utterance: Utterance
    codes: tuple[CodeAssignment, ...]

    def has_family(self, family: str) -> bool:
        return any(c.family == family for c in self.codes)

    def in_family(self, family: str) -> list[CodeAssignment]:
        return [c for c in self.codes if c.family == family]


@dataclass(frozen=True)
class CodedTranscript:
    transcript: Transcript
    utterances: tuple[CodedUtterance, ...]
    mode: str
    model: str | None
    heads_version: str | None

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, i: int) -> CodedUtterance:
        return self.utterances[i]


@dataclass(frozen=True)
class TurnAnalysis:
    """Everything the coder computed for one turn (used by training and evaluation)."""

    features: TurnFeatures
    hits: tuple[RuleHit, ...]
    scores: dict[str, float]  # code -> final score (role-compatible codes only)
    assigned: tuple[CodeAssignment, ...]


@lru_cache(maxsize=1)
def _code_vocabulary() -> dict[str, set[str]]:
    book = load_codebook()
    return {n: content_stems(" ".join((c.definition, *c.examples, *c.include)))
            for n, c in book.codes.items()}


def evidence_for(text: str, code: str) -> tuple[str, int, int]:
    """The sentence of ``text`` sharing most content stems with ``code``'s codebook entry."""
    vocab = _code_vocabulary().get(code, set())
    best: tuple[int, int, int] = (-1, 0, len(text))
    for m in _SENTENCE.finditer(text):
        overlap = len(content_stems(m.group()) & vocab)
        if overlap > best[0] and m.group().strip():
            best = (overlap, m.start(), m.end())
    _, s, e = best
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    e = min(e, s + EVIDENCE_MAX)
    return text[s:e], s, e


def _rule_evidence(text: str, hit: RuleHit) -> tuple[str, int, int]:
    return text[hit.start:hit.end][:EVIDENCE_MAX], hit.start, min(hit.end,
                                                                  hit.start + EVIDENCE_MAX)


def rule_vector(hits: Sequence[RuleHit], codes: Sequence[str]) -> list[float]:
    fired = {h.code for h in hits}
    return [1.0 if c in fired else 0.0 for c in codes]


def head_inputs(emb: np.ndarray, feats: Sequence[TurnFeatures],
                hits: Sequence[Sequence[RuleHit]], codes: Sequence[str],
                previous_turn: bool) -> np.ndarray:
    """Rows fed to the heads: [embedding | previous turn's embedding? | context | rules].

    The previous turn is the one this turn answers (latest by another speaker); zeros when
    there is none.
    """
    parts = [emb]
    if previous_turn:
        prev = np.zeros_like(emb)
        for i, f in enumerate(feats):
            if f.previous >= 0:
                prev[i] = emb[f.previous]
        parts.append(prev)
    parts.append(np.array([f.vector() for f in feats]).reshape(len(feats), -1))
    parts.append(np.array([rule_vector(h, codes) for h in hits]).reshape(len(feats), -1))
    return np.hstack(parts)


class Coder:
    """Codes transcripts; ``embedder`` and ``heads`` both given = hybrid, else rules-only."""

    def __init__(self, rules: RuleSet | None = None, embedder: Embedder | None = None,
                 heads: Heads | None = None) -> None:
        self.rules = rules or RuleSet()
        self.embedder = embedder
        self.heads = heads if embedder is not None else None
        self.codes = load_codebook().names

    @property
    def mode(self) -> str:
        return MODE_HYBRID if self.heads is not None else MODE_RULES

    # -- core -------------------------------------------------------------------------
    def analyse(self, conversations: Sequence[tuple[Sequence[str], Sequence[str],
                                                    Sequence[str]]],
                embeddings: Sequence[np.ndarray] | None = None) -> list[list[TurnAnalysis]]:
        """Analyse conversations given as parallel (speakers, roles, texts) sequences.

        All texts are embedded in one batch (hybrid mode) for throughput; ``embeddings``
        may be passed in precomputed (training does this to embed once).
        """
        if self.heads is not None and embeddings is None:
            assert self.embedder is not None
            # repeated turns ("Mm-hmm.", "Okay.") are encoded once
            unique = list(dict.fromkeys(t for _, _, texts in conversations for t in texts))
            row = {t: i for i, t in enumerate(unique)}
            matrix = self.embedder.encode(unique)
            embeddings = [matrix[[row[t] for t in texts]] if texts else
                          np.zeros((0, matrix.shape[1]), dtype=np.float32)
                          for _, _, texts in conversations]
        out: list[list[TurnAnalysis]] = []
        for ci, (speakers, roles, texts) in enumerate(conversations):
            emb = embeddings[ci] if embeddings is not None else None
            feats = turn_features(speakers, roles, texts, emb)
            hits = [self.rules.apply(t, r, f) for t, r, f in zip(texts, roles, feats,
                                                                 strict=True)]
            conf = None
            if self.heads is not None and emb is not None and len(texts):
                x = head_inputs(emb, feats, hits, self.codes, self.heads.previous_turn)
                conf = self.heads.confidences(x)
            out.append([self._decide(texts[i], roles[i], feats[i], hits[i],
                                     None if conf is None else conf[i])
                        for i in range(len(texts))])
        return out

    def _decide(self, text: str, role: str, f: TurnFeatures, hits: list[RuleHit],
                conf: np.ndarray | None) -> TurnAnalysis:
        best_hit: dict[str, RuleHit] = {}
        for h in hits:
            if h.code not in best_hit or h.confidence > best_hit[h.code].confidence:
                best_hit[h.code] = h
        scores: dict[str, float] = {}
        assigned: list[CodeAssignment] = []
        for code in self.codes:
            if FAMILY_ROLE[family_of(code)] != role:
                continue
            hit = best_hit.get(code)
            rule_score = hit.confidence if hit else 0.0
            if conf is None or self.heads is None:
                score, threshold, source = rule_score, 1e-9, "rule"
            else:
                try:
                    k = self.heads.index(code)
                except ValueError:  # a code with no head (too few examples): rules decide
                    score, threshold, source = rule_score, 1e-9, "rule"
                else:
                    head = float(conf[k])
                    score = max(head, rule_score)
                    threshold = float(self.heads.thresholds[k])
                    source = ("rule+model" if hit and head >= threshold else
                              "rule" if hit and rule_score >= head else "model")
            scores[code] = score
            if score >= threshold and score > 0:
                ev, s, e = _rule_evidence(text, hit) if hit else evidence_for(text, code)
                assigned.append(CodeAssignment(code, round(float(score), 4), ev, s, e, source))
        assigned.sort(key=lambda a: (self.codes.index(a.code)))
        return TurnAnalysis(f, tuple(hits), scores, tuple(assigned))

    # -- public -----------------------------------------------------------------------
    def code_many(self, transcripts: Sequence[Transcript]) -> list[CodedTranscript]:
        convs = [([u.speaker for u in t], [u.role for u in t], [u.text for u in t])
                 for t in transcripts]
        results = self.analyse(convs)
        model = self.embedder.name if self.heads is not None and self.embedder else None
        heads_version = self.heads.version if self.heads is not None else None
        return [
            CodedTranscript(t, tuple(CodedUtterance(u, a.assigned) for u, a in zip(
                t.utterances, res, strict=True)), self.mode, model, heads_version)
            for t, res in zip(transcripts, results, strict=True)
        ]

    def code(self, transcript: Transcript) -> CodedTranscript:
        return self.code_many([transcript])[0]


def load_coder(*, rules_only: bool = False, model_path: str | None = None,
               verify_model: bool | None = None, heads_dir: str | None = None,
               threads: int | None = None, encoder: str | None = None) -> Coder:
    """The coder a user gets: hybrid with the packaged heads, or rules-only (no model)."""
    from alliance.coding.heads import load_heads, load_rule_precision

    rules = RuleSet(precision=load_rule_precision(heads_dir))
    if rules_only:
        return Coder(rules)
    heads = load_heads(heads_dir)
    from alliance.coding.embedder import load_embedder

    embedder = load_embedder(model_path, verify_model, threads, encoder)
    return Coder(rules, embedder, heads)
