"""Benchmark of the transcript coder: session latency, batch throughput vs the raw encoder,
model load time.

A "50-minute session" of about 500 utterances is assembled from the labelled corpus
(whole sessions concatenated in file order, one utterance every 6 seconds), then:

* model load: importing torch + sentence-transformers, verifying the sha256 and loading the
  model, in this process (target <= 5 s);
* session latency: ``Coder.code`` + ``build_report`` for the session, after the model is
  loaded (target <= 2 s on 2 CPU cores);
* batch throughput (utterances/s) of ``analyze_transcripts`` on several sessions, beside the
  raw encoder throughput (``SentenceTransformer.encode`` on the same texts, same batch size,
  same run): ratio = coder / encoder (target >= 0.7).

Run:  PYTHONPATH=src python benchmarks/bench_coding.py [--threads 2] [--repeat 3]
Pin to two cores with ``taskset -c 0,1`` where the machine has more.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time


def build_sessions(count: int, target: int = 500):  # type: ignore[no-untyped-def]
    """``count`` sessions of ``target`` utterances from disjoint runs of corpus sessions."""
    from alliance.coding.corpus import load_corpus
    from alliance.transcripts.model import Transcript, Utterance

    sessions = load_corpus().sessions
    out = []
    k = 0
    for n in range(count):
        turns: list[tuple[str, str, str]] = []
        while len(turns) < target:
            conv = sessions[k % len(sessions)]
            turns.extend((f"{conv.id}:{t.speaker}" if t.role == "client" else "T", t.role,
                          t.text) for t in conv.turns)
            k += 1
        utts = tuple(Utterance(i, s, r, x, start=6.0 * i, end=6.0 * i + 5.5)  # type: ignore[arg-type]
                     for i, (s, r, x) in enumerate(turns[:target]))
        out.append(Transcript(utts, source=f"bench-session-{n}", format="bench"))
    if k > len(sessions):
        print(f"note: the corpus has {len(sessions)} sessions; {k} were needed, so some "
              "repeat across the batch")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--utterances", type=int, default=500)
    ap.add_argument("--batch-sessions", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    figures: dict[str, object] = {"threads": args.threads, "cpu_count": os.cpu_count()}
    if hasattr(os, "sched_getaffinity"):
        figures["affinity_cores"] = len(os.sched_getaffinity(0))

    t0 = time.perf_counter()
    import torch  # noqa: F401 - timed: part of what loading the model costs

    t_import = time.perf_counter() - t0
    from alliance.coding.analysis import analyze_transcripts
    from alliance.coding.coder import Coder
    from alliance.coding.embedder import load_embedder, packaged_model_dir, sha256_file
    from alliance.coding.heads import load_heads, load_rule_precision
    from alliance.coding.rules import RuleSet

    t1 = time.perf_counter()
    embedder = load_embedder(threads=args.threads)
    t_load = time.perf_counter() - t1
    t2 = time.perf_counter()
    sha256_file(packaged_model_dir() / "model.safetensors")
    t_sha = time.perf_counter() - t2
    figures["model_load_s"] = round(t_import + t_load, 3)
    figures["model_load_parts_s"] = {"import_torch": round(t_import, 3),
                                     "verify_and_load": round(t_load, 3),
                                     "of_which_sha256": round(t_sha, 3)}

    rules = RuleSet(precision=load_rule_precision())
    coder = Coder(rules, embedder, load_heads())
    batch = build_sessions(args.batch_sessions, args.utterances)
    session = batch[0]
    embedder.encode([u.text for u in session][:64])  # warm-up

    latencies = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        analyze_transcripts([session], coder)
        latencies.append(time.perf_counter() - t)
    figures["session_utterances"] = len(session)
    figures["session_latency_s"] = {"best": round(min(latencies), 3),
                                    "median": round(statistics.median(latencies), 3)}

    batch_texts = [u.text for t in batch for u in t]
    # the coder encodes each distinct text once; report how much that saves
    figures["batch_distinct_text_share"] = round(len(set(batch_texts)) / len(batch_texts), 3)
    enc, cod = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        embedder.encode(batch_texts)
        enc.append(time.perf_counter() - t)
        t = time.perf_counter()
        analyze_transcripts(batch, coder)
        cod.append(time.perf_counter() - t)
    n = len(batch_texts)
    enc_tp = n / min(enc)
    cod_tp = n / min(cod)
    figures["batch_utterances"] = n
    figures["encoder_utt_per_s"] = round(enc_tp, 1)
    figures["coder_utt_per_s"] = round(cod_tp, 1)
    figures["coder_to_encoder_ratio"] = round(cod_tp / enc_tp, 3)

    rules_only = Coder(rules)
    t = time.perf_counter()
    analyze_transcripts(batch, rules_only)
    figures["rules_only_utt_per_s"] = round(n / (time.perf_counter() - t), 1)

    targets = {
        "model load <= 5 s": figures["model_load_s"] <= 5,  # type: ignore[operator]
        "session <= 2 s": min(latencies) <= 2,
        "coder/encoder >= 0.7": cod_tp / enc_tp >= 0.7,
    }
    figures["targets"] = {k: ("met" if v else "MISSED") for k, v in targets.items()}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:28s} {value}")


if __name__ == "__main__":
    main()
