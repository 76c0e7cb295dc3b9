"""Regression found by benchmarks/fuzz_parsers.py: a merged turn that ends before it starts.

Consecutive cues of one speaker become one turn. When a file lists them out of time order
(spliced or hand-edited subtitles), taking the first cue's start and the last cue's end gave
an utterance ending before it began, which breaks every duration downstream.
"""

from __future__ import annotations

from alliance.transcripts import parse_transcript

OUT_OF_ORDER = """WEBVTT

00:00:08.400 --> 00:00:13.000
<v Counsellor>Just checking in.

00:00:01.000 --> 00:00:05.200
<v Counsellor>How have things been?

00:00:13.500 --> 00:00:19.800
<v Client>Not great.
"""


def test_turn_of_out_of_order_cues_spans_them() -> None:
    first = parse_transcript(OUT_OF_ORDER, "s.vtt")[0]
    assert (first.start, first.end) == (1.0, 13.0)


def test_every_turn_ends_after_it_starts() -> None:
    for u in parse_transcript(OUT_OF_ORDER, "s.vtt"):
        assert u.start is not None and u.end is not None and u.end >= u.start
