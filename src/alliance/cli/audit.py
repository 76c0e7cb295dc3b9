"""``alliance audit verify``: check the audit log's hash chain (docs/web.md, Audit)."""

from __future__ import annotations

import click

from alliance.errors import AllianceError


class AuditBroken(AllianceError):
    """The audit log's hash chain is broken: rows were edited, deleted, inserted or moved."""


@click.group()
def audit() -> None:
    """The audit log.

    \b
    Example:
      alliance audit verify --database-url sqlite:///clinic.db
    """


@audit.command("verify")
@click.option("--database-url", default=None,
              help="SQLAlchemy database URL (default: $ALLIANCE_DATABASE_URL or "
                   "sqlite:///alliance.db)")
def verify(database_url: str | None) -> None:
    """Walk the audit log's hash chain; exit 1 and name every break when it is not intact.

    \b
    Example:
      alliance audit verify --database-url sqlite:///clinic.db
    """
    from alliance.cli.web import _require_current
    from alliance.clinic import Settings
    from alliance.store.auditchain import verify as walk
    from alliance.store.database import Database

    db = Database(Settings.from_environment(database_url=database_url).database_url)
    try:
        _require_current(db)
        with db.read() as s:
            found = walk(s)
    finally:
        db.dispose()
    for problem in found.problems:
        click.echo(problem)
    if found.unchained:
        click.echo(f"{found.unchained} rows from before the chain existed are not chained")
    if not found.intact:
        raise AuditBroken(f"the audit log is not intact: {len(found.problems)} breaks in "
                          f"{found.rows} rows")
    click.echo(f"audit log intact: {found.rows} rows; head hash {found.head_hash}")


def register(main: click.Group) -> None:
    main.add_command(audit)
