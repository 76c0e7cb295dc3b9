"""The one adapter between the transcript worker and the transcript coder (issue 4).

:func:`analyse` turns uploaded bytes into a report dict of schema
``alliance.transcript-report/1``; :func:`summary_of` reduces a report to the counts the
monitoring case file takes (``transcript_summary``). Only counts leave the encrypted report.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any

from alliance.errors import CodingError, ConfigError

REPORT_SCHEMA = "alliance.transcript-report/1"
CODER_MODES = ("hybrid", "rules")
log = logging.getLogger(__name__)


def coder_mode(environ: dict[str, str] | None = None) -> str:
    """``ALLIANCE_TRANSCRIPT_CODER``: ``hybrid`` (default: rules plus the embedding heads,
    the more accurate coder) or ``rules`` (no embedding model in the server process)."""
    env = os.environ if environ is None else environ
    mode = (env.get("ALLIANCE_TRANSCRIPT_CODER") or "hybrid").strip().lower()
    if mode not in CODER_MODES:
        raise ConfigError(f"ALLIANCE_TRANSCRIPT_CODER={mode!r}; use one of {CODER_MODES}")
    return mode


@lru_cache(maxsize=2)
def _coder(mode: str) -> Any:
    from alliance.coding.coder import load_coder

    if mode == "rules":
        return load_coder(rules_only=True)
    try:
        # One encoder thread: uploads are analysed in the background, and the other core
        # stays free for the clinicians' and clients' requests.
        return load_coder(threads=1)
    except (ImportError, CodingError) as exc:
        # The report itself says it was coded by rules only, so nobody mistakes it.
        log.warning("hybrid transcript coder unavailable (%s); using the rules-only coder", exc)
        return load_coder(rules_only=True)


def analyse(data: bytes, filename: str) -> dict[str, Any]:
    """Parse and code one transcript (outside any request: the worker calls this).

    The coder is chosen by :func:`coder_mode`; the report's ``coder`` field records which
    one ran."""
    try:
        from alliance.coding.report import build_report
        from alliance.transcripts import parse_transcript
    except ImportError:
        raise CodingError("transcript analysis is not installed in this build of alliance; "
                          "the transcript is stored (encrypted) and can be analysed "
                          "later") from None
    transcript = parse_transcript(data, filename)
    report: dict[str, Any] = build_report(_coder(coder_mode()).code(transcript))
    if report.get("schema") != REPORT_SCHEMA:
        raise CodingError(f"the coder returned a report of schema {report.get('schema')!r}, "
                          f"expected {REPORT_SCHEMA}")
    return report


def summary_of(report: dict[str, Any]) -> dict[str, int]:
    """Counts for monitoring: withdrawal and confrontation markers, threats, unresolved."""
    counts = (report.get("summary") or {}).get("counts") or {}
    episodes = report.get("episodes") or []
    return {
        "withdrawal": int(counts.get("withdrawal", 0)),
        "confrontation": int(counts.get("confrontation", 0)),
        "unresolved": sum(1 for e in episodes if e.get("resolution") != "resolved"),
        "threats": int(counts.get("threat", 0)),
    }
