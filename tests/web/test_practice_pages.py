"""Practice pages (issue 13, web half of item 7): play, exam, replay, progress, bad input."""

from __future__ import annotations

import html

import pytest
from tests.web.conftest import Web
from tests.web.practice_world import add_trainees

from alliance.store import audit
from alliance.training import load_casebook

CASE = load_casebook()["quiet-homework"]


@pytest.fixture
def site(web: Web, password_hash: str) -> Web:
    add_trainees(web.db, web.people, password_hash)
    return web


def _start(client, mode: str = "practice") -> str:  # type: ignore[no-untyped-def]
    r = client.post("/practice", data={"csrf": client.csrf, "case": CASE.id, "mode": mode})
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def _text(r) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(r.text)


def test_trainee_lands_on_the_case_list(site: Web) -> None:
    tia = site.session_for("tia")
    r = tia.get("/")
    assert r.headers["location"] == "/practice"
    page = _text(tia.get("/practice"))
    assert all(c.title in page for c in load_casebook().values())


def test_practice_turn_shows_feedback_and_the_clients_state(site: Web) -> None:
    tia = site.session_for("tia")
    url = _start(tia)
    page = _text(tia.get(url))
    assert CASE.stages[0].client in page and 'name="response"' in page
    r = tia.post(url + "/respond", data={"csrf": tia.csrf,
                                         "response": CASE.stages[0].alternative})
    assert r.status_code == 303 and r.headers["location"].endswith("#turn-1")
    page = _text(tia.get(url))
    assert "Verdict:" in page and "A better response here:" in page
    assert "State after this turn: <span class=\"state\">bond" in page
    assert CASE.stages[1].client in page  # the next stage is open


def test_finished_practice_replays_with_the_simulated_rating(site: Web) -> None:
    tia = site.session_for("tia")
    url = _start(tia)
    for stage in CASE.stages:
        assert tia.post(url + "/respond", data={"csrf": tia.csrf,
                                                "response": stage.alternative}).status_code == 303
    page = _text(tia.get(url))
    assert "alliance-12 rating" in page and 'name="response"' not in page
    assert page.count("State after this turn") == len(CASE.stages)
    # the supervisor opens the same replay; another trainee cannot
    assert "alliance-12 rating" in _text(site.session_for("lee").get(url))
    assert site.session_for("tom").get(url).status_code == 404
    r = tia.post(url + "/respond", data={"csrf": tia.csrf, "response": "And now?"})
    assert r.status_code == 400 and "finished" in r.text


@pytest.mark.parametrize(("response", "message"), [
    ("", "empty"), ("   ", "empty"), ("x" * 100_000, "longer than 5000")])
def test_bad_responses_answer_400_and_store_nothing(site: Web, response: str,
                                                    message: str) -> None:
    tia = site.session_for("tia")
    url = _start(tia)
    r = tia.post(url + "/respond", data={"csrf": tia.csrf, "response": response})
    assert r.status_code == 400 and message in r.text
    assert "Verdict:" not in tia.get(url).text


def test_unknown_case_and_mode_answer_400(site: Web) -> None:
    tia = site.session_for("tia")
    r = tia.post("/practice", data={"csrf": tia.csrf, "case": "no-such", "mode": "practice"})
    assert r.status_code == 400 and "unknown case" in html.unescape(r.text)
    r = tia.post("/practice", data={"csrf": tia.csrf, "case": CASE.id, "mode": "quiz"})
    assert r.status_code == 400


def test_foreign_and_nonexistent_sessions_answer_404(site: Web) -> None:
    url = _start(site.session_for("tia"))
    tom = site.session_for("tom")
    assert tom.get(url).status_code == 404
    assert tom.get("/practice/sessions/99999").status_code == 404
    assert tom.post(url + "/respond", data={"csrf": tom.csrf,
                                            "response": "Hello"}).status_code == 404
    assert site.session_for("lee").get("/practice/trainees/99999").status_code == 404
    tom_id = site.people["tom"].id
    assert site.session_for("lee").get(f"/practice/trainees/{tom_id}").status_code == 404


def test_exam_sections_lock_and_results_show_every_rationale(site: Web) -> None:
    tia = site.session_for("tia")
    url = _start(tia, "exam")
    first = CASE.stages[0]
    assert first.items[0].stem in _text(tia.get(url))
    assert CASE.stages[1].items[0].stem not in _text(tia.get(url))  # later sections hidden
    for stage in CASE.stages:
        data = {"csrf": tia.csrf, "section": str(stage.number),
                **{f"item_{i.id}": i.key for i in stage.items}}
        assert tia.post(url + "/answer", data=data).status_code == 303
    page = _text(tia.get(url))
    assert "Results" in page and "(locked)" in page
    for item in CASE.items:
        assert all(o.rationale in page for o in item.options)


def test_tampered_exam_sections_answer_400(site: Web) -> None:
    tia = site.session_for("tia")
    url = _start(tia, "exam")
    first, second = CASE.stages[0], CASE.stages[1]
    ahead = {"csrf": tia.csrf, "section": "2", **{f"item_{i.id}": i.key for i in second.items}}
    r = tia.post(url + "/answer", data=ahead)
    assert r.status_code == 400 and "not open yet" in r.text
    mixed = {"csrf": tia.csrf, "section": "1", **{f"item_{i.id}": i.key for i in first.items},
             **{f"item_{i.id}": i.key for i in second.items}}
    r = tia.post(url + "/answer", data=mixed)
    assert r.status_code == 400 and "is not in section 1" in html.unescape(r.text)
    good = {"csrf": tia.csrf, "section": "1", **{f"item_{i.id}": i.key for i in first.items}}
    assert tia.post(url + "/answer", data=good).status_code == 303
    again = {**good, **{f"item_{i.id}": "A" for i in first.items}}
    r = tia.post(url + "/answer", data=again)
    assert r.status_code == 400 and "locked" in r.text
    bad = {"csrf": tia.csrf, "section": "x"}
    assert tia.post(url + "/answer", data=bad).status_code == 400
    wrong_kind = tia.post(url + "/respond", data={"csrf": tia.csrf, "response": "Hi"})
    assert wrong_kind.status_code == 400


def test_progress_for_trainee_and_supervisor(site: Web) -> None:
    tia = site.session_for("tia")
    url = _start(tia, "exam")
    for stage in CASE.stages:
        tia.post(url + "/answer", data={"csrf": tia.csrf, "section": str(stage.number),
                                        **{f"item_{i.id}": i.key for i in stage.items}})
    page = tia.get("/practice/progress").text
    assert "<svg" in page and "polyline" in page and "1.00" in page
    lee = site.session_for("lee")
    listing = lee.get("/practice/trainees").text
    assert "Tia" in listing and "Tom" not in listing
    detail = lee.get(f"/practice/trainees/{site.people['tia'].id}").text
    assert "<svg" in detail and url in detail
    with site.db.read() as s:
        reads = [e for e in audit.browse(s, actor_email="lee@example.org")
                 if e.action == "practice.list"]
    assert len(reads) == 2


def test_page_reads_are_audited(site: Web) -> None:
    url = _start(site.session_for("tia"))
    site.session_for("lee").get(url)
    with site.db.read() as s:
        events = audit.browse(s, action="practice.read")
    assert [e.actor_email for e in events] == ["lee@example.org"]
    assert events[0].detail["practice"] == int(url.rsplit("/", 1)[1])


def test_admin_creates_a_trainee_and_assigns_a_supervisor(site: Web) -> None:
    admin = site.session_for("admin")
    r = admin.post("/admin/users", data={"csrf": admin.csrf, "email": "ty@example.org",
                                         "name": "Ty", "role": "trainee",
                                         "password": "a-long-password"})
    assert r.status_code == 303
    page = admin.get("/admin/users").text
    assert "Ty (trainee)" in page


def test_progress_chart_docstring_examples_hold() -> None:
    import doctest

    from alliance.web import progress_chart

    result = doctest.testmod(progress_chart)
    assert result.attempted > 0 and result.failed == 0
