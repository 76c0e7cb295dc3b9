"""Health data sealed at rest (issue 11): per-client data keys, legal hold, sealed columns.

* ``cases.key_id`` / ``cases.data_key``: the client's data key, wrapped by the clinic key
  (envelope encryption; deleting the case shreds it); ``cases.legal_hold`` stops retention.
* On PostgreSQL the sealed columns that had a length become ``TEXT`` (a ciphertext is
  longer than its text); SQLite enforces no length, so its tables are not rebuilt.
* When the migrating process has a key (``alliance db upgrade`` with
  ``ALLIANCE_ENCRYPTION_KEY(_FILE)``, the demo, the tests), existing plain rows are sealed
  here (:func:`alliance.store.rotation.reseal_step`); without one they stay plain until
  ``alliance keys rotate`` runs with a key.

Revision ID: 0009_phi_encryption
Revises: 0008_security
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_phi_encryption"
down_revision = "0008_security"
branch_labels = None
depends_on = None

WIDENED = (("cases", "label", 120), ("members", "label", 120),
           ("transcripts", "filename", 255))


def upgrade() -> None:
    op.add_column("cases", sa.Column("key_id", sa.String(length=16), nullable=True))
    op.add_column("cases", sa.Column("data_key", sa.LargeBinary(), nullable=True))
    op.add_column("cases", sa.Column("legal_hold", sa.Boolean(), nullable=False,
                                     server_default="0"))
    op.create_index(op.f("ix_cases_key_id"), "cases", ["key_id"], unique=True)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name, col, length in WIDENED:
            op.alter_column(name, col, type_=sa.Text(), existing_type=sa.String(length),
                            existing_nullable=False)
    from alliance.store.rotation import reseal_step
    from alliance.store.sealing import keys_of

    keys = keys_of(bind.dialect)
    if keys is not None:
        while reseal_step(bind, keys, limit=10_000).total:
            pass


def downgrade() -> None:
    # sealed values stay sealed: downgrading does not reveal them
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for name, col, length in WIDENED:
            op.alter_column(name, col, type_=sa.String(length), existing_type=sa.Text(),
                            existing_nullable=False)
    op.drop_index(op.f("ix_cases_key_id"), table_name="cases")
    op.drop_column("cases", "legal_hold")
    op.drop_column("cases", "data_key")
    op.drop_column("cases", "key_id")
