"""Benchmark of the transcript coder: session latency, batch throughput vs the raw encoder,
model load time, and the two encoders side by side.

A "50-minute session" of about 500 utterances is assembled from the labelled corpus
(whole sessions concatenated in file order, one utterance every 6 seconds), then:

* model load: a fresh Python process imports the coder, verifies the sha256 of the weights
  and builds the encoder (``load_coder()``), as ``alliance analyze`` does; best and median of
  ``--load-runs`` processes (target <= 5 s);
* session latency: ``analyze_transcripts`` on the session (coding, episodes, report), after
  the model is loaded (target <= 2 s on 2 CPU cores; the median of ``--repeat`` runs counts);
* batch throughput (utterances/s) of ``analyze_transcripts`` on several sessions, beside the
  raw throughput of the same encoder on the same texts in the same run: ratio = coder /
  encoder (target >= 0.7);
* with ``--reference`` (default on when torch is installed): the sentence-transformers
  encoder on the same texts, its throughput, the speed-up of the chosen encoder over it and
  the largest difference between their embeddings.

Run:  PYTHONPATH=src python benchmarks/bench_coding.py [--encoder onnx] [--repeat 5]
Pin to two cores with ``taskset -c 0,1`` where the machine has more.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
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


LOAD = """
import time
t = time.perf_counter()
from alliance.coding.coder import load_coder
load_coder(threads={threads})
print(time.perf_counter() - t)
"""


def load_seconds(encoder: str, threads: int, runs: int) -> list[float]:
    """Wall time of importing and loading the coder in fresh processes."""
    env = {**os.environ, "ALLIANCE_ENCODER": encoder}
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH")) if p)
    out = []
    for _ in range(runs):
        proc = subprocess.run([sys.executable, "-c", LOAD.format(threads=threads)], env=env,
                              capture_output=True, text=True, check=True)
        out.append(float(proc.stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--load-runs", type=int, default=3)
    ap.add_argument("--utterances", type=int, default=500)
    ap.add_argument("--batch-sessions", type=int, default=3)
    ap.add_argument("--encoder", choices=["onnx", "sentence-transformers"], default="onnx")
    ap.add_argument("--reference", action=argparse.BooleanOptionalAction, default=None,
                    help="also run the sentence-transformers encoder (default: if installed)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from alliance.coding.analysis import analyze_transcripts
    from alliance.coding.coder import Coder
    from alliance.coding.embedder import load_embedder
    from alliance.coding.heads import load_heads, load_rule_precision
    from alliance.coding.rules import RuleSet

    figures: dict[str, object] = {"threads": args.threads, "cpu_count": os.cpu_count(),
                                  "encoder": args.encoder}
    if hasattr(os, "sched_getaffinity"):
        figures["affinity_cores"] = len(os.sched_getaffinity(0))

    loads = load_seconds(args.encoder, args.threads, args.load_runs)
    figures["model_load_s"] = {"best": round(min(loads), 3),
                               "median": round(statistics.median(loads), 3)}

    embedder = load_embedder(threads=args.threads, encoder=args.encoder)
    figures["runtime"] = embedder.runtime
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
        vectors = embedder.encode(batch_texts)
        enc.append(time.perf_counter() - t)
        t = time.perf_counter()
        analyze_transcripts(batch, coder)
        cod.append(time.perf_counter() - t)
    n = len(batch_texts)
    enc_tp = n / statistics.median(enc)
    cod_tp = n / statistics.median(cod)
    figures["batch_utterances"] = n
    figures["encoder_utt_per_s"] = round(enc_tp, 1)
    figures["coder_utt_per_s"] = round(cod_tp, 1)
    figures["coder_to_encoder_ratio"] = round(cod_tp / enc_tp, 3)

    rules_only = Coder(rules)
    t = time.perf_counter()
    analyze_transcripts(batch, rules_only)
    figures["rules_only_utt_per_s"] = round(n / (time.perf_counter() - t), 1)

    reference = args.reference
    if reference is None:
        import importlib.util

        reference = (args.encoder != "sentence-transformers"
                     and importlib.util.find_spec("sentence_transformers") is not None)
    if reference:
        ref_loads = load_seconds("sentence-transformers", args.threads, 1)
        ref = load_embedder(threads=args.threads, encoder="sentence-transformers")
        ref.encode(batch_texts[:64])
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            ref_vectors = ref.encode(batch_texts)
            times.append(time.perf_counter() - t)
        ref_tp = n / statistics.median(times)
        figures["reference"] = {
            "runtime": ref.runtime, "model_load_s": round(ref_loads[0], 3),
            "encoder_utt_per_s": round(ref_tp, 1),
            "speedup": round(enc_tp / ref_tp, 2),
            "max_abs_difference": float(abs(vectors - ref_vectors).max()),
            "min_cosine": round(float((vectors * ref_vectors).sum(axis=1).min()), 7),
        }

    targets = {
        "model load <= 5 s": statistics.median(loads) <= 5,
        "session <= 2 s": statistics.median(latencies) <= 2,
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
