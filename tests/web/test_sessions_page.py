"""The sessions page (issue 11, item 9): a user sees their sessions and ends them."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from tests.web.conftest import PASSWORD, PEOPLE, Web, csrf_of

from alliance.store.models import AuditEvent, UserSession


def _log_in(web: Web, agent: str) -> object:
    client = web.anonymous()
    client.headers["user-agent"] = agent
    r = client.post("/login", data={"email": PEOPLE["dana"][0], "password": PASSWORD,
                                    "csrf": csrf_of(client.get("/login").text)})
    assert r.status_code == 303
    return client


def test_the_page_lists_each_session_with_its_browser_and_marks_this_one(web: Web) -> None:
    phone = _log_in(web, "PhoneBrowser/1.0")
    desk = _log_in(web, "DeskBrowser/2.0")
    web.session_for("sam")  # someone else's: never listed
    page = desk.get("/account/sessions")  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert "PhoneBrowser/1.0" in page.text and "DeskBrowser/2.0" in page.text
    assert page.text.count("this session") == 1
    assert page.text.count('/revoke" class="inline"') == 1  # the other one, not sam's
    assert phone.get("/dashboard").status_code == 200  # type: ignore[attr-defined]


def test_ending_one_other_session_logs_it_out(web: Web) -> None:
    phone = _log_in(web, "PhoneBrowser/1.0")
    desk = _log_in(web, "DeskBrowser/2.0")
    page = desk.get("/account/sessions").text  # type: ignore[attr-defined]
    other = re.search(r'/account/sessions/([0-9a-f]{64})/revoke', page).group(1)  # type: ignore[union-attr]
    r = desk.post(f"/account/sessions/{other}/revoke", data={"csrf": csrf_of(page)})  # type: ignore[attr-defined]
    assert r.status_code == 303
    assert phone.get("/dashboard").status_code == 303  # type: ignore[attr-defined]
    assert desk.get("/dashboard").status_code == 200  # type: ignore[attr-defined]


def test_a_user_cannot_end_someone_elses_session(web: Web) -> None:
    web.session_for("sam")
    with web.db.read() as s:
        sams = s.scalars(select(UserSession.token_hash).where(
            UserSession.user_id == web.people["sam"].id)).one()
    dana = web.session_for("dana")
    r = dana.post(f"/account/sessions/{sams}/revoke", data={"csrf": dana.csrf})
    assert r.status_code == 404
    with web.db.read() as s:
        assert s.get(UserSession, sams) is not None


def test_end_all_other_sessions_keeps_only_this_one_and_is_audited(web: Web) -> None:
    for _ in range(3):
        web.session_for("dana")
    me = web.session_for("dana")
    r = me.post("/account/sessions/revoke-others", data={"csrf": me.csrf})
    assert r.status_code == 303
    with web.db.read() as s:
        left = s.scalar(select(func.count()).select_from(UserSession).where(
            UserSession.user_id == web.people["dana"].id))
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "session.revoke")
                          ).one()
    assert left == 1 and event.detail == {"count": 3}
    assert me.get("/dashboard").status_code == 200
