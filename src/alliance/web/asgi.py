"""The ASGI entry point of each web process when ``alliance serve --workers N`` runs several.

uvicorn starts N processes and calls :func:`app` in each; every process reads the settings
that the parent exported (:func:`export_settings`) through the composition root, once.
"""

from __future__ import annotations

from fastapi import FastAPI

from alliance.clinic import KEY_ENV, KEY_FILE_ENV, Clinic, Settings


def export_settings(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process read the same settings."""
    env = {"ALLIANCE_DATABASE_URL": settings.database_url,
           "ALLIANCE_RUN_WORKER": "1" if settings.run_worker else "0",
           "ALLIANCE_TRANSCRIPT_CODER": settings.transcript_coder}
    if settings.key_origin and settings.key_origin not in (KEY_ENV, KEY_FILE_ENV):
        env[KEY_FILE_ENV] = settings.key_origin
    if settings.instruments_dir is not None:
        env["ALLIANCE_INSTRUMENTS_DIR"] = str(settings.instruments_dir)
    if settings.policy_file is not None:
        env["ALLIANCE_POLICY_FILE"] = str(settings.policy_file)
    return env


def app() -> FastAPI:
    from alliance.web.app import create_app

    return create_app(clinic=Clinic(Settings.from_environment()))
