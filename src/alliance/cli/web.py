"""CLI commands of the clinic web application: serve, db, users, demo."""

from __future__ import annotations

import click

_URL_HELP = "SQLAlchemy database URL (default: $ALLIANCE_DATABASE_URL or sqlite:///alliance.db)"


def _database(url: str | None):  # type: ignore[no-untyped-def]
    from alliance.store.database import Database
    from alliance.web.settings import Settings

    settings = Settings.from_environment(database_url=url)
    return settings, Database(settings.database_url)


def _require_current(db) -> None:  # type: ignore[no-untyped-def]
    from alliance.errors import ConfigError
    from alliance.store.schema import current_revision, head_revision

    if current_revision(db.engine) != head_revision():
        raise ConfigError("the database schema is not current; run `alliance db upgrade "
                          "--database-url ...` first")


def _serve(settings, db, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from alliance.web.app import create_app

    uvicorn.run(create_app(settings, db), host=host, port=port, log_level="warning",
                proxy_headers=False, server_header=False)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--database-url", default=None, help=_URL_HELP)
def serve(host: str, port: int, database_url: str | None) -> None:
    """Serve the clinic web application.

    The schema must be current (see `alliance db upgrade`). Put it behind a TLS-terminating
    reverse proxy: its cookies are Secure, so browsers only send them over HTTPS (or to
    127.0.0.1 and localhost).

    \b
    Example:
      ALLIANCE_ENCRYPTION_KEY_FILE=/etc/alliance/key \\
        alliance serve --database-url postgresql+psycopg://alliance@db/alliance
    """
    settings, db = _database(database_url)
    _require_current(db)
    click.echo(f"alliance: serving on http://{host}:{port}/")
    _serve(settings, db, host, port)


@click.group()
def db() -> None:
    """Manage the clinic database.

    \b
    Example:
      alliance db upgrade --database-url sqlite:///clinic.db
    """


@db.command()
@click.option("--database-url", default=None, help=_URL_HELP)
def upgrade(database_url: str | None) -> None:
    """Create or migrate the schema to the newest revision.

    \b
    Example:
      alliance db upgrade --database-url postgresql+psycopg://alliance@127.0.0.1/alliance
    """
    from sqlalchemy.exc import OperationalError

    from alliance.errors import ConfigError
    from alliance.store.schema import current_revision, head_revision
    from alliance.store.schema import upgrade as run_upgrade

    _, database = _database(database_url)
    try:
        before = current_revision(database.engine)
        run_upgrade(database.engine)
    except OperationalError as exc:
        raise ConfigError(f"cannot reach the database: {exc.orig}") from None
    click.echo(f"schema at {head_revision()} (was {before or 'empty'})")


@db.command()
def keygen() -> None:
    """Print a new transcript encryption key (32 random bytes, base64).

    \b
    Example:
      alliance db keygen > /etc/alliance/key && chmod 600 /etc/alliance/key
    """
    from alliance.store.crypto import generate_key

    click.echo(generate_key())


@click.group()
def users() -> None:
    """Manage accounts.

    \b
    Example:
      alliance users create --email dana@example.org --name Dana --role clinician
    """


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", default="", help="Display name (default: the e-mail).")
@click.option("--role", required=True,
              type=click.Choice(["admin", "clinician", "supervisor", "researcher"]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 10 characters; prompted when left out.")
@click.option("--database-url", default=None, help=_URL_HELP)
def create_user(email: str, name: str, role: str, password: str,
                database_url: str | None) -> None:
    """Create an account.

    \b
    Example:
      alliance users create --email admin@clinic.org --role admin
    """
    from alliance.store import accounts

    _, database = _database(database_url)
    _require_current(database)
    with database.write() as s:
        user = accounts.create_user(s, email, name, role, password)
        click.echo(f"created {user.role} {user.email}")


@click.command()
@click.option("--database-url", default=None,
              help="Where to put the demo clinic (default: a new SQLite file in a temporary "
                   "folder). An existing, non-empty database is served as it is.")
@click.option("--password", default=None, help="Password of every demo account "
              "(default: demo-password).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-serve", is_flag=True, help="Seed and print the logins, then exit.")
def demo(database_url: str | None, password: str | None, host: str, port: int,
         no_serve: bool) -> None:
    """Seed a demo clinic (about 40 cases, a couple, a family, transcripts) and serve it.

    \b
    Example:
      alliance demo
      alliance demo --port 8080 --password 'another-secret'
    """
    import os
    import tempfile
    from pathlib import Path

    from sqlalchemy import func, select

    from alliance.store.crypto import KEY_FILE_ENV, Box, write_key_file
    from alliance.store.database import Database
    from alliance.store.models import User
    from alliance.store.schema import upgrade as run_upgrade
    from alliance.web.demo import ACCOUNTS, DEMO_PASSWORD, seed_demo
    from alliance.web.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="alliance-demo-"))
    url = database_url or f"sqlite:///{folder / 'demo.db'}"
    box = Box.from_environment()
    if box is None:
        key_path = folder / "transcripts.key"
        write_key_file(key_path)
        os.environ[KEY_FILE_ENV] = str(key_path)
        box = Box.from_environment()
    database = Database(url)
    run_upgrade(database.engine)
    with database.read() as s:
        empty = not s.scalar(select(func.count()).select_from(User))
    password = password or DEMO_PASSWORD
    if empty:
        summary = seed_demo(database, box, password=password, analyse_now=no_serve)
        click.echo(f"demo clinic: {summary.cases} cases, {summary.sessions} sessions, "
                   f"{summary.responses} responses, {summary.transcripts} transcripts")
    else:
        click.echo("the database already holds accounts; serving it unchanged")
    click.echo(f"database: {url}")
    if os.environ.get(KEY_FILE_ENV):
        click.echo(f"transcript key file: {os.environ[KEY_FILE_ENV]}")
    click.echo(f"address:  http://{host}:{port}/")
    click.echo(f"logins (password {password!r}):")
    for email, _, role in ACCOUNTS:
        click.echo(f"  {email:<22} {role}")
    if not no_serve:
        settings = Settings.from_environment(database_url=url, box=box)
        _serve(settings, database, host, port)


def register(main: click.Group) -> None:
    """Add this module's commands to ``main``."""
    for command in (serve, db, users, demo):
        main.add_command(command)
