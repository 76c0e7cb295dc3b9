"""Transcript coding: codebook, coder, episodes and session reports (pure + a lazy model loader).

Importing this package never imports torch; only :func:`load_coder` (hybrid mode) and
:func:`load_embedder` do.
"""

from alliance.coding.analysis import analyze_files, analyze_transcripts
from alliance.coding.codebook import FAMILIES, Codebook, load_codebook
from alliance.coding.coder import (
    CodeAssignment,
    CodedTranscript,
    CodedUtterance,
    Coder,
    load_coder,
)
from alliance.coding.embedder import Embedder, load_embedder
from alliance.coding.episodes import Episode, find_episodes
from alliance.coding.report import build_report, render_html, render_text, validate_report
from alliance.coding.summary import Summary, summarise

__all__ = [
    "FAMILIES",
    "CodeAssignment",
    "Codebook",
    "CodedTranscript",
    "CodedUtterance",
    "Coder",
    "Embedder",
    "Episode",
    "Summary",
    "analyze_files",
    "analyze_transcripts",
    "build_report",
    "find_episodes",
    "load_codebook",
    "load_coder",
    "load_embedder",
    "render_html",
    "render_text",
    "summarise",
    "validate_report",
]
