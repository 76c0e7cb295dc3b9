"""Alert events carry the status they lead to and the evidence session they saw.

The alert life cycle is :mod:`alliance.monitoring.alerts`; its rows have ``status`` and
``evidence_session`` (a reopen needs evidence newer than what was seen at resolution).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_events") as batch:
        batch.add_column(sa.Column("status", sa.String(length=20), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("evidence_session", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_events") as batch:
        batch.drop_column("evidence_session")
        batch.drop_column("status")
