"""Shared fixtures of the coding tests: transcripts, a fake embedder, the real model."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
import pytest

from alliance.coding.coder import CodeAssignment, CodedUtterance
from alliance.transcripts.model import Transcript, Utterance


def make_transcript(turns: Sequence[tuple[str, str]], source: str = "test") -> Transcript:
    """Turns as (speaker, text); speakers starting with T are therapists, else clients."""
    return Transcript(tuple(
        Utterance(i, s, "therapist" if s.startswith("T") else "client", text)  # type: ignore[arg-type]
        for i, (s, text) in enumerate(turns)), source=source, format="text")


class HashEmbedder:
    """A deterministic bag-of-words embedder: fast, no torch, same text -> same vector."""

    name = "hash-bow"
    dimension = 384
    runtime = "md5 bag of words"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z']+", t.lower()):
                k = int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dimension
                out[i, k] += 1.0
            norm = np.linalg.norm(out[i])
            if norm:
                out[i] /= norm
        return out


@pytest.fixture
def fake_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The packaged model on the default (ONNX Runtime) encoder."""
    from alliance.coding.embedder import load_embedder

    return load_embedder(threads=2, encoder="onnx")


@pytest.fixture(scope="session")
def packaged_coder(real_embedder):  # type: ignore[no-untyped-def]
    """The hybrid coder users get: packaged heads on the real model."""
    from alliance.coding.coder import Coder
    from alliance.coding.heads import load_heads, load_rule_precision
    from alliance.coding.rules import RuleSet

    return Coder(RuleSet(precision=load_rule_precision()), real_embedder, load_heads())


@pytest.fixture(scope="session")
def reference_embedder():  # type: ignore[no-untyped-def]
    """The packaged model on sentence-transformers (torch): the reference implementation."""
    from alliance.coding.embedder import load_embedder

    return load_embedder(threads=2, encoder="sentence-transformers")


SESSION = [
    ("T", "What was this week like for you?"),
    ("C", "I don't know."),
    ("T", "I notice you went quiet when I asked that. How is it for you, talking about this "
          "with me right now?"),
    ("C", "It's hard. I guess I felt judged last time, like you thought I was lazy."),
    ("T", "That makes sense, and I'm sorry if I came across that way. Let's look at it "
          "together."),
    ("C", "Okay. Yes, I'd like that, because the week was actually really rough at work."),
]


@pytest.fixture
def session() -> Transcript:
    return make_transcript(SESSION, "session.txt")


def _coded(turns: list[tuple[str, str, list[str]]]) -> list[CodedUtterance]:
    """Coded utterances from (speaker, text, codes); speaker T is the therapist."""
    out = []
    for i, (speaker, text, codes) in enumerate(turns):
        role = "therapist" if speaker == "T" else "client"
        out.append(CodedUtterance(Utterance(i, speaker, role, text),  # type: ignore[arg-type]
                                  tuple(CodeAssignment(c, 0.9, text, 0, len(text), "rule")
                                        for c in codes)))
    return out


@pytest.fixture
def coded():  # type: ignore[no-untyped-def]
    return _coded


@pytest.fixture
def transcript_of():  # type: ignore[no-untyped-def]
    return make_transcript
