"""Validating the practice scorer: labelled responses, agreement between passes, accuracy.

Files (``data/training/``):

* ``responses.yaml``: ``{schema: alliance.training-responses/1, responses: [{id, case,
  stage, client, response}, ...]}``, with no labels;
* ``labels-passN.yaml``: ``{schema: alliance.training-labels/1, pass: N, labels: {id:
  {verdict, steps: [...], technique_before_repair}}}``, one file per labelling pass.

The split is a fixed function of the id (:func:`split_of`): 40 % held out, 60 % for
development; the scorer's detectors are developed on the development part only.

Cohen's kappa (Cohen 1960) for two raters over the same items:
``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the observed agreement and ``p_e`` the
agreement expected from each rater's marginal proportions. For the example below
(sklearn.metrics.cohen_kappa_score gives the same figure), p_o = 0.6 and p_e = 0.52:

>>> round(cohen_kappa(list("aabba"), list("abbba")), 4)
0.6154
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alliance.errors import TrainingError
from alliance.training.feedback import ResponseScore, score_trainee_response
from alliance.training.steps import STEP_NAMES
from alliance.training.verdicts import VERDICTS
from alliance.yamltext import load_yaml

HELDOUT_SHARE = 2  # of 5 hash buckets


@dataclass(frozen=True)
class LabelledResponse:
    id: str
    case: str
    stage: int
    client: str
    response: str


@dataclass(frozen=True)
class Label:
    verdict: str
    steps: frozenset[str]
    technique_before_repair: bool


def split_of(response_id: str) -> str:
    """``"heldout"`` or ``"dev"``, fixed by the id (SHA-256, 2 buckets of 5 held out).

    >>> split_of("r001"), split_of("r005")
    ('heldout', 'dev')
    """
    bucket = int(hashlib.sha256(response_id.encode("utf-8")).hexdigest()[:8], 16) % 5
    return "heldout" if bucket < HELDOUT_SHARE else "dev"


def _read(path: str | Path) -> Any:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrainingError(f"{p}: cannot read ({exc.__class__.__name__})",
                            file=str(p)) from None
    return load_yaml(text, p.name, TrainingError)


def load_responses(path: str | Path) -> list[LabelledResponse]:
    data = _read(path)
    name = Path(path).name
    if not isinstance(data, dict) or data.get("schema") != "alliance.training-responses/1" \
            or not isinstance(data.get("responses"), list):
        raise TrainingError(f"{name}: not an alliance.training-responses/1 file")
    out = []
    for i, r in enumerate(data["responses"]):
        try:
            out.append(LabelledResponse(str(r["id"]), str(r["case"]), int(r["stage"]),
                                        str(r["client"]), str(r["response"])))
        except (KeyError, TypeError, ValueError):
            raise TrainingError(f"{name}: responses[{i}]: needs id, case, stage, client and "
                                f"response") from None
    ids = [r.id for r in out]
    if len(set(ids)) != len(ids):
        dup = next(i for i, n in Counter(ids).items() if n > 1)
        raise TrainingError(f"{name}: duplicate response id {dup!r}")
    return out


def load_labels(path: str | Path) -> dict[str, Label]:
    data = _read(path)
    name = Path(path).name
    if not isinstance(data, dict) or data.get("schema") != "alliance.training-labels/1" or \
            not isinstance(data.get("labels"), dict):
        raise TrainingError(f"{name}: not an alliance.training-labels/1 file")
    out: dict[str, Label] = {}
    for rid, lab in data["labels"].items():
        where = f"{name}: labels.{rid}"
        if not isinstance(lab, dict) or lab.get("verdict") not in VERDICTS:
            raise TrainingError(f"{where}.verdict: one of {', '.join(VERDICTS)} is required")
        steps = lab.get("steps") or []
        bad = [s for s in steps if s not in STEP_NAMES]
        if bad:
            raise TrainingError(f"{where}.steps: unknown step {bad[0]!r}")
        out[str(rid)] = Label(lab["verdict"], frozenset(steps),
                              bool(lab.get("technique_before_repair", False)))
    return out


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Cohen's kappa of two label sequences; ``None`` when chance agreement is total."""
    if len(a) != len(b) or not a:
        raise TrainingError("kappa needs two label lists of the same, non-zero length")
    n = len(a)
    p_o = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if p_e == 1:
        return None
    return (p_o - p_e) / (1 - p_e)


def agreement(first: Mapping[str, Label], second: Mapping[str, Label]) -> dict[str, Any]:
    """Kappa and raw agreement between two passes on the ids both labelled."""
    ids = sorted(set(first) & set(second))
    if not ids:
        raise TrainingError("the two label files share no response ids")
    out: dict[str, Any] = {"n": len(ids)}
    va = [first[i].verdict for i in ids]
    vb = [second[i].verdict for i in ids]
    out["verdict"] = {"kappa": _round(cohen_kappa(va, vb)),
                      "agreement": round(sum(x == y for x, y in zip(va, vb, strict=True))
                                         / len(ids), 3)}
    for step in (*STEP_NAMES, "technique_before_repair"):
        sa = [_has(first[i], step) for i in ids]
        sb = [_has(second[i], step) for i in ids]
        out[step] = {"kappa": _round(cohen_kappa(sa, sb)),
                     "agreement": round(sum(x == y for x, y in zip(sa, sb, strict=True))
                                        / len(ids), 3)}
    return out


def _has(label: Label, step: str) -> bool:
    if step == "technique_before_repair":
        return label.technique_before_repair
    return step in label.steps


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _f1(tp: int, fp: int, fn: int) -> dict[str, float | int | None]:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else (0.0 if (tp + fp) and (tp + fn) else None)
    return {"precision": _round(p), "recall": _round(r), "f1": _round(f), "support": tp + fn}


def evaluate(responses: Iterable[LabelledResponse], labels: Mapping[str, Label],
             split: str = "heldout", scorer: Any = None) -> dict[str, Any]:
    """Score the responses of ``split`` (``dev``, ``heldout`` or ``all``) against ``labels``.

    Returns verdict accuracy, the confusion table (label rows, scorer columns), per-step and
    ``technique_before_repair`` precision/recall/F1, and the misclassified ids.
    """
    score = scorer or (lambda r: score_trainee_response(r.response, r.client))
    rows = [r for r in responses if r.id in labels and (split == "all" or
                                                        split_of(r.id) == split)]
    if not rows:
        raise TrainingError(f"no labelled responses in split {split!r}")
    confusion = {v: dict.fromkeys(VERDICTS, 0) for v in VERDICTS}
    counts = {s: [0, 0, 0] for s in (*STEP_NAMES, "technique_before_repair")}
    wrong = []
    for r in rows:
        got: ResponseScore = score(r)
        lab = labels[r.id]
        confusion[lab.verdict][got.verdict] += 1
        if lab.verdict != got.verdict:
            wrong.append({"id": r.id, "label": lab.verdict, "scorer": got.verdict})
        for s, c in counts.items():
            pred = got.technique_before_repair if s == "technique_before_repair" else \
                got.steps[s]
            true = _has(lab, s)
            c[0] += pred and true
            c[1] += pred and not true
            c[2] += true and not pred
    correct = sum(confusion[v][v] for v in VERDICTS)
    return {"split": split, "n": len(rows), "accuracy": round(correct / len(rows), 3),
            "confusion": confusion,
            "steps": {s: _f1(*c) for s, c in counts.items()}, "wrong": wrong}


def render_confusion(confusion: Mapping[str, Mapping[str, int]]) -> str:
    """A Markdown confusion table: rows are labels, columns the scorer's verdicts."""
    head = "| label \\ scorer | " + " | ".join(VERDICTS) + " |"
    sep = "|---" * (len(VERDICTS) + 1) + "|"
    lines = [head, sep]
    for v in VERDICTS:
        lines.append(f"| {v} | " + " | ".join(str(confusion[v][w]) for w in VERDICTS) + " |")
    return "\n".join(lines)
