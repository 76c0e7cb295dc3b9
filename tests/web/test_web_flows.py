"""HTTP behaviour: security headers, cookies, CSRF, the survey flow, exports, transcripts."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from sqlalchemy import select, text
from tests.web.conftest import ALL_FOUR, Web, csrf_of, make_case

from alliance.store import cases
from alliance.store.models import AuditEvent, Transcript
from alliance.web.security import SESSION_COOKIE, SURVEY_COOKIE
from alliance.worker import Worker


def test_every_response_carries_the_security_headers(web: Web) -> None:
    for path in ("/login", "/healthz", "/nope", "/static/app.css"):
        r = web.anonymous().get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1] \
            .split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    assert web.anonymous().get("/login").headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script(web: Web) -> None:
    client = web.login("dana")
    case_id, _ = make_case(web, web.people["dana"])
    for path in ("/dashboard", f"/cases/{case_id}", "/cases/new"):
        html = client.get(path).text
        for tag in html.split("<script")[1:]:
            assert tag.split(">")[0].strip().startswith("src="), path


def test_login_sets_a_host_cookie_and_rotates_it(web: Web) -> None:
    client = web.anonymous()
    token = csrf_of(client.get("/login").text)
    client.cookies.set(SESSION_COOKIE, "planted-by-attacker", domain="testserver.local")
    r = client.post("/login", data={"email": "dana@example.org",
                                    "password": "correct-horse-battery", "csrf": token})
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "planted-by-attacker" not in cookie
    for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower()
    assert "domain" not in cookie.lower()


def test_wrong_password_is_401_and_audited(web: Web) -> None:
    client = web.anonymous()
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"email": "dana@example.org", "password": "nope-nope-nope",
                                    "csrf": token})
    assert r.status_code == 401 and "wrong e-mail or password" in r.text
    with web.db.read() as s:
        assert s.scalars(select(AuditEvent.action)).all() == ["login.failed"]


def test_state_change_without_csrf_token_is_refused(web: Web) -> None:
    client = web.session_for("dana")
    case_id, _ = make_case(web, web.people["dana"])
    r = client.post(f"/cases/{case_id}/sessions", data={"date": "2026-03-01"})
    assert r.status_code == 403
    r = client.post(f"/cases/{case_id}/sessions", data={"date": "2026-03-01", "csrf": "x"})
    assert r.status_code == 403
    with web.db.read() as s:
        assert len(cases.sessions(s, case_id)) == 1


def test_survey_link_swaps_token_for_cookie_and_accepts_one_submission(web_any: Web) -> None:
    web = web_any
    dana = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    with web.db.read() as s:
        member_id = cases.members(s, case_id)[0].id
    page = dana.post(f"/cases/{case_id}/links", data={
        "csrf": dana.csrf, "session_id": session_id, "measure": "alliance-12:client",  # type: ignore[attr-defined]
        "member_id": member_id})
    assert page.status_code == 200 and "<svg" in page.text
    url = page.text.split('id="survey-url" class="url" value="')[1].split('"')[0]
    path = url.removeprefix("https://testserver")
    phone = web.anonymous()
    r = phone.get(path)
    assert r.status_code == 303 and r.headers["location"] == "/survey"
    assert SURVEY_COOKIE in r.headers["set-cookie"]
    form = phone.get("/survey")
    assert "I feel safe being honest" in form.text and "skip any question" in form.text
    bad = phone.post("/survey", data={"csrf": csrf_of(form.text), "item_b1": "7"})
    assert bad.status_code == 400 and "out of range" in bad.text
    data = {"csrf": csrf_of(form.text), **{f"item_{k}": str(v) for k, v in ALL_FOUR.items()}}
    done = phone.post("/survey", data=data)
    assert done.status_code == 303 and done.headers["location"] == "/survey/thanks"
    again = web.anonymous().get(path)
    assert again.status_code == 410 and "already been used" in again.text
    export = json.loads(dana.get(f"/cases/{case_id}/export.json").text)
    assert export["responses"][0]["scores"]["total"]["raw"] == 48.0


def test_case_csv_export_has_one_row_per_response(web: Web) -> None:
    from alliance.store import surveys

    case_id, (session_id,) = make_case(web, web.people["dana"])
    with web.db.write() as s:
        surveys.enter_paper(s, web.people["dana"], case_id, session_id,
                            instrument_id="alliance-12", rater="therapist", member_id=None,
                            answers=ALL_FOUR)
    table = pd.read_csv(io.StringIO(web.session_for("dana").get(
        f"/cases/{case_id}/export.csv").text))
    assert len(table) == 1 and table.loc[0, "total_raw"] == 48.0


def test_research_export_is_deidentified(web: Web) -> None:
    from alliance.store import surveys

    for i in range(5):
        case_id, (session_id,) = make_case(web, web.people["dana"], label=f"Secret Name {i}")
        with web.db.write() as s:
            surveys.enter_paper(s, web.people["dana"], case_id, session_id,
                                instrument_id="alliance-12", rater="therapist", member_id=None,
                                answers=ALL_FOUR)
    client = web.session_for("rowan")
    csv = client.get("/research/export.csv").text
    assert "Secret Name" not in csv and "2026-" not in csv
    parquet = pd.read_parquet(io.BytesIO(client.get("/research/export.parquet").content))
    assert len(parquet) == 5 and set(parquet["total"]) == {48.0}
    assert list(parquet.columns)[:2] == ["case_code", "modality"]


def test_research_export_refused_for_a_tiny_clinic(web: Web) -> None:
    make_case(web, web.people["dana"])
    r = web.session_for("rowan").get("/research/export.csv")
    assert r.status_code == 400 and "fewer than 5 cases" in r.text


def test_transcript_is_encrypted_at_rest_and_analysed_by_the_worker(web: Web) -> None:
    client = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    secret = b"T: How was your week?\nC: My sister Ingrid visited.\n"
    r = client.post(f"/cases/{case_id}/transcripts", data={"csrf": client.csrf,  # type: ignore[attr-defined]
                                                           "session_id": session_id},
                    files={"file": ("s1.txt", secret, "text/plain")})
    assert r.status_code == 303
    with web.db.engine.connect() as conn:
        blob = conn.execute(text("SELECT content FROM transcripts")).scalar_one()
    assert b"Ingrid" not in blob
    report = {"schema": "alliance.transcript-report/1", "source": "s1.txt",
              "utterances": [{"index": 0, "speaker": "T", "role": "therapist",
                              "text": "How was your week?", "codes": []},
                             {"index": 1, "speaker": "C", "role": "client",
                              "text": "My sister Ingrid visited.",
                              "codes": [{"code": "collaboration.elaborates",
                                         "family": "collaboration", "confidence": 0.8,
                                         "evidence": "visited"}]}],
              "episodes": [], "summary": {"counts": {"collaboration": 1}},
              "coder": {"mode": "hybrid", "rules_only": False}}
    seen: list[bytes] = []

    def analyser(data: bytes, name: str, roles: object) -> dict[str, object]:
        seen.append(data)
        return report

    worker = Worker(web.clinic, analyser=analyser)
    assert worker.analyse_once() is True and worker.analyse_once() is False
    assert seen == [secret]
    with web.db.read() as s:
        row = s.scalars(select(Transcript)).one()
        assert row.status == "done" and b"Ingrid" not in (row.report or b"")
        assert row.summary == {"withdrawal": 0, "confrontation": 0, "unresolved": 0,
                               "threats": 0}
    page = client.get(f"/cases/{case_id}/transcripts/{row.id}")
    assert "Ingrid" in page.text and "collaboration.elaborates" in page.text
    assert "Coded by the hybrid coder" in page.text


def test_transcript_upload_needs_consent(web: Web) -> None:
    client = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"], transcripts=False)
    r = client.post(f"/cases/{case_id}/transcripts", data={"csrf": client.csrf,  # type: ignore[attr-defined]
                                                           "session_id": session_id},
                    files={"file": ("s1.txt", b"T: hi\n", "text/plain")})
    assert r.status_code == 400 and "not consented to transcript analysis" in r.text


def test_admin_filters_the_audit_log(web: Web) -> None:
    make_case(web, web.people["dana"])
    page = web.session_for("admin").get("/admin/audit", params={"action": "case.create"})
    assert page.status_code == 200 and page.text.count("<td>case.create</td>") == 1
    assert "<td>login</td>" not in page.text


@pytest.mark.parametrize("path", ["/cases/abc", "/cases/999999"])
def test_malformed_or_missing_case_is_404_not_a_traceback(web: Web, path: str) -> None:
    r = web.session_for("dana").get(path)
    assert r.status_code in (400, 404) and "Traceback" not in r.text


def test_worker_codes_an_upload_with_the_rules_only_coder(web: Web) -> None:
    client = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    text_ = (b"T: Where would you like to start today?\nC: I don't know. Nothing happened.\n"
             b"C: Can we talk about something else? This isn't helping anyway.\n")
    client.post(f"/cases/{case_id}/transcripts", data={"csrf": client.csrf,  # type: ignore[attr-defined]
                                                       "session_id": session_id},
                files={"file": ("s1.txt", text_, "text/plain")})
    assert web.worker.analyse_once() is True
    with web.db.read() as s:
        row = s.scalars(select(Transcript)).one()
    assert row.status == "done", row.error
    assert row.summary is not None and row.summary["confrontation"] >= 1
    page = client.get(f"/cases/{case_id}/transcripts/{row.id}").text
    assert "confrontation." in page and "isn&#39;t helping anyway" in page


def test_case_page_names_members_not_case_file_ids(web: Web) -> None:
    from tests.web.conftest import plant_drop

    case_id, _ = make_case(web, web.people["dana"], members=("Robin",))
    plant_drop(web.db, web.people["dana"], case_id)
    page = web.session_for("dana").get("/dashboard").text
    assert "Robin" in page
    assert not any(f"m{n} " in page or f"m{n}:" in page for n in range(1, 5))


def test_link_form_marks_measures_due_at_the_latest_session(web: Web) -> None:
    from alliance.store import cases as case_store

    case_id, _ = make_case(web, web.people["dana"], sessions=2)
    with web.db.write() as s:
        case_store.set_measure(s, web.people["dana"], case_id, "pulse-3", "client", 2)
    page = web.session_for("dana").get(f"/cases/{case_id}").text
    assert "Alliance-12 — client (due at session 2)" in page
    assert "pulse (3 items) — client</option>" in page.lower()
