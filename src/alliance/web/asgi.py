"""The ASGI entry point of each web process when ``alliance serve --workers N`` runs several.

uvicorn starts N processes and calls :func:`app` in each; every process reads the settings
that the parent passed on (:func:`alliance.clinic.pass_on`) through the composition root, once.
"""

from __future__ import annotations

from fastapi import FastAPI

from alliance.clinic import Clinic, Settings


def app() -> FastAPI:
    from alliance.web.app import create_app, tune_server_process

    tune_server_process()
    return create_app(clinic=Clinic(Settings.from_environment()))
