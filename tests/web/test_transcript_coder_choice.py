"""Which transcript coder the worker uses: read once, from the settings."""

from __future__ import annotations

import pytest

from alliance.clinic import Settings
from alliance.errors import ConfigError


def test_hybrid_coder_is_the_default() -> None:
    assert Settings.from_environment({}).transcript_coder == "hybrid"


def test_rules_only_can_be_chosen() -> None:
    assert Settings.from_environment(
        {"ALLIANCE_TRANSCRIPT_CODER": " Rules "}).transcript_coder == "rules"


def test_unknown_coder_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="ALLIANCE_TRANSCRIPT_CODER='fast'"):
        Settings.from_environment({"ALLIANCE_TRANSCRIPT_CODER": "fast"})
