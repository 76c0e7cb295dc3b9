"""The clinic's expected-response curves: ALLIANCE_EXPECTED_DIR, else the bundled ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alliance.clinic import Clinic, Settings
from alliance.errors import ConfigError
from alliance.monitoring.outcomes import load_expected_response


def clinic(tmp_path: Path, env: dict[str, str]) -> Clinic:
    return Clinic(Settings.from_environment(
        {"ALLIANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", **env}))


def test_bundled_curves_by_default(tmp_path: Path) -> None:
    models = clinic(tmp_path, {}).expected
    assert {"phq-9", "ors"} <= set(models)
    assert models["phq-9"] == load_expected_response("phq-9")


def test_a_clinic_file_replaces_the_bundled_curves(tmp_path: Path) -> None:
    own = load_expected_response("phq-9").to_dict() | {"source": "our clinic, 2025"}
    folder = tmp_path / "curves"
    folder.mkdir()
    (folder / "phq-9.json").write_text(json.dumps(own), encoding="utf-8")
    c = clinic(tmp_path, {"ALLIANCE_EXPECTED_DIR": str(folder)})
    assert c.expected["phq-9"].source == "our clinic, 2025"
    assert c.expected["ors"] == load_expected_response("ors")      # the others stay bundled
    assert c.basis != clinic(tmp_path, {}).basis, "new curves re-assess every case"


def test_a_broken_clinic_file_is_a_config_error(tmp_path: Path) -> None:
    folder = tmp_path / "curves"
    folder.mkdir()
    (folder / "phq-9.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"phq-9\.json"):
        clinic(tmp_path, {"ALLIANCE_EXPECTED_DIR": str(folder)}).expected  # noqa: B018
    (folder / "phq-9.json").write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="not an expected-response file"):
        clinic(tmp_path, {"ALLIANCE_EXPECTED_DIR": str(folder)}).expected  # noqa: B018
