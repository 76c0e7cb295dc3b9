"""Every route, every role: the expected status, enumerated from the app's own routes.

A route added to the application without an entry in :data:`MATRIX` fails
:func:`test_every_route_has_an_entry`. Each route runs in a fresh clinic where ``dana`` owns
the case, ``sam`` is another clinician (foreign case: 404), ``lee`` supervises dana (reads,
cannot change: 403), ``admin`` and ``rowan`` (researcher) see no case pages (404), and
``anon`` is logged out (redirect to the log-in page). ``tia`` is a trainee (supervised by
``lee``) who owns a practice and an exam session; on every other page she is a stranger (404),
which :func:`expected` fills in where an entry does not name her.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount
from tests.web.conftest import ALL_FOUR, PASSWORD, Web, add_people, make_case, plant_drop
from tests.web.practice_world import add_trainees

from alliance.store import accounts, apitokens, approvals, cases, delivery, practice, surveys
from alliance.store.actors import load_actor
from alliance.store.database import Database
from alliance.store.models import CaseSignal, Transcript, User
from alliance.store.schema import upgrade
from alliance.store.tokens import token_hash
from alliance.store.transcripts import content_aad
from alliance.web.routes import api

ROLES = ("anon", "sam", "lee", "admin", "rowan", "tia", "dana")  # owners last: writes change state
OWNER_WRITE = {"anon": 303, "sam": 404, "lee": 403, "admin": 404, "rowan": 404}
CASE_READ = {"anon": 303, "sam": 404, "lee": 200, "admin": 404, "rowan": 404, "dana": 200}
ADMIN_ONLY = {"anon": 303, "sam": 404, "lee": 404, "admin": 200, "rowan": 404, "dana": 404}
PUBLIC_200 = dict.fromkeys(ROLES, 200)
TRAINEE_ONLY = {**dict.fromkeys(ROLES, 404), "anon": 303, "tia": 200}


def _w(dana: int) -> dict[str, int]:
    return {**OWNER_WRITE, "dana": dana}


def _admin(status: int) -> dict[str, int]:
    return {**ADMIN_ONLY, "admin": status}


# (method, path template) -> (request builder key, expected status per role)
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/"): dict.fromkeys(ROLES, 303),
    ("GET", "/healthz"): PUBLIC_200,
    ("GET", "/login"): PUBLIC_200,
    ("POST", "/login"): dict.fromkeys(ROLES, 403),  # no log-in CSRF cookie: refused
    ("POST", "/logout"): dict.fromkeys(ROLES, 303),
    ("GET", "/dashboard"): {"anon": 303, "sam": 200, "lee": 200, "admin": 404, "rowan": 404,
                            "dana": 200},
    ("GET", "/cases/new"): {"anon": 303, "sam": 200, "lee": 404, "admin": 404, "rowan": 404,
                            "dana": 200},
    ("POST", "/cases"): {"anon": 303, "sam": 303, "lee": 404, "admin": 404, "rowan": 404,
                         "dana": 303},
    ("GET", "/cases/{case_id}"): CASE_READ,
    ("GET", "/cases/{case_id}/trajectory.json"): CASE_READ,
    ("GET", "/cases/{case_id}/report.pdf"): CASE_READ,
    ("POST", "/cases/{case_id}/sessions"): _w(303),
    ("POST", "/cases/{case_id}/consent"): _w(303),
    ("POST", "/cases/{case_id}/measures"): _w(303),
    ("POST", "/cases/{case_id}/measures/{measure_id}/delete"): _w(303),
    ("POST", "/cases/{case_id}/context"): _w(303),
    ("POST", "/cases/{case_id}/archive"): _w(303),
    ("POST", "/cases/{case_id}/delete"): _w(303),
    ("POST", "/cases/{case_id}/alerts/{alert_id}"): _w(303),
    ("POST", "/cases/{case_id}/links"): _w(200),
    # this clinic has no e-mail or SMS configured: the owner's "Send now" is a readable 400
    ("POST", "/cases/{case_id}/links/send"): _w(400),
    ("POST", "/cases/{case_id}/links/{link_id}/revoke"): _w(303),
    ("GET", "/cases/{case_id}/paper"): _w(200),
    ("POST", "/cases/{case_id}/paper"): _w(303),
    ("POST", "/cases/{case_id}/transcripts"): _w(303),
    ("GET", "/cases/{case_id}/transcripts/{transcript_id}"): CASE_READ,
    ("POST", "/cases/{case_id}/transcripts/{transcript_id}/roles"): _w(303),
    ("POST", "/cases/{case_id}/transcripts/{transcript_id}/retry"): _w(303),
    ("POST", "/cases/{case_id}/transcripts/{transcript_id}/delete"): _w(303),
    ("POST", "/cases/{case_id}/responses/{response_id}/void"): _w(303),
    ("POST", "/cases/{case_id}/sessions/{session_id}/void"): _w(303),
    ("GET", "/cases/{case_id}/export.json"): _w(200),
    ("GET", "/cases/{case_id}/export.csv"): _w(200),
    ("GET", "/research"): {**ADMIN_ONLY, "admin": 404, "rowan": 200},
    ("GET", "/research/export.{fmt}"): {**ADMIN_ONLY, "admin": 404, "rowan": 200},
    ("GET", "/admin/users"): ADMIN_ONLY,
    ("POST", "/admin/users"): _admin(303),
    ("POST", "/admin/users/{user_id}/supervision"): _admin(303),
    ("POST", "/admin/users/{user_id}/active"): _admin(303),
    ("GET", "/admin/audit"): ADMIN_ONLY,
    ("GET", "/practice"): TRAINEE_ONLY,
    ("POST", "/practice"): {**TRAINEE_ONLY, "tia": 303},
    ("GET", "/practice/sessions/{practice_id}"): {**TRAINEE_ONLY, "lee": 200},
    ("POST", "/practice/sessions/{practice_id}/respond"): {**TRAINEE_ONLY, "lee": 403,
                                                           "tia": 303},
    ("POST", "/practice/sessions/{practice_id}/answer"): {**TRAINEE_ONLY, "lee": 403,
                                                          "tia": 303},
    ("GET", "/practice/progress"): TRAINEE_ONLY,
    ("GET", "/practice/trainees"): {**TRAINEE_ONLY, "tia": 404, "lee": 200},
    ("GET", "/practice/trainees/{trainee_id}"): {**TRAINEE_ONLY, "tia": 404, "lee": 200},
    ("GET", "/s/{token}"): dict.fromkeys(ROLES, 303),
    ("GET", "/survey"): dict.fromkeys(ROLES, 400),  # no survey cookie
    ("POST", "/survey"): dict.fromkeys(ROLES, 403),  # no survey cookie
    ("GET", "/survey/thanks"): PUBLIC_200,
    ("GET", "/static/vendor/plotly.min.js"): PUBLIC_200,
    ("GET", "/static/{name}"): PUBLIC_200,
    ("GET", "/account/tokens"): {**dict.fromkeys(ROLES, 200), "anon": 303},
    ("POST", "/account/tokens/{token_id}/revoke"): {**OWNER_WRITE, "lee": 404, "dana": 303},
    ("POST", "/cases/{case_id}/members/{member_id}/contact"): _w(303),
    ("POST", "/cases/{case_id}/signals/{signal_id}/acknowledge"): _w(303),
    ("POST", "/survey/feedback"): dict.fromkeys(ROLES, 403),  # no thank-you cookie
    ("GET", "/opt-out/{token}"): PUBLIC_200,
    ("POST", "/opt-out/{token}"): PUBLIC_200,
    ("GET", "/admin/safety"): ADMIN_ONLY,
    ("POST", "/admin/safety"): _admin(303),
    ("GET", "/static/{digest}/{name:path}"): PUBLIC_200,
    ("GET", "/account/mfa"): {**dict.fromkeys(ROLES, 200), "anon": 303},
    ("GET", "/account/password"): {**dict.fromkeys(ROLES, 200), "anon": 303},
    ("GET", "/account/sessions"): {**dict.fromkeys(ROLES, 200), "anon": 303},
    ("GET", "/login/mfa"): dict.fromkeys(ROLES, 303),  # complete log-ins go home
    ("GET", "/reset/{token}"): dict.fromkeys(ROLES, 410),  # not a reset token
    ("POST", "/account/mfa"): {**dict.fromkeys(ROLES, 400), "anon": 303},  # no code
    ("POST", "/account/mfa/recovery"): {**dict.fromkeys(ROLES, 400), "anon": 303},
    ("POST", "/account/password"): {**dict.fromkeys(ROLES, 400), "anon": 303},
    ("POST", "/account/sessions/revoke-others"): {**dict.fromkeys(ROLES, 303)},
    ("POST", "/account/sessions/{login_id}/revoke"): {**OWNER_WRITE, "lee": 404,
                                                      "dana": 303},
    ("POST", "/admin/approvals/{approval_id}/approve"): _admin(303),
    ("POST", "/admin/approvals/{approval_id}/refuse"): _admin(303),
    ("POST", "/admin/users/{user_id}/mfa-reset"): _admin(303),
    ("POST", "/admin/users/{user_id}/reset"): _admin(303),
    ("POST", "/login/mfa"): dict.fromkeys(ROLES, 303),
    ("POST", "/reset/{token}"): dict.fromkeys(ROLES, 403),  # no reset-form cookie
}


def expected(entry: dict[str, int]) -> dict[str, int]:
    """The entry, with the trainee added where it does not name her: the status every
    logged-in role gets on a page that answers all alike, else 404 (not her page)."""
    if "tia" in entry:
        return entry
    same = {v for k, v in entry.items() if k != "anon"}
    return {**entry, "tia": same.pop() if len(same) == 1 else 404}


def app_routes(app: Any) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route, including those of included routers."""
    out = set()
    pending = list(app.routes)
    while pending:
        route = pending.pop()
        if isinstance(route, Mount) and route.path == api.PREFIX:
            continue  # the JSON API has its own matrix, per operation: tests/web/test_api.py
        if isinstance(route, APIRoute):
            for method in route.methods - {"HEAD"}:
                out.add((method, route.path))
        elif hasattr(route, "original_router"):  # FastAPI's lazily included routers
            pending.extend(route.original_router.routes)
        elif hasattr(route, "routes"):
            pending.extend(route.routes)
    return out


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file copied for each route (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("matrix") / "template.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.engine)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


def test_every_route_has_an_entry(web: Web) -> None:
    routes = app_routes(web.app)
    assert routes - set(MATRIX) == set(), "routes without an authorization entry"
    assert set(MATRIX) - routes == set(), "entries for routes that no longer exist"


class World:
    """A fresh clinic: dana's case with a session, a link, a transcript, five more cases."""

    def __init__(self, web: Web, password_hash: str) -> None:
        self.web = web
        dana = web.people["dana"]
        self.case_id, (self.session_id,) = make_case(web, dana)
        for i in range(5):
            make_case(web, web.people["sam"], label=f"other {i}")
        with web.db.write() as s:
            member = cases.members(s, self.case_id)[0]
            self.member_id = member.id
            issued = surveys.create_link(s, dana, self.case_id, self.session_id,
                                         instrument_id="alliance-12", member_id=member.id)
            self.link_id, self.token = issued.link.id, issued.token
            self.measure_id = cases.measures(s, self.case_id)[-1].id
            row = Transcript(case_id=self.case_id, session_id=self.session_id,
                             filename="t.txt", content=b"", uploaded_by=dana.id)
            s.add(row)
            s.flush()
            row.content = web.box.encrypt(b"T: hello\nC: hi\n", content_aad(row.id))
            self.transcript_id = row.id
            self.response_id = surveys.enter_paper(
                s, dana, self.case_id, self.session_id, instrument_id="alliance-12",
                rater="client", member_id=member.id, answers=ALL_FOUR).id
            user = s.get(User, dana.id)
            assert user is not None
            self.token_id = apitokens.create_token(s, user)[0].id
            delivery.set_contact(s, dana, web.box, self.case_id, member.id,
                                 email="client@example.org")
            signal = CaseSignal(case_id=self.case_id, kind="risk", items=["b1"],
                                notice_status="", notice_reason="")
            s.add(signal)
            s.flush()
            self.signal_id = signal.id
        with web.db.read() as s:
            self.opt_out = delivery.contacts(s, web.box, self.case_id)[member.id].opt_out_token
        add_trainees(web.db, web.people, password_hash)
        with web.db.write() as s:  # a second admin's pending request; one of dana's log-ins
            ari = accounts.create_user(s, "ari@example.org", "Ari", "admin", PASSWORD)
            sam = s.get(User, web.people["sam"].id)
            assert sam is not None
            self.approval_id = approvals.request(s, load_actor(s, ari), "mfa.reset", sam).id
            dana_user = s.get(User, dana.id)
            assert dana_user is not None
            self.login_id = token_hash(accounts.start_session(s, dana_user).token)
        with web.db.write() as s:
            tia = web.people["tia"]
            self.practice_id = practice.start(s, tia, "quiet-homework", "practice").id
            self.exam_id = practice.start(s, tia, "quiet-homework", "exam").id
        self.alert_id = "none"
        self.label = "A.B."

    def request(self, client: Any, method: str, template: str) -> Any:
        if "{digest}" in template:
            from alliance.web.assets import asset

            return client.get(asset("app.css"))
        path = template.format(case_id=self.case_id, measure_id=self.measure_id,
                               alert_id=self.alert_id, link_id=self.link_id,
                               transcript_id=self.transcript_id, fmt="csv",
                               response_id=self.response_id, session_id=self.session_id,
                               user_id=self.web.people["lee"].id,
                               token=self.opt_out if template.startswith("/opt-out")
                               else self.token, name="app.css", member_id=self.member_id,
                               signal_id=self.signal_id, token_id=self.token_id,
                               trainee_id=self.web.people["tia"].id,
                               approval_id=self.approval_id, login_id=self.login_id,
                               practice_id=self.exam_id if template.endswith("/answer")
                               else self.practice_id)
        csrf = getattr(client, "csrf", "")
        data: dict[str, Any] = {"csrf": csrf}
        files = None
        params: dict[str, Any] = {}
        if template == "/login":
            data.update(email="dana@example.org", password="whatever-it-is")
        elif template == "/cases":
            data.update(label="New", modality="individual", members="Client",
                        consent_measures="yes")
        elif template.endswith("/void"):
            data.update(reason="entered for the wrong client")
        elif template.endswith("/roles"):
            data.update(role_T="therapist", role_C="client")
        elif template.endswith("/sessions"):
            data.update(date="2026-03-01", attendance="attended", homework="none")
        elif template.endswith("/consent"):
            data.update(kind="transcripts", granted="yes")
        elif template.endswith("/measures"):
            data.update(measure="pulse-3:client", every="1")
        elif template.endswith("/context"):
            data.update(cultural_notes="note")
        elif template.endswith("/archive"):
            data.update(archived="yes")
        elif template.endswith("/delete") and "measures" not in template:
            data.update(confirm=self.label)
        elif template.endswith("/alerts/{alert_id}"):
            data.update(action="acknowledge")
        elif template.endswith(("/links", "/links/send")):
            data.update(session_id=self.session_id, measure="alliance-12:client",
                        member_id=self.member_id)
        elif template.endswith("/paper") and method == "POST":
            data.update(session_id=self.session_id, instrument_id="alliance-12",
                        rater="client", member_id=self.member_id,
                        **{f"item_{k}": v for k, v in ALL_FOUR.items()})
        elif template.endswith("/paper"):
            params = {"session_id": self.session_id, "measure": "alliance-12:client"}
        elif template.endswith("/transcripts"):
            data.update(session_id=self.session_id)
            files = {"file": ("s.txt", b"T: hi\nC: hello\n", "text/plain")}
        elif template == "/admin/users":
            data.update(email="new@example.org", name="New", role="clinician",
                        password="a-long-password")
        elif template.endswith("/supervision"):
            data.update({"clinicians[]": str(self.web.people["sam"].id)})
        elif template.endswith("/active"):
            data.update(active="no")
        elif template == "/practice":
            data.update(case="quiet-homework", mode="practice")
        elif template.endswith("/respond"):
            data.update(response="It sounds like the sheets have not felt useful to you.")
        elif template.endswith("/answer"):
            data.update(section="1", item_notice="B")
        elif template.endswith("/contact"):
            data.update(email="new@example.org", preferred="email", language="es")
        elif template == "/admin/safety":
            data.update(language="es", text="Llame a la clínica.")
        if method == "GET":
            return client.get(path, params=params)
        return client.post(path, data=data, files=files)


@pytest.mark.parametrize(("method", "template"), sorted(MATRIX))
def test_route_answers_each_role_as_expected(method: str, template: str, template_db: Path,
                                             tmp_path: Path, password_hash: str,
                                             box: Any) -> None:
    import shutil

    from alliance.store.monitoring import case_monitors

    shutil.copy(template_db, tmp_path / "w.db")
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    web = Web(db, add_people(db, password_hash), box)
    world = World(web, password_hash)
    if template.endswith("/alerts/{alert_id}"):  # a planted drop gives the case an alert
        plant_drop(db, web.people["dana"], world.case_id)
        web.worker.monitor_once()
        with db.read() as s:
            case = cases.get_case(s, web.people["dana"], world.case_id)
            world.alert_id = case_monitors(s, [case])[case.id].alert_id or ""
    got = {}
    for role in ROLES:
        client = web.anonymous() if role == "anon" else web.session_for(role)
        got[role] = world.request(client, method, template).status_code
    assert got == expected(MATRIX[(method, template)])
