"""Checking the coder against a labelled set a user holds (external evaluation).

Two formats:

* ``esconv``: a JSON list of conversations as in ESConv (Liu et al. 2021): each item has
  ``dialog`` (or a ``text`` field holding that JSON as a string) with turns ``{"speaker":
  "usr"|"sys", "text", "strategy"}``; supporter (``sys``) turns with a ``strategy`` are the
  labelled turns, help-seeker turns are context. The default label map sends *Reflection of
  feelings* and *Restatement or Paraphrasing* to ``bond.reflection``, *Affirmation and
  Reassurance* to ``bond.affirmation`` and *Providing Suggestions* to
  ``threat.unsolicited_advice``; every other strategy is a negative for all three.
* ``csv``: columns ``speaker,text,label`` (optional ``conversation`` to keep sessions apart,
  optional ``role``). Speaker (or role) must say therapist or client (also: counsellor,
  supporter, T / patient, seeker, C). A row with an empty label is context only; labels are
  mapped to codes by the label map (``label=code`` pairs, or a YAML/JSON file; ``none`` for
  no code), a label that is already a code id maps to itself, and several labels are
  separated by ``;``.

For every code that some label maps to, on the labelled turns of the code's role:
AUROC of the coder's score (Mann-Whitney, ties counted half), precision and recall at the
code's decision threshold, |Spearman(score, words)| among the turns *without* the code (does
length drive false alarms?), and a calibration table (10 equal-width bins of the score:
turns, mean score, observed rate) over all (turn, code) pairs.

Malformed input raises :class:`~alliance.errors.InputFileError` naming the file and place.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alliance.coding.codebook import load_codebook
from alliance.coding.coder import Coder, EncodeFn
from alliance.coding.features import word_count
from alliance.errors import InputFileError

FORMATS = ("esconv", "csv")
ESCONV_LABEL_MAP: dict[str, tuple[str, ...]] = {
    "Reflection of feelings": ("bond.reflection",),
    "Restatement or Paraphrasing": ("bond.reflection",),
    "Affirmation and Reassurance": ("bond.affirmation",),
    "Providing Suggestions": ("threat.unsolicited_advice",),
}
_THERAPIST = {"therapist", "counsellor", "counselor", "supporter", "sys", "t", "clinician",
              "helper"}
_CLIENT = {"client", "patient", "seeker", "usr", "c", "user", "help-seeker"}
BINS = 10
#: The code scored "low by design" after a request for advice (see ``CodeCheck``).
UNSOLICITED = "threat.unsolicited_advice"
#: Map a label to one of these to say "no code" explicitly.
NO_CODE = ("none", "-")


@dataclass
class ExternalSet:
    """Conversations as (speakers, roles, texts), and per turn its labels (None: context)."""

    source: str
    conversations: list[tuple[list[str], list[str], list[str]]] = field(default_factory=list)
    labels: list[list[tuple[str, ...] | None]] = field(default_factory=list)

    @property
    def labelled(self) -> int:
        return sum(1 for conv in self.labels for lab in conv if lab is not None)


def _role(value: str, where: str) -> str:
    v = value.strip().lower()
    if v in _THERAPIST:
        return "therapist"
    if v in _CLIENT:
        return "client"
    raise InputFileError(f"{where}: speaker/role {value!r} is neither therapist nor client "
                         "(add a role column with therapist/client)")


def read_esconv(path: Path) -> ExternalSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not data:
        raise InputFileError(f"{path}: expected a JSON list of ESConv conversations")
    out = ExternalSet(str(path))
    for k, item in enumerate(data):
        where = f"{path}: conversation {k}"
        if isinstance(item, dict) and "dialog" not in item and isinstance(item.get("text"), str):
            try:
                item = json.loads(item["text"])
            except json.JSONDecodeError:
                raise InputFileError(f"{where}: 'text' is not an ESConv JSON string") from None
        dialog = item.get("dialog") if isinstance(item, dict) else None
        if not isinstance(dialog, list):
            raise InputFileError(f"{where}: no 'dialog' list")
        speakers: list[str] = []
        roles: list[str] = []
        texts: list[str] = []
        labels: list[tuple[str, ...] | None] = []
        for j, turn in enumerate(dialog):
            if not isinstance(turn, dict) or not isinstance(turn.get("text"), str) \
                    or not isinstance(turn.get("speaker"), str):
                raise InputFileError(f"{where}, turn {j}: needs 'speaker' and 'text' strings")
            role = _role(turn["speaker"], f"{where}, turn {j}")
            speakers.append(turn["speaker"])
            roles.append(role)
            texts.append(turn["text"])
            strategy = turn.get("strategy")
            labels.append((str(strategy),) if role == "therapist" and strategy else None)
        out.conversations.append((speakers, roles, texts))
        out.labels.append(labels)
    return out


def read_csv(path: Path) -> ExternalSet:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    columns = {c.strip().lower() for c in (reader.fieldnames or [])}
    missing = {"speaker", "text", "label"} - columns
    if missing:
        raise InputFileError(f"{path}: missing column(s) {', '.join(sorted(missing))} "
                             "(need speaker,text,label)")
    out = ExternalSet(str(path))
    current: str | None = None
    for n, raw in enumerate(reader, start=2):
        row = {str(k).strip().lower(): (v or "") for k, v in raw.items() if k is not None}
        if None in raw:
            raise InputFileError(f"{path}, line {n}: more fields than columns")
        conv = row.get("conversation", "")
        if current is None or conv != current:
            out.conversations.append(([], [], []))
            out.labels.append([])
            current = conv
        speakers, roles, texts = out.conversations[-1]
        role_text = row.get("role") or row["speaker"]
        speakers.append(row["speaker"].strip() or role_text)
        roles.append(_role(role_text, f"{path}, line {n}"))
        if not row["text"].strip():
            raise InputFileError(f"{path}, line {n}: empty text")
        texts.append(row["text"])
        labels = tuple(x.strip() for x in row["label"].split(";") if x.strip())
        out.labels[-1].append(labels or None)
    if not out.conversations:
        raise InputFileError(f"{path}: no rows")
    return out


def read_external(path: str | Path, fmt: str) -> ExternalSet:
    """Read a labelled set in ``fmt`` (``esconv`` or ``csv``)."""
    p = Path(path)
    if fmt not in FORMATS:
        raise InputFileError(f"unknown external format {fmt!r} (choose {', '.join(FORMATS)})")
    if not p.is_file():
        raise InputFileError(f"{p}: no such file")
    data = read_esconv(p) if fmt == "esconv" else read_csv(p)
    if not data.labelled:
        raise InputFileError(f"{p}: no labelled turns")
    return data


def parse_label_map(value: str | None, fmt: str) -> dict[str, tuple[str, ...]]:
    """``label=code,label=code`` or a YAML/JSON file of label -> code (or list of codes)."""
    book = load_codebook()
    if value is None:
        return dict(ESCONV_LABEL_MAP) if fmt == "esconv" else {}
    raw: Any
    p = Path(value)
    if p.is_file():
        import yaml

        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise InputFileError(f"{p}: cannot read the label map: {exc}") from None
        if not isinstance(raw, dict):
            raise InputFileError(f"{p}: a label map is a mapping of label -> code")
    else:
        raw = {}
        for pair in value.split(","):
            label, sep, code = pair.partition("=")
            if not sep or not label.strip() or not code.strip():
                raise InputFileError(f"label map: {pair!r} is not label=code")
            raw.setdefault(label.strip(), []).append(code.strip())
    out: dict[str, tuple[str, ...]] = {}
    for label, codes in raw.items():
        codes_t = tuple(c for c in ([codes] if isinstance(codes, str) else codes or ())
                        if c not in NO_CODE)
        for code in codes_t:
            if code not in book:
                raise InputFileError(f"label map: {label!r} -> unknown code {code!r}")
        out[str(label)] = codes_t
    return out


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank."""
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def auroc(scores: Sequence[float] | np.ndarray, labels: Sequence[int] | np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U / (n+ n-)); None without both classes.

    >>> auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels, dtype=int)
    pos, neg = int(y.sum()), int(len(y) - y.sum())
    if not pos or not neg:
        return None
    r = _ranks(s)
    return float((r[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def spearman(a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray) -> float | None:
    """Spearman's rank correlation (Pearson on average ranks); None if undefined.

    >>> spearman([1, 2, 3, 4], [10, 20, 30, 40])
    1.0
    """
    x, y = _ranks(np.asarray(a, dtype=float)), _ranks(np.asarray(b, dtype=float))
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


@dataclass(frozen=True)
class CodeCheck:
    code: str
    positives: int
    negatives: int
    auroc: float | None
    threshold: float
    precision: float | None
    recall: float | None
    spearman_words_negatives: float | None
    #: ``threat.unsolicited_advice`` only: AUROC among the turns that do not answer a request
    #: for advice or a granted permission (the coder's request detector), and how many
    #: labelled positives do answer one. The code is *unsolicited* advice: advice the client
    #: asked for is scored low by design, which a label set that does not tell requested
    #: from unrequested advice counts against the coder.
    auroc_unrequested: float | None = None
    positives_answering_request: int | None = None


@dataclass
class ExternalReport:
    source: str
    turns: int
    codes: list[CodeCheck]
    calibration: list[dict[str, Any]]
    labels_seen: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "labelled_turns": self.turns, "labels": self.labels_seen,
            "codes": [{k: (round(v, 4) if isinstance(v, float) else v)
                       for k, v in c.__dict__.items()} for c in self.codes],
            "calibration": self.calibration,
        }


@dataclass(frozen=True)
class ScoredTurns:
    """Per labelled turn: its role, words, mapped codes and the coder's scores."""

    roles: list[str]
    words: list[int]
    gold: list[frozenset[str]]
    scores: list[dict[str, float]]
    raw_labels: list[tuple[str, ...]]
    conversation: list[int]
    #: the turn answers a request for advice or a granted permission (coder's detector)
    answers_request: list[bool] = field(default_factory=list)


def score_external(data: ExternalSet, coder: Coder, label_map: Mapping[str, Sequence[str]],
                   encode: EncodeFn | None = None) -> ScoredTurns:
    """Run the coder over every conversation and keep the labelled turns."""
    book = load_codebook()
    results = coder.analyse(data.conversations, encode)
    roles: list[str] = []
    words: list[int] = []
    gold: list[frozenset[str]] = []
    scores: list[dict[str, float]] = []
    raw: list[tuple[str, ...]] = []
    conv_ids: list[int] = []
    requested: list[bool] = []
    for k, ((_, conv_roles, texts), labels, res) in enumerate(
            zip(data.conversations, data.labels, results, strict=True)):
        for i, lab in enumerate(labels):
            if lab is None:
                continue
            codes = {c for label in lab for c in label_map.get(label, ())}
            codes |= {label for label in lab if label in book}
            roles.append(conv_roles[i])
            words.append(word_count(texts[i]))
            gold.append(frozenset(codes))
            scores.append(res[i].scores)
            raw.append(lab)
            conv_ids.append(k)
            requested.append(res[i].features.advice_requested)
    return ScoredTurns(roles, words, gold, scores, raw, conv_ids, requested)


def check(turns: ScoredTurns, coder: Coder, label_map: Mapping[str, Sequence[str]],
          source: str = "", keep: Sequence[bool] | None = None) -> ExternalReport:
    """Per-code AUROC, precision/recall at threshold, length correlation, calibration."""
    book = load_codebook()
    idx = [i for i in range(len(turns.roles)) if keep is None or keep[i]]
    targets = sorted({c for codes in label_map.values() for c in codes}
                     | {c for i in idx for c in turns.gold[i]},
                     key=lambda c: book.names.index(c))
    checks: list[CodeCheck] = []
    pairs_p: list[float] = []
    pairs_y: list[int] = []
    for code in targets:
        role = book.codes[code].role
        rows = [i for i in idx if turns.roles[i] == role]
        s = np.array([turns.scores[i].get(code, 0.0) for i in rows])
        y = np.array([int(code in turns.gold[i]) for i in rows])
        w = np.array([turns.words[i] for i in rows])
        threshold = coder.threshold(code)
        pred = s >= threshold
        tp = int((pred & (y == 1)).sum())
        unrequested = answering = None
        if code == UNSOLICITED and turns.answers_request:
            asked = np.array([turns.answers_request[i] for i in rows], dtype=bool)
            unrequested = auroc(s[~asked], y[~asked])
            answering = int((y[asked] == 1).sum())
        checks.append(CodeCheck(
            code, int(y.sum()), int(len(y) - y.sum()), auroc(s, y), threshold,
            tp / int(pred.sum()) if pred.sum() else None,
            tp / int(y.sum()) if y.sum() else None,
            spearman(s[y == 0], w[y == 0]) if (y == 0).sum() >= 3 else None,
            unrequested, answering))
        pairs_p.extend(s.tolist())
        pairs_y.extend(y.tolist())
    seen: dict[str, int] = {}
    for i in idx:
        for label in turns.raw_labels[i]:
            seen[label] = seen.get(label, 0) + 1
    return ExternalReport(source, len(idx), checks, calibration_table(pairs_p, pairs_y), seen)


def calibration_table(probs: Sequence[float], labels: Sequence[int],
                      bins: int = BINS) -> list[dict[str, Any]]:
    """Reliability table: per equal-width score bin, pairs, mean score, observed rate."""
    p = np.asarray(probs, dtype=float)
    y = np.asarray(labels, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1) if len(p) else np.array([])
    out = []
    for k in range(bins):
        mask = which == k
        n = int(mask.sum())
        out.append({"bin": f"{edges[k]:.1f}-{edges[k + 1]:.1f}", "pairs": n,
                    "mean_score": round(float(p[mask].mean()), 4) if n else None,
                    "observed": round(float(y[mask].mean()), 4) if n else None})
    return out


def _fmt(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def render_external(report: ExternalReport) -> str:
    """The external check as plain-text tables."""
    lines = [f"external check: {report.source} ({report.turns} labelled turns)", "",
             f"{'code':32} {'pos':>5} {'neg':>6} {'AUROC':>6} {'thr':>5} {'prec':>6} "
             f"{'recall':>6} {'|rho(score,words)| neg':>22}"]
    for c in report.codes:
        rho = None if c.spearman_words_negatives is None else abs(c.spearman_words_negatives)
        lines.append(f"{c.code:32} {c.positives:>5} {c.negatives:>6} {_fmt(c.auroc):>6} "
                     f"{c.threshold:>5.2f} {_fmt(c.precision):>6} {_fmt(c.recall):>6} "
                     f"{_fmt(rho):>22}")
    for c in report.codes:
        if c.auroc_unrequested is not None:
            lines += ["", f"{c.code}: AUROC {_fmt(c.auroc_unrequested)} among the turns that "
                      f"do not answer a request for advice; {c.positives_answering_request} of "
                      f"the {c.positives} labelled positives answer one (the code is "
                      "*unsolicited* advice: requested advice is scored low by design)"]
    lines += ["", "calibration (all target codes pooled)",
              f"{'score bin':10} {'pairs':>7} {'mean score':>10} {'observed':>9}"]
    for row in report.calibration:
        lines.append(f"{row['bin']:10} {row['pairs']:>7} {_fmt(row['mean_score']):>10} "
                     f"{_fmt(row['observed']):>9}")
    return "\n".join(lines) + "\n"
