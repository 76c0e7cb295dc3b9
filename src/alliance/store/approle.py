"""The application's own PostgreSQL role: it owns no table and holds only the rights it needs.

Migrations run as the owner of the tables (``alliance db upgrade`` with the owner's URL); the
web and worker processes connect as another role, granted by :func:`grant_app_role`
(``alliance db grant-app-role ROLE``):

* every table: ``SELECT, INSERT, UPDATE, DELETE`` (``UPDATE`` also lets it take the row
  locks of ``SELECT … FOR UPDATE``);
* ``audit_events``: ``SELECT, INSERT`` only, so it cannot ``UPDATE``, ``DELETE`` or
  ``TRUNCATE`` the audit log; not owning the table, it cannot disable the append-only
  trigger or ``ALTER`` anything either;
* ``alembic_version``: ``SELECT`` (``serve`` checks that the schema is current);
  ``clinic_roles``: ``SELECT`` (its own clinic, for the row-level security policies);
* sequences: ``USAGE, SELECT`` (new ids).

The role is also entered in ``clinic_roles`` with its clinic (default 1): the row-level
security policies of migration ``0011_rls`` let it see and write only that clinic's cases
and the client data in them.

The grant is idempotent (every right is revoked first); run it again after each upgrade,
or pass ``--app-role`` to ``alliance db upgrade``, so tables added later are covered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from alliance.errors import ConfigError

APPEND_ONLY = frozenset({"audit_events"})
READ_ONLY = frozenset({"alembic_version", "clinic_roles"})
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Grant:
    """What :func:`grant_app_role` did."""

    role: str
    created: bool
    tables: int
    clinic: int


def _check_name(role: str) -> str:
    if not _ROLE_NAME.fullmatch(role):
        raise ConfigError(f"role name {role!r}: use lower-case letters, digits and _ "
                          "(at most 63, not starting with a digit)")
    return role


def _refuse_unsafe(conn: Connection, role: str) -> None:
    if conn.execute(text("SELECT current_user")).scalar_one() == role:
        raise ConfigError(f"connected as {role!r}: grant the application role while "
                          "connected as the owner of the tables (the migration role)")
    flags = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = "
                              ":r"), {"r": role}).first()
    if flags is not None and (flags[0] or flags[1]):
        raise ConfigError(f"role {role!r} is a superuser or bypasses row-level security; "
                          "the application needs an ordinary role")
    owned = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = "
                              "current_schema() AND tableowner = :r ORDER BY 1"),
                         {"r": role}).scalars().all()
    if owned:
        raise ConfigError(f"role {role!r} owns {len(owned)} table(s) (first: {owned[0]!r}); "
                          "the application role must own none: migrate as another role")


def table_rights(table: str) -> str:
    """The privileges the application role holds on ``table``."""
    if table in READ_ONLY:
        return "SELECT"
    if table in APPEND_ONLY:
        return "SELECT, INSERT"
    return "SELECT, INSERT, UPDATE, DELETE"


def grant_app_role(engine: Engine, role: str, clinic: int = 1) -> Grant:
    """Create ``role`` (``LOGIN``, no password: set one, or use certificate or peer
    authentication) when it does not exist, grant it exactly :func:`table_rights` on every
    table of the current schema, and make ``clinic`` its clinic (row-level security).
    ``engine`` must connect as the tables' owner."""
    role = _check_name(role)
    if not 1 <= clinic <= 2**31 - 1:
        raise ConfigError(f"clinic {clinic}: a positive whole number")
    if engine.dialect.name != "postgresql":
        raise ConfigError("the application role is a PostgreSQL feature; SQLite has no roles "
                          "(protect the database file with file permissions)")
    try:
        with engine.begin() as conn:
            _refuse_unsafe(conn, role)
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                                  {"r": role}).first() is not None
            if not exists:
                conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
            database = conn.execute(text("SELECT current_database()")).scalar_one()
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            # usually held through PUBLIC already; granting needs the database's owner
            if not conn.execute(text("SELECT has_database_privilege(:r, :d, 'CONNECT')"),
                                {"r": role, "d": database}).scalar_one():
                conn.exec_driver_sql(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')
            if not conn.execute(text("SELECT has_schema_privilege(:r, :s, 'USAGE')"),
                                {"r": role, "s": schema}).scalar_one():
                conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
            conn.exec_driver_sql(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM "{role}"')
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = "
                                       "current_schema() ORDER BY 1")).scalars().all()
            for table in tables:
                conn.exec_driver_sql(f'GRANT {table_rights(table)} ON "{schema}"."{table}" '
                                     f'TO "{role}"')
            conn.exec_driver_sql(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" '
                                 f'TO "{role}"')
            if "clinic_roles" in tables:
                conn.execute(text("DELETE FROM clinic_roles WHERE role_name = :r"), {"r": role})
                conn.execute(text("INSERT INTO clinic_roles (role_name, clinic_id) VALUES "
                                  "(:r, :c)"), {"r": role, "c": clinic})
    except DBAPIError as exc:
        hint = (" (the connecting role must own the tables, and needs CREATEROLE to create "
                "a role)" if getattr(exc.orig, "sqlstate", "") == "42501" else "")
        raise ConfigError(f"cannot grant the application role {role!r}: "
                          f"{exc.orig}{hint}") from None
    return Grant(role=role, created=not exists, tables=len(tables), clinic=clinic)
