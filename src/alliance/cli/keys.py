"""``alliance keys`` (add, rotate), ``alliance cases`` (hold, shred) and ``alliance retention
apply``: the clinic key's life, and crypto-shredding of clients (docs/security.md)."""

from __future__ import annotations

import click

_URL_HELP = ("SQLAlchemy database URL (default: $ALLIANCE_DATABASE_URL or "
             "sqlite:///alliance.db)")


def _clinic(url: str | None):  # type: ignore[no-untyped-def]
    from alliance.cli.web import _clinic as build
    from alliance.cli.web import _require_current
    from alliance.errors import ConfigError

    clinic = build(url)
    _require_current(clinic.db)
    if clinic.box is None:
        raise ConfigError("no encryption key is configured (ALLIANCE_ENCRYPTION_KEY_FILE)")
    return clinic


@click.group()
def keys() -> None:
    """The clinic key: add a new one, re-seal everything under it.

    \b
    Example:
      alliance keys add --key-file /etc/alliance/key
      alliance keys rotate
    """


@keys.command("add")
@click.option("--key-file", required=True, type=click.Path(dir_okay=False),
              help="The key file the app reads (ALLIANCE_ENCRYPTION_KEY_FILE).")
def add(key_file: str) -> None:
    """Put a new key first in the key file; the old keys stay below it (they still open).

    Restart the app (it then seals with the new key and reads both), then run
    ``alliance keys rotate``.

    \b
    Example:
      alliance keys add --key-file /etc/alliance/key
    """
    from pathlib import Path

    from alliance.store.crypto import Box, add_key

    path = Path(key_file)
    text = add_key(path)
    click.echo(f"new clinic key {Box.from_text(text, key_file).kid.hex()} is first in "
               f"{path}; restart the app, then run `alliance keys rotate`")


@keys.command("rotate")
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 100_000),
              help="Changes per transaction.")
@click.option("--database-url", default=None, help=_URL_HELP)
def rotate(batch: int, database_url: str | None) -> None:
    """Re-wrap every client data key and re-seal every value under the first key of the key
    file, in small transactions while the app runs; safe to stop and run again.

    \b
    Example:
      alliance keys rotate --batch 500
    """
    from alliance.store import audit, sealing
    from alliance.store.rotation import Tally, reseal_step

    clinic = _clinic(database_url)
    found = sealing.attach(clinic.db.engine, clinic.box)
    assert found is not None
    done = Tally()
    while True:
        with clinic.db.write() as s:
            step = reseal_step(s.connection(), found, batch)
        for kind, n in step.counts.items():
            done.add(kind, n)
        if not step.total:
            break
        click.echo(f"re-sealed {done.total} so far", err=True)
    with clinic.db.write() as s:
        audit.record(s, None, "keys.rotate", subject="cli",
                     detail={"key": found.box.kid.hex(), **done.counts})
    for kind, n in sorted(done.counts.items()):
        click.echo(f"{kind}: {n}")
    older = [k.hex() for k in found.box.ids[1:]]
    click.echo(f"everything is sealed under key {found.box.kid.hex()}"
               + (f"; keys {', '.join(older)} are no longer used: remove them from the key "
                  "file and destroy them once no backup that needs them is kept"
                  if older else ""))


@click.group()
def cases() -> None:
    """Legal hold and shredding of one client's case.

    \b
    Example:
      alliance cases hold 17
      alliance cases shred 17 --yes
    """


@cases.command("hold")
@click.argument("case_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--lift", is_flag=True, help="Lift the hold instead.")
@click.option("--database-url", default=None, help=_URL_HELP)
def hold(case_id: int, lift: bool, database_url: str | None) -> None:
    """Put a case on legal hold (never shredded, by retention or by hand), or lift it.

    \b
    Example:
      alliance cases hold 17 --lift
    """
    from alliance.store.retention import set_hold

    clinic = _clinic(database_url)
    with clinic.db.write() as s:
        set_hold(s, None, case_id, not lift)
    click.echo(f"case {case_id}: legal hold {'lifted' if lift else 'on'}")


@cases.command("shred")
@click.argument("case_id", type=click.IntRange(1, 2**31 - 1))
@click.option("--yes", is_flag=True, help="Confirm: the client's data cannot be recovered.")
@click.option("--database-url", default=None, help=_URL_HELP)
def shred(case_id: int, yes: bool, database_url: str | None) -> None:
    """Delete a client's case with its data key (crypto-shredding), audited.

    \b
    Example:
      alliance cases shred 17 --yes
    """
    from alliance.errors import InputError
    from alliance.store.retention import purge_wal, shred_case

    if not yes:
        raise InputError("shredding cannot be undone: add --yes to confirm")
    clinic = _clinic(database_url)
    with clinic.db.write() as s:
        shred_case(s, None, case_id, reason="request")
    purge_wal(clinic.db)
    click.echo(f"case {case_id} shredded; backups taken before now still hold its key "
               "wrapped by the clinic key: rotate the key (alliance keys rotate) and destroy "
               "the old one when those backups expire (docs/security.md)")


@click.group()
def retention() -> None:
    """The clinic's retention policy (``retention:`` in ALLIANCE_POLICY_FILE).

    \b
    Example:
      alliance retention apply --dry-run
    """


@retention.command("apply")
@click.option("--dry-run", is_flag=True, help="List what would be shredded; change nothing.")
@click.option("--database-url", default=None, help=_URL_HELP)
def apply(dry_run: bool, database_url: str | None) -> None:
    """Shred every case archived longer than the retention period, unless on legal hold.

    \b
    Example:
      alliance retention apply --dry-run
    """
    from alliance.errors import ConfigError
    from alliance.store.retention import apply as run

    clinic = _clinic(database_url)
    policy = clinic.retention
    if policy.archived_days is None:
        raise ConfigError("no retention period: set retention.archived_days in the clinic's "
                          "policy file (ALLIANCE_POLICY_FILE)")
    result = run(clinic.db, policy, now=clinic.clock(), dry_run=dry_run)
    verb = "would shred" if dry_run else "shredded"
    click.echo(f"{verb} {len(result.shredded)} case(s)"
               + (f": {', '.join(map(str, result.shredded))}" if result.shredded else ""))
    if result.held:
        click.echo(f"kept on legal hold: {', '.join(map(str, result.held))}")


def register(main: click.Group) -> None:
    for group in (keys, cases, retention):
        main.add_command(group)
