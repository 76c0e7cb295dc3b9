"""High-precision cue rules: the lexicon in ``lexicon.yaml`` plus a few context rules.

A rule fires on an utterance of the right role when its pattern matches and its context
conditions hold; it yields the code, the matched span (the evidence) and the rule's
confidence (its measured precision when ``heads/rules-calibration.json`` is present, else
its prior). Matching ignores case and apostrophes, so ``dont`` in a pattern matches "don't"
and "don’t"; spans always point into the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from alliance.coding.codebook import FAMILY_ROLE, family_of, load_codebook
from alliance.coding.features import TurnFeatures
from alliance.errors import CodingError

_APOSTROPHES = "'’‘`"
_CONDITIONS = ("max_words", "min_words", "after_question", "after_open_question",
               "advice_requested")


@dataclass(frozen=True)
class Rule:
    id: str
    code: str
    pattern: re.Pattern[str]
    prior: float
    when: tuple[tuple[str, Any], ...] = ()

    def applies(self, f: TurnFeatures) -> bool:
        for key, value in self.when:
            if key == "max_words" and f.words > value:
                return False
            if key == "min_words" and f.words < value:
                return False
            if key == "after_question" and f.after_question != value:
                return False
            if key == "after_open_question" and f.after_open_question != value:
                return False
            if key == "advice_requested" and f.advice_requested != value:
                return False
        return True


@dataclass(frozen=True)
class RuleHit:
    code: str
    rule: str
    start: int
    end: int
    confidence: float


@dataclass(frozen=True)
class ContextRule:
    """A rule on features alone (no words): its id, code and prior precision."""

    id: str
    code: str
    prior: float


#: A reply far shorter than the speaker's own norm to an open question, that is not a
#: listener token. The 0.3 ratio and 3-word cap are this project's choices (Künsch et al.
#: 2023 detect minimal-response ruptures from such brevity and pauses).
MINIMAL_SHORT = ContextRule("minimal.short_reply", "withdrawal.minimal_response", 0.45)


def normalise(text: str) -> tuple[str, list[int]]:
    """Drop apostrophes; return the new text and, per new char, its index in ``text``."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch in _APOSTROPHES:
            continue
        chars.append(ch)
        index.append(i)
    return "".join(chars), index


def parse_lexicon(data: Any, source: str = "lexicon") -> tuple[Rule, ...]:
    if not isinstance(data, dict) or data.get("schema") != "alliance.lexicon/1":
        raise CodingError(f"{source}: not a lexicon (schema alliance.lexicon/1)")
    book = load_codebook()
    rules: list[Rule] = []
    seen: set[str] = set()
    for code, entries in (data.get("rules") or {}).items():
        if code not in book:
            raise CodingError(f"{source}: unknown code {code!r}")
        for e in entries:
            rid = e.get("id")
            if not rid or rid in seen:
                raise CodingError(f"{source}: rule under {code} has a missing or repeated id")
            seen.add(rid)
            when = e.get("when") or {}
            bad = set(when) - set(_CONDITIONS)
            if bad:
                raise CodingError(f"{source}: rule {rid}: unknown conditions {sorted(bad)}")
            try:
                pattern = re.compile(e["pattern"], re.IGNORECASE)
            except (KeyError, re.error) as exc:
                raise CodingError(f"{source}: rule {rid}: bad pattern: {exc}") from None
            prior = float(e.get("prior", 0.5))
            if not 0 < prior < 1:
                raise CodingError(f"{source}: rule {rid}: prior must be in (0, 1)")
            rules.append(Rule(rid, code, pattern, prior, tuple(sorted(when.items()))))
    return tuple(rules)


@lru_cache(maxsize=1)
def packaged_rules() -> tuple[Rule, ...]:
    text = resources.files("alliance.coding").joinpath("lexicon.yaml").read_text("utf-8")
    return parse_lexicon(yaml.safe_load(text), "lexicon.yaml")


def rule_ids() -> tuple[str, ...]:
    return (*(r.id for r in packaged_rules()), MINIMAL_SHORT.id)


class RuleSet:
    """The rules with their confidences (measured precision or prior)."""

    def __init__(self, rules: tuple[Rule, ...] | None = None,
                 precision: dict[str, float] | None = None) -> None:
        self.rules = rules if rules is not None else packaged_rules()
        self.precision = dict(precision or {})

    def confidence(self, rule_id: str, prior: float) -> float:
        return self.precision.get(rule_id, prior)

    def apply(self, text: str, role: str, f: TurnFeatures) -> list[RuleHit]:
        """All rule hits on one utterance (several per code are possible)."""
        norm, index = normalise(text)
        hits: list[RuleHit] = []
        for rule in self.rules:
            if FAMILY_ROLE[family_of(rule.code)] != role or not rule.applies(f):
                continue
            if rule.code == "withdrawal.minimal_response" and f.backchannel:
                continue  # a listener token is engagement, not withdrawal
            m = rule.pattern.search(norm)
            if m is None or m.end() == m.start():
                continue
            start = index[m.start()]
            end = index[m.end() - 1] + 1
            hits.append(RuleHit(rule.code, rule.id, start, end,
                                self.confidence(rule.id, rule.prior)))
        if (role == "client" and f.after_open_question and not f.backchannel
                and 0 < f.words <= 3 and f.length_ratio < 0.3
                and not any(h.code == MINIMAL_SHORT.code for h in hits)):
            hits.append(RuleHit(MINIMAL_SHORT.code, MINIMAL_SHORT.id, 0, len(text.rstrip()),
                                self.confidence(MINIMAL_SHORT.id, MINIMAL_SHORT.prior)))
        return hits
