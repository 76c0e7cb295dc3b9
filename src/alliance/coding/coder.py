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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from alliance.coding.codebook import FAMILY_ROLE, family_of, load_codebook
from alliance.coding.embedder import Embedder
from alliance.coding.features import TurnFeatures, content_stems, turn_features
from alliance.coding.heads import Heads
from alliance.coding.length import remove_length
from alliance.coding.rules import RuleHit, RuleSet
from alliance.transcripts.model import Transcript, Utterance
from alliance.transcripts.speech import (
    Normalised,
    ReadingUnit,
    normalise_speech,
    reading_units,
    unit_text,
)

#: Encodes texts into unit vectors (an embedder's ``encode``, possibly cached).
EncodeFn = Callable[[Sequence[str]], np.ndarray]

#: Where the confidences come from, said in every report (heads without a manifest note).
CALIBRATION_NOTE = ("Platt scaling fitted on out-of-fold scores of the whole sessions of "
                    "the project's own labelled corpus (train + dev splits; rule confidences: "
                    "precision on those sessions, shrunk toward all rows); sessions written "
                    "by the project, not real recordings")
RULES_CALIBRATION_NOTE = ("rule precision measured on the whole sessions of the project's own "
                          "labelled corpus (train + dev splits, shrunk toward all rows; "
                          "sessions written by the project, not real recordings)")
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
    """An utterance with its assigned codes, every code's score, and how it was read.

    ``scores``: the final score (a calibrated probability) of every code of the utterance's
    role, assigned or not; the session summary sums them into expected counts. ``reading``:
    the reading unit (listener token, crosstalk, joined continuation) or ``None``.
    """

    utterance: Utterance
    codes: tuple[CodeAssignment, ...]
    scores: dict[str, float] = field(default_factory=dict)
    reading: ReadingUnit | None = None

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
    calibration: str | None = None

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, i: int) -> CodedUtterance:
        return self.utterances[i]


@dataclass(frozen=True)
class TurnAnalysis:
    """Everything the coder computed for one turn (used by training and evaluation).

    A turn joined to an earlier one (a continuation) or read with another turn (crosstalk)
    is not coded itself: ``head`` is false and its unit's head carries the codes. ``x`` is
    the head input row (computed when asked for, on head turns).
    """

    features: TurnFeatures
    hits: tuple[RuleHit, ...]
    scores: dict[str, float]  # code -> final score (role-compatible codes only)
    assigned: tuple[CodeAssignment, ...]
    unit: ReadingUnit | None = None
    head: bool = True
    x: np.ndarray | None = None


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


#: Whether head inputs include the answered turn's embedding when no heads say otherwise.
#: v2: no. The raw 384-d block of the answered turn helped cross-validated F1 on the corpus
#: a little (v1) but lowered AUROC on the ESConv dev half for all three bond/advice codes
#: (0.006-0.012); the context the heads keep is its cosine (continuity) and whether advice
#: was asked for. Heads trained with it (manifest: previous_turn_embedding) still load.
PREVIOUS_TURN_DEFAULT = False


class Coder:
    """Codes transcripts; ``embedder`` and ``heads`` both given = hybrid, else rules-only."""

    def __init__(self, rules: RuleSet | None = None, embedder: Embedder | None = None,
                 heads: Heads | None = None,
                 length_directions: np.ndarray | None = None) -> None:
        self.rules = rules or RuleSet()
        self.embedder = embedder
        self.heads = heads if embedder is not None else None
        self.codes = load_codebook().names
        if length_directions is None and self.heads is not None:
            length_directions = self.heads.length_directions
        #: directions projected out of the embeddings the heads read (training sets them)
        self.length_directions = length_directions

    @property
    def mode(self) -> str:
        return MODE_HYBRID if self.heads is not None else MODE_RULES

    def threshold(self, code: str) -> float:
        """The score at which ``code`` is assigned (any rule hit, for a code without head)."""
        if self.heads is not None and code in self.heads.codes:
            return float(self.heads.thresholds[self.heads.index(code)])
        return 1e-9

    # -- core -------------------------------------------------------------------------
    def analyse(self, conversations: Sequence[tuple[Sequence[str], Sequence[str],
                                                    Sequence[str]]],
                encode: EncodeFn | None = None, *,
                inputs: bool = False) -> list[list[TurnAnalysis]]:
        """Analyse conversations given as parallel (speakers, roles, texts) sequences.

        Each conversation is first grouped into reading units
        (:func:`alliance.transcripts.speech.reading_units`): listener tokens and crosstalk
        fragments are not coded, continuations are joined to the turn they continue, and
        disfluencies are removed for the rules and the encoder. All unit texts are embedded
        in one batch (duplicates once) with ``encode`` (default: the embedder's), when the
        coder has heads or ``inputs`` asks for the head input rows (training).
        """
        prepared = []
        for speakers, _roles, texts in conversations:
            units = reading_units(speakers, texts)
            norms = [normalise_speech(unit_text(u, texts)) for u in units]
            prepared.append((units, norms))
        need = self.heads is not None or inputs
        vectors: dict[str, np.ndarray] = {}
        if need:
            if encode is None:
                if self.embedder is None:
                    raise ValueError("analyse(inputs=True) needs an encoder")
                encode = self.embedder.encode
            unique = list(dict.fromkeys(n.text for units, norms in prepared
                                        for u, n in zip(units, norms, strict=True) if u.coded))
            if unique:
                matrix = encode(unique)
                vectors = {t: matrix[i] for i, t in enumerate(unique)}
        out: list[list[TurnAnalysis]] = []
        for (speakers, roles, texts), (units, norms) in zip(conversations, prepared,
                                                            strict=True):
            out.append(self._analyse_one(speakers, roles, texts, units, norms,
                                         vectors if need else None, inputs))
        return out

    def _analyse_one(self, speakers: Sequence[str], roles: Sequence[str],
                     texts: Sequence[str], units: list[ReadingUnit], norms: list[Normalised],
                     vectors: dict[str, np.ndarray] | None,
                     inputs: bool) -> list[TurnAnalysis]:
        u_speakers = [u.speaker for u in units]
        u_roles = [roles[u.head] for u in units]
        u_texts = [n.text for n in norms]
        emb = None
        if vectors is not None:
            dim = next(iter(vectors.values())).shape[0] if vectors else 384
            emb = np.zeros((len(units), dim), dtype=np.float32)
            for k, (u, n) in enumerate(zip(units, norms, strict=True)):
                if u.coded:
                    emb[k] = vectors[n.text]
        feats = turn_features(u_speakers, u_roles, u_texts, emb,
                              skip=[not u.coded for u in units])
        hits = [self.rules.apply(t, r, f) if u.coded else []
                for u, t, r, f in zip(units, u_texts, u_roles, feats, strict=True)]
        x = conf = None
        if emb is not None and len(units):
            x = head_inputs(remove_length(emb, self.length_directions), feats, hits, self.codes,
                            self.heads.previous_turn if self.heads is not None
                            else PREVIOUS_TURN_DEFAULT)
            if self.heads is not None:
                conf = self.heads.confidences(x)
        result: list[TurnAnalysis | None] = [None] * len(texts)
        for k, u in enumerate(units):
            if u.coded:
                a = self._decide(texts[u.head], unit_text(u, texts), norms[k], u_roles[k],
                                 feats[k], hits[k], None if conf is None else conf[k])
                head = TurnAnalysis(a.features, a.hits, a.scores, a.assigned, u, True,
                                    x[k] if inputs and x is not None else None)
            else:
                head = TurnAnalysis(feats[k], (), self._zero(u_roles[k]), (), u, True)
            result[u.head] = head
            for j in u.indices[1:]:
                result[j] = TurnAnalysis(feats[k], (), self._zero(roles[j]), (), u, False)
        return [r for r in result if r is not None]

    def _zero(self, role: str) -> dict[str, float]:
        return {c: 0.0 for c in self.codes if FAMILY_ROLE[family_of(c)] == role}

    def _decide(self, text: str, joined: str, norm: Normalised, role: str, f: TurnFeatures,
                hits: list[RuleHit], conf: np.ndarray | None) -> TurnAnalysis:
        """Scores and assignments of one unit. ``joined`` is the unit's original text (the
        head utterance's ``text`` first), ``norm`` its normalised form; evidence spans are
        mapped back onto ``text`` (a span inside a joined continuation keeps its words as
        evidence with an empty span)."""
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
                if hit:
                    s, e = hit.start, min(hit.end, hit.start + EVIDENCE_MAX)
                else:
                    _, s, e = evidence_for(norm.text, code)
                s, e = norm.original_span(s, e)
                ev = joined[s:e][:EVIDENCE_MAX]
                s, e = (s, min(e, len(text))) if s < len(text) else (0, 0)
                assigned.append(CodeAssignment(code, round(float(score), 4), ev, s, e,
                                               source))
        assigned.sort(key=lambda a: (self.codes.index(a.code)))
        return TurnAnalysis(f, tuple(hits), scores, tuple(assigned))

    # -- public -----------------------------------------------------------------------
    def code_many(self, transcripts: Sequence[Transcript]) -> list[CodedTranscript]:
        convs = [([u.speaker for u in t], [u.role for u in t], [u.text for u in t])
                 for t in transcripts]
        results = self.analyse(convs)
        model = self.embedder.name if self.heads is not None and self.embedder else None
        heads_version = self.heads.version if self.heads is not None else None
        calibration = (self.heads.manifest.get("calibration_data") or CALIBRATION_NOTE
                       if self.heads is not None else RULES_CALIBRATION_NOTE)
        return [
            CodedTranscript(t, tuple(
                CodedUtterance(u, a.assigned, a.scores,
                               a.unit if a.unit is not None and (
                                   a.unit.kind != "turn" or len(a.unit.indices) > 1) else None)
                for u, a in zip(t.utterances, res, strict=True)), self.mode, model,
                heads_version, calibration)
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
