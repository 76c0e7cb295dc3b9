"""The web commands: help with examples, db upgrade, users create, demo seeding."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from alliance.cli import main
from alliance.store import head_revision


@pytest.mark.parametrize("args", [["serve"], ["worker"], ["db"], ["db", "upgrade"],
                                  ["db", "keygen"], ["db", "grant-app-role"], ["users"],
                                  ["users", "create"], ["users", "reset"], ["demo"]])
def test_every_web_command_has_help_with_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0 and "Example" in result.output


def test_upgrade_then_create_user(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    out = runner.invoke(main, ["db", "upgrade", "--database-url", url]).output
    assert f"schema at {head_revision()} (was empty)" in out
    result = runner.invoke(main, ["users", "create", "--email", "a@example.org", "--role",
                                  "admin", "--password", "long-enough-pw", "--database-url", url])
    assert result.exit_code == 0 and "created admin a@example.org" in result.output
    again = runner.invoke(main, ["users", "create", "--email", "a@example.org", "--role",
                                 "admin", "--password", "long-enough-pw", "--database-url", url])
    assert again.exit_code == 1 and "already exists" in again.output


def test_the_operator_resets_a_lone_admin_with_a_one_time_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade", "--database-url", url])
    weak = runner.invoke(main, ["users", "create", "--email", "a@example.org", "--role",
                                "admin", "--password", "password1234", "--database-url", url])
    assert weak.exit_code == 1 and "common or breached" in weak.output
    runner.invoke(main, ["users", "create", "--email", "a@example.org", "--role", "admin",
                         "--password", "long-enough-pw", "--database-url", url])
    result = runner.invoke(main, ["users", "reset", "--email", "A@example.org", "--mfa",
                                  "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "reset link for a@example.org (once, 24 hours): http://127.0.0.1:8000/reset/" \
        in result.output
    missing = runner.invoke(main, ["users", "reset", "--email", "b@example.org",
                                   "--database-url", url])
    assert missing.exit_code == 1 and "no account b@example.org" in missing.output


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--database-url",
                                       f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 1 and "alliance db upgrade" in result.output


def test_bad_database_url_is_a_readable_error() -> None:
    result = CliRunner().invoke(main, ["db", "upgrade", "--database-url", "mysql://x/y"])
    assert result.exit_code == 1 and "only sqlite and postgresql" in result.output


def test_demo_seeds_quickly_and_prints_the_logins(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLIANCE_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("ALLIANCE_ENCRYPTION_KEY_FILE", raising=False)
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--database-url",
                                       f"sqlite:///{tmp_path / 'd.db'}"])
    assert result.exit_code == 0, result.output
    assert "40 cases" in result.output
    assert "http://" not in result.output, "--no-serve serves nothing, so prints no address"
    for email in ("admin@example.org", "dana@example.org", "sam@example.org", "lee@example.org"):
        assert email in result.output
    assert time.perf_counter() - start < 30


def test_sqlite_runs_one_process_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "--database-url", url]).exit_code == 0
    many = runner.invoke(main, ["serve", "--workers", "2", "--database-url", url])
    assert many.exit_code == 1 and "SQLite allows one web process" in many.output
    worker = runner.invoke(main, ["worker", "--database-url", url])
    assert worker.exit_code == 1 and "needs PostgreSQL" in worker.output
    once = runner.invoke(main, ["worker", "--once", "--database-url", url])
    assert once.exit_code == 0, once.output


@pytest.mark.postgres
def test_an_unreachable_database_is_a_readable_error(pg_server_url: str) -> None:
    url = pg_server_url.rsplit("/", 1)[0] + "/alliance_no_such_database"
    for command in (["worker"], ["serve"]):
        result = CliRunner().invoke(main, [*command, "--database-url", url])
        assert result.exit_code == 1 and "cannot reach the database" in result.output


def test_serve_hands_the_gil_over_every_millisecond(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A request waiting on SQLite gets the GIL back within 1 ms of Python elsewhere (the
    alert worker's assessments), not the interpreter's default 5 ms."""
    import sys

    import uvicorn

    url = f"sqlite:///{tmp_path / 'serve.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "--database-url", url]).exit_code == 0
    seen: list[float] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.append(sys.getswitchinterval()))
    before = sys.getswitchinterval()
    try:
        result = runner.invoke(main, ["serve", "--no-worker", "--database-url", url])
    finally:
        sys.setswitchinterval(before)
    assert result.exit_code == 0, result.output
    assert seen == [0.001]
