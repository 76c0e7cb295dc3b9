"""The clinic database: models, migrations, actor-scoped queries, audit log, encryption.

Adapters only: the domain core never imports this package. Every query about a case goes
through :mod:`alliance.store.actors`, every change is audited by :mod:`alliance.store.audit`.
"""

from alliance.store.actors import Actor, case_scope, get_case, load_actor
from alliance.store.crypto import Box, generate_key
from alliance.store.database import Database, make_engine
from alliance.store.schema import current_revision, head_revision, upgrade

__all__ = [
    "Actor",
    "Box",
    "Database",
    "case_scope",
    "current_revision",
    "generate_key",
    "get_case",
    "head_revision",
    "load_actor",
    "make_engine",
    "upgrade",
]
