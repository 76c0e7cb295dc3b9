"""Parsing and de-identification speed for a 50-minute session (~500 turns).

Prints seconds per session and turns per second for each format's parser (the same
synthetic session written as text, WebVTT, SRT, Whisper JSON, CSV and ConvoKit), and for
de-identification with a roster. Run: ``PYTHONPATH=src python benchmarks/bench_transcripts.py``.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import time
from collections.abc import Callable

from alliance.testing.phi_corpus import ROSTER, planted_sentences
from alliance.transcripts import deidentify_transcript, parse_transcript, write_convokit

TURNS = 500
ROLES = {"SPEAKER_00": "therapist", "SPEAKER_01": "client"}


def _clock(seconds: float) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def session_files() -> dict[str, str]:
    """One synthetic session (6 s per turn) in every format."""
    items = planted_sentences(5, TURNS)
    turns = [("SPEAKER_00" if i % 2 == 0 else "SPEAKER_01", it.text, i * 6.0, i * 6.0 + 5.5)
             for i, it in enumerate(items)]
    text = "\n".join(f"{s}: {t}" for s, t, _, _ in turns)
    vtt = "WEBVTT\n\n" + "\n".join(
        f"{_clock(a)} --> {_clock(b)}\n<v {s}>{t}\n" for s, t, a, b in turns)
    srt = "\n".join(f"{i + 1}\n{_clock(a).replace('.', ',')} --> "
                    f"{_clock(b).replace('.', ',')}\n[{s}]: {t}\n"
                    for i, (s, t, a, b) in enumerate(turns))
    whisper = json.dumps({"segments": [{"start": a, "end": b, "text": " " + t, "speaker": s}
                                       for s, t, a, b in turns]})
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["speaker", "text", "start", "end"])
    writer.writerows(turns)
    convokit = io.StringIO()
    write_convokit(parse_transcript(whisper, roles=ROLES), convokit)
    return {"text": text, "vtt": vtt, "srt": srt, "whisper-json": whisper,
            "csv": buffer.getvalue(), "convokit": convokit.getvalue()}


def best_of(fn: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    files = session_files()
    print(f"session: {TURNS} turns; best of 5 runs")
    print(f"{'step':22} {'seconds':>9} {'turns/s':>10}")
    for fmt, content in files.items():
        seconds = best_of(lambda c=content: parse_transcript(c, roles=ROLES))
        print(f"parse {fmt:16} {seconds:9.4f} {TURNS / seconds:10.0f}")
    transcript = parse_transcript(files["text"], roles=ROLES)
    seconds = best_of(lambda: deidentify_transcript(transcript, ROSTER))
    chars = statistics.fmean(len(u.text) for u in transcript)
    print(f"{'deidentify (roster)':22} {seconds:9.4f} {TURNS / seconds:10.0f}"
          f"   ({chars:.0f} characters per turn)")


if __name__ == "__main__":
    main()
