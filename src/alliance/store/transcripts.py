"""Transcripts in the store: encrypted upload, the analysis job (claim, lease, finish, fail),
speaker roles, retry and deletion, and the summary monitoring reads.

The text and the report are AES-GCM ciphertext bound to their row by associated data
(:func:`content_aad`, :func:`report_aad`); this module is the only one that builds it.

A transcript is a job. :func:`claim` takes one ``queued`` transcript, or one whose worker's
lease ran out (a worker killed with ``kill -9`` leaves ``running`` behind), with
``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two workers never take the same row;
each claim increments ``attempts``, and :func:`finish` and :func:`fail` only count when the
row still carries that attempt (a worker whose lease was taken over writes nothing). Every
failure, whatever raised it, is a :class:`~alliance.store.models.JobFailure` row the page
shows, with a retry button.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session as DbSession

from alliance.errors import CodingError, ConfigError, InputError, NotFound, StoreError
from alliance.store import audit, changes, sealing
from alliance.store.actors import Actor, get_case
from alliance.store.cases import get_session, require_consent
from alliance.store.crypto import Box
from alliance.store.models import Case, JobFailure, Session, Transcript, utcnow

REPORT_SCHEMA = "alliance.transcript-report/1"
MAX_BYTES = 5 * 1024 * 1024
ROLE_CHOICES = ("therapist", "client", "other")


def content_aad(transcript_id: int) -> bytes:
    return f"transcript:{transcript_id}:content".encode()


def report_aad(transcript_id: int) -> bytes:
    return f"transcript:{transcript_id}:report".encode()


def _need(box: Box | None) -> Box:
    if box is None:
        raise ConfigError("transcripts cannot be stored or read: no encryption key is "
                          "configured (ALLIANCE_ENCRYPTION_KEY or ALLIANCE_ENCRYPTION_KEY_FILE)")
    return box


def check_key(db: Any, box: Box | None, origin: str = "") -> None:
    """Refuse (:class:`ConfigError`) when stored transcripts exist and ``box`` cannot open
    the newest of them: a server started with the wrong key would accept uploads it can
    analyse but fail on every older transcript."""
    with db.read() as s:
        row = s.execute(select(Transcript.id, Transcript.content)
                        .order_by(Transcript.id.desc()).limit(1)).first()
    if row is None:
        return
    where = f" ({origin})" if origin else ""
    if box is None:
        raise ConfigError("this database holds encrypted transcripts but no encryption key is "
                          "configured; set ALLIANCE_ENCRYPTION_KEY_FILE to the key they were "
                          "stored with")
    try:
        sealing.attach(db.engine, box)
        with db.read() as s:
            sealing.open_bytes(s, box, row.content, content_aad(row.id))
    except StoreError:
        raise ConfigError(f"the configured encryption key{where} does not decrypt the "
                          f"transcripts stored in this database; start with the key they were "
                          f"stored with (refusing to start)") from None


def upload(db: DbSession, box: Box | None, actor: Actor, case_id: int, session_id: int,
           filename: str, content: bytes) -> Transcript:
    """Store one transcript, encrypted, queued for the worker."""
    box = _need(box)
    if not filename:
        raise InputError("choose a transcript file to upload")
    if len(content) > MAX_BYTES:
        raise InputError("the transcript is larger than 5 MB")
    if not content.strip():
        raise InputError("the transcript file is empty")
    get_case(db, actor, case_id, write=True)
    require_consent(db, case_id, "transcripts")
    session = get_session(db, case_id, session_id)
    row = Transcript(case_id=case_id, session_id=session.id, filename=filename[-255:],
                     content=b"", uploaded_by=actor.id)
    db.add(row)
    db.flush()  # the id is part of the associated data
    row.content = sealing.seal_bytes(db, box, case_id, content, content_aad(row.id))
    audit.record(db, actor, "transcript.upload", case_id=case_id, detail={"transcript": row.id})
    return row


def listing(db: DbSession, case_id: int) -> Sequence[Any]:
    """The case's transcripts without their ciphertext, for the case page."""
    return db.execute(select(Transcript.id, Transcript.session_id, Transcript.filename,
                             Transcript.status, Transcript.error, Transcript.uploaded_at,
                             Transcript.attempts)
                      .where(Transcript.case_id == case_id).order_by(Transcript.id)).all()


def _own(db: DbSession, actor: Actor, case_id: int, transcript_id: int, *,
         write: bool = False) -> Transcript:
    get_case(db, actor, case_id, write=write)
    row = db.get(Transcript, transcript_id)
    if row is None or row.case_id != case_id:
        raise NotFound("transcript not found")
    return row


def retry(db: DbSession, actor: Actor, case_id: int, transcript_id: int) -> None:
    """Queue a failed (or finished) transcript for another analysis."""
    row = _own(db, actor, case_id, transcript_id, write=True)
    if row.status == "running":
        raise InputError("this transcript is being analysed now; wait for the result")
    row.status, row.error, row.lease_until, row.lost_leases = "queued", "", None, 0
    audit.record(db, actor, "transcript.retry", case_id=case_id,
                 detail={"transcript": transcript_id})


def set_roles(db: DbSession, actor: Actor, case_id: int, transcript_id: int,
              roles: Mapping[str, str]) -> None:
    """Say which speaker is the therapist, the client or someone else; re-queues."""
    row = _own(db, actor, case_id, transcript_id, write=True)
    clean: dict[str, str] = {}
    for speaker, role in roles.items():
        if role not in ROLE_CHOICES:
            raise InputError(f"role {role!r} for speaker {speaker!r} is not one of "
                             f"{', '.join(ROLE_CHOICES)}")
        clean[str(speaker)[:200]] = role
    if "therapist" not in clean.values() or "client" not in clean.values():
        raise InputError("name at least one therapist and one client among the speakers")
    if row.status == "running":
        raise InputError("this transcript is being analysed now; wait for the result")
    row.roles = clean
    row.status, row.error, row.lease_until, row.lost_leases = "queued", "", None, 0
    audit.record(db, actor, "transcript.roles", case_id=case_id,
                 detail={"transcript": transcript_id, "speakers": len(clean)})


def delete(db: DbSession, actor: Actor, case_id: int, transcript_id: int) -> None:
    """Remove a transcript (a misfiled or failed upload), its report and its failures."""
    row = _own(db, actor, case_id, transcript_id, write=True)
    done = row.status == "done"
    db.delete(row)
    audit.record(db, actor, "transcript.delete", case_id=case_id,
                 detail={"transcript": transcript_id})
    if done:
        changes.touch(db, case_id)


@dataclass(frozen=True)
class TranscriptView:
    """What the transcript page shows."""

    row: Transcript
    case: Case
    session: Session
    report: dict[str, Any] | None
    speakers: list[str]
    failures: Sequence[JobFailure]
    can_edit: bool


def speakers_of(data: bytes, filename: str) -> list[str]:
    """The speaker labels of a transcript, in order of first appearance (for the role form);
    empty when the file cannot be read at all."""
    from alliance.errors import TranscriptError
    from alliance.transcripts.decoding import decode
    from alliance.transcripts.detect import detect_format
    from alliance.transcripts.reading import segments_of

    try:
        text = decode(data, filename, MAX_BYTES)
        segments, _meta = segments_of(text, filename, detect_format(text, filename), None)
    except TranscriptError:
        return []
    seen: list[str] = []
    for seg in segments:
        if seg.text.strip() and seg.speaker not in seen:
            seen.append(seg.speaker)
    return seen


def view(db: DbSession, box: Box | None, actor: Actor, case_id: int,
         transcript_id: int) -> TranscriptView:
    row = _own(db, actor, case_id, transcript_id)
    case = get_case(db, actor, case_id)
    box = _need(box)
    report = None
    if row.report is not None:
        report = json.loads(sealing.open_bytes(db, box, row.report, report_aad(row.id)))
    speakers = speakers_of(sealing.open_bytes(db, box, row.content, content_aad(row.id)),
                           row.filename)
    failures = db.scalars(select(JobFailure).where(JobFailure.transcript_id == row.id)
                          .order_by(JobFailure.id)).all()
    return TranscriptView(row, case, get_session(db, case_id, row.session_id), report, speakers,
                          failures, actor.writes_cases and case.clinician_id == actor.id)


# -- the job ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    transcript_id: int
    attempt: int
    case_id: int
    filename: str
    content: bytes
    roles: dict[str, str] | None


# a transcript whose worker died (or hung past its lease) this many times in a row is failed
# instead of taken over again: its analysis may be what kills the worker
MAX_LOST_LEASES = 3
LOST_LEASES_MESSAGE = ("LeaseLost: the analysis stopped its worker {n} times in a row (a crash, "
                       "a kill or a time-out); retry once the server is fixed")


def claim(db: Any, *, now: dt.datetime, lease: dt.timedelta) -> Claim | None:
    """Take one transcript to analyse (queued, or running with an expired lease); one
    whose leases were lost :data:`MAX_LOST_LEASES` times in a row is failed instead."""
    while True:
        with db.write() as s:
            query = (select(Transcript).where(or_(
                Transcript.status == "queued",
                (Transcript.status == "running") & (Transcript.lease_until < now)))
                .order_by(Transcript.id).limit(1))
            if not db.is_sqlite:  # SQLite: the writer lock already serialises claims
                query = query.with_for_update(skip_locked=True)
            row = s.scalars(query).first()
            if row is None:
                return None
            if row.status == "running":  # its worker's lease ran out
                row.lost_leases = (row.lost_leases or 0) + 1
                if row.lost_leases >= MAX_LOST_LEASES:
                    message = LOST_LEASES_MESSAGE.format(n=row.lost_leases)
                    row.status, row.error, row.lease_until = "failed", message, None
                    row.analysed_at = now
                    s.add(JobFailure(case_id=row.case_id, transcript_id=row.id,
                                     job="transcript", error=message, worker="", at=now))
                    continue
            row.status, row.lease_until = "running", now + lease
            row.attempts = (row.attempts or 0) + 1
            return Claim(row.id, row.attempts, row.case_id, row.filename, row.content,
                         dict(row.roles) if row.roles else None)


def failure_message(exc: BaseException) -> str:
    """What a failed analysis records (the row, the page, the transcript's ``error``): the
    error's class and a fixed, content-free explanation. The exception's own message is
    never kept: a parser error may quote the line it could not read, a bug's message
    anything at all (issue 11)."""
    from alliance.errors import AllianceError

    name = type(exc).__name__
    if isinstance(exc, AllianceError):
        return f"{name}: {CONTENT_FREE.get(name, 'the transcript could not be analysed')}"
    return f"{name}: the analysis failed unexpectedly (a bug; the transcript is kept)"


# content-free explanations of the typed errors an analysis can raise (nothing from the file)
CONTENT_FREE = {
    "TranscriptError": "the file could not be read as a transcript (check its format and "
                       "the speaker labels)",
    "CodingError": "the transcript could not be coded",
    "InputError": "the transcript is not valid input",
    "ConfigError": "the analysis is not configured on this server",
}


def _mine(c: Claim) -> Any:
    return (Transcript.id == c.transcript_id) & (Transcript.attempts == c.attempt) \
        & (Transcript.status == "running")


def finish(db: Any, c: Claim, sealed: bytes, summary: dict[str, int], *,
           now: dt.datetime) -> bool:
    """Store the report; ``False`` when the claim was lost (lease taken over)."""
    with db.write() as s:
        done = s.execute(update(Transcript).where(_mine(c)).values(
            status="done", report=sealed, summary=summary, error="", analysed_at=now,
            lease_until=None, lost_leases=0).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            return False
        audit.record(s, None, "transcript.analyse", case_id=c.case_id,
                     detail={"transcript": c.transcript_id})
        changes.touch(s, c.case_id)
        return True


def fail(db: Any, c: Claim, error: str, *, now: dt.datetime, worker: str = "") -> bool:
    """Mark the attempt failed and append its failure row."""
    with db.write() as s:
        done = s.execute(update(Transcript).where(_mine(c)).values(
            status="failed", error=error[:2000], analysed_at=now, lease_until=None)
            .execution_options(synchronize_session=False))
        if done.rowcount != 1:
            return False
        s.add(JobFailure(case_id=c.case_id, transcript_id=c.transcript_id, job="transcript",
                         error=error[:2000], worker=worker[:80], at=now))
        return True


Analyser = Callable[[bytes, str, "dict[str, str] | None"], dict[str, Any]]


def analyse_with(coder: Callable[[], Any]) -> Analyser:
    """An analyser that parses a transcript (with its speaker roles) and codes it."""

    def analyse(data: bytes, filename: str, roles: dict[str, str] | None) -> dict[str, Any]:
        try:
            from alliance.coding.report import build_report
            from alliance.transcripts import parse_transcript
        except ImportError:
            raise CodingError("transcript analysis is not installed in this build of "
                              "alliance; the transcript is stored (encrypted) and can be "
                              "analysed later") from None
        transcript = parse_transcript(data, filename, roles=roles)
        report: dict[str, Any] = build_report(coder().code(transcript))
        if report.get("schema") != REPORT_SCHEMA:
            raise CodingError(f"the coder returned a report of schema "
                              f"{report.get('schema')!r}, expected {REPORT_SCHEMA}")
        return report

    return analyse


def summary_of(report: Mapping[str, Any]) -> dict[str, int]:
    """Counts for monitoring: withdrawal and confrontation markers, threats, unresolved.
    Only these counts leave the encrypted report."""
    counts = (report.get("summary") or {}).get("counts") or {}
    episodes = report.get("episodes") or []
    return {
        "withdrawal": int(counts.get("withdrawal", 0)),
        "confrontation": int(counts.get("confrontation", 0)),
        "unresolved": sum(1 for e in episodes if e.get("resolution") != "resolved"),
        "threats": int(counts.get("threat", 0)),
    }


def summaries(db: DbSession, case_ids: Sequence[int]) -> dict[int, dict[int, Any]]:
    """Per case, per session id: the newest finished transcript's counts, as the typed
    :class:`alliance.monitoring.TranscriptSummary` monitoring reads."""
    from alliance.monitoring.casefile import TranscriptSummary

    out: dict[int, dict[int, Any]] = defaultdict(dict)
    for t in db.scalars(select(Transcript).where(Transcript.case_id.in_(case_ids),
                                                 Transcript.status == "done")
                        .order_by(Transcript.id)):
        if t.summary:
            c = dict(t.summary)
            out[t.case_id][t.session_id] = TranscriptSummary(
                int(c.get("withdrawal", 0)), int(c.get("confrontation", 0)),
                int(c.get("unresolved", 0)), int(c.get("threats", 0)), ())
    return out


def run_one(db: Any, box: Box | None, analyser: Analyser, *, now: Callable[[], dt.datetime]
            = utcnow, lease: dt.timedelta = dt.timedelta(minutes=5), worker: str = "") -> bool:
    """Claim and analyse one transcript; ``False`` when none was waiting.

    Any exception becomes a failure row: a bug in the coder must not leave a transcript
    ``running`` forever."""
    box = _need(box)
    c = claim(db, now=now(), lease=lease)
    if c is None:
        return False
    try:
        with db.read() as s:
            data = sealing.open_bytes(s, box, c.content, content_aad(c.transcript_id))
        report = analyser(data, c.filename, c.roles)
        summary = summary_of(report)
        with db.read() as s:
            sealed = sealing.seal_bytes(s, box, c.case_id, json.dumps(report).encode(),
                                        report_aad(c.transcript_id))
    except Exception as exc:  # every failure is a row, not a stuck job
        fail(db, c, failure_message(exc), now=now(), worker=worker)
        return True
    finish(db, c, sealed, summary, now=now())
    return True
