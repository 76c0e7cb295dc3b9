"""Analysing transcript files end to end: read, (de-identify), code, report.

Files are read one by one and coded in small batches (:data:`BATCH`), so the encoder sees
many utterances at once (throughput) while memory stays bounded. A file that cannot be read
or parsed yields its error and the others go on: no file's result is lost to another's
failure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from alliance.coding.coder import Coder
from alliance.coding.report import build_report
from alliance.errors import AllianceError
from alliance.transcripts.model import Transcript
from alliance.transcripts.roster import Roster

BATCH = 16

Result = tuple[str, dict[str, Any] | None, AllianceError | None]


def analyze_transcripts(transcripts: Sequence[Transcript], coder: Coder,
                        *, deidentified: bool = False) -> list[dict[str, Any]]:
    """Reports for already parsed transcripts (one encoder batch for all)."""
    return [build_report(c, deidentified=deidentified) for c in coder.code_many(transcripts)]


def analyze_files(paths: Sequence[str], coder: Coder, *, input_format: str | None = None,
                  roles: Mapping[str, str] | None = None, deidentify: bool = False,
                  roster: Sequence[str] | Roster = (), progress: bool = False) -> Iterator[Result]:
    """Yield ``(path, report, None)`` or ``(path, None, error)`` per path, in order.

    With ``deidentify``, identifiers and ``roster`` names are replaced (see
    :func:`alliance.transcripts.deidentify_transcript`) before anything is coded, so the
    report never holds them.
    """
    from alliance.transcripts import deidentify_transcript, read_transcript

    bar = None
    if progress:
        from rich.console import Console
        from rich.progress import Progress

        bar = Progress(console=Console(stderr=True), transient=True)
        task = bar.add_task("analysing", total=len(paths))
        bar.start()
    try:
        for start in range(0, len(paths), BATCH):
            chunk = paths[start:start + BATCH]
            parsed: list[tuple[str, Transcript | None, AllianceError | None]] = []
            for path in chunk:
                try:
                    transcript = read_transcript(path, input_format=input_format, roles=roles)
                    if deidentify:
                        transcript = deidentify_transcript(transcript, roster)
                    parsed.append((path, transcript, None))
                except AllianceError as exc:
                    parsed.append((path, None, exc))
            good = [t for _, t, _ in parsed if t is not None]
            reports = iter(analyze_transcripts(good, coder, deidentified=deidentify))
            for path, maybe, error in parsed:
                yield (path, None, error) if maybe is None else (path, next(reports), None)
                if bar is not None:
                    bar.advance(task)
    finally:
        if bar is not None:
            bar.stop()
