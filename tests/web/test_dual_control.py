"""Separation of duties for admins (issue 11, item 7): handing out access takes two admins.

The issue's attack: an admin creates a supervisor, assigns every clinician to it, and reads
every case. It fails here, and the rest of the rule is pinned down: the requester cannot
approve their own request, the last admin is never deactivated, and each step is audited.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.web.conftest import PASSWORD, Web, make_case

from alliance.errors import PermissionDenied, StoreError
from alliance.store import accounts, approvals
from alliance.store.actors import Actor, load_actor
from alliance.store.models import AuditEvent, Supervision, User


def _second_admin(web: Web) -> Actor:
    with web.db.write() as s:
        user = accounts.create_user(s, "ari@example.org", "Ari", "admin", PASSWORD)
        return load_actor(s, user)


def _supervisees(web: Web, supervisor_id: int) -> set[int]:
    with web.db.read() as s:
        return set(s.scalars(select(Supervision.clinician_id)
                             .where(Supervision.supervisor_id == supervisor_id)))


def _login_page(client: object, email: str, password: str) -> object:
    from tests.web.conftest import csrf_of

    token = csrf_of(client.get("/login").text)  # type: ignore[attr-defined]
    return client.post("/login", data={"email": email, "password": password,  # type: ignore[attr-defined]
                                       "csrf": token})


def test_the_issues_attack_fails_an_admin_alone_reads_no_case(web: Web) -> None:
    dana, sam = web.people["dana"], web.people["sam"]
    case_ids = [make_case(web, dana)[0], make_case(web, sam, label="S.T.")[0]]
    admin = web.session_for("admin")
    # 1. the admin makes a supervisor whose password they know
    r = admin.post("/admin/users", data={"csrf": admin.csrf, "email": "mole@example.org",
                                         "name": "Mole", "role": "supervisor",
                                         "password": "mole-knows-this-1"})
    assert r.status_code == 303
    with web.db.read() as s:
        mole = s.scalars(select(User).where(User.email == "mole@example.org")).one()
    # 2. assigns every clinician to it: only a request
    r = admin.post(f"/admin/users/{mole.id}/supervision",
                   data={"csrf": admin.csrf, "clinicians[]": [str(dana.id), str(sam.id)]})
    assert r.status_code == 303
    assert _supervisees(web, mole.id) == set()
    # 3. and cannot approve it alone: the page offers only to cancel it
    page = admin.get("/admin/users").text
    assert "Waiting for a second admin" in page and "supervise: Dana, Sam" in page
    with web.db.read() as s:
        (request,) = approvals.pending(s)
    assert f"/admin/approvals/{request.id}/approve" not in page
    r = admin.post(f"/admin/approvals/{request.id}/approve", data={"csrf": admin.csrf})
    assert r.status_code == 403
    assert _supervisees(web, mole.id) == set()
    # 4. logging in as the supervisor (after the forced password change) shows no case
    client = web.anonymous()
    assert _login_page(client, "mole@example.org", "mole-knows-this-1").headers[
        "location"] == "/account/password"
    from tests.web.conftest import csrf_of

    csrf = csrf_of(client.get("/account/password").text)
    r = client.post("/account/password", data={"csrf": csrf, "current": "mole-knows-this-1",
                                               "password": "mole-new-secret-22",
                                               "again": "mole-new-secret-22"})
    assert r.status_code == 303
    for case_id in case_ids:
        assert client.get(f"/cases/{case_id}").status_code == 404
    # 5. an admin account has no case pages at all
    for case_id in case_ids:
        assert admin.get(f"/cases/{case_id}").status_code == 404


def test_a_second_admin_approves_supervision_and_it_is_audited(web_any: Web) -> None:
    web = web_any  # SQLite, then PostgreSQL
    ari = _second_admin(web)
    lee, sam = web.people["lee"], web.people["sam"]
    with web.db.write() as s:
        pending = accounts.set_supervision(s, lee.id, [web.people["dana"].id, sam.id],
                                           web.people["admin"])
    assert pending is not None and pending.state == "pending"
    assert _supervisees(web, lee.id) == {web.people["dana"].id}
    with pytest.raises(PermissionDenied, match="second admin"), web.db.write() as s:
        approvals.approve(s, web.people["admin"], pending.id)
    with web.db.write() as s:
        approvals.approve(s, ari, pending.id)
    assert _supervisees(web, lee.id) == {web.people["dana"].id, sam.id}
    with web.db.read() as s:
        actions = [(e.action, e.actor_email) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(
                ["approval.request", "approval.approve", "supervision.change"]))
            .order_by(AuditEvent.id))]
    assert actions == [("approval.request", "admin@example.org"),
                       ("supervision.change", "ari@example.org"),
                       ("approval.approve", "ari@example.org")]


def test_narrowing_supervision_or_adding_trainees_needs_no_second_admin(web: Web) -> None:
    lee = web.people["lee"]
    with web.db.write() as s:
        assert accounts.set_supervision(s, lee.id, [], web.people["admin"]) is None
    assert _supervisees(web, lee.id) == set()
    with web.db.write() as s:
        trainee = accounts.create_user(s, "tia@example.org", "Tia", "trainee", PASSWORD)
        s.flush()
        assert accounts.set_supervision(s, lee.id, [trainee.id], web.people["admin"]) is None
        assert _supervisees(web, lee.id) == set()  # not committed yet
    assert _supervisees(web, lee.id) == {trainee.id}


def test_an_admin_made_on_the_web_is_inactive_until_another_admin_approves(web: Web) -> None:
    admin = web.session_for("admin")
    r = admin.post("/admin/users", data={"csrf": admin.csrf, "email": "sock@example.org",
                                         "name": "Sock", "role": "admin",
                                         "password": "sock-puppet-pass-9"})
    assert r.status_code == 303
    with web.db.read() as s:
        sock = s.scalars(select(User).where(User.email == "sock@example.org")).one()
        assert not sock.active and sock.must_change_password
        (request,) = approvals.pending(s)
    assert request.kind == "activate"
    # the sock puppet cannot log in, so cannot approve anything
    assert _login_page(web.anonymous(), "sock@example.org",
                       "sock-puppet-pass-9").status_code == 401
    # re-activating by hand is a request too, never a shortcut
    with pytest.raises(StoreError, match="already waiting"), web.db.write() as s:
        accounts.set_active(s, web.people["admin"], sock.id, True)
    ari = _second_admin(web)
    with web.db.write() as s:
        approvals.approve(s, ari, request.id)
    with web.db.read() as s:
        assert s.get(User, sock.id).active  # type: ignore[union-attr]


def test_one_admin_cannot_remove_another_alone(web: Web) -> None:
    admin, ari = web.people["admin"], _second_admin(web)
    with pytest.raises(StoreError, match="your own account"), web.db.write() as s:
        accounts.set_active(s, admin, admin.id, False)
    with web.db.write() as s:
        pending = accounts.set_active(s, admin, ari.id, False)
    assert pending is not None
    with web.db.read() as s:
        assert s.get(User, ari.id).active  # type: ignore[union-attr]
    with web.db.write() as s:  # ari refuses her own removal
        assert approvals.refuse(s, ari, pending.id).state == "refused"
    with web.db.read() as s:
        assert s.get(User, ari.id).active  # type: ignore[union-attr]


def test_approving_never_leaves_the_clinic_without_an_active_admin(web: Web) -> None:
    admin, ari = web.people["admin"], _second_admin(web)
    with web.db.write() as s:
        pending = accounts.set_active(s, admin, ari.id, False)
        assert pending is not None
        accounts.deactivate(s, None, s.get(User, admin.id))  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="at least one active admin"), web.db.write() as s:
        approvals.approve(s, ari, pending.id)
    with web.db.read() as s:
        assert s.get(User, ari.id).active  # type: ignore[union-attr]


def test_a_lone_admin_cannot_request_their_own_last_removal(web: Web) -> None:
    with web.db.write() as s:
        other = accounts.create_user(s, "x@example.org", "X", "admin", PASSWORD)
        other.active = False
    with pytest.raises(StoreError, match="at least one active admin"), web.db.write() as s:
        accounts.set_active(s, load_actor(s, other), web.people["admin"].id, False)


def test_deactivating_a_clinician_is_immediate_and_ends_their_sessions_and_tokens(
        web: Web) -> None:
    from alliance.store import apitokens

    dana = web.session_for("dana")
    assert dana.get("/dashboard").status_code == 200
    with web.db.write() as s:
        user = s.get(User, web.people["dana"].id)
        assert user is not None
        bearer = apitokens.create_token(s, user)[1]
    api = web.anonymous()
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {bearer}"}
                   ).status_code == 200
    admin = web.session_for("admin")
    r = admin.post(f"/admin/users/{web.people['dana'].id}/active",
                   data={"csrf": admin.csrf, "active": "no"})
    assert r.status_code == 303
    assert dana.get("/dashboard").status_code == 303  # back to the log-in page
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {bearer}"}
                   ).status_code == 401
    with web.db.read() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")
                          .order_by(AuditEvent.id.desc())).first()
        assert event is not None and event.detail["tokens_revoked"] == 1


def test_a_password_reset_revokes_the_accounts_api_tokens(web: Web) -> None:
    from alliance.store import apitokens
    from alliance.store.models import ApiToken

    with web.db.write() as s:
        user = s.get(User, web.people["sam"].id)
        assert user is not None
        apitokens.create_token(s, user)
        apitokens.create_token(s, user)
        accounts.issue_reset(s, None, user)
    with web.db.read() as s:
        rows = s.scalars(select(ApiToken).where(ApiToken.user_id == web.people["sam"].id)).all()
        assert len(rows) == 2 and all(r.revoked_at is not None for r in rows)


def test_a_request_is_refused_by_the_requester_as_a_cancellation(web: Web) -> None:
    with web.db.write() as s:
        pending = accounts.set_supervision(s, web.people["lee"].id,
                                           [web.people["sam"].id], web.people["admin"])
        assert pending is not None
        assert approvals.refuse(s, web.people["admin"], pending.id).state == "cancelled"
    with pytest.raises(StoreError, match="already cancelled"), web.db.write() as s:
        approvals.refuse(s, web.people["admin"], pending.id)


def test_a_request_older_than_a_week_cannot_be_approved(web: Web) -> None:
    import datetime as dt

    from alliance.store.models import utcnow

    ari = _second_admin(web)
    with web.db.write() as s:
        pending = accounts.set_supervision(s, web.people["lee"].id,
                                           [web.people["sam"].id], web.people["admin"])
        assert pending is not None
    later = utcnow() + approvals.LIFETIME + dt.timedelta(minutes=1)
    with pytest.raises(StoreError, match="older than 7 days"), web.db.write() as s:
        approvals.approve(s, ari, pending.id, now=later)
    assert _supervisees(web, web.people["lee"].id) == {web.people["dana"].id}
