"""Delivery, risk and the client's voice (issue 12, items 1, 8, 11, 12).

* ``member_contacts``: a member's e-mail, phone, preferred channel and language, sealed with
  the clinic's key; the opt-out in clear, reached by the hash of the token in each message.
* ``link_tokens``: the sealed token of a link that delivery sends (reminders reuse the URL).
* ``delivery_sends``: one row per attempt (sent, failed, bounced, not_configured).
* ``delivery_state``: the delivery worker's claim and next look per case.
* ``case_signals``: a ``risk`` answer or a ``client_feedback`` message, with its e-mail notice.
* ``safety_texts``: the clinic's own safety text per language.

Revision ID: 0005_delivery
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_delivery"
down_revision = "0007_api_tokens"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, *, cascade: bool = True) -> sa.ForeignKeyConstraint:
    ref = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{ref}"),
                                   ondelete="CASCADE" if cascade else None)


def upgrade() -> None:
    when = sa.DateTime(timezone=True)
    op.create_table(
        "member_contacts",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opt_out_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        _fk("member_contacts", "member_id", "members.id"),
        _fk("member_contacts", "case_id", "cases.id"),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_contacts")),
        sa.UniqueConstraint("opt_out_hash", name=op.f("uq_member_contacts_opt_out_hash")),
    )
    op.create_index(op.f("ix_member_contacts_case_id"), "member_contacts", ["case_id"])
    op.create_table(
        "link_tokens",
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        _fk("link_tokens", "link_id", "survey_links.id"),
        _fk("link_tokens", "case_id", "cases.id"),
        sa.PrimaryKeyConstraint("link_id", name=op.f("pk_link_tokens")),
    )
    op.create_index(op.f("ix_link_tokens_case_id"), "link_tokens", ["case_id"])
    op.create_table(
        "delivery_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("at", when, nullable=False),
        _fk("delivery_sends", "case_id", "cases.id"),
        _fk("delivery_sends", "link_id", "survey_links.id"),
        _fk("delivery_sends", "member_id", "members.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_sends")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_delivery_sends_case_id"), "delivery_sends", ["case_id"])
    op.create_index(op.f("ix_delivery_sends_link_id"), "delivery_sends", ["link_id"])
    op.create_table(
        "delivery_state",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seen_version", sa.Integer(), nullable=False),
        sa.Column("next_at", when, nullable=True),
        sa.Column("lease_until", when, nullable=True),
        sa.Column("lease_owner", sa.String(length=80), nullable=False),
        _fk("delivery_state", "case_id", "cases.id"),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_delivery_state")),
    )
    op.create_table(
        "case_signals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=True),
        sa.Column("at", when, nullable=False),
        sa.Column("acknowledged_at", when, nullable=True),
        sa.Column("acknowledged_by", sa.Integer(), nullable=True),
        sa.Column("notice_status", sa.String(length=20), nullable=False),
        sa.Column("notice_reason", sa.Text(), nullable=False),
        sa.Column("notice_at", when, nullable=True),
        sa.Column("lease_until", when, nullable=True),
        _fk("case_signals", "case_id", "cases.id"),
        _fk("case_signals", "session_id", "sessions.id"),
        _fk("case_signals", "response_id", "responses.id"),
        _fk("case_signals", "acknowledged_by", "users.id", cascade=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_signals")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_case_signals_case_id"), "case_signals", ["case_id"])
    op.create_table(
        "safety_texts",
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        _fk("safety_texts", "updated_by", "users.id", cascade=False),
        sa.PrimaryKeyConstraint("language", name=op.f("pk_safety_texts")),
    )


def downgrade() -> None:
    op.drop_table("safety_texts")
    op.drop_index(op.f("ix_case_signals_case_id"), table_name="case_signals")
    op.drop_table("case_signals")
    op.drop_table("delivery_state")
    op.drop_index(op.f("ix_delivery_sends_link_id"), table_name="delivery_sends")
    op.drop_index(op.f("ix_delivery_sends_case_id"), table_name="delivery_sends")
    op.drop_table("delivery_sends")
    op.drop_index(op.f("ix_link_tokens_case_id"), table_name="link_tokens")
    op.drop_table("link_tokens")
    op.drop_index(op.f("ix_member_contacts_case_id"), table_name="member_contacts")
    op.drop_table("member_contacts")
