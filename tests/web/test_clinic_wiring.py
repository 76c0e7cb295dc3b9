"""The composition root: settings read once, a clinic's own policy file and catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.web.conftest import Web, make_case, make_clinic, plant_drop

from alliance.clinic import Clinic, Settings
from alliance.errors import ConfigError
from alliance.web.app import create_app


def test_settings_are_read_from_the_environment_given(tmp_path: Path) -> None:
    settings = Settings.from_environment({
        "ALLIANCE_DATABASE_URL": "sqlite:///x.db", "ALLIANCE_POLICY_FILE": "~/p.yaml",
        "ALLIANCE_INSTRUMENTS_DIR": str(tmp_path), "ALLIANCE_JOB_LEASE_SECONDS": "30",
        "ALLIANCE_RUN_WORKER": "0", "HOME": "/home/someone"})
    assert settings.database_url == "sqlite:///x.db" and settings.run_worker is False
    assert settings.instruments_dir == tmp_path and settings.job_lease.total_seconds() == 30
    assert settings.policy_file is not None and settings.policy_file.name == "p.yaml"
    assert Settings.from_environment({"HOME": "/h"}).instruments_dir == Path(
        "/h/.local/share/alliance/instruments")


def test_the_reassessment_spacing_is_read_from_the_environment() -> None:
    assert Settings.from_environment({}).reassess_every.total_seconds() == 10
    spaced = Settings.from_environment({"ALLIANCE_REASSESS_SECONDS": "2.5"})
    assert spaced.reassess_every.total_seconds() == 2.5
    with pytest.raises(ConfigError, match="ALLIANCE_REASSESS_SECONDS"):
        Settings.from_environment({"ALLIANCE_REASSESS_SECONDS": "often"})


def test_a_bad_lease_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ALLIANCE_JOB_LEASE_SECONDS"):
        Settings.from_environment({"ALLIANCE_JOB_LEASE_SECONDS": "soon"})


def test_a_clinic_can_monitor_with_its_own_policy_file(web: Web, tmp_path: Path) -> None:
    steady, _ = make_case(web, web.people["dana"], label="Steady")
    plant_drop(web.db, web.people["dana"], steady, high=4, low=4)
    dana = web.session_for("dana")
    assert "no alert" in dana.get("/dashboard").text  # 48 of 60 is fine by default
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ninstruments:\n  alliance-12:\n    cutoff: 59\n"
                      "    source: a test clinic's stricter local cutoff\n")
    web.clinic = make_clinic(web.db, web.box, policy_file=policy)
    web.worker.clinic = web.clinic
    web.app = create_app(clinic=web.clinic)
    board = web.session_for("dana").get("/dashboard").text
    assert 'class="badge sev-' in board, "re-assessed: below this clinic's cutoff of 59"


def test_an_unreadable_policy_file_is_a_config_error(web: Web, tmp_path: Path) -> None:
    clinic = Clinic(Settings(database_url=web.db.url, policy_file=tmp_path / "missing.yaml"),
                    web.db)
    with pytest.raises(ConfigError, match="cannot read the monitoring policy"):
        _ = clinic.policy
    (tmp_path / "bad.yaml").write_text("version: 1\ndrop: {strict_sd: -1}\n")
    clinic = Clinic(Settings(database_url=web.db.url, policy_file=tmp_path / "bad.yaml"),
                    web.db)
    with pytest.raises(ConfigError):
        _ = clinic.policy


def test_the_clinics_clock_decides_when_a_link_has_expired(web: Web) -> None:
    import datetime as dt

    from alliance.store import cases, surveys

    case_id, (session_id,) = make_case(web, web.people["dana"])
    with web.db.write() as s:
        member = cases.members(s, case_id)[0].id
        token = surveys.create_link(s, web.people["dana"], case_id, session_id,
                                    instrument_id="alliance-12", member_id=member).token
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=8)
    web.clinic = Clinic(web.clinic.settings, web.db, clock=lambda: later)
    web.app = create_app(clinic=web.clinic)
    opened = web.anonymous().get(f"/s/{token}")
    assert opened.status_code == 410 and "expired" in opened.text
