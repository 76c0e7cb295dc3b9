"""``alliance backup``, ``alliance restore``: verified copies of the clinic database
(:mod:`alliance.store.backup`); ``alliance export-client``, ``alliance import-client``: one
client's record as a file (:mod:`alliance.store.clientfile`). docs/reliability.md, Backup
and restore."""

from __future__ import annotations

import click

_URL_HELP = ("SQLAlchemy database URL (default: $ALLIANCE_DATABASE_URL or "
             "sqlite:///alliance.db)")


def _database_url(database_url: str | None) -> str:
    from alliance.clinic import Settings

    return Settings.from_environment(database_url=database_url).database_url


def _report(outcome, verb: str) -> None:  # type: ignore[no-untyped-def]
    m = outcome.manifest
    click.echo(f"{verb} {outcome.path}: {len(m.tables)} tables, {m.rows} rows, "
               f"revision {m.revision or 'none'}, taken {m.created_at}")
    for check in outcome.checks:
        click.echo(f"  verified: {check}")
    click.echo(f"  manifest: {outcome.manifest_path}")
    for note in outcome.notes:
        click.echo(f"  note: {note}")


@click.command("backup")
@click.argument("dest", type=click.Path(dir_okay=False))
@click.option("--database-url", default=None, help=_URL_HELP)
def backup_command(dest: str, database_url: str | None) -> None:
    """Back up the database into DEST (a new file, mode 0600) and verify it.

    SQLite: the online backup API, safe while the server runs; PostgreSQL: pg_dump
    (custom format). A manifest (DEST.manifest.json) records every table's row count and
    content hash, taken in the same snapshot as the copy; the copy is checked against it.

    \b
    Example:
      alliance backup backups/clinic-2026-03-01.db --database-url sqlite:///clinic.db
    """
    from alliance.store.backup import backup

    _report(backup(_database_url(database_url), dest), "backup written:")


@click.command("restore")
@click.argument("src", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True,
              help="Overwrite a database that already holds rows.")
@click.option("--verify-only", is_flag=True,
              help="Check SRC against its manifest; restore nothing.")
@click.option("--database-url", default=None, help=_URL_HELP)
def restore_command(src: str, force: bool, verify_only: bool, database_url: str | None) -> None:
    """Restore the backup SRC into the database (stop the server first).

    SRC is checked against its manifest before, and the restored database after; a
    database that holds rows is overwritten only with --force. The restore is audited.

    \b
    Example:
      alliance restore backups/clinic-2026-03-01.db --database-url sqlite:///clinic.db
    """
    from alliance.store.backup import restore, verify

    if verify_only:
        _report(verify(src), "backup intact:")
        return
    _report(restore(_database_url(database_url), src, force=force), "restored into")


@click.command("export-client")
@click.argument("case_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--clinician", "email", required=True,
              help="The clinician whose case it is (the export is theirs, and audited).")
@click.option("--database-url", default=None, help=_URL_HELP)
def export_client_command(case_id: int, file: str, email: str,
                          database_url: str | None) -> None:
    """Write one client's record (case CASE_ID) to FILE, a new file (mode 0600).

    Canonical JSON without database ids: importing it elsewhere and exporting again
    gives the same bytes. Transcripts and survey links are not included.

    \b
    Example:
      alliance export-client 12 client-12.json --clinician dana@example.org
    """
    from alliance.cli.web import _clinic, _require_current
    from alliance.store import apitokens, audit, clientfile
    from alliance.store.actors import load_actor
    from alliance.store.backup import write_private

    clinic = _clinic(database_url)
    _require_current(clinic.db)
    with clinic.db.write() as s:
        actor = load_actor(s, apitokens.user_by_email(s, email))
        text = clientfile.dumps(clientfile.export_client(s, actor, case_id))
        write_private(file, text)
        audit.record(s, actor, "export.case", case_id=case_id,
                     detail={"format": "client-file"})
    click.echo(f"wrote case {case_id} to {file}")


@click.command("import-client")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--clinician", "email", required=True,
              help="The clinician whose caseload receives the client.")
@click.option("--database-url", default=None, help=_URL_HELP)
def import_client_command(file: str, email: str, database_url: str | None) -> None:
    """Recreate a client's record from FILE (written by export-client), all or nothing.

    \b
    Example:
      alliance import-client client-12.json --clinician dana@example.org
    """
    from pathlib import Path

    from alliance.cli.web import _clinic, _require_current
    from alliance.store import apitokens, clientfile
    from alliance.store.actors import load_actor

    clinic = _clinic(database_url)
    _require_current(clinic.db)
    data = clientfile.loads(Path(file).read_text(encoding="utf-8"), file)
    with clinic.db.write() as s:
        actor = load_actor(s, apitokens.user_by_email(s, email))
        case = clientfile.import_client(s, actor, data, clinic.catalog)
    click.echo(f"imported {file} as case {case.id} ({len(data['sessions'])} sessions, "
               f"{len(data['responses'])} responses)")


def register(main: click.Group) -> None:
    for command in (backup_command, restore_command, export_client_command,
                    import_client_command):
        main.add_command(command)
