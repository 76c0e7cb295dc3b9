"""Transcript jobs count the leases their workers lost (a transcript whose analysis kills
its worker would otherwise be taken over after every lease, for ever).

Revision ID: 0012_lost_leases
Revises: 0011_rls
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_lost_leases"
down_revision = "0011_rls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("transcripts", sa.Column("lost_leases", sa.Integer(), nullable=False,
                                           server_default="0"))


def downgrade() -> None:
    op.drop_column("transcripts", "lost_leases")
