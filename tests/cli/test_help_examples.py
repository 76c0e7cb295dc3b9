"""Every command documents itself with an example (like sqlite-utils' test_docs)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from alliance.cli import main


def walk(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if command.hidden:
            continue
        yield path
        if isinstance(command, click.Group):
            yield from walk(command, path)


COMMANDS = list(walk(main))


def test_the_command_tree_is_not_empty() -> None:
    assert ("score",) in COMMANDS and ("instruments", "list") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`alliance {' '.join(path)} --help` has no example"
    example_lines = [line.strip() for line in result.output.splitlines()
                     if line.strip().startswith("alliance ")]
    assert example_lines, "the example must show a full `alliance ...` command line"
    this_command = "alliance " + " ".join(path)
    assert any(line.startswith(this_command) for line in example_lines), (
        f"no example runs `{this_command}`: {example_lines}")
