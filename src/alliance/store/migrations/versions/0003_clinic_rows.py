"""Ids are never reused; voids, transcript roles, job leases and failures as rows; alert flips.

* SQLite reuses the largest rowid after a deletion unless a table is ``AUTOINCREMENT``; a
  deleted case's id came back for the next case (issue 9, defect 1). Every table whose rows
  can be deleted is rebuilt with ``AUTOINCREMENT`` (PostgreSQL's sequences never go back).
* ``voids``: a clinician voids a response or a session with a reason, as a row (defect 2).
* ``transcripts.roles`` (speaker → role of a diarised transcript), ``lease_until`` and
  ``attempts`` (a claimed job expires and is taken again, defect 7);
  ``job_failures``: every failed attempt of a background job, shown on the page.
* ``case_monitor``: per case, a data version bumped by every change, the version and the
  basis (policy and catalogue) the alert worker last assessed, its lease and the stored
  report; ``alert_flips``: the alert worker's rows (opened, escalated, cleared), numbered
  by the case's assessment.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# audit_events is not rebuilt: a trigger refuses DELETE on it, so its largest id never goes.
REBUILT = ("users", "cases", "members", "consents", "measures", "sessions", "survey_links",
           "responses", "alert_events", "transcripts")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in REBUILT:
            with op.batch_alter_table(name, recreate="always",
                                      table_kwargs={"sqlite_autoincrement": True}):
                pass
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("roles", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.create_table(
        "voids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_voids_case_id_cases"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["response_id"], ["responses.id"],
                                name=op.f("fk_voids_response_id_responses"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"],
                                name=op.f("fk_voids_session_id_sessions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_voids_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voids")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_voids_case_id"), "voids", ["case_id"], unique=False)
    op.create_table(
        "job_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("transcript_id", sa.Integer(), nullable=True),
        sa.Column("job", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("worker", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_job_failures_case_id_cases"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["transcript_id"], ["transcripts.id"],
                                name=op.f("fk_job_failures_transcript_id_transcripts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_failures")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_job_failures_case_id"), "job_failures", ["case_id"], unique=False)
    op.create_table(
        "case_monitor",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("assessed_version", sa.Integer(), nullable=False),
        sa.Column("assessments", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("basis", sa.String(length=64), nullable=False, server_default=""),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=80), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_case_monitor_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_monitor")),
    )
    op.create_table(
        "alert_flips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.String(length=80), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("assessment", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_alert_flips_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_flips")),
        sa.UniqueConstraint("case_id", "assessment", "alert_id", "change",
                            name=op.f("uq_alert_flips_case_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_alert_flips_case_id"), "alert_flips", ["case_id"], unique=False)
    # Every existing case is due for its first assessment by the alert worker.
    op.execute("INSERT INTO case_monitor (case_id, version, assessed_version, lease_owner, "
               "error, assessments, basis) SELECT id, 1, 0, '', '', 0, '' FROM cases")


def downgrade() -> None:
    op.drop_index(op.f("ix_alert_flips_case_id"), table_name="alert_flips")
    op.drop_table("alert_flips")
    op.drop_table("case_monitor")
    op.drop_index(op.f("ix_job_failures_case_id"), table_name="job_failures")
    op.drop_table("job_failures")
    op.drop_index(op.f("ix_voids_case_id"), table_name="voids")
    op.drop_table("voids")
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_column("attempts")
        batch.drop_column("lease_until")
        batch.drop_column("roles")
