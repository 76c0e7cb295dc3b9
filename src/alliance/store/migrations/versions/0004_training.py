"""Practice and exam sessions of trainees (issue 13): ``practice_sessions``.

The ``trainee`` role needs no schema change (``users.role`` is a string); supervisors are
assigned trainees through the existing ``supervisions`` rows.

Revision ID: 0004_training
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_training"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "practice_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("training_case", sa.String(length=80), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("competencies", sa.JSON(), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["trainee_id"], ["users.id"],
                                name=op.f("fk_practice_sessions_trainee_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_sessions")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_practice_sessions_trainee_id"), "practice_sessions",
                    ["trainee_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_practice_sessions_trainee_id"), table_name="practice_sessions")
    op.drop_table("practice_sessions")
