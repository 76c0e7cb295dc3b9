"""The composition root of the clinic: settings read once, and the one object built from them.

:class:`Settings` is the only place in alliance that reads the environment
(:meth:`Settings.from_environment`); the CLI reads it once at start-up and builds a
:class:`Clinic`, which holds everything the store, the routes and the worker need:

* the instrument catalogue (the bundled specs plus the deployer folder, so licensed
  wording added with ``alliance instruments add`` reaches the web app),
* the monitoring policy (the bundled default, or the clinic's own policy file),
* the transcript coder (built on first use, once),
* the clock and the transcript encryption key.

Variables (defaults in brackets):

* ``ALLIANCE_DATABASE_URL`` [``sqlite:///alliance.db``]: SQLAlchemy URL
* ``ALLIANCE_ENCRYPTION_KEY`` or ``ALLIANCE_ENCRYPTION_KEY_FILE``: the transcript key
  (32 bytes, URL-safe base64), or a file holding it
* ``ALLIANCE_IDLE_MINUTES`` [30], ``ALLIANCE_ABSOLUTE_HOURS`` [12]: session timeouts
* ``ALLIANCE_LINK_DAYS`` [7]: survey link lifetime
* ``ALLIANCE_PUBLIC_URL`` [the request's own]: base of survey links and QR codes
* ``ALLIANCE_TRANSCRIPT_CODER`` [``hybrid``]: ``hybrid`` or ``rules`` (no model)
* ``ALLIANCE_PRACTICE_CODER`` [``rules``]: the coder that scores trainees' practice
  responses on the web; ``rules`` answers in milliseconds, ``hybrid`` lets the verdict head
  decide (falls back to ``rules`` when the model is missing)
* ``ALLIANCE_INSTRUMENTS_DIR`` [``~/.local/share/alliance/instruments``]: deployer specs
* ``ALLIANCE_POLICY_FILE`` [the bundled policy]: the clinic's monitoring policy (YAML)
* ``ALLIANCE_EXPECTED_DIR`` [the bundled curves]: the clinic's expected-response curves
  (``<instrument>.json`` from ``alliance outcomes fit``)
* ``ALLIANCE_JOB_LEASE_SECONDS`` [300]: how long a worker's claim on a job lasts
* ``ALLIANCE_RUN_WORKER`` [1]: web processes also run the background jobs
* ``ALLIANCE_DEBUG`` [off]: the CLI shows the traceback of a bug
* ``ALLIANCE_SMTP_URL``, ``ALLIANCE_MAIL_FROM``, ``ALLIANCE_SMS_URL``,
  ``ALLIANCE_CLINIC_NAME``, ``ALLIANCE_REMINDER_DELAY``, ``ALLIANCE_SEND_WINDOW``,
  ``ALLIANCE_QUIET_HOURS``, ``ALLIANCE_TIMEZONE``: delivery of survey links and notices
  (``docs/delivery.md``; nothing is sent unless configured)
* ``ALLIANCE_MAX_BODY_BYTES`` [8 MiB]: the largest request body read (larger: 413)
* ``ALLIANCE_PRODUCTION`` [off]: refuse to start without an ``https://`` public URL or
  without an encryption key
* ``ALLIANCE_TRUSTED_PROXIES`` [none]: comma-separated addresses or networks of the reverse
  proxies whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` are believed
* ``ALLIANCE_REQUIRE_MFA`` [off]: every account must use two-step log-in (TOTP); one
  without it is sent to set it up right after the password
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alliance.delivery.settings import DeliverySettings, parse_delivery_settings
from alliance.errors import ConfigError, PolicyError
from alliance.store import sealing
from alliance.store.crypto import Box
from alliance.store.database import DEFAULT_URL, Database

if TYPE_CHECKING:
    from alliance.instruments import Catalog
    from alliance.monitoring import Policy

log = logging.getLogger("alliance.clinic")
CODER_MODES = ("hybrid", "rules")
KEY_ENV = "ALLIANCE_ENCRYPTION_KEY"
KEY_FILE_ENV = "ALLIANCE_ENCRYPTION_KEY_FILE"


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


def default_instruments_dir(env: Mapping[str, str]) -> Path:
    """``$ALLIANCE_INSTRUMENTS_DIR`` when set, else ``~/.local/share/alliance/instruments``."""
    raw = env.get("ALLIANCE_INSTRUMENTS_DIR")
    if raw:
        return Path(raw).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".local" / "share" / "alliance" / "instruments"


def box_from(env: Mapping[str, str]) -> tuple[Box | None, str]:
    """The key named by ``env`` and where it came from; ``(None, "")`` when none is set."""
    if env.get(KEY_ENV):
        return Box.from_text(env[KEY_ENV], KEY_ENV), KEY_ENV
    if env.get(KEY_FILE_ENV):
        path = Path(env[KEY_FILE_ENV])
        try:
            return Box.from_text(path.read_text(), str(path)), str(path)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the encryption key file "
                              f"({exc.strerror})") from None
    return None, ""


def coder_mode(value: str | None, name: str = "ALLIANCE_TRANSCRIPT_CODER") -> str:
    """``hybrid`` (default: rules plus the embedding heads, the more accurate coder) or
    ``rules`` (no embedding model in the worker process)."""
    mode = (value or "hybrid").strip().lower()
    if mode not in CODER_MODES:
        raise ConfigError(f"{name}={mode!r}; use one of {CODER_MODES}")
    return mode


@dataclass(frozen=True)
class Settings:
    """Everything configurable, as values; read once."""

    database_url: str = DEFAULT_URL
    box: Box | None = None
    key_origin: str = ""
    idle_timeout: dt.timedelta = dt.timedelta(minutes=30)
    absolute_timeout: dt.timedelta = dt.timedelta(hours=12)
    link_ttl: dt.timedelta = dt.timedelta(days=7)
    public_url: str = ""
    run_worker: bool = True
    worker_interval: float = 1.0
    # a case is re-assessed at most this often by the background loop (its answers in
    # between share one assessment); risk answers raise their signal at submission anyway
    reassess_every: dt.timedelta = dt.timedelta(seconds=10)
    transcript_coder: str = "hybrid"
    instruments_dir: Path | None = None
    policy_file: Path | None = None
    expected_dir: Path | None = None
    job_lease: dt.timedelta = dt.timedelta(minutes=5)
    debug: bool = False
    # v15 on clean text: 0.817 verdict accuracy with the model, 0.558 with the phrase rules
    # (docs/training.md); "hybrid" falls back to the rules when the model is not installed
    practice_coder: str = "hybrid"
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    max_body_bytes: int = 8 * 1024 * 1024
    production: bool = False
    trusted_proxies: tuple[str, ...] = ()
    require_mfa: bool = False

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None,
                         **overrides: object) -> Settings:
        """The settings named by ``environ`` (default: the process environment) with
        ``overrides`` (CLI options) on top; ``None`` overrides are ignored."""
        env = dict(os.environ if environ is None else environ)
        box, origin = box_from(env)
        policy = env.get("ALLIANCE_POLICY_FILE")
        values: dict[str, object] = {
            "database_url": env.get("ALLIANCE_DATABASE_URL") or DEFAULT_URL,
            "box": box,
            "key_origin": origin,
            "idle_timeout": dt.timedelta(minutes=_number(env, "ALLIANCE_IDLE_MINUTES", 30)),
            "absolute_timeout": dt.timedelta(hours=_number(env, "ALLIANCE_ABSOLUTE_HOURS", 12)),
            "link_ttl": dt.timedelta(days=_number(env, "ALLIANCE_LINK_DAYS", 7)),
            "public_url": env.get("ALLIANCE_PUBLIC_URL", "").rstrip("/"),
            "transcript_coder": coder_mode(env.get("ALLIANCE_TRANSCRIPT_CODER")),
            "instruments_dir": default_instruments_dir(env),
            "policy_file": Path(policy).expanduser() if policy else None,
            "expected_dir": (Path(env["ALLIANCE_EXPECTED_DIR"]).expanduser()
                             if env.get("ALLIANCE_EXPECTED_DIR") else None),
            "job_lease": dt.timedelta(seconds=_number(env, "ALLIANCE_JOB_LEASE_SECONDS", 300)),
            "reassess_every": dt.timedelta(seconds=_number(env, "ALLIANCE_REASSESS_SECONDS",
                                                           10)),
            "debug": bool(env.get("ALLIANCE_DEBUG")),
            "practice_coder": coder_mode(env.get("ALLIANCE_PRACTICE_CODER") or "hybrid",
                                         "ALLIANCE_PRACTICE_CODER"),
            "run_worker": env.get("ALLIANCE_RUN_WORKER", "1").strip().lower()
            not in ("0", "no", "false"),
            "max_body_bytes": int(_number(env, "ALLIANCE_MAX_BODY_BYTES", 8 * 1024 * 1024)),
            "production": env.get("ALLIANCE_PRODUCTION", "").strip().lower()
            in ("1", "yes", "true"),
            "trusted_proxies": tuple(p.strip() for p in env.get(
                "ALLIANCE_TRUSTED_PROXIES", "").split(",") if p.strip()),
            "require_mfa": env.get("ALLIANCE_REQUIRE_MFA", "").strip().lower()
            in ("1", "yes", "true"),
        }
        values["delivery"] = parse_delivery_settings(env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check_delivery()
        return settings

    def check_delivery(self) -> None:
        """Messages carry absolute links: a configured channel needs the public URL."""
        if self.delivery.channels and not self.public_url:
            raise ConfigError("ALLIANCE_PUBLIC_URL is required when a delivery channel is "
                              "set (messages carry the survey link)")


def pass_on(settings: Settings) -> None:
    """Put ``settings`` into this process's environment, so that child processes (the web
    processes of ``alliance serve --workers N``) read the same settings."""
    env = {"ALLIANCE_DATABASE_URL": settings.database_url,
           "ALLIANCE_RUN_WORKER": "1" if settings.run_worker else "0",
           "ALLIANCE_TRANSCRIPT_CODER": settings.transcript_coder,
           "ALLIANCE_PRACTICE_CODER": settings.practice_coder}
    if settings.key_origin and settings.key_origin not in (KEY_ENV, KEY_FILE_ENV):
        env[KEY_FILE_ENV] = settings.key_origin
    if settings.instruments_dir is not None:
        env["ALLIANCE_INSTRUMENTS_DIR"] = str(settings.instruments_dir)
    if settings.policy_file is not None:
        env["ALLIANCE_POLICY_FILE"] = str(settings.policy_file)
    if settings.expected_dir is not None:
        env["ALLIANCE_EXPECTED_DIR"] = str(settings.expected_dir)
    os.environ.update(env)


def environment_flag(name: str) -> bool:
    """A yes/no switch read from the environment at the CLI's edge (``ALLIANCE_DEBUG``)."""
    return bool(os.environ.get(name))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Clinic:
    """The wired clinic: database, catalogue, policy, coder, clock and key, from one place."""

    def __init__(self, settings: Settings, db: Database | None = None, *,
                 clock: Callable[[], dt.datetime] = utcnow,
                 coder_factory: Callable[[], Any] | None = None,
                 catalog: Catalog | None = None, policy: Policy | None = None) -> None:
        self.settings = settings
        self.db = db if db is not None else Database(settings.database_url)
        self.box = settings.box
        # the sealed columns (names, notes, labels) read and write with this key
        sealing.attach(self.db.engine, self.box)
        self.clock = clock
        self._coder_factory = coder_factory
        self._coder: Any = None
        self._coder_lock = threading.Lock()
        self._catalog = catalog
        self._policy = policy
        self.worker_name = f"{socket.gethostname()}:{os.getpid()}"

    @cached_property
    def catalog(self) -> Catalog:
        """The bundled instruments overlaid with the deployer folder's."""
        if self._catalog is not None:
            return self._catalog
        from alliance.instruments import builtin_catalog

        if self.settings.instruments_dir is None:
            return builtin_catalog()
        from alliance.interop.specfiles import load_catalog

        return load_catalog(self.settings.instruments_dir)

    @cached_property
    def policy(self) -> Policy:
        """The clinic's monitoring policy file, else the bundled default."""
        if self._policy is not None:
            return self._policy
        from alliance.monitoring import default_policy
        from alliance.monitoring.policy import parse_policy

        path = self.settings.policy_file
        if path is None:
            return default_policy()
        raw = self._policy_raw
        if isinstance(raw, dict):  # ``retention`` is the clinic's, not monitoring's
            raw = {k: v for k, v in raw.items() if k != "retention"}
        try:
            return parse_policy(raw, str(path))
        except PolicyError as exc:
            raise ConfigError(str(exc)) from None

    @cached_property
    def _policy_raw(self) -> Any:
        """The clinic's policy file, parsed (``None`` without one)."""
        from alliance.yamltext import load_yaml

        path = self.settings.policy_file
        if path is None:
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read the monitoring policy "
                              f"({exc.strerror or exc})") from None
        try:
            return load_yaml(text, str(path), PolicyError)
        except PolicyError as exc:
            raise ConfigError(str(exc)) from None

    @cached_property
    def retention(self) -> Any:
        """The clinic's retention policy: the policy file's ``retention:`` section
        (:class:`alliance.store.retention.Retention`; none: archived cases are kept)."""
        from alliance.store.retention import Retention

        raw = self._policy_raw
        return Retention.from_mapping(raw.get("retention") if isinstance(raw, dict) else None,
                                      str(self.settings.policy_file or "policy"))

    @cached_property
    def expected(self) -> dict[str, Any]:
        """Expected-response curves by outcome instrument: the clinic's own files in
        ``ALLIANCE_EXPECTED_DIR`` (``alliance outcomes fit``), else the bundled defaults."""
        from alliance.errors import InputFileError
        from alliance.monitoring.progress import expected_models

        try:
            return expected_models(self.catalog, self.settings.expected_dir)
        except InputFileError as exc:
            raise ConfigError(str(exc)) from None

    @cached_property
    def basis(self) -> str:
        """What stored alert reports depend on besides the rows (policy, catalogue and the
        expected-response curves)."""
        from alliance.store.monitoring import basis_of

        return basis_of(self.policy, self.catalog, self.expected)

    @cached_property
    def delivery(self) -> Any:
        """The senders and timing rules of survey links and notices, built once
        (:class:`alliance.store.delivery.Delivery`)."""
        from alliance.delivery import SchedulePolicy, build_senders
        from alliance.store.delivery import Delivery

        d = self.settings.delivery
        return Delivery(d, build_senders(d), SchedulePolicy.from_settings(d),
                        self.settings.public_url, self.settings.link_ttl)

    def coder(self) -> Any:
        """The transcript coder, built once (loading a model takes seconds)."""
        with self._coder_lock:
            if self._coder is None:
                factory = self._coder_factory or (lambda: load_transcript_coder(
                    self.settings.transcript_coder))
                self._coder = factory()
            return self._coder

    def practice_coder(self) -> Any:
        """The coder that scores practice responses (``Settings.practice_coder``): the rules
        coder, or the hybrid one when the settings say so and the model loads (cached by
        :mod:`alliance.training.coders`)."""
        from alliance.training.coders import practice_coder

        return practice_coder("auto" if self.settings.practice_coder == "hybrid" else "rules")

    def check_key(self) -> None:
        """Refuse to start when the configured key cannot decrypt what is stored."""
        from alliance.store.transcripts import check_key

        check_key(self.db, self.box, self.settings.key_origin)

    def check(self) -> None:
        """Everything a process needs, checked at start-up rather than at the first request:
        the key opens the stored transcripts, the catalogue and the policy file load."""
        self.check_key()
        self.check_deployment()
        _ = self.catalog, self.policy, self.delivery, self.expected

    def check_deployment(self) -> None:
        """In production, survey links must come from a configured ``https://`` URL, never
        from a request's Host header; proxy addresses must parse."""
        import ipaddress

        if self.settings.production and not self.settings.public_url.startswith("https://"):
            raise ConfigError("ALLIANCE_PRODUCTION is set: ALLIANCE_PUBLIC_URL must be the "
                              "clinic's https:// address (survey links and QR codes use it)")
        if self.settings.production and self.box is None:
            raise ConfigError("ALLIANCE_PRODUCTION is set: an encryption key is required "
                              "(ALLIANCE_ENCRYPTION_KEY_FILE or ALLIANCE_ENCRYPTION_KEY; "
                              "create one with `alliance db keygen`), or names, notes and "
                              "transcripts would be stored in clear")
        for proxy in self.settings.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ConfigError(f"ALLIANCE_TRUSTED_PROXIES: {proxy!r} is not an address "
                                  "or network") from None

    def dispose(self) -> None:
        self.db.dispose()


def load_transcript_coder(mode: str) -> Any:
    from alliance.coding.coder import load_coder
    from alliance.errors import CodingError

    if mode == "rules":
        return load_coder(rules_only=True)
    try:
        # One encoder thread: the worker leaves the other core to the web processes.
        return load_coder(threads=1)
    except (ImportError, CodingError) as exc:
        # The report itself says it was coded by rules only, so nobody mistakes it.
        log.warning("hybrid transcript coder unavailable (%s); using the rules-only coder", exc)
        return load_coder(rules_only=True)
