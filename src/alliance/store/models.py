"""Database tables of the clinic application (SQLAlchemy 2 declarative models).

One clinic per database. Rows that describe a client hang off :class:`Case` with
``ON DELETE CASCADE`` so deleting a case removes every row about the client; the only
exception is :class:`AuditEvent`, which keeps the bare case id (no client data) because
the audit log is append-only by design (a trigger refuses UPDATE and DELETE).

State changes are rows: alert transitions (:class:`AlertEvent`) and consent decisions
(:class:`Consent`) are appended, never overwritten; the current state is the latest row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from alliance.store.sealedcolumns import SealedJSON, SealedText

# The clinical vocabulary is the monitoring core's, defined once (docs/case-file.md).
from alliance.vocabulary import (
    ATTENDANCE,
    HOMEWORK,
    MAX_MINUTES_LATE,
    MODALITIES,
    NORMATIVE_CUES,
)

__all__ = ["ATTENDANCE", "HOMEWORK", "MAX_MINUTES_LATE", "MODALITIES", "NORMATIVE_CUES"]

ROLES = ("admin", "clinician", "supervisor", "researcher", "trainee")
CONSENT_KINDS = ("measures", "transcripts")
RATERS = ("client", "therapist", "family_member")
TRANSCRIPT_STATES = ("queued", "running", "done", "failed")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# SQLite reuses the largest rowid after a deletion unless the table is AUTOINCREMENT; a
# reused case id once showed a deleted client's alert on another clinician's case.
AUTOINCREMENT: dict[str, Any] = {"sqlite_autoincrement": True}


def utcnow() -> dt.datetime:
    """Timezone-aware now; every stored instant is UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: DateTime(timezone=True),
                                                     dict[str, Any]: JSON}


class User(Base):
    __tablename__ = "users"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # issue 11, item 9: a temporary password must be changed at the next log-in; the TOTP
    # secret is AES-GCM ciphertext (the clinic key), live once ``mfa_enabled``; the last
    # accepted time step refuses the replay of a code.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_secret: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    mfa_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_last_step: Mapped[int] = mapped_column(Integer, default=0)


class Supervision(Base):
    """A supervisor reads (never edits) the cases of the clinicians listed here, and the
    practice sessions of the trainees listed here (``clinician_id`` holds either)."""

    __tablename__ = "supervisions"

    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                               primary_key=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                              primary_key=True)


class UserSession(Base):
    """A server-side log-in session; the cookie carries a random token, stored here hashed."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # ``full``; ``mfa`` (password checked, code awaited); ``enrol`` (the clinic requires MFA
    # and the user has none yet); ``password`` (a temporary password to be changed first)
    stage: Mapped[str] = mapped_column(String(10), default="full")
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    mfa_failures: Mapped[int] = mapped_column(Integer, default=0)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(SealedText("cases.label", 120))
    clinician_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    modality: Mapped[str] = mapped_column(String(20), default="individual")
    cultural_notes: Mapped[str] = mapped_column(SealedText("cases.cultural_notes"), default="")
    normative_cues: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    archived_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # the client's data key (issue 11): id, and the key wrapped by the clinic key
    key_id: Mapped[str | None] = mapped_column(String(16), unique=True, index=True,
                                               default=None)
    data_key: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    # retention (issue 11): a legal hold keeps an archived case past the retention period
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # PostgreSQL row-level security: the clinic of the connecting role (docs/security.md)
    clinic_id: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    members: Mapped[list[Member]] = relationship(back_populates="case", order_by="Member.id",
                                                 cascade="all, delete-orphan",
                                                 passive_deletes=True)
    sessions: Mapped[list[Session]] = relationship(order_by="Session.number",
                                                   cascade="all, delete-orphan",
                                                   passive_deletes=True)


class Member(Base):
    """A person in the case who rates: the client, a partner, a family or group member."""

    __tablename__ = "members"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(SealedText("members.label", 120))
    rater: Mapped[str] = mapped_column(String(20), default="client")

    case: Mapped[Case] = relationship(back_populates="members")


class Consent(Base):
    """A consent decision, appended; the latest row per (case, kind) is in force."""

    __tablename__ = "consents"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Measure(Base):
    """An instrument given in a case, to one kind of rater, every ``every`` sessions."""

    __tablename__ = "measures"
    __table_args__ = (UniqueConstraint("case_id", "instrument_id", "rater"), AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    instrument_id: Mapped[str] = mapped_column(String(60))
    rater: Mapped[str] = mapped_column(String(20), default="client")
    every: Mapped[int] = mapped_column(Integer, default=1)


class Session(Base):
    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("case_id", "number"), AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    attendance: Mapped[str] = mapped_column(String(20), default="attended")
    minutes_late: Mapped[int] = mapped_column(Integer, default=0)
    homework: Mapped[str] = mapped_column(String(20), default="none")


class SurveyLink(Base):
    """A one-time survey link. Only the SHA-256 of the 256-bit token is stored."""

    __tablename__ = "survey_links"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    rater: Mapped[str] = mapped_column(String(20))
    instrument_id: Mapped[str] = mapped_column(String(60))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Response(Base):
    """One rater's answers to one instrument after one session, with its scores."""

    __tablename__ = "responses"
    __table_args__ = (Index("ix_responses_case_session", "case_id", "session_id"),
                      AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    rater: Mapped[str] = mapped_column(String(20))
    instrument_id: Mapped[str] = mapped_column(String(60))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(10))  # "link", "paper", "api" or "import"
    link_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_links.id", ondelete="CASCADE"), unique=True)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AlertEvent(Base):
    """One alert status change (open, acknowledge, resolve, reopen), appended.

    Mirrors :class:`alliance.monitoring.AlertEvent`; ``seq`` is the row order per alert.
    """

    __tablename__ = "alert_events"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), server_default="", default="")
    evidence_session: Mapped[int | None] = mapped_column(Integer, default=None)
    severity: Mapped[str] = mapped_column(String(10), default="")
    headline: Mapped[str] = mapped_column(SealedText("alert_events.headline"), default="")
    note: Mapped[str] = mapped_column(SealedText("alert_events.note"), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Transcript(Base):
    """An uploaded transcript; text and report are AES-GCM ciphertext (see ``crypto``)."""

    __tablename__ = "transcripts"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(SealedText("transcripts.filename", 255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    report: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    error: Mapped[str] = mapped_column(SealedText("transcripts.error"), default="")
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    analysed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    roles: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("transcripts.roles"),
                                                         default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # leases lost by a worker that died or hung during this analysis (reset by a retry)
    lost_leases: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Void(Base):
    """A clinician's correction: one response or one session voided, with the reason.

    Appended, never an UPDATE of the voided row: the row stays in the history, monitoring
    and charts leave it out."""

    __tablename__ = "voids"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), default=None)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), default=None)
    reason: Mapped[str] = mapped_column(SealedText("voids.reason"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class JobFailure(Base):
    """One failed attempt of a background job (a transcript analysis), appended."""

    __tablename__ = "job_failures"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    transcript_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcripts.id", ondelete="CASCADE"), default=None)
    job: Mapped[str] = mapped_column(String(20))
    error: Mapped[str] = mapped_column(SealedText("job_failures.error"))
    worker: Mapped[str] = mapped_column(String(80), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CaseMonitor(Base):
    """The alert worker's state of one case.

    Every change to what monitoring reads bumps ``version``; the worker claims a case whose
    ``assessed_version`` is behind, or whose report rests on another ``basis`` (a digest
    of the policy and catalogue it was computed with), with a lease so that a killed
    worker's claim expires; it stores the report and appends :class:`AlertFlip` rows.
    Pages read this row; they never run monitoring themselves."""

    __tablename__ = "case_monitor"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    assessed_version: Mapped[int] = mapped_column(Integer, default=0)
    assessments: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    basis: Mapped[str] = mapped_column(String(64), default="", server_default="")
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    lease_owner: Mapped[str] = mapped_column(String(80), default="")
    report: Mapped[dict[str, Any] | None] = mapped_column(SealedJSON("case_monitor.report"),
                                                          default=None)
    error: Mapped[str] = mapped_column(SealedText("case_monitor.error"), default="")
    assessed_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AlertFlip(Base):
    """What the alert worker saw change: an alert ``opened``, ``escalated`` or ``cleared``.

    Appended by the worker (healthchecks' ``Flip``), so an alert that fires and clears
    before anybody looks still leaves its two rows. ``assessment`` numbers the case's
    assessments; the unique constraint makes a second worker's copy of a flip impossible."""

    __tablename__ = "alert_flips"
    __table_args__ = (UniqueConstraint("case_id", "assessment", "alert_id", "change"),
                      AUTOINCREMENT)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    alert_id: Mapped[str] = mapped_column(String(80))
    change: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10), default="")
    headline: Mapped[str] = mapped_column(SealedText("alert_flips.headline"), default="")
    assessment: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who did what to which case, when. Append-only: a trigger refuses UPDATE and DELETE.

    ``case_id`` is a bare number (no foreign key) so the record of a deletion survives it;
    ``detail`` never holds health data, only identifiers and action parameters.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_action_subject_at", "action", "subject", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject: Mapped[str] = mapped_column(String(254), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(64), default="")
    # the hash chain (issue 11): sha256 of the previous row's hash and this row's content
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


class ApiToken(Base):
    """A personal API token (``/api/v1``): only the SHA-256 of the 256-bit token is stored,
    with its scope (``read`` or ``write``), expiry and revocation; a revoked token keeps its
    row, so the user's list shows what was issued and when it stopped."""

    __tablename__ = "api_tokens"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    scope: Mapped[str] = mapped_column(String(10), default="read")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Practice(Base):
    """One trainee's practice or exam session on a training case (issue 13).

    ``record`` is the core's :class:`~alliance.training.PracticeRecord` as JSON, rewritten
    after each turn or section; it holds trainee text and the scripted client's lines, no
    client data. ``competencies`` (0-1 per competency) is copied out of it for the progress
    pages. Scoped in :mod:`alliance.store.practice`: the trainee and their supervisors only.
    """

    __tablename__ = "practice_sessions"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                            index=True)
    training_case: Mapped[str] = mapped_column(String(80))
    mode: Mapped[str] = mapped_column(String(10))
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    competencies: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


# -- delivery, risk and the client's voice (issue 12, items 1, 8, 11, 12) ------------------

class MemberContact(Base):
    """A member's contact details: e-mail, phone, preferred channel and language, sealed
    with the clinic's key (associated data ``b"contact:<member id>"``); the opt-out is in
    clear so that the opt-out page can record it without the key."""

    __tablename__ = "member_contacts"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"),
                                           primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opt_out_hash: Mapped[str] = mapped_column(String(64), unique=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LinkToken(Base):
    """The token of a link that delivery sends, sealed (``b"link-token:<link id>"``), so a
    reminder or a retry can carry the same URL."""

    __tablename__ = "link_tokens"

    link_id: Mapped[int] = mapped_column(ForeignKey("survey_links.id", ondelete="CASCADE"),
                                         primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class DeliverySend(Base):
    """One attempt to send a link or its reminder (append-only): no address, no body."""

    __tablename__ = "delivery_sends"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("survey_links.id", ondelete="CASCADE"),
                                         index=True)
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), default=None)
    kind: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(255), default="")
    reason: Mapped[str] = mapped_column(SealedText("delivery_sends.reason"), default="")
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliveryState(Base):
    """The delivery worker's claim on one case: the case version it last looked at, when
    to look again (a reminder or a retry falls due), and its lease."""

    __tablename__ = "delivery_state"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"),
                                         primary_key=True)
    seen_version: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    lease_owner: Mapped[str] = mapped_column(String(80), default="")


class CaseSignal(Base):
    """What a client said that the clinician must see: a ``risk`` answer (which items, on
    which response) or a ``client_feedback`` message (sealed, ``b"signal:<id>"``).

    Appended by the submission; acknowledged by the clinician; ``notice_status`` is the
    e-mail notice's receipt (empty while the worker has not sent it)."""

    __tablename__ = "case_signals"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), default=None)
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("responses.id", ondelete="CASCADE"), default=None)
    items: Mapped[list[str]] = mapped_column(JSON, default=list)
    message: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    notice_status: Mapped[str] = mapped_column(String(20), default="")
    notice_reason: Mapped[str] = mapped_column(SealedText("case_signals.notice_reason"),
                                               default="")
    notice_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)


class SafetyText(Base):
    """The clinic's own safety text, per language, shown after a risk answer."""

    __tablename__ = "safety_texts"

    language: Mapped[str] = mapped_column(String(10), primary_key=True)
    text: Mapped[str] = mapped_column(SealedText("safety_texts.text"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)



class AuditChainHead(Base):
    """The one row (id 1) naming the last audit row and its hash. Appends lock it
    (``SELECT … FOR UPDATE`` on PostgreSQL), so parallel writers never fork the chain."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")


class LoginThrottle(Base):
    """Failed log-ins per key (``sha256`` of ``acct:<email>|<ip>`` or ``ip:<ip>``) in the
    current window, and until when the key is refused (an exponential delay)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(default=utcnow)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(nullable=True)


class Approval(Base):
    """A change that needs a second admin (dual control, issue 11 item 7): requested by one
    admin, approved or refused by another; ``payload`` holds ids only."""

    __tablename__ = "approvals"
    __table_args__ = AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                           index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                   default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class RecoveryCode(Base):
    """A single-use MFA recovery code, stored as its SHA-256 (the codes are random)."""

    __tablename__ = "recovery_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PasswordReset(Base):
    """A one-time password-reset link (its token's SHA-256), made when a second admin
    approves the reset."""

    __tablename__ = "password_resets"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
class ClinicRole(Base):
    """PostgreSQL: the clinic whose rows a database role sees and writes (row-level
    security, migration ``0011_rls``); written by ``alliance db grant-app-role``."""

    __tablename__ = "clinic_roles"

    role_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    clinic_id: Mapped[int] = mapped_column(Integer)
