"""A reader that stops early (`alliance … | head`) is not a bug report."""

from __future__ import annotations

import click
from click.testing import CliRunner

from alliance.cli import AllianceGroup


def test_a_closed_output_pipe_ends_quietly_with_exit_0() -> None:
    @click.group(cls=AllianceGroup)
    def group() -> None:
        """A group like the alliance command."""

    @group.command()
    def lines() -> None:
        click.echo("first line")
        raise BrokenPipeError(32, "Broken pipe")   # what a write after `head` exits raises

    result = CliRunner().invoke(group, ["lines"])
    assert result.exit_code == 0
    assert "internal error" not in result.output
