"""Alembic environment: runs migrations on the connection handed in by ``alliance.store.schema``.

The application never reads ``alembic.ini``; :func:`alliance.store.schema.upgrade` builds the
configuration in code and passes an open connection in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from alembic import context

from alliance.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only through alliance.store.schema
    raise RuntimeError("run migrations through `alliance db upgrade`")

context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
with context.begin_transaction():
    context.run_migrations()
