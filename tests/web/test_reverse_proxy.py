"""Behind a reverse proxy (issue 11, item 6): production needs an https public URL, links
never take the Host header's domain, forwarded headers count only from trusted proxies."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import Web, make_case, make_clinic

from alliance.errors import ConfigError
from alliance.store import audit
from alliance.web.app import create_app


def test_production_refuses_to_start_without_an_https_public_url_or_a_key(web: Web) -> None:
    for url in ("", "http://clinic.example"):
        with pytest.raises(ConfigError, match="ALLIANCE_PUBLIC_URL"):
            create_app(clinic=make_clinic(web.db, web.box, production=True, public_url=url))
    create_app(clinic=make_clinic(web.db, web.box, production=True,
                                  public_url="https://clinic.example"))
    with pytest.raises(ConfigError, match="encryption key is required"):
        create_app(clinic=make_clinic(web.db, None, production=True,
                                      public_url="https://clinic.example"))
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        create_app(clinic=make_clinic(web.db, web.box, trusted_proxies=("not-an-ip",)))


def _link(web: Web, app, host: str) -> str:  # type: ignore[no-untyped-def]
    from alliance.store import cases

    case_id, (session_id,) = make_case(web, web.people["dana"])
    with web.db.read() as s:
        member_id = cases.members(s, case_id)[0].id
    session = web.session_for("dana")
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    client.cookies = session.cookies
    r = client.post(f"/cases/{case_id}/links", headers={"host": host},
                    data={"csrf": session.csrf, "measure": "alliance-12:client",
                          "session_id": str(session_id), "member_id": str(member_id)})
    assert r.status_code == 200, r.text
    match = re.search(r"(https?://[^\"<\s]+)/s/", r.text)
    assert match
    return match.group(1)


def test_links_use_the_public_url_whatever_the_host_header(web: Web) -> None:
    app = create_app(clinic=make_clinic(web.db, web.box, public_url="https://clinic.example"))
    assert _link(web, app, "evil.example") == "https://clinic.example"
    # without a public URL (development only) the request's own address is used
    assert _link(web, web.app, "testserver") == "https://testserver"


def _ip_seen(web: Web, proxies: tuple[str, ...], forwarded: str) -> str:
    app = create_app(clinic=make_clinic(web.db, web.box, trusted_proxies=proxies))
    client = TestClient(app, base_url="https://testserver", client=("10.0.0.5", 5000))
    client.get("/login")
    csrf = client.cookies.get("__Host-alliance-login")
    client.post("/login", data={"email": "dana@example.org", "password": "wrong password",
                                "csrf": csrf}, headers={"x-forwarded-for": forwarded})
    with web.db.read() as s:
        return audit.browse(s, action="login.failed", limit=1)[0].ip


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(web: Web) -> None:
    assert _ip_seen(web, ("10.0.0.0/24",), "1.2.3.4, 203.0.113.9") == "203.0.113.9"
    assert _ip_seen(web, ("10.0.0.0/24", "203.0.113.9"), "1.2.3.4, 203.0.113.9") == "1.2.3.4"
    assert _ip_seen(web, (), "203.0.113.9") == "10.0.0.5"
    assert _ip_seen(web, ("192.0.2.1",), "203.0.113.9") == "10.0.0.5"
