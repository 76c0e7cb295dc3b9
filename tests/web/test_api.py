"""The /api/v1 JSON API with each role's token: scope, statuses, schema, FHIR, audit.

Every operation's status for every role, with own, foreign and missing ids, is checked by
the generated matrix (``tests/web/test_authorization_matrix.py``, which walks the mounted API).
``dana`` owns the case (write token), ``sam`` is another clinician (404), ``lee`` supervises
dana (reads; a change is 403), ``admin`` and ``rowan`` (researcher) see no case data (404),
``anon`` sends no token (401).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from tests.web.conftest import ALL_FOUR, Web, make_case, plant_drop

from alliance.store import apitokens, cases
from alliance.store.models import ApiToken, AuditEvent, User

ROLES = ("anon", "sam", "lee", "admin", "rowan", "dana")


def token_for(web: Web, who: str, scope: str = "write", days: int = 30) -> str:
    with web.db.write() as s:
        user = s.get(User, web.people[who].id)
        assert user is not None
        return apitokens.create_token(s, user, scope=scope, days=days)[1]


class World:
    def __init__(self, web: Web) -> None:
        self.web = web
        dana = web.people["dana"]
        self.case_id, _ = make_case(web, dana)
        make_case(web, web.people["sam"], label="sam's")
        plant_drop(web.db, dana, self.case_id)
        with web.db.read() as s:
            self.member_id = cases.members(s, self.case_id)[0].id
        self.tokens = {who: token_for(web, who) for who in ROLES if who != "anon"}
        self.client = web.anonymous()
        alerts = self.call("dana", "get", f"/cases/{self.case_id}/alerts").json()
        assert alerts["current"] is not None, "the planted drop raises an alert"
        self.alert_id = alerts["current"]["id"]

    def call(self, who: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}
        headers.update(kwargs.pop("headers", {}))
        return self.client.request(method.upper(), "/api/v1" + path, headers=headers,
                                   **kwargs)

    def request(self, who: str, method: str, template: str) -> Any:
        path = template.format(case_id=self.case_id, alert_id=self.alert_id,
                               questionnaire_id="alliance-12")
        body: dict[str, Any] | None = None
        if template.endswith("/responses"):
            body = {"session_number": 1, "instrument": "alliance-12", "rater": "client",
                    "member_id": self.member_id, "answers": ALL_FOUR}
        elif template.endswith("/acknowledge"):
            body = {"note": "seen"}
        return self.call(who, method, path, json=body)


@pytest.fixture
def world(web: Web) -> World:
    return World(web)


def test_openapi_schema_is_valid_and_documents_the_bearer_token(world: World) -> None:
    from openapi_spec_validator import validate

    schema = world.call("anon", "get", "/openapi.json").json()
    validate(schema)
    assert schema["servers"] == [{"url": "/api/v1"}]
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert op.get("operationId"), (method, path)
            assert op.get("security"), f"{method} {path} documents no token"
            assert "401" in op["responses"], (method, path)


def test_caseload_lists_only_the_tokens_users_cases(world: World) -> None:
    dana = world.call("dana", "get", "/cases").json()
    sam = world.call("sam", "get", "/cases").json()
    lee = world.call("lee", "get", "/cases").json()
    assert [c["label"] for c in dana] == ["A.B."]
    assert [c["label"] for c in sam] == ["sam's"]
    assert [c["id"] for c in lee] == [world.case_id]
    assert dana[0]["alert"]["severity"]


def test_unknown_case_answers_404_like_a_foreign_one(world: World) -> None:
    r = world.call("dana", "get", "/cases/999999")
    assert r.status_code == 404
    assert r.json()["error"] == world.call("sam", "get", f"/cases/{world.case_id}").json()["error"]
    assert world.call("dana", "get", "/fhir/Questionnaire/no-such-thing").status_code == 404
    assert world.call("dana", "get", "/no-such-endpoint").status_code == 404


def test_read_token_cannot_write(world: World) -> None:
    world.tokens["dana"] = token_for(world.web, "dana", scope="read")
    r = world.request("dana", "post", "/cases/{case_id}/responses")
    assert r.status_code == 403
    assert "only read" in r.json()["error"]
    assert world.call("dana", "get", f"/cases/{world.case_id}").status_code == 200


def test_missing_malformed_expired_and_revoked_tokens_answer_401(world: World) -> None:
    path = f"/cases/{world.case_id}"
    assert world.client.get("/api/v1" + path).headers["www-authenticate"] == "Bearer"
    world.tokens["dana"] = "alliance_not-a-real-token"
    assert world.call("dana", "get", path).status_code == 401
    plain = token_for(world.web, "dana")
    world.tokens["dana"] = plain
    assert world.call("dana", "get", path).status_code == 200
    with world.web.db.write() as s:
        row = s.scalars(select(ApiToken).where(
            ApiToken.token_hash == apitokens.token_hash(plain))).one()
        row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    assert world.call("dana", "get", path).status_code == 401
    plain = token_for(world.web, "dana")
    world.tokens["dana"] = plain
    with world.web.db.write() as s:
        row = s.scalars(select(ApiToken).where(
            ApiToken.token_hash == apitokens.token_hash(plain))).one()
        apitokens.revoke_token(s, world.web.people["dana"], row.id)
    r = world.call("dana", "get", path)
    assert r.status_code == 401 and "revoked" in r.json()["error"]


def test_token_is_stored_only_as_its_hash(world: World) -> None:
    plain = world.tokens["dana"]
    with world.web.db.read() as s:
        hashes = list(s.scalars(select(ApiToken.token_hash)))
    assert plain not in hashes and apitokens.token_hash(plain) in hashes


def test_bad_bodies_answer_422_or_400_with_a_readable_error(world: World) -> None:
    path = f"/cases/{world.case_id}/responses"
    r = world.call("dana", "post", path, json={"instrument": "alliance-12"})
    assert r.status_code == 422
    assert "session_number" in r.json()["error"] and "answers" in r.json()["error"]
    r = world.call("dana", "post", path, content=b"{not json",
                        headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "body"
    body = {"session_number": 1, "instrument": "alliance-12", "rater": "client",
            "member_id": world.member_id, "answers": {**ALL_FOUR, "b1": 9}}
    r = world.call("dana", "post", path, json=body)
    assert r.status_code == 400 and "b1" in r.json()["error"]
    r = world.call("dana", "post", path, json={**body, "answers": ALL_FOUR, "session_number": 99})
    assert r.status_code == 404
    r = world.call("dana", "post", path, json={**body, "answers": ALL_FOUR, "member_id": None})
    assert r.status_code == 400 and "member" in r.json()["error"]
    r = world.call("dana", "post", path, json={**body, "instrument": "nope"})
    assert r.status_code == 400 and "unknown instrument" in r.json()["error"]


def test_response_needs_consent_like_the_paper_form(world: World) -> None:
    with world.web.db.write() as s:
        cases.record_consent(s, world.web.people["dana"], world.case_id, "measures", False)
    r = world.request("dana", "post", "/cases/{case_id}/responses")
    assert r.status_code == 400 and "consent" in r.json()["error"]


def test_a_second_answer_supersedes_the_first_in_the_trajectory(world: World) -> None:
    path = f"/cases/{world.case_id}/responses"
    body = {"session_number": 1, "instrument": "alliance-12", "rater": "client",
            "member_id": world.member_id, "answers": ALL_FOUR}
    first = world.call("dana", "post", path, json=body).json()
    low = {k: 1 if not k.endswith("3") else 5 for k in ALL_FOUR}
    second = world.call("dana", "post", path, json={**body, "answers": low}).json()
    assert first["supersedes"] is False and second["supersedes"] is True
    points = world.call("dana", "get", f"/cases/{world.case_id}/trajectory").json()
    session_one = [p for p in points["alliance"] if p["session_number"] == 1]
    assert [p["response_id"] for p in session_one] == [second["id"]]
    assert session_one[0]["total"] == second["total"] < first["total"]
    assert points["outcome"] == []


def test_acknowledge_changes_the_alert_status(world: World) -> None:
    r = world.call("dana", "post", f"/cases/{world.case_id}/alerts/{world.alert_id}/acknowledge")
    assert r.status_code == 200 and r.json()["status"] == "acknowledged"
    alerts = world.call("dana", "get", "/alerts").json()
    assert alerts[0]["current"]["status"] == "acknowledged"
    r = world.call("dana", "post", f"/cases/{world.case_id}/alerts/unknown/acknowledge")
    assert r.status_code == 400


def test_fhir_resources_validate_with_fhir_resources(world: World) -> None:
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.codesystem import CodeSystem
    from fhir.resources.R4B.questionnaire import Questionnaire

    r = world.call("lee", "get", f"/cases/{world.case_id}/fhir")
    assert r.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(r.json())
    kinds = {e.resource.get_resource_type() for e in bundle.entry or []}
    assert kinds == {"QuestionnaireResponse", "Observation"}
    assert len([e for e in bundle.entry or [] if e.resource.get_resource_type()
                == "QuestionnaireResponse"]) == 5  # plant_drop's five answers
    q = Questionnaire.model_validate(
        world.call("dana", "get", "/fhir/Questionnaire/alliance-12-therapist").json())
    assert q.id == "alliance-12-therapist"
    CodeSystem.model_validate(world.call("rowan", "get", "/fhir/CodeSystem/alliance").json())


def test_api_reads_are_audited_like_the_pages(world: World) -> None:
    world.call("lee", "get", f"/cases/{world.case_id}")
    world.call("lee", "get", f"/cases/{world.case_id}/fhir")
    with world.web.db.read() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == "case.read",
                                                  AuditEvent.case_id == world.case_id)).all()
    lee = [r for r in rows if r.actor_email == "lee@example.org"]
    assert [r.detail.get("via") for r in lee] == ["api", "api"]
    assert lee[1].detail["what"] == "fhir"


def test_tokens_page_lists_and_revokes_only_own_tokens(world: World) -> None:
    client = world.web.session_for("dana")
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "write" in page.text
    assert world.tokens["dana"] not in page.text
    with world.web.db.read() as s:
        (mine,) = apitokens.list_tokens(s, world.web.people["dana"])
        (sams,) = apitokens.list_tokens(s, world.web.people["sam"])
    r = client.post(f"/account/tokens/{sams.id}/revoke", data={"csrf": client.csrf})
    assert r.status_code == 404
    r = client.post(f"/account/tokens/{mine.id}/revoke", data={"csrf": client.csrf})
    assert r.status_code == 303
    assert world.call("dana", "get", "/cases").status_code == 401
    assert world.call("sam", "get", "/cases").status_code == 200
    with world.web.db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.in_(["token.create", "token.revoke"]))))
    assert actions.count("token.revoke") == 1 and "token.create" in actions


def test_api_on_postgres_scopes_the_same(web_any: Web) -> None:
    world = World(web_any)
    assert world.call("sam", "get", f"/cases/{world.case_id}/trajectory").status_code == 404
    assert world.request("dana", "post", "/cases/{case_id}/responses").status_code == 201
    assert world.request("lee", "post", "/cases/{case_id}/responses").status_code == 403


def test_a_deactivated_accounts_token_answers_401(world: World) -> None:
    with world.web.db.write() as s:
        user = s.get(User, world.web.people["dana"].id)
        assert user is not None
        user.active = False
    r = world.call("dana", "get", "/cases")
    assert r.status_code == 401 and "deactivated" in r.json()["error"]


def test_token_use_is_noted_for_the_list(world: World) -> None:
    world.call("sam", "get", "/cases")
    with world.web.db.read() as s:
        (row,) = apitokens.list_tokens(s, world.web.people["sam"])
    assert row.last_used_at is not None
