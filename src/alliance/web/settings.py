"""Configuration of the web application, read once from the environment or the CLI.

| variable                         | default                 | meaning                          |
|----------------------------------|-------------------------|----------------------------------|
| ``ALLIANCE_DATABASE_URL``        | ``sqlite:///alliance.db`` | SQLAlchemy URL                 |
| ``ALLIANCE_ENCRYPTION_KEY``      | (none)                  | 32-byte base64 key for transcripts |
| ``ALLIANCE_ENCRYPTION_KEY_FILE`` | (none)                  | file holding that key            |
| ``ALLIANCE_IDLE_MINUTES``        | 30                      | session idle timeout             |
| ``ALLIANCE_ABSOLUTE_HOURS``      | 12                      | session absolute timeout         |
| ``ALLIANCE_LINK_DAYS``           | 7                       | survey link lifetime             |
| ``ALLIANCE_PUBLIC_URL``          | (request's own)         | base of survey links and QR codes |
| ``ALLIANCE_TRANSCRIPT_CODER``    | ``hybrid``              | ``hybrid`` or ``rules`` (no model) |
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from alliance.errors import ConfigError
from alliance.store.crypto import Box
from alliance.store.database import DEFAULT_URL


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_URL
    box: Box | None = None
    idle_timeout: dt.timedelta = dt.timedelta(minutes=30)
    absolute_timeout: dt.timedelta = dt.timedelta(hours=12)
    link_ttl: dt.timedelta = dt.timedelta(days=7)
    public_url: str = ""
    run_worker: bool = True
    worker_interval: float = 1.0
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None,
                         **overrides: object) -> Settings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {
            "database_url": env.get("ALLIANCE_DATABASE_URL") or DEFAULT_URL,
            "box": Box.from_environment(env),
            "idle_timeout": dt.timedelta(minutes=_number(env, "ALLIANCE_IDLE_MINUTES", 30)),
            "absolute_timeout": dt.timedelta(hours=_number(env, "ALLIANCE_ABSOLUTE_HOURS", 12)),
            "link_ttl": dt.timedelta(days=_number(env, "ALLIANCE_LINK_DAYS", 7)),
            "public_url": env.get("ALLIANCE_PUBLIC_URL", "").rstrip("/"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
