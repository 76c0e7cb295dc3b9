"""CLI commands for integration: personal API tokens and bulk import."""

from __future__ import annotations

import click

from alliance.cli.web import _URL_HELP, _clinic, _require_current


@click.group()
def tokens() -> None:
    """Personal API tokens for /api/v1 (shown once, stored hashed).

    \b
    Example:
      alliance tokens create --user dana@example.org --scope read --days 30
      alliance tokens list --user dana@example.org
      alliance tokens revoke 3
    """


@tokens.command("create")
@click.option("--user", "email", required=True, help="The account the token acts as.")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read",
              show_default=True, help="write also creates responses and acknowledges alerts.")
@click.option("--days", type=int, default=90, show_default=True, help="Lifetime (1 to 366).")
@click.option("--name", default="", help="What the token is for (shown in the list).")
@click.option("--database-url", default=None, help=_URL_HELP)
def create(email: str, scope: str, days: int, name: str, database_url: str | None) -> None:
    """Create a token and print it once (it cannot be shown again).

    \b
    Example:
      alliance tokens create --user dana@example.org --scope write --days 30 --name ehr
    """
    from alliance.store import apitokens

    database = _clinic(database_url).db
    _require_current(database)
    with database.write() as s:
        user = apitokens.user_by_email(s, email)
        row, plain = apitokens.create_token(s, user, scope=scope, days=days, name=name)
        token_id, expires = row.id, row.expires_at
    click.echo(plain)
    click.echo(f"token {token_id} for {email} ({scope}), expires {expires:%Y-%m-%d}; "
               "shown once: store it now", err=True)


@tokens.command("list")
@click.option("--user", "email", required=True)
@click.option("--database-url", default=None, help=_URL_HELP)
def list_(email: str, database_url: str | None) -> None:
    """List a user's tokens (never the tokens themselves).

    \b
    Example:
      alliance tokens list --user dana@example.org
    """
    from alliance.store import apitokens
    from alliance.store.actors import load_actor

    database = _clinic(database_url).db
    _require_current(database)
    with database.read() as s:
        actor = load_actor(s, apitokens.user_by_email(s, email))
        for t in apitokens.list_tokens(s, actor):
            click.echo(f"{t.id:>5}  {t.scope:<5}  {apitokens.token_state(t):<7}  "
                       f"expires {t.expires_at:%Y-%m-%d}  {t.name}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@click.option("--database-url", default=None, help=_URL_HELP)
def revoke(token_id: int, database_url: str | None) -> None:
    """Revoke a token by its number (from `alliance tokens list`).

    \b
    Example:
      alliance tokens revoke 3
    """
    from alliance.errors import NotFound
    from alliance.store import apitokens
    from alliance.store.actors import load_actor
    from alliance.store.models import ApiToken, User

    database = _clinic(database_url).db
    _require_current(database)
    with database.write() as s:
        row = s.get(ApiToken, token_id)
        user = s.get(User, row.user_id) if row is not None else None
        if user is None:
            raise NotFound(f"token {token_id} not found")
        apitokens.revoke_token(s, load_actor(s, user), token_id)
    click.echo(f"revoked token {token_id}")


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--clinician", "email", required=True,
              help="The clinician whose caseload receives the cases.")
@click.option("--database-url", default=None, help=_URL_HELP)
def import_(file: str, email: str, database_url: str | None) -> None:
    """Import cases, sessions and responses: CSV, TSV, Excel, Parquet or case-file JSON.

    Everything is checked before anything is written, and written in one transaction;
    every problem is listed (row, field, why). Running it again adds nothing twice.

    \b
    Example:
      alliance import ratings.csv --clinician dana@example.org
      alliance import cases.json --clinician dana@example.org
    """
    from alliance.errors import ImportRefused
    from alliance.store import apitokens, imports
    from alliance.store.actors import load_actor

    clinic = _clinic(database_url)
    _require_current(clinic.db)
    rows, problems = imports.read_rows(file, clinic.catalog)
    try:
        with clinic.db.write() as s:
            actor = load_actor(s, apitokens.user_by_email(s, email))
            report = imports.import_rows(s, actor, rows, clinic.catalog, problems)
    except ImportRefused as exc:
        for where, column, why in exc.problems:
            click.echo(f"{file}: {where}: {column}: {why}", err=True)
        raise
    for line in report.lines():
        click.echo(line)


def register(main: click.Group) -> None:
    """Add this module's commands to ``main``."""
    for command in (tokens, import_):
        main.add_command(command)
