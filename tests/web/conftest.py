"""Fixtures of the web and store tests: databases (SQLite, PostgreSQL), app, logged-in clients.

PostgreSQL: the tests create a fresh database ``alliance_test_<random>`` on the server at
127.0.0.1:5432 (``ALLIANCE_TEST_PG`` overrides the admin URL) and drop it at the end, so
parallel runs never collide. When the server cannot be reached the tests are skipped,
except with ``CI=true``, where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from alliance.clinic import Clinic, Settings
from alliance.store import Box, Database, generate_key, sealing, upgrade
from alliance.store.actors import Actor, load_actor
from alliance.store.models import Base, Supervision, User
from alliance.store.passwords import hash_password
from alliance.web.app import create_app
from alliance.worker import Worker

PG_ADMIN_URL = os.environ.get("ALLIANCE_TEST_PG",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct-horse-battery"
PEOPLE = {"admin": ("admin@example.org", "admin"), "dana": ("dana@example.org", "clinician"),
          "sam": ("sam@example.org", "clinician"), "lee": ("lee@example.org", "supervisor"),
          "rowan": ("rowan@example.org", "researcher")}


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)  # once: argon2 is slow on purpose


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run."""
    name = f"alliance_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {type(exc).__name__}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def pg_app_url(pg_server_url: str) -> Iterator[str]:
    """The test database as the application connects to it in a clinic: as a role that owns
    no table, with clinic 1's row-level security (``alliance db grant-app-role``). The owner
    (``pg_server_url``) stays for migrations, emptying tables and owner-only checks."""
    from sqlalchemy.engine import make_url

    from alliance.store.approle import grant_app_role

    role = f"alliance_app_{secrets.token_hex(4)}"
    owner = Database(pg_server_url)
    grant_app_role(owner.engine, role)
    owner.dispose()
    yield make_url(pg_server_url).set(username=role).render_as_string(hide_password=False)
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        conn.exec_driver_sql(f'DROP ROLE "{role}"')
    admin.dispose()


def _truncate_pg(db: Database) -> None:
    """Empty every table but ``clinic_roles`` (which roles belong to which clinic: set up
    once per role, like the grants)."""
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name != "clinic_roles")
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path, box: Box) -> Iterator[Database]:
    """A migrated, empty database: SQLite in a temp folder, then PostgreSQL connected as the
    application role (no table owned, row-level security on: as a clinic runs); its sealed
    columns use the test's ``box`` (as a clinic built on it would)."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'test.db'}")
        upgrade(database.engine)
    else:
        app_url = request.getfixturevalue("pg_app_url")
        owner = Database(request.getfixturevalue("pg_server_url"))
        _truncate_pg(owner)
        owner.dispose()
        database = Database(app_url)
    sealing.attach(database.engine, box)
    yield database
    database.dispose()


@pytest.fixture
def owner_db(db: Database, request: pytest.FixtureRequest, box: Box) -> Iterator[Database]:
    """The same database as the tables' owner (migrations, backups, an intruder who took the
    owner's password): ``db`` itself on SQLite, which has no roles."""
    if db.is_sqlite:
        yield db
        return
    owner = Database(request.getfixturevalue("pg_server_url"))
    sealing.attach(owner.engine, box)
    yield owner
    owner.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, box: Box) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'test.db'}")
    upgrade(database.engine)
    sealing.attach(database.engine, box)
    yield database
    database.dispose()


def add_people(db: Database, password_hash: str) -> dict[str, Actor]:
    """The test clinic's accounts; lee supervises dana (not sam)."""
    with db.write() as s:
        users = {}
        for key, (email, role) in PEOPLE.items():
            users[key] = User(email=email, name=key.title(), role=role,
                              password_hash=password_hash)
            s.add(users[key])
        s.flush()
        s.add(Supervision(supervisor_id=users["lee"].id, clinician_id=users["dana"].id))
        s.flush()
        return {k: load_actor(s, u) for k, u in users.items()}


@pytest.fixture
def people(db: Database, password_hash: str) -> dict[str, Actor]:
    return add_people(db, password_hash)


@pytest.fixture
def box() -> Box:
    return Box.from_text(generate_key())


def rules_coder() -> Any:
    """The web tests exercise the transcript worker, not the coder: no torch here (the hybrid
    coder has its own quality tests in tests/coding)."""
    from alliance.coding.coder import load_coder

    return load_coder(rules_only=True)


def make_clinic(db: Database, box: Box | None, **settings: Any) -> Clinic:
    values: dict[str, Any] = {"run_worker": False, "transcript_coder": "rules",
                              "practice_coder": "rules", "instruments_dir": None, **settings}
    return Clinic(Settings(database_url=db.url, box=box, **values), db,
                  coder_factory=rules_coder)


class AlertWorkerClient(TestClient):
    """A test client that lets the alert worker catch up before each request, as the
    server's worker thread would between a clinician's clicks (transcripts are left to the
    tests, which drive them step by step)."""

    worker: Worker

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        while self.worker.monitor_once():
            pass
        return super().request(*args, **kwargs)


class Web:
    """An app on a database with the test clinic, and clients logged in as anyone."""

    def __init__(self, db: Database, people: dict[str, Actor], box: Box) -> None:
        self.db = db
        self.people = people
        self.box = box
        self.clinic = make_clinic(db, box)
        self.worker = Worker(self.clinic)
        self.app = create_app(clinic=self.clinic)

    def anonymous(self) -> TestClient:
        client = AlertWorkerClient(self.app, base_url="https://testserver",
                                   follow_redirects=False)
        client.worker = self.worker
        return client

    def session_for(self, who: str) -> TestClient:
        """A client with a fresh server-side session (no password check: fast)."""
        from alliance.store import accounts
        from alliance.web.security import SESSION_COOKIE

        with self.db.write() as s:
            user = s.get(User, self.people[who].id)
            assert user is not None
            new = accounts.start_session(s, user)
        client = self.anonymous()
        client.cookies.set(SESSION_COOKIE, new.token, domain="testserver.local")
        client.csrf = new.csrf  # type: ignore[attr-defined]
        return client

    def login(self, who: str) -> TestClient:
        client = self.anonymous()
        page = client.get("/login")
        token = csrf_of(page.text)
        r = client.post("/login", data={"email": PEOPLE[who][0], "password": PASSWORD,
                                        "csrf": token})
        assert r.status_code == 303, r.text
        client.csrf = csrf_of(client.get(r.headers["location"]).text)  # type: ignore[attr-defined]
        return client


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@pytest.fixture
def web(sqlite_db: Database, password_hash: str, box: Box) -> Web:
    return Web(sqlite_db, add_people(sqlite_db, password_hash), box)


def make_case(web_or_db: Any, actor: Actor, *, label: str = "A.B.", modality: str = "individual",
              members: tuple[str, ...] = ("Client",), transcripts: bool = True,
              sessions: int = 1) -> tuple[int, list[int]]:
    """A case with ``sessions`` sessions; returns (case id, session ids)."""
    from alliance.store import cases

    db = web_or_db.db if isinstance(web_or_db, Web) else web_or_db
    with db.write() as s:
        case = cases.create_case(s, actor, cases.CaseDraft(
            label=label, modality=modality, members=members, consent_transcripts=transcripts,
            measures=[("alliance-12", "client", 1), ("alliance-12", "therapist", 1),
                      ("wai-sr", "client", 1)]))
        ids = [cases.add_session(s, actor, case.id, date=dt.date(2026, 1, 5)
                                 + dt.timedelta(weeks=i)).id for i in range(sessions)]
        return case.id, ids


# every item at "agree" (4); the reverse-keyed b3, g3, t3 answered 2: total 48 of 60
ALL_FOUR = {"b1": 4, "b2": 4, "b3": 2, "b4": 4, "g1": 4, "g2": 4, "g3": 2, "g4": 4,
            "t1": 4, "t2": 4, "t3": 2, "t4": 4}


def plant_drop(db: Database, actor: Actor, case_id: int, *, high: int = 4, low: int = 2,
               before: int = 4) -> None:
    """``before`` sessions rated ``high`` on every item, then one rated ``low`` (paper)."""
    from alliance.store import cases, surveys

    with db.write() as s:
        member = cases.members(s, case_id)[0]
        for level in [high] * before + [low]:
            session = cases.add_session(s, actor, case_id, date=dt.date(2026, 3, 1)
                                        + dt.timedelta(weeks=len(cases.sessions(s, case_id))))
            answers = {k: (6 - level if k.endswith("3") else level) for k in ALL_FOUR}
            surveys.enter_paper(s, actor, case_id, session.id, instrument_id="alliance-12",
                                rater="client", member_id=member.id, answers=answers)


@pytest.fixture
def web_any(db: Database, people: dict[str, Actor], box: Box) -> Web:
    """The app on SQLite, then on PostgreSQL."""
    return Web(db, people, box)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.fail("chromium is missing: run `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()
