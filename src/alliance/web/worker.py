"""The transcript worker: analyses uploaded transcripts outside any request.

A daemon thread polls for ``queued`` transcripts, claims one with a conditional UPDATE
(``status='queued' → 'running'``, so several workers never take the same row), decrypts
it, runs :func:`alliance.web.transcript_analysis.analyse`, and stores the report encrypted
with only the summary counts in clear. Failures are stored as a readable message.
``alliance serve`` runs one worker in-process; :meth:`TranscriptWorker.run_once` lets tests
and ``alliance demo`` drive it step by step.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from alliance.errors import AllianceError, ConfigError
from alliance.store import audit
from alliance.store.crypto import Box
from alliance.store.database import Database
from alliance.store.models import Transcript, utcnow
from alliance.web import transcript_analysis

log = logging.getLogger("alliance.worker")
Analyser = Callable[[bytes, str], dict[str, Any]]


def content_aad(transcript_id: int) -> bytes:
    return f"transcript:{transcript_id}:content".encode()


def report_aad(transcript_id: int) -> bytes:
    return f"transcript:{transcript_id}:report".encode()


class TranscriptWorker:
    def __init__(self, db: Database, box: Box | None, *, interval: float = 1.0,
                 analyser: Analyser = transcript_analysis.analyse) -> None:
        self.db = db
        self.box = box
        self.interval = interval
        self.analyser = analyser
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.box is None:
            log.warning("no encryption key configured: the transcript worker is not started")
            return
        self._thread = threading.Thread(target=self._loop, name="transcript-worker",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                while self.run_once() and not self._stop.is_set():
                    pass
            except Exception:  # keep the worker alive; the row shows the failure
                log.exception("transcript worker step failed")
            self._stop.wait(self.interval)

    def _claim(self) -> int | None:
        with self.db.write() as s:
            for tid in s.scalars(select(Transcript.id).where(Transcript.status == "queued")
                                 .order_by(Transcript.id).limit(5)):
                claimed = s.execute(update(Transcript).where(Transcript.id == tid,
                                                             Transcript.status == "queued")
                                    .values(status="running")
                                    .execution_options(synchronize_session=False))
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    return int(tid)
        return None

    def run_once(self) -> bool:
        """Analyse one queued transcript; ``False`` when none was waiting."""
        if self.box is None:
            raise ConfigError("no encryption key configured (ALLIANCE_ENCRYPTION_KEY)")
        tid = self._claim()
        if tid is None:
            return False
        with self.db.read() as s:
            row = s.get(Transcript, tid)
            assert row is not None
            blob, filename, case_id = row.content, row.filename, row.case_id
        try:
            data = self.box.decrypt(blob, content_aad(tid))
            report = self.analyser(data, filename)
            summary = transcript_analysis.summary_of(report)
            sealed = self.box.encrypt(json.dumps(report).encode(), report_aad(tid))
        except AllianceError as exc:
            with self.db.write() as s:
                s.execute(update(Transcript).where(Transcript.id == tid)
                          .values(status="failed", error=str(exc), analysed_at=utcnow()))
            return True
        with self.db.write() as s:
            s.execute(update(Transcript).where(Transcript.id == tid)
                      .values(status="done", report=sealed, summary=summary, error="",
                              analysed_at=utcnow()))
            audit.record(s, None, "transcript.analyse", case_id=case_id,
                         detail={"transcript": tid})
        return True
