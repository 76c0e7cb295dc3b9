"""Every route, every role, own / foreign / missing ids: generated from the app's own routes.

The routes are enumerated from the application itself (pages and the ``/api/v1`` sub-app);
a route without an entry in :data:`MATRIX`, or with a path parameter that :data:`IDS` or
:data:`KEYS` does not describe, fails :func:`test_every_route_has_an_entry`. Each route runs
in a fresh clinic where ``dana`` owns the case, ``sam`` is another clinician (foreign case:
404), ``lee`` supervises dana (reads, cannot change: 403), ``admin`` and ``rowan``
(researcher) see no case pages (404), and ``anon`` is logged out (redirect to the log-in
page; 401 on the API). ``tia`` is a trainee (supervised by ``lee``) who owns a practice and
an exam session; on every other page she is a stranger (404), which :func:`expected` fills
in where an entry does not name her.

Besides the own ids of :data:`MATRIX`, every route with ids is asked, by every role, with
**foreign** ids (sam's case and everything in it, the other trainee's practice, sam's
token), **mixed** ids (the own first id, foreign ones after it, and foreign ids in the
form), and **missing** ids (numbers no row has, up to 2^64): each answers 404 to every
logged-in role (anon: the same answer as for its own ids), never shows the foreign case's
label, and leaves every foreign row as it was.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import Mount, Route
from tests.web.conftest import ALL_FOUR, PASSWORD, Web, add_people, make_case, plant_drop
from tests.web.practice_world import add_trainees

from alliance.store import accounts, apitokens, approvals, cases, delivery, practice, surveys
from alliance.store.actors import load_actor
from alliance.store.database import Database
from alliance.store.models import Base, CaseSignal, Transcript, User
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
API_READ = {"anon": 401, "sam": 404, "lee": 200, "admin": 404, "rowan": 404, "dana": 200}
API_WRITE = {"anon": 401, "sam": 404, "lee": 403, "admin": 404, "rowan": 404}
API_CASELOAD = {"anon": 401, "sam": 200, "lee": 200, "admin": 404, "rowan": 404, "dana": 200}
API_ANY_TOKEN = {**dict.fromkeys(ROLES, 200), "anon": 401}
# Path parameters that name a row: foreign and missing values must answer 404.
IDS = ("alert_id", "approval_id", "case_id", "link_id", "login_id", "measure_id", "member_id",
       "practice_id", "response_id", "session_id", "signal_id", "token_id", "trainee_id",
       "transcript_id", "user_id")
# Path parameters that are not row ids: a capability token, a file name, a format.
KEYS = ("digest", "fmt", "name", "questionnaire_id", "token")
MISSING = ("987654321", str(2**63), str(2**64))  # no row has these; the last two ≥ 2^63


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
    ("GET", "/admin/holds"): ADMIN_ONLY,
    ("POST", "/admin/holds"): _admin(303),
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
    ("GET", "/api/v1/cases"): API_CASELOAD,
    ("GET", "/api/v1/cases/{case_id}"): API_READ,
    ("GET", "/api/v1/cases/{case_id}/trajectory"): API_READ,
    ("POST", "/api/v1/cases/{case_id}/responses"): {**API_WRITE, "dana": 201},
    ("GET", "/api/v1/alerts"): API_CASELOAD,
    ("GET", "/api/v1/cases/{case_id}/alerts"): API_READ,
    ("POST", "/api/v1/cases/{case_id}/alerts/{alert_id}/acknowledge"): {**API_WRITE, "dana": 200},
    ("GET", "/api/v1/cases/{case_id}/fhir"): API_READ,
    ("GET", "/api/v1/fhir/Questionnaire/{questionnaire_id}"): API_ANY_TOKEN,
    ("GET", "/api/v1/fhir/CodeSystem/alliance"): API_ANY_TOKEN,
    ("GET", "/api/v1/openapi.json"): PUBLIC_200,
}


# Routes whose form or JSON body names rows too (the mixed ids put foreign ones there).
BODY_IDS = {("GET", "/cases/{case_id}/paper"), ("POST", "/cases/{case_id}/paper"),
            ("POST", "/cases/{case_id}/links"), ("POST", "/cases/{case_id}/transcripts"),
            ("POST", "/api/v1/cases/{case_id}/responses")}
FOREIGN_LABEL = "Foreign-Label-Q7"


def expected(entry: dict[str, int]) -> dict[str, int]:
    """The entry, with the trainee added where it does not name her: the status every
    logged-in role gets on a page that answers all alike, else 404 (not her page)."""
    if "tia" in entry:
        return entry
    same = {v for k, v in entry.items() if k != "anon"}
    return {**entry, "tia": same.pop() if len(same) == 1 else 404}


def app_routes(app: Any, *, with_api: bool = False) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route, including those of included routers; with
    ``with_api``, also those of the mounted JSON API (with its prefix). A kind of route
    this walk does not know fails, so nothing is skipped silently."""
    out = set()
    pending: list[tuple[str, Any]] = [("", route) for route in app.routes]
    while pending:
        prefix, route = pending.pop()
        if isinstance(route, Mount):
            if route.path != api.PREFIX or with_api:
                pending.extend((prefix + route.path, r) for r in route.routes)
        elif isinstance(route, APIRoute | Route):
            for method in (route.methods or set()) - {"HEAD"}:
                out.add((method, prefix + route.path))
        elif hasattr(route, "original_router"):  # FastAPI's lazily included routers
            pending.extend((prefix, r) for r in route.original_router.routes)
        else:
            raise AssertionError(f"a route the matrix cannot enumerate: {route!r}")
    return out


def path_params(template: str) -> list[str]:
    return re.findall(r"\{(\w+)(?::\w+)?\}", template)


def id_params(template: str) -> list[str]:
    return [p for p in path_params(template) if p in IDS]


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
    routes = app_routes(web.app, with_api=True)
    assert routes - set(MATRIX) == set(), "routes without an authorization entry"
    assert set(MATRIX) - routes == set(), "entries for routes that no longer exist"
    named = {p for _, template in routes for p in path_params(template)}
    assert named - set(IDS) - set(KEYS) == set(), "path parameters neither ids nor keys"
    assert {("GET", "/api/v1/cases/{case_id}"), ("GET", "/cases/{case_id}")} <= routes


def case_rows(web: Web, owner: str, label: str, *, alert: bool) -> dict[str, Any]:
    """``owner``'s case with one of everything in it; the ids by path parameter name."""
    actor = web.people[owner]
    case_id, (session_id,) = make_case(web, actor, label=label)
    ids: dict[str, Any] = {"case_id": case_id, "session_id": session_id}
    with web.db.write() as s:
        member = cases.members(s, case_id)[0]
        ids["member_id"] = member.id
        issued = surveys.create_link(s, actor, case_id, session_id,
                                     instrument_id="alliance-12", member_id=member.id)
        ids["link_id"], ids["token"] = issued.link.id, issued.token
        ids["measure_id"] = cases.measures(s, case_id)[-1].id
        row = Transcript(case_id=case_id, session_id=session_id, filename="t.txt",
                         content=b"", uploaded_by=actor.id)
        s.add(row)
        s.flush()
        row.content = web.box.encrypt(b"T: hello\nC: hi\n", content_aad(row.id))
        ids["transcript_id"] = row.id
        ids["response_id"] = surveys.enter_paper(
            s, actor, case_id, session_id, instrument_id="alliance-12", rater="client",
            member_id=member.id, answers=ALL_FOUR).id
        user = s.get(User, actor.id)
        assert user is not None
        ids["token_id"] = apitokens.create_token(s, user)[0].id
        delivery.set_contact(s, actor, web.box, case_id, member.id,
                             email="client@example.org")
        signal = CaseSignal(case_id=case_id, kind="risk", items=["b1"], notice_status="",
                            notice_reason="")
        s.add(signal)
        s.flush()
        ids["signal_id"] = signal.id
    with web.db.read() as s:
        ids["opt_out"] = delivery.contacts(s, web.box, case_id)[member.id].opt_out_token
    ids["alert_id"] = "none"
    if alert:  # a planted drop gives the case an alert
        from alliance.store.monitoring import case_monitors

        plant_drop(web.db, actor, case_id)
        while web.worker.monitor_once():
            pass
        with web.db.read() as s:
            case = cases.get_case(s, actor, case_id)
            ids["alert_id"] = case_monitors(s, [case])[case.id].alert_id or ""
    return ids


class World:
    """A fresh clinic: dana's case with one of everything (own), sam's alike (foreign),
    five more cases of sam's, practice and exam sessions of tia (own) and tom (foreign),
    and an API token for every role."""

    def __init__(self, web: Web, password_hash: str, *, alert: bool) -> None:
        self.web = web
        self.own = case_rows(web, "dana", "A.B.", alert=alert)
        self.foreign = case_rows(web, "sam", FOREIGN_LABEL, alert=alert)
        for i in range(5):
            make_case(web, web.people["sam"], label=f"other {i}")
        add_trainees(web.db, web.people, password_hash)
        with web.db.write() as s:
            for ids, trainee in ((self.own, "tia"), (self.foreign, "tom")):
                actor = web.people[trainee]
                ids["practice_id"] = practice.start(s, actor, "quiet-homework", "practice").id
                ids["exam_id"] = practice.start(s, actor, "quiet-homework", "exam").id
                ids["trainee_id"] = actor.id
            self.bearer = {}
            for who in ROLES[1:]:
                user = s.get(User, web.people[who].id)
                assert user is not None
                self.bearer[who] = apitokens.create_token(s, user, scope="write")[1]
        self.own["user_id"] = self.foreign["user_id"] = web.people["lee"].id  # admin's rows
        with web.db.write() as s:  # a second admin's pending request; dana's and sam's log-ins
            ari = accounts.create_user(s, "ari@example.org", "Ari", "admin", PASSWORD)
            # the reset's target: an account of its own (approving it ends its sessions and
            # revokes its tokens, which must touch no role's rows and no foreign row)
            target = accounts.create_user(s, "kim@example.org", "Kim", "clinician", PASSWORD)
            approval = approvals.request(s, load_actor(s, ari), "mfa.reset", target).id
            self.own["approval_id"] = self.foreign["approval_id"] = approval
            for ids, who in ((self.own, "dana"), (self.foreign, "sam")):
                user = s.get(User, web.people[who].id)
                assert user is not None
                ids["login_id"] = token_hash(accounts.start_session(s, user).token)
        while web.worker.monitor_once():  # the alert worker catches up before the snapshot
            pass

    def variants(self, method: str, template: str) -> list[tuple[str, dict[str, Any]]]:
        """(name, ids) of the foreign, mixed and missing requests of a route."""
        names = id_params(template)
        if not names:
            return []
        out = []
        if any(self.own[n] != self.foreign[n] for n in names):
            out.append(("foreign", self.foreign))
        if len(names) > 1 or (method, template) in BODY_IDS:
            out.append(("mixed", {**self.foreign, names[0]: self.own[names[0]]}))
        for value in MISSING:
            out.append((f"missing {value}", {**self.own, **{n: value for n in IDS},
                                             "exam_id": value}))
        if len(names) > 1:
            out.append(("own, then missing", {**self.own, **{n: MISSING[0] for n in IDS},
                                              names[0]: self.own[names[0]]}))
        return out

    def request(self, who: str, method: str, template: str,
                ids: dict[str, Any] | None = None) -> Any:
        ids = self.own if ids is None else ids
        web = self.web
        client = web.anonymous() if who == "anon" else web.session_for(who)
        if "{digest}" in template:
            from alliance.web.assets import asset

            return client.get(asset("app.css"))
        path = template.format(**{**ids, "fmt": "csv", "name": "app.css",
                                  "questionnaire_id": "alliance-12",
                                  "token": ids["opt_out"] if template.startswith("/opt-out")
                                  else ids["token"],
                                  "practice_id": ids["exam_id"] if template.endswith("/answer")
                                  else ids["practice_id"]})
        if template.startswith(api.PREFIX):
            headers = {"Authorization": f"Bearer {self.bearer[who]}"} if who != "anon" else {}
            body: dict[str, Any] | None = None
            if template.endswith("/responses"):
                body = {"session_number": 1, "instrument": "alliance-12", "rater": "client",
                        "member_id": ids["member_id"], "answers": ALL_FOUR}
            elif template.endswith("/acknowledge"):
                body = {"note": "seen"}
            return client.request(method, path, headers=headers, json=body)
        data: dict[str, Any] = {"csrf": getattr(client, "csrf", "")}
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
            data.update(confirm="A.B.")
        elif template.endswith("/alerts/{alert_id}"):
            data.update(action="acknowledge")
        elif template.endswith(("/links", "/links/send")):
            data.update(session_id=ids["session_id"], measure="alliance-12:client",
                        member_id=ids["member_id"])
        elif template.endswith("/paper") and method == "POST":
            data.update(session_id=ids["session_id"], instrument_id="alliance-12",
                        rater="client", member_id=ids["member_id"],
                        **{f"item_{k}": v for k, v in ALL_FOUR.items()})
        elif template.endswith("/paper"):
            params = {"session_id": ids["session_id"], "measure": "alliance-12:client",
                      "member_id": ids["member_id"]}
        elif template.endswith("/transcripts"):
            data.update(session_id=ids["session_id"])
            files = {"file": ("s.txt", b"T: hi\nC: hello\n", "text/plain")}
        elif template == "/admin/users":
            data.update(email="new@example.org", name="New", role="clinician",
                        password="a-long-password")
        elif template.endswith("/supervision"):
            data.update({"clinicians[]": str(web.people["sam"].id)})
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
        elif template == "/admin/holds":
            data.update(case=str(ids["case_id"]), action="hold")
        elif template == "/admin/safety":
            data.update(language="es", text="Llame a la clínica.")
        if method == "GET":
            return client.get(path, params=params)
        return client.post(path, data=data, files=files)


def foreign_rows(db: Database, world: World) -> list[tuple[Any, ...]]:
    """Every row of the foreign case, sam's tokens and tom's practice (as stored)."""
    out: list[tuple[Any, ...]] = []
    with db.read() as s:
        for table in Base.metadata.sorted_tables:
            owner = {"case_id": world.foreign["case_id"], "user_id": world.web.people["sam"].id,
                     "trainee_id": world.foreign["trainee_id"]}
            for column, value in owner.items():
                if column in table.c and table.name not in ("user_sessions", "audit_events"):
                    kept = [c for c in table.c if c.name != "last_used_at"]
                    rows = s.execute(select(*kept).where(table.c[column] == value)).all()
                    out.extend((table.name, *map(str, row)) for row in rows)
            if table.name == "cases":
                row = s.execute(select(table).where(table.c.id == world.foreign["case_id"]))
                out.extend(("cases", *map(str, r)) for r in row)
    return sorted(out)


@pytest.mark.parametrize(("method", "template"), sorted(MATRIX))
def test_route_answers_each_role_as_expected(method: str, template: str, template_db: Path,
                                             tmp_path: Path, password_hash: str,
                                             box: Any) -> None:
    import shutil

    shutil.copy(template_db, tmp_path / "w.db")
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    web = Web(db, add_people(db, password_hash), box)
    world = World(web, password_hash, alert="{alert_id}" in template)
    before = foreign_rows(db, world)
    first = (id_params(template) or ["case_id"])[0]
    want = expected(MATRIX[(method, template)])
    got, wrong, refusals = {}, [], []
    for role in ROLES:
        for name, ids in world.variants(method, template):
            if name == "foreign" and role == "sam":
                continue  # his own rows
            r = world.request(role, method, template, ids)
            # anon: its own answer, or 404 for a number out of any id's range; a read-only
            # role refused (403) on the own case may be refused before the other ids are
            # looked up: the answer is the same whatever they name
            should = {want["anon"], 404} if role == "anon" else {404}
            if want[role] == 403 and ids[first] == world.own[first]:
                should.add(403)
            # an alert id names the case's current alert, not a row: on the own case any
            # other id, foreign or made up, is stale alike (400 "reload the page")
            if (want[role] < 400 and ids[first] == world.own[first]
                    and ids["alert_id"] != world.own["alert_id"] and "{alert_id}" in template):
                should.add(400)
            if r.status_code not in should or FOREIGN_LABEL in r.text:
                wrong.append(f"{role}, {name} ids: {r.status_code} (expected {should})")
            refusals.append(r)
        own = world.request(role, method, template)
        got[role] = own.status_code
        refusals.append(own)
    assert got == want
    assert wrong == [], "\n".join(wrong)
    assert foreign_rows(db, world) == before, "a foreign row changed"
    if template.startswith(api.PREFIX):  # the API refuses in JSON, never with a page
        for r in refusals:
            if r.status_code >= 400:
                assert r.headers["content-type"].startswith("application/json"), r.text
                assert set(r.json()) >= {"error", "status"}
    db.dispose()
