"""The one adapter between the transcript worker and the transcript coder (issue 4).

:func:`analyse` turns uploaded bytes into a report dict of schema
``alliance.transcript-report/1``; :func:`summary_of` reduces a report to the counts the
monitoring case file takes (``transcript_summary``). Only counts leave the encrypted report.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from alliance.errors import CodingError

REPORT_SCHEMA = "alliance.transcript-report/1"


@lru_cache(maxsize=1)
def _coder() -> Any:
    from alliance.coding.coder import load_coder

    return load_coder(rules_only=True)


def analyse(data: bytes, filename: str) -> dict[str, Any]:
    """Parse and code one transcript with the rules-only coder (no torch in the server)."""
    try:
        from alliance.coding.report import build_report
        from alliance.transcripts import parse_transcript
    except ImportError:
        raise CodingError("transcript analysis is not installed in this build of alliance; "
                          "the transcript is stored (encrypted) and can be analysed "
                          "later") from None
    transcript = parse_transcript(data, filename)
    report: dict[str, Any] = build_report(_coder().code(transcript))
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
