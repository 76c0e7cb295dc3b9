"""Reference rates for the alliance index, from the project's own train + dev sessions.

The index (alliance.coding.summary) turns each component's rate into [0, 1] with a smooth
transform whose scale is the median non-zero rate of the project's train + dev sessions,
coded with their gold labels (the median over all sessions is 0 for rare components such as
advice); its prior is the median index of those sessions. This script measures
those medians (and, as a check, how the index relates to session length there). It reads
only the project's corpus; no external data.

    PYTHONPATH=src python benchmarks/index_reference.py
    PYTHONPATH=src python benchmarks/index_reference.py --predicted [CACHE.npz]   # + coder
"""

from __future__ import annotations

import statistics

from alliance.coding import summary as S
from alliance.coding.coder import CodeAssignment, CodedUtterance
from alliance.coding.corpus import load_corpus
from alliance.coding.episodes import find_episodes
from alliance.coding.external import spearman
from alliance.transcripts.model import Utterance


def gold_session(conv):  # type: ignore[no-untyped-def]
    return [CodedUtterance(Utterance(i, t.speaker, t.role, t.text),  # type: ignore[arg-type]
                           tuple(CodeAssignment(c, 1.0, "", 0, 0, "rule")
                                 for c in conv.labels.get(i, ())))
            for i, t in enumerate(conv.turns)]


def main() -> None:
    corpus = load_corpus()
    sessions = [c for c in corpus.sessions if c.split in ("train", "dev")]
    rates: dict[str, list[float]] = {k: [] for k in S.COMPONENTS}
    index, raw, turns = [], [], []
    for conv in sessions:
        utts = gold_session(conv)
        eps = find_episodes(utts)
        s = S.summarise(utts, eps)
        t = s.turns["coded_therapist"] or 1
        c = s.turns["coded_client"] or 1
        exp = s.expected_code_counts
        rates["bond"].append(sum(exp.get(k, 0) for k in S.BOND_CODES) / t)
        rates["collaboration"].append(sum(exp.get(k, 0) for k in S.COLLABORATION_CODES) / t)
        rates["advice"].append(sum(exp.get(k, 0) for k in S.ADVICE_CODES) / t)
        rates["threat"].append(sum(v for k, v in exp.items() if k.startswith("threat.")
                                   and k not in S.ADVICE_CODES) / t)
        strain = sum(S._UNRESOLVED_WEIGHT[e.resolution] for e in eps)
        rates["strain"].append(strain / c)
        if s.resolution_rate is not None:
            rates["repair"].append(s.resolution_rate)
        index.append(s.alliance_index)
        raw.append(s.raw_index)
        turns.append(len(conv.turns))
    print(f"{len(sessions)} train+dev sessions (gold codes)")
    for k, v in rates.items():
        nonzero = [x for x in v if x > 0]
        print(f"  {k:14} median rate {statistics.median(v):.3f} "
              f"(quartiles {statistics.quantiles(v, n=4)[0]:.3f}-"
              f"{statistics.quantiles(v, n=4)[2]:.3f}; sessions {len(v)}); "
              f"scale = median of non-zero rates {statistics.median(nonzero):.3f} "
              f"({len(nonzero)} sessions)")
    print(f"  raw index (before shrinkage): median {statistics.median(raw):.3f} (the prior)")
    print(f"  index with current constants: median {statistics.median(index):.3f}, "
          f"Spearman with turns {spearman(index, turns):.3f}, raw index with turns "
          f"{spearman(raw, turns):.3f}")


def predicted_vs_gold(cache: str | None) -> None:
    """On the test sessions: the index from the coder's codes against the gold-code index."""
    from alliance.coding.coder import load_coder
    from alliance.coding.embedder import EmbeddingCache
    from alliance.coding.trainer import conversation_inputs

    corpus = load_corpus()
    sessions = [c for c in corpus.sessions if c.split == "test"]
    coder = load_coder()
    assert coder.embedder is not None
    enc = EmbeddingCache(coder.embedder, cache)
    results = coder.analyse([conversation_inputs(c) for c in sessions], enc.encode)
    gold_i, pred_i, turns = [], [], []
    for conv, res in zip(sessions, results, strict=True):
        g = gold_session(conv)
        p = [CodedUtterance(u.utterance, a.assigned, a.scores, a.unit)
             for u, a in zip(g, res, strict=True)]
        gold_i.append(S.summarise(g, find_episodes(g)).alliance_index)
        pred_i.append(S.summarise(p, find_episodes(p)).alliance_index)
        turns.append(len(conv.turns))
    print(f"{len(sessions)} test sessions: Spearman(index from coder, index from gold codes) "
          f"{spearman(pred_i, gold_i):.3f}; Spearman(index from coder, turns) "
          f"{spearman(pred_i, turns):.3f}")


if __name__ == "__main__":
    import sys

    main()
    if "--predicted" in sys.argv:
        predicted_vs_gold(sys.argv[sys.argv.index("--predicted") + 1]
                          if len(sys.argv) > sys.argv.index("--predicted") + 1 else None)
