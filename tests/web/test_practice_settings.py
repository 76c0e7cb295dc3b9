"""The trainee role from the command line, and which coder scores practice on the web."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from alliance.cli import main
from alliance.clinic import Clinic, Settings
from alliance.errors import ConfigError
from alliance.training.coders import default_coder


def test_admin_creates_a_trainee_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "--database-url", url]).exit_code == 0
    result = runner.invoke(main, ["users", "create", "--email", "t@example.org", "--role",
                                  "trainee", "--password", "long-enough-pw",
                                  "--database-url", url])
    assert result.exit_code == 0 and "created trainee t@example.org" in result.output
    bad = runner.invoke(main, ["users", "create", "--email", "u@example.org", "--role",
                               "student", "--password", "long-enough-pw",
                               "--database-url", url])
    assert bad.exit_code != 0 and "student" in bad.output


def test_practice_is_scored_by_the_hybrid_coder_by_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr("alliance.training.coders.practice_coder",
                        lambda kind: asked.append(kind) or default_coder())
    for settings in (Settings.from_environment({}),
                     Settings.from_environment({"ALLIANCE_PRACTICE_CODER": "hybrid"})):
        assert settings.practice_coder == "hybrid"
        Clinic(settings).practice_coder()
    assert asked == ["auto", "auto"]  # hybrid when the model loads, the rules otherwise


def test_a_clinic_can_choose_the_rules_coder_for_practice() -> None:
    settings = Settings.from_environment({"ALLIANCE_PRACTICE_CODER": "rules"})
    assert settings.practice_coder == "rules"
    assert Clinic(settings).practice_coder() is default_coder()


def test_an_unknown_practice_coder_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ALLIANCE_PRACTICE_CODER"):
        Settings.from_environment({"ALLIANCE_PRACTICE_CODER": "gpt"})
