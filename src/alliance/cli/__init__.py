"""The ``alliance`` command: a thin layer over the library.

Each command group lives in its own module with a ``register(main)`` function; commands
parse input, call the library and map :class:`~alliance.errors.AllianceError` to a
one-line message on stderr and exit code 1. Heavy imports (pandas, torch, the web stack)
happen inside the commands that need them, so ``alliance --help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from alliance.errors import AllianceError

EXIT_DATA_ERROR = 1
EXIT_INTERNAL = 70


class AllianceGroup(click.Group):
    """A click group that turns library errors into readable messages, never tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AllianceError as exc:
            click.secho(f"error: {exc}", err=True, fg="red")
            ctx.exit(EXIT_DATA_ERROR)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            # The reader went away (`alliance … | head`): not a bug of ours. Point stdout at
            # devnull so the interpreter's final flush does not raise again.
            _silence_stdout()
            ctx.exit(0)
        except Exception as exc:  # a bug: say so plainly; show the traceback only on request
            from alliance.clinic import environment_flag

            if environment_flag("ALLIANCE_DEBUG"):
                raise
            click.secho(f"internal error: {type(exc).__name__}: {exc}\n"
                        "This is a bug in alliance; run again with ALLIANCE_DEBUG=1 for "
                        "details and please report it.", err=True, fg="red")
            ctx.exit(EXIT_INTERNAL)


def _silence_stdout() -> None:
    import io

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        pass   # not a real file (a test runner's buffer): nothing left to flush into a pipe


@click.group(cls=AllianceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="alliance", prog_name="alliance")
def main() -> None:
    """Measure, monitor and protect the therapeutic alliance.

    \b
    Example:
      alliance instruments list
    """


def _register_all() -> None:
    from alliance.cli import batch, instruments, monitoring, practice, research, transcripts, web

    for module in (instruments, monitoring, practice, transcripts, web, research, batch):
        module.register(main)
    from alliance.cli import integration

    integration.register(main)
    from alliance.cli import report

    report.register(main)
    from alliance.cli import audit, backup

    audit.register(main)
    from alliance.cli import keys

    keys.register(main)
    backup.register(main)


_register_all()


def run() -> None:  # pragma: no cover - console entry for `python -m alliance`
    main(prog_name="alliance")
    sys.exit(0)
