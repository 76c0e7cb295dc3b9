"""Security (issue 11): log-in throttle rows, and the audit log's hash chain.

* ``login_throttle``: failed log-ins per (account, IP) and per IP with an exponential
  delay, instead of a hard lock of the account from anywhere.
* ``audit_events.prev_hash`` / ``hash``: each row carries the hash of the previous row and
  of its own content and time; ``audit_chain`` holds the head (last id, last hash), locked
  by every append so parallel writers cannot fork the chain. Rows written before this
  revision keep an empty hash; ``alliance audit verify`` reports them as unchained.

Revision ID: 0008_security
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_security"
down_revision = "0005_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    # plain ADD COLUMN (no table rebuild), so the append-only triggers stay in place
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(length=64), nullable=False,
                                            server_default=""))
    op.add_column("audit_events", sa.Column("hash", sa.String(length=64), nullable=False,
                                            server_default=""))


def downgrade() -> None:
    op.drop_column("audit_events", "hash")  # SQLite ≥ 3.35: no rebuild, triggers kept
    op.drop_column("audit_events", "prev_hash")
    op.drop_table("audit_chain")
    op.drop_table("login_throttle")
