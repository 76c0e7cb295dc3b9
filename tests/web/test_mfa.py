"""Two-step log-in (issue 11, item 9): RFC 6238 codes, enrolment, log-in, replay, recovery
codes, the clinic's requirement, and the secret encrypted at rest."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import select, text
from tests.web.conftest import PASSWORD, PEOPLE, Web, csrf_of

from alliance.errors import AuthError
from alliance.store import mfa
from alliance.store.models import AuditEvent, User, utcnow

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(("unix", "expected"), [
    (59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
    (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130"),
])
def test_codes_match_the_rfc_6238_test_vectors(unix: int, expected: str) -> None:
    """RFC 6238 Appendix B, HMAC-SHA1, 8 digits, 30-second steps."""
    assert mfa.code_at(RFC_SECRET, unix // 30, digits=8) == expected


def test_sha256_vector_too() -> None:
    secret = base64.b32encode(b"12345678901234567890123456789012").decode()
    assert mfa.code_at(secret, 59 // 30, digits=8, digest="sha256") == "46119246"


class Clock:
    """The clinic's clock, moved by hand (whole 30-second steps)."""

    def __init__(self) -> None:
        now = utcnow()
        self.now = now - dt.timedelta(seconds=now.timestamp() % 30 - 5)

    def __call__(self) -> dt.datetime:
        return self.now

    def step(self) -> int:
        return mfa.step_of(self.now)


@pytest.fixture
def clock(web: Web) -> Clock:
    c = Clock()
    web.clinic.clock = c
    return c


def _enrol(web: Web, clock: Clock, who: str = "dana") -> tuple[str, list[str]]:
    client = web.session_for(who)
    page = client.get("/account/mfa")
    assert page.status_code == 200 and 'src="data:image/svg+xml;base64,' in page.text
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    assert client.get("/account/mfa").text.count(secret) == 1  # the same pending secret
    wrong = client.post("/account/mfa", data={"csrf": client.csrf, "code": "000000"
                                              if mfa.code_at(secret, clock.step()) != "000000"
                                              else "111111"})
    assert wrong.status_code == 400 and "does not match" in wrong.text
    r = client.post("/account/mfa", data={"csrf": client.csrf,
                                          "code": mfa.code_at(secret, clock.step())})
    assert r.status_code == 200
    codes = re.search(r'id="recovery-codes">([^<]*)</pre>', r.text).group(1).split()  # type: ignore[union-attr]
    assert len(codes) == mfa.RECOVERY_COUNT
    return secret, codes


def _password(web: Web, who: str = "dana", password: str = PASSWORD) -> tuple[object, str]:
    client = web.anonymous()
    r = client.post("/login", data={"email": PEOPLE[who][0], "password": password,
                                    "csrf": csrf_of(client.get("/login").text)})
    return client, r.headers.get("location", "")


def _code(client: object, code: str) -> object:
    page = client.get("/login/mfa")  # type: ignore[attr-defined]
    assert page.status_code == 200
    return client.post("/login/mfa", data={"csrf": csrf_of(page.text),  # type: ignore[attr-defined]
                                           "code": code})


def test_enrolment_then_log_in_asks_for_the_code_after_the_password(web: Web,
                                                                    clock: Clock) -> None:
    secret, _ = _enrol(web, clock)
    clock.now += dt.timedelta(seconds=60)
    client, where = _password(web)
    assert where == "/login/mfa"
    assert client.get("/dashboard").headers["location"] == "/login/mfa"  # type: ignore[attr-defined]
    r = _code(client, mfa.code_at(secret, clock.step()))
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"  # type: ignore[attr-defined]
    assert client.get("/dashboard").status_code == 200  # type: ignore[attr-defined]
    with web.db.read() as s:
        steps = [(e.action, e.detail.get("stage")) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action.like("login%"))
            .order_by(AuditEvent.id))]
    assert steps[-3:] == [("login", "mfa"), ("login", None), ("login.mfa", None)]


def test_the_same_code_is_refused_the_second_time(web: Web, clock: Clock) -> None:
    secret, _ = _enrol(web, clock)
    clock.now += dt.timedelta(seconds=60)
    code = mfa.code_at(secret, clock.step())
    first, _ = _password(web)
    assert _code(first, code).status_code == 303  # type: ignore[attr-defined]
    second, _ = _password(web)
    r = _code(second, code)
    assert r.status_code == 401 and "already used" in r.text  # type: ignore[attr-defined]
    # nor an older code still inside the drift window
    r = _code(second, mfa.code_at(secret, clock.step() - 1))
    assert r.status_code == 401  # type: ignore[attr-defined]
    clock.now += dt.timedelta(seconds=30)
    assert _code(second, mfa.code_at(secret, clock.step())).status_code == 303  # type: ignore[attr-defined]


def test_a_recovery_code_works_once(web: Web, clock: Clock) -> None:
    _, codes = _enrol(web, clock)
    client, _ = _password(web)
    assert _code(client, codes[0].upper()).status_code == 303  # type: ignore[attr-defined]
    again, _ = _password(web)
    r = _code(again, codes[0])
    assert r.status_code == 401 and "already used" in r.text  # type: ignore[attr-defined]
    with web.db.read() as s:
        assert mfa.recovery_left(s, web.people["dana"].id) == mfa.RECOVERY_COUNT - 1


def test_five_wrong_codes_drop_the_half_open_log_in(web: Web, clock: Clock) -> None:
    secret, _ = _enrol(web, clock)
    client, _ = _password(web)
    right = mfa.code_at(secret, clock.step())
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(4):
        assert _code(client, wrong).status_code == 401  # type: ignore[attr-defined]
    page = client.get("/login/mfa")  # type: ignore[attr-defined]
    r = client.post("/login/mfa", data={"csrf": csrf_of(page.text), "code": wrong})  # type: ignore[attr-defined]
    assert "log in again" in r.text
    assert client.get("/login/mfa").headers["location"] == "/login"  # type: ignore[attr-defined]


def test_the_secret_is_encrypted_at_rest(web: Web, clock: Clock) -> None:
    secret, codes = _enrol(web, clock)
    with web.db.engine.connect() as conn:
        stored = conn.execute(text("SELECT mfa_secret FROM users WHERE email = "
                                   "'dana@example.org'")).scalar_one()
        hashes = conn.execute(text("SELECT code_hash FROM recovery_codes")).scalars().all()
    assert secret.encode() not in stored and base64.b32decode(secret) not in stored
    assert not any(c.replace("-", "") in h for c in codes for h in hashes)


def test_a_clinic_that_requires_mfa_sends_a_new_user_to_set_it_up(web: Web,
                                                                   clock: Clock) -> None:
    web.clinic.settings = dataclasses.replace(web.clinic.settings, require_mfa=True)
    client, where = _password(web, "sam")
    assert where == "/account/mfa"
    assert client.get("/dashboard").headers["location"] == "/account/mfa"  # type: ignore[attr-defined]
    page = client.get("/account/mfa")  # type: ignore[attr-defined]
    assert "requires two-step log-in" in page.text
    secret = re.search(r'id="mfa-secret">([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/account/mfa", data={"csrf": csrf_of(page.text),  # type: ignore[attr-defined]
                                          "code": mfa.code_at(secret, clock.step())})
    assert r.status_code == 200
    assert client.get("/dashboard").status_code == 200  # type: ignore[attr-defined]
    with web.db.read() as s:
        assert s.get(User, web.people["sam"].id).mfa_enabled  # type: ignore[union-attr]


def test_without_the_requirement_mfa_is_optional_and_log_in_is_one_step(web: Web) -> None:
    _, where = _password(web, "sam")
    assert where == "/dashboard"


def test_an_approved_mfa_reset_switches_it_off(web: Web, clock: Clock) -> None:
    from alliance.store import accounts, approvals
    from alliance.store.actors import load_actor

    _enrol(web, clock)
    with web.db.write() as s:
        ari = load_actor(s, accounts.create_user(s, "ari@example.org", "Ari", "admin",
                                                 PASSWORD))
    admin = web.session_for("admin")
    r = admin.post(f"/admin/users/{web.people['dana'].id}/mfa-reset",
                   data={"csrf": admin.csrf})
    assert r.status_code == 303
    with web.db.write() as s:
        (request,) = approvals.pending(s)
        approvals.approve(s, ari, request.id)
    _, where = _password(web)
    assert where == "/dashboard"


def test_the_requirement_is_read_from_the_clinics_environment() -> None:
    from alliance.clinic import Settings

    assert Settings.from_environment({"ALLIANCE_REQUIRE_MFA": "1"}).require_mfa
    assert not Settings.from_environment({"ALLIANCE_REQUIRE_MFA": "no"}).require_mfa
    assert not Settings.from_environment({}).require_mfa


def test_store_refuses_a_replayed_code_on_both_databases(web_any: Web) -> None:
    from alliance.store import accounts

    web, now = web_any, utcnow()
    with web.db.write() as s:
        user = s.get(User, web.people["dana"].id)
        assert user is not None
        secret = mfa.begin_enrolment(s, web.box, user)
        mfa.confirm_enrolment(s, web.box, user, mfa.code_at(secret, mfa.step_of(now)), now=now)
    later = now + dt.timedelta(seconds=30)
    code = mfa.code_at(secret, mfa.step_of(later))
    tokens = []
    for _ in range(2):
        with web.db.write() as s:
            user = s.get(User, web.people["dana"].id)
            assert user is not None
            tokens.append(accounts.start_session(s, user, stage="mfa", now=later).token)
    _, started = mfa.second_factor(web.db, web.box, tokens[0], code, now=later)
    assert started.stage == "full"
    with pytest.raises(AuthError, match="already used"):
        mfa.second_factor(web.db, web.box, tokens[1], code, now=later)


def test_the_secret_survives_key_rotation_and_the_old_keys_removal(web: Web,
                                                                    clock: Clock) -> None:
    from alliance.store import Box, generate_key, sealing
    from alliance.store.crypto import key_id_in
    from alliance.store.rotation import reseal_step

    secret, _ = _enrol(web, clock)
    ring = Box(Box.from_text(generate_key()).key, (web.box.key,))
    keys = sealing.Keys(ring, web.db.engine)
    with web.db.write() as s:
        while reseal_step(s.connection(), keys).total:
            pass
    with web.db.read() as s:
        dana = s.execute(select(User).where(User.email == "dana@example.org")).scalar_one()
        assert key_id_in(dana.mfa_secret) == ring.kid
        assert mfa.pending_secret(Box(ring.key), dana) == secret  # the old key is gone
