"""Measured recall and over-redaction of de-identification.

The synthetic corpus is seeded; the patterns were tuned on seed 1, so these tests use
other seeds. The hand-written files hold forms the generator does not produce.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from alliance.testing.phi_corpus import Evaluation, evaluate, planted_sentences
from alliance.transcripts import deidentify_text

DATA = Path(__file__).parent / "data"
STRUCTURED = ("EMAIL", "URL", "PHONE", "DATE", "ADDRESS", "ID")


@functools.cache
def _evaluation(seed: int) -> Evaluation:
    return evaluate(seed, 1500)


@pytest.mark.parametrize("seed", [2026, 7])
def test_at_least_99_percent_of_planted_identifiers_are_removed(seed: int) -> None:
    ev = _evaluation(seed)
    assert sum(ev.planted[k] for k in STRUCTURED) > 1000
    assert ev.recall(STRUCTURED) >= 0.99, ev.misses[:10]
    assert ev.recall(("NAME",)) >= 0.99, ev.misses[:10]


def test_clean_text_is_almost_never_redacted() -> None:
    ev = _evaluation(2026)
    assert ev.clean_tokens > 10_000
    assert ev.clean_tokens_replaced / ev.clean_tokens <= 0.005
    assert ev.outside_tokens_replaced / ev.outside_tokens <= 0.005


def test_corpus_is_reproducible_from_its_seed() -> None:
    assert planted_sentences(3, 50) == planted_sentences(3, 50)
    assert planted_sentences(3, 50) != planted_sentences(4, 50)


def test_planted_spans_point_at_the_identifiers() -> None:
    for item in planted_sentences(11, 200):
        for _kind, start, end in item.spans:
            assert item.text[start:end].strip() == item.text[start:end] != ""


def _marked(path: Path) -> list[tuple[str, list[tuple[str, int, int]]]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, spans, pos = "", [], 0
        for m in re.finditer(r"«(\w+)\|([^»]+)»", line):
            text += line[pos:m.start()]
            spans.append((m.group(1), len(text), len(text) + len(m.group(2))))
            text += m.group(2)
            pos = m.end()
        out.append((text + line[pos:], spans))
    return out


@pytest.mark.parametrize("name", ["deid_handwritten.txt", "deid_handwritten_2.txt",
                                  "deid_handwritten_3.txt"])
def test_hand_written_identifiers_are_removed_and_clean_lines_kept(name: str) -> None:
    missed, total = [], 0
    for text, spans in _marked(DATA / name):
        result = deidentify_text(text)
        covered = {p for r in result.replacements for p in range(r.start, r.end)}
        if not spans:
            assert result.text == text, f"over-redacted: {result.text}"
        for kind, start, end in spans:
            total += 1
            if not all(p in covered for p in range(start, end) if text[p].isalnum()
                       and not (text[start:end].startswith("on ") and p < start + 2)):
                missed.append((kind, text[start:end]))
    assert total >= 20
    assert not missed
