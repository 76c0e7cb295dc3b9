"""CLI commands of the clinic web application: serve, worker, db, users, demo.

Each command reads the settings once (:meth:`alliance.clinic.Settings.from_environment`,
with its options on top) and builds one :class:`~alliance.clinic.Clinic` from them.
"""

from __future__ import annotations

import click

_URL_HELP = "SQLAlchemy database URL (default: $ALLIANCE_DATABASE_URL or sqlite:///alliance.db)"


def _clinic(url: str | None, run_worker: bool | None = None):  # type: ignore[no-untyped-def]
    from alliance.clinic import Clinic, Settings

    return Clinic(Settings.from_environment(database_url=url, run_worker=run_worker))


def _require_current(db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    from alliance.errors import ConfigError
    from alliance.store.schema import current_revision, head_revision

    try:
        current = current_revision(db.engine)
    except OperationalError as exc:
        raise ConfigError(f"cannot reach the database: {exc.orig}") from None
    if current != head_revision():
        raise ConfigError("the database schema is not current; run `alliance db upgrade "
                          "--database-url ...` first")


def _serve(clinic, host: str, port: int, workers: int = 1) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from alliance.web.app import create_app, tune_server_process

    if workers == 1:
        tune_server_process()
        uvicorn.run(create_app(clinic=clinic), host=host, port=port, log_level="warning",
                    proxy_headers=False, server_header=False)
        return
    # Several processes: each builds its own clinic from the same settings, passed on
    # through the environment (see alliance.web.asgi).
    from alliance.clinic import pass_on

    pass_on(clinic.settings)
    uvicorn.run("alliance.web.asgi:app", factory=True, host=host, port=port, workers=workers,
                log_level="warning", proxy_headers=False, server_header=False)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--database-url", default=None, help=_URL_HELP)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Web processes (PostgreSQL only; SQLite runs one process).")
@click.option("--worker/--no-worker", "run_worker", default=True, show_default=True,
              help="Run background jobs (alerts, transcripts) in each web process too. With "
                   "PostgreSQL, `alliance worker` runs them in processes of their own.")
def serve(host: str, port: int, database_url: str | None, workers: int,
          run_worker: bool) -> None:
    """Serve the clinic web application.

    The schema must be current (see `alliance db upgrade`), and the encryption key must
    open the transcripts already stored. Put it behind a TLS-terminating reverse proxy: its
    cookies are Secure, so browsers only send them over HTTPS (or to 127.0.0.1 and
    localhost).

    \b
    Example:
      ALLIANCE_ENCRYPTION_KEY_FILE=/etc/alliance/key \\
        alliance serve --workers 4 --no-worker \\
        --database-url postgresql+psycopg://alliance@db/alliance
      alliance worker --database-url postgresql+psycopg://alliance@db/alliance
    """
    from alliance.errors import ConfigError

    clinic = _clinic(database_url, run_worker=run_worker)
    _require_current(clinic.db)
    clinic.check()
    if clinic.db.is_sqlite:
        if workers > 1:
            raise ConfigError("SQLite allows one web process; use PostgreSQL for --workers N")
        click.echo("alliance: SQLite database: one process, background jobs in a thread "
                   "of it" if run_worker else "alliance: SQLite database: one process")
    else:
        jobs = "with background jobs in each" if run_worker else "no background jobs " \
            "(run `alliance worker`)"
        click.echo(f"alliance: PostgreSQL database: {workers} web process(es), {jobs}")
    click.echo(f"alliance: serving on http://{host}:{port}/")
    _serve(clinic, host, port, workers)


@click.command()
@click.option("--database-url", default=None, help=_URL_HELP)
@click.option("--once", is_flag=True, help="Run the jobs waiting now, then exit.")
def worker(database_url: str | None, once: bool) -> None:
    """Run background jobs: alert monitoring and transcript analysis.

    Any number of workers may run against one PostgreSQL database, on any hosts: each job is
    claimed by one worker (FOR UPDATE SKIP LOCKED, with a lease that a killed worker's claim
    outlives only until it expires). With SQLite, `alliance serve` runs the jobs itself;
    `alliance worker --once` still works there for scripts.

    \b
    Example:
      alliance worker --database-url postgresql+psycopg://alliance@db/alliance
    """
    import signal

    from alliance.errors import ConfigError
    from alliance.worker import Worker

    clinic = _clinic(database_url)
    _require_current(clinic.db)
    clinic.check()
    runner = Worker(clinic)
    if once:
        runner.drain()
        return
    if clinic.db.is_sqlite:
        raise ConfigError("with SQLite, `alliance serve` runs the background jobs in its one "
                          "process; `alliance worker` needs PostgreSQL (or use --once)")
    click.echo(f"alliance worker {runner.name}: waiting for jobs (Ctrl-C to stop)")
    stopping = {"now": False}

    def stop(_sig: int, _frame: object) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.run_forever(lambda: stopping["now"])


@click.group()
def db() -> None:
    """Manage the clinic database.

    \b
    Example:
      alliance db upgrade --database-url sqlite:///clinic.db
    """


@db.command()
@click.option("--database-url", default=None, help=_URL_HELP)
@click.option("--app-role", default=None, metavar="ROLE",
              help="PostgreSQL: then grant ROLE the application's rights on every table "
                   "(as `alliance db grant-app-role`).")
def upgrade(database_url: str | None, app_role: str | None) -> None:
    """Create or migrate the schema to the newest revision.

    On PostgreSQL, run it as the owner of the tables, and let the application connect as
    another role (see `alliance db grant-app-role`).

    \b
    Example:
      alliance db upgrade --database-url postgresql+psycopg://owner@127.0.0.1/alliance \\
        --app-role alliance_app
    """
    from sqlalchemy.exc import OperationalError

    from alliance.errors import ConfigError
    from alliance.store.schema import current_revision, head_revision
    from alliance.store.schema import upgrade as run_upgrade

    database = _clinic(database_url).db
    try:
        before = current_revision(database.engine)
        run_upgrade(database.engine)
    except OperationalError as exc:
        raise ConfigError(f"cannot reach the database: {exc.orig}") from None
    click.echo(f"schema at {head_revision()} (was {before or 'empty'})")
    if app_role is not None:
        _grant(database, app_role)


def _grant(database, role: str, clinic: int = 1) -> None:  # type: ignore[no-untyped-def]
    from alliance.store.approle import grant_app_role

    done = grant_app_role(database.engine, role, clinic)
    verb = "created and granted" if done.created else "granted"
    click.echo(f"role {done.role} {verb} on {done.tables} tables (audit_events: SELECT, "
               f"INSERT only; owns none); it sees the case data of clinic {done.clinic}")


@db.command("grant-app-role")
@click.argument("role")
@click.option("--clinic", default=1, show_default=True, type=click.IntRange(1, 2**31 - 1),
              help="The clinic whose case data ROLE sees (PostgreSQL row-level security).")
@click.option("--database-url", default=None,
              help="The URL of the tables' owner (the migration role); default: "
                   "$ALLIANCE_DATABASE_URL.")
def grant_app_role(role: str, clinic: int, database_url: str | None) -> None:
    """Let ROLE run the application on PostgreSQL without owning a table.

    Creates ROLE (LOGIN, no password) when missing, and grants it SELECT, INSERT, UPDATE
    and DELETE on every table except the audit log (SELECT and INSERT only); it can never
    TRUNCATE, ALTER, or disable a trigger. Row-level security lets it see and write only
    the cases (and the client data in them) of its clinic. Run it again after every
    upgrade (or use `alliance db upgrade --app-role ROLE`). Then serve with its URL.

    \b
    Example:
      alliance db grant-app-role alliance_app \\
        --database-url postgresql+psycopg://owner@db/alliance
      ALLIANCE_DATABASE_URL=postgresql+psycopg://alliance_app@db/alliance alliance serve
    """
    database = _clinic(database_url).db
    _require_current(database)
    _grant(database, role, clinic)


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
              type=click.Choice(["admin", "clinician", "supervisor", "researcher", "trainee"]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="At least 12 characters, not a common or breached one; prompted when "
              "left out.")
@click.option("--database-url", default=None, help=_URL_HELP)
def create_user(email: str, name: str, role: str, password: str,
                database_url: str | None) -> None:
    """Create an account.

    \b
    Example:
      alliance users create --email admin@clinic.org --role admin
    """
    from alliance.store import accounts

    database = _clinic(database_url).db
    _require_current(database)
    with database.write() as s:
        user = accounts.create_user(s, email, name, role, password)
        click.echo(f"created {user.role} {user.email}")


@users.command("reset")
@click.option("--email", required=True)
@click.option("--mfa", "mfa_too", is_flag=True,
              help="Also switch two-step log-in off (a lost device).")
@click.option("--database-url", default=None, help=_URL_HELP)
def reset_user(email: str, mfa_too: bool, database_url: str | None) -> None:
    """The operator's reset of an account (the web asks a second admin; this does not):
    prints a one-time link to set a new password (24 hours); the old password stops
    working and every session ends.

    \b
    Example:
      alliance users reset --email admin@clinic.org --mfa
    """
    from alliance.store import approvals

    clinic = _clinic(database_url)
    _require_current(clinic.db)
    with clinic.db.write() as s:
        email, token = approvals.operator_reset(s, email, mfa_too=mfa_too)
    base = clinic.settings.public_url or "http://127.0.0.1:8000"
    click.echo(f"reset link for {email} (once, 24 hours): {base}/reset/{token}")


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

    The transcript key comes from ALLIANCE_ENCRYPTION_KEY(_FILE) when set; otherwise the
    demo keeps it in a file beside a SQLite database (``demo.db`` -> ``demo.db.key``),
    written once and reused on the next run, so earlier transcripts still decrypt.

    \b
    Example:
      alliance demo
      alliance demo --database-url sqlite:///clinic.db --no-serve
    """
    import tempfile
    from pathlib import Path

    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from alliance.clinic import Clinic, Settings
    from alliance.store.crypto import Box, write_key_file
    from alliance.store.database import Database
    from alliance.store.demo import ACCOUNTS, DEMO_PASSWORD, seed_demo
    from alliance.store.models import User
    from alliance.store.schema import upgrade as run_upgrade

    if database_url is None:
        folder = Path(tempfile.mkdtemp(prefix="alliance-demo-"))
        database_url = f"sqlite:///{folder / 'demo.db'}"
    settings = Settings.from_environment(database_url=database_url)
    database = Database(settings.database_url)
    run_upgrade(database.engine)
    if settings.box is None:
        # Never a new key for a database that already holds transcripts: refused here,
        # before anything is written.
        url = make_url(database_url)
        beside = url.get_backend_name() == "sqlite" and url.database not in (None, "",
                                                                            ":memory:")
        key_path = Path(f"{url.database}.key") if beside else None
        if key_path is None or not key_path.exists():
            Clinic(settings, database).check_key()
            key_path = key_path or Path(tempfile.mkdtemp(prefix="alliance-demo-")) / "key"
            write_key_file(key_path)
        settings = Settings.from_environment(
            database_url=database_url, box=Box.from_text(key_path.read_text(), str(key_path)),
            key_origin=str(key_path))
    clinic = Clinic(settings, database)
    clinic.check()  # an existing database with another key is refused, never re-keyed
    with clinic.db.read() as s:
        empty = not s.scalar(select(func.count()).select_from(User))
    password = password or DEMO_PASSWORD
    if empty:
        summary = seed_demo(clinic, password=password, analyse_now=no_serve)
        click.echo(f"demo clinic: {summary.cases} cases, {summary.sessions} sessions, "
                   f"{summary.responses} responses, {summary.transcripts} transcripts")
    else:
        click.echo("the database already holds accounts; " +
                   ("left unchanged" if no_serve else "serving it unchanged"))
    click.echo(f"database: {database_url}")
    if settings.key_origin:
        click.echo(f"transcript key: {settings.key_origin}")
    if not no_serve:
        click.echo(f"address:  http://{host}:{port}/")
    click.echo(f"logins (password {password!r}):")
    for email, _, role in ACCOUNTS:
        click.echo(f"  {email:<22} {role}")
    if not no_serve:
        _serve(clinic, host, port)


def register(main: click.Group) -> None:
    """Add this module's commands to ``main``."""
    for command in (serve, worker, db, users, demo):
        main.add_command(command)
