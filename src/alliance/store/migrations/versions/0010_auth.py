"""Authentication (issue 11, items 7 and 9): dual control, MFA, password resets, sessions.

* ``approvals``: changes that need a second admin (supervision that widens case access,
  admin and researcher accounts, deactivating an admin, password and MFA resets).
* ``users``: ``must_change_password``, the encrypted TOTP secret, ``mfa_enabled`` and the
  last accepted time step (no replay).
* ``user_sessions``: the stage of a log-in (``full``, ``mfa``, ``enrol``, ``password``),
  the address and user agent shown on the sessions page, failed codes of a pending log-in.
* ``recovery_codes`` (hashed, single use) and ``password_resets`` (one-time links).

Revision ID: 0010_auth
Revises: 0009_phi_encryption
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_auth"
down_revision = "0009_phi_encryption"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["target_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_approvals_target_id_users")),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_approvals_requested_by_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_approvals_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_approvals_target_id"), "approvals", ["target_id"])
    op.create_table(
        "recovery_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_recovery_codes_user_id_users")),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_recovery_codes")),
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"])
    op.create_table(
        "password_resets",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_password_resets_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_password_resets")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"])
    # plain ADD COLUMN with a server default (no table rebuild)
    op.add_column("users", sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("mfa_secret", sa.LargeBinary(), nullable=True))
    op.add_column("users", sa.Column("mfa_enabled", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("mfa_last_step", sa.Integer(), nullable=False,
                                     server_default="0"))
    op.add_column("user_sessions", sa.Column("stage", sa.String(length=10), nullable=False,
                                             server_default="full"))
    op.add_column("user_sessions", sa.Column("ip", sa.String(length=64), nullable=False,
                                             server_default=""))
    op.add_column("user_sessions", sa.Column("user_agent", sa.String(length=200),
                                             nullable=False, server_default=""))
    op.add_column("user_sessions", sa.Column("mfa_failures", sa.Integer(), nullable=False,
                                             server_default="0"))


def downgrade() -> None:
    for column in ("mfa_failures", "user_agent", "ip", "stage"):
        op.drop_column("user_sessions", column)
    for column in ("mfa_last_step", "mfa_enabled", "mfa_secret", "must_change_password"):
        op.drop_column("users", column)
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_index(op.f("ix_approvals_target_id"), table_name="approvals")
    op.drop_table("approvals")
