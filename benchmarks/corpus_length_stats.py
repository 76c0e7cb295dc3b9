"""Share of gold-coded turns by role and word-count band in the labelled corpus (issue #10).

A corpus where long turns are nearly always coded teaches the heads to measure length. This
prints, per role and band of words, how many labelled turns there are and what share carries
any gold code, the share for long turns (client 40+, therapist 20+ words), and a rough count of
turns with a speech-to-text disfluency mark (um, uh, erm, you know, I mean, a dash, a repeated
word).

    PYTHONPATH=src python benchmarks/corpus_length_stats.py [CORPUS_DIR]
"""
from __future__ import annotations

import re
import sys
from collections import defaultdict

from alliance.coding.corpus import load_corpus

BANDS = ((1, 2), (3, 7), (8, 19), (20, 39), (40, 79), (80, 10**6))
DISFLUENCY = re.compile(r"\b(um+|uh+|erm|er|you know|i mean)\b|—|--|-\s|\b(\w+),?\s+\2\b", re.I)


def band(n: int) -> str:
    for lo, hi in BANDS:
        if lo <= n <= hi:
            return f"{lo}-{hi}" if hi < 10**6 else f"{lo}+"
    return "0"


def main(root: str | None = None) -> None:
    corpus = load_corpus(root)
    stats: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    long_: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    disfl = [0, 0]
    for conv in corpus.conversations:
        for i, codes in conv.labels.items():
            turn = conv.turns[i]
            if turn.role not in ("client", "therapist"):
                continue
            n = len(turn.text.split())
            s = stats[(turn.role, band(n))]
            s[0] += 1
            s[1] += bool(codes)
            cut = 40 if turn.role == "client" else 20
            if n >= cut:
                long_[turn.role][0] += 1
                long_[turn.role][1] += bool(codes)
            disfl[0] += 1
            disfl[1] += bool(DISFLUENCY.search(turn.text))
    print(f"corpus {corpus.root}  labelled turns {corpus.labelled_count()}")
    for role in ("client", "therapist"):
        print(f"\n{role}: band  turns  coded  share")
        for lo, _hi in BANDS:
            key = (role, band(lo))
            t, c = stats.get(key, [0, 0])
            print(f"  {band(lo):>7} {t:6d} {c:6d}  {c / t if t else 0:.2f}")
    for role, cut in (("client", 40), ("therapist", 20)):
        t, c = long_[role]
        print(f"{role} turns of {cut}+ words: {t}, coded {c} ({c / t if t else 0:.1%})")
    print(f"turns with a disfluency mark: {disfl[1]}/{disfl[0]} ({disfl[1] / disfl[0]:.1%})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
