"""Which transcript coder the web worker uses."""

from __future__ import annotations

import pytest

from alliance.errors import ConfigError
from alliance.web.transcript_analysis import coder_mode


def test_hybrid_coder_is_the_default() -> None:
    assert coder_mode({}) == "hybrid"


def test_rules_only_can_be_chosen() -> None:
    assert coder_mode({"ALLIANCE_TRANSCRIPT_CODER": " Rules "}) == "rules"


def test_unknown_coder_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="ALLIANCE_TRANSCRIPT_CODER='fast'"):
        coder_mode({"ALLIANCE_TRANSCRIPT_CODER": "fast"})
