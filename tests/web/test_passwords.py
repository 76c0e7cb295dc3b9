"""Password policy, change and admin-initiated reset (issue 11, item 9)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.web.conftest import PASSWORD, Web, csrf_of

from alliance.errors import AuthError
from alliance.store import accounts, approvals
from alliance.store.actors import load_actor
from alliance.store.models import AuditEvent, PasswordReset, User, UserSession
from alliance.store.passwords import MAX_LENGTH, PasswordRefused, check_policy


@pytest.mark.parametrize(("password", "rule"), [
    ("eleven-char", "at least 12 characters (this one has 11)"),
    ("x" * 129, "at most 128"),
    ("aaaabbbbaaaabbbb", "more than three different"),
    ("password1234", "common or breached"),
    ("Password1234", "common or breached"),  # checked in lower case too
    ("qwertyuiop123", "common or breached"),
    ("dana@example.org", "e-mail"),
    ("dana.lovelace1", "e-mail"),  # the name part plus fewer than 6 characters
])
def test_the_policy_refuses_with_the_rule_it_broke(password: str, rule: str) -> None:
    with pytest.raises(PasswordRefused, match=rule.replace("(", r"\(").replace(")", r"\)")):
        check_policy(password, "dana.lovelace@example.org" if "lovelace" in password
                     else "dana@example.org")


@pytest.mark.parametrize("password", [
    "twelve chars",  # exactly 12, spaces welcome
    "x" * 100 + "yz-01234" + "q" * 20,  # 128 exactly
    "dana loves long walks",  # the name part inside a long passphrase is fine
    "correct-horse-battery",
])
def test_the_policy_accepts_long_uncommon_passwords(password: str) -> None:
    assert len(password) <= MAX_LENGTH
    check_policy(password, "dana@example.org")


def test_password_change_needs_the_current_one_and_ends_other_sessions(web: Web) -> None:
    other = web.session_for("dana")
    client = web.session_for("dana")
    r = client.post("/account/password", data={"csrf": client.csrf, "current": "wrong-one",
                                               "password": "a brand new secret",
                                               "again": "a brand new secret"})
    assert r.status_code == 400 and "current password is not right" in r.text
    r = client.post("/account/password", data={"csrf": client.csrf, "current": PASSWORD,
                                               "password": "password1234",
                                               "again": "password1234"})
    assert r.status_code == 400 and "common or breached" in r.text
    r = client.post("/account/password", data={"csrf": client.csrf, "current": PASSWORD,
                                               "password": "a brand new secret",
                                               "again": "a brand new secreT"})
    assert r.status_code == 400 and "differ" in r.text
    assert other.get("/dashboard").status_code == 200
    r = client.post("/account/password", data={"csrf": client.csrf, "current": PASSWORD,
                                               "password": "a brand new secret",
                                               "again": "a brand new secret"})
    assert r.status_code == 200 and "Your password is changed" in r.text
    assert other.get("/dashboard").status_code == 303  # ended
    assert client.get("/dashboard").status_code == 200  # this one kept
    with web.db.read() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "password.change")
                           .order_by(AuditEvent.id)).all()
    assert [e.detail["ok"] for e in events] == [False, True]
    assert events[-1].detail["sessions_ended"] == 1


def _reset_link(web: Web, who: str) -> str:
    """The admin asks, a second admin approves and receives the link."""
    with web.db.write() as s:
        ari = accounts.create_user(s, "ari@example.org", "Ari", "admin", PASSWORD)
        ari_actor = load_actor(s, ari)
    admin = web.session_for("admin")
    r = admin.post(f"/admin/users/{web.people[who].id}/reset", data={"csrf": admin.csrf})
    assert r.status_code == 303
    with web.db.read() as s:
        (request,) = approvals.pending(s)
        # nothing changed yet: the old password still works
        assert s.get(User, web.people[who].id).password_hash.startswith("$argon2")  # type: ignore[union-attr]
    with web.db.write() as s:
        user = s.get(User, ari_actor.id)
        assert user is not None
        started = accounts.start_session(s, user)
    second = web.anonymous()
    from alliance.web.security import SESSION_COOKIE

    second.cookies.set(SESSION_COOKIE, started.token, domain="testserver.local")
    r = second.post(f"/admin/approvals/{request.id}/approve", data={"csrf": started.csrf})
    assert r.status_code == 200
    import re

    match = re.search(r'id="reset-link">https?://[^/]+(/reset/[^<]+)<', r.text)
    assert match, r.text
    return match.group(1)


def test_an_approved_reset_link_sets_a_new_password_once(web: Web) -> None:
    dana_before = web.session_for("dana")
    path = _reset_link(web, "dana")
    assert dana_before.get("/dashboard").status_code == 303  # sessions ended by the reset
    with web.db.read() as s:
        assert s.scalar(select(UserSession).where(
            UserSession.user_id == web.people["dana"].id)) is None
    client = web.anonymous()
    page = client.get(path)
    assert page.status_code == 200 and "dana@example.org" in page.text
    form = {"csrf": csrf_of(page.text), "password": "short", "again": "short"}
    refused = client.post(path, data=form)
    assert refused.status_code == 400 and "at least 12" in refused.text
    form.update(password="dana picks a fresh one", again="dana picks a fresh one",
                csrf=csrf_of(refused.text))
    r = client.post(path, data=form)
    assert r.status_code == 200 and "Your password is set" in r.text
    assert client.get(path).status_code == 410  # used
    # the old password is gone, the new one works
    for password, status in ((PASSWORD, 401), ("dana picks a fresh one", 303)):
        fresh = web.anonymous()
        token = csrf_of(fresh.get("/login").text)
        r = fresh.post("/login", data={"email": "dana@example.org", "password": password,
                                       "csrf": token})
        assert r.status_code == status


def test_a_reset_link_expires_after_a_day(web: Web) -> None:
    import datetime as dt

    path = _reset_link(web, "sam")
    with web.db.write() as s:
        row = s.scalars(select(PasswordReset)).one()
        later = row.expires_at.replace(tzinfo=dt.UTC) + dt.timedelta(seconds=1)
    with pytest.raises(AuthError, match="not valid"), web.db.read() as s:
        accounts.reset_target(s, path.rsplit("/", 1)[1], later)


def test_an_account_made_by_an_admin_must_change_its_temporary_password(web: Web) -> None:
    admin = web.session_for("admin")
    r = admin.post("/admin/users", data={"csrf": admin.csrf, "email": "new@example.org",
                                         "name": "New", "role": "clinician",
                                         "password": "temporary-pass-77"})
    assert r.status_code == 303
    client = web.anonymous()
    r = client.post("/login", data={"email": "new@example.org", "password": "temporary-pass-77",
                                    "csrf": csrf_of(client.get("/login").text)})
    assert r.headers["location"] == "/account/password"
    assert client.get("/dashboard").headers["location"] == "/account/password"
    csrf = csrf_of(client.get("/account/password").text)
    r = client.post("/account/password", data={"csrf": csrf, "current": "temporary-pass-77",
                                               "password": "my own passphrase",
                                               "again": "my own passphrase"})
    assert r.status_code == 303
    assert client.get("/dashboard").status_code == 200


def test_admin_form_refuses_a_common_password_readably(web: Web) -> None:
    admin = web.session_for("admin")
    r = admin.post("/admin/users", data={"csrf": admin.csrf, "email": "weak@example.org",
                                         "name": "Weak", "role": "clinician",
                                         "password": "iloveyou12345"})
    assert r.status_code == 400 and "common or breached" in r.text


def test_guessing_the_current_password_on_the_change_form_is_throttled(web: Web) -> None:
    client = web.session_for("dana")
    form = {"csrf": client.csrf, "password": "a brand new secret",
            "again": "a brand new secret"}
    for n in range(5):
        r = client.post("/account/password", data={**form, "current": f"guess number {n}"})
        assert r.status_code == 400 and "not right" in r.text
    r = client.post("/account/password", data={**form, "current": PASSWORD})
    assert r.status_code == 400 and "try again in 1 minute" in r.text


def test_hashing_runs_on_threads_at_the_lowest_priority() -> None:
    import os
    import sys

    from alliance.store import passwords

    if not sys.platform.startswith("linux"):
        pytest.skip("the nice value is per thread on Linux only")
    before = os.getpriority(os.PRIO_PROCESS, 0)
    nice = passwords._hashing().submit(os.getpriority, os.PRIO_PROCESS, 0).result()
    assert nice == passwords.LOW_PRIORITY == 19
    assert passwords.verify_password(passwords.hash_password("a long enough pass"),
                                     "a long enough pass")
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the caller's thread is untouched
