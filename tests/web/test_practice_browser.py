"""Practice pages in a real headless browser (Debian's chromium driven by Playwright): a
trainee plays two turns of a practice session and one exam section, the supervisor opens the
replay and the trainee's progress. No JavaScript on these pages; the test checks there are no
console errors (the Content-Security-Policy would report inline script)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alliance.clinic import Clinic, Settings
from alliance.store import Box, Database, accounts, generate_key, upgrade
from alliance.store.actors import load_actor
from alliance.store.models import User
from alliance.testing.server import serve
from alliance.training import load_casebook
from alliance.web.app import create_app

pytestmark = pytest.mark.browser
PASSWORD = "browser-test-pw"
CASE = load_casebook()["quiet-homework"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:

    db = Database(f"sqlite:///{tmp_path_factory.mktemp('practice') / 'p.db'}")
    upgrade(db.engine)
    clinic = Clinic(Settings(database_url=db.url, box=Box.from_text(generate_key()),
                             run_worker=False, transcript_coder="rules",
                             practice_coder="rules",
                             instruments_dir=None), db)
    with db.write() as s:
        admin = accounts.create_user(s, "admin@example.org", "Admin", "admin", PASSWORD)
        tia = accounts.create_user(s, "tia@example.org", "Tia", "trainee", PASSWORD)
        lee = accounts.create_user(s, "lee@example.org", "Lee", "supervisor", PASSWORD)
        s.flush()
        accounts.set_supervision(s, lee.id, [tia.id], load_actor(s, admin))
        assert s.get(User, tia.id) is not None
    app = create_app(clinic=clinic)
    with serve(app) as base:
        yield base
    db.dispose()



def _login(browser: object, base: str, email: str) -> object:
    page = browser.new_context().new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_trainee_plays_practice_and_exam_supervisor_replays(server: str,
                                                             browser: object) -> None:
    tia = _login(browser, server, "tia@example.org")
    assert tia.url.endswith("/practice")
    # practice: two turns, feedback and the client's state after each
    tia.locator(f"#case-{CASE.id} button[value=practice]").click()
    tia.wait_for_url("**/practice/sessions/*")
    session_url = tia.url.split("#")[0]
    assert CASE.stages[0].client in tia.inner_text("#play")
    tia.fill("#response", "Let's fill in the thought record together now.")
    tia.click("text=Respond")
    tia.wait_for_load_state()
    turn1 = tia.inner_text("#turn-1")
    assert "technique_first" in turn1 and "A better response here:" in turn1
    assert "task 1/5" in turn1  # the technique-first turn lowered the task
    tia.fill("#response", CASE.stages[1].alternative)
    tia.click("text=Respond")
    tia.wait_for_load_state()
    turn2 = tia.inner_text("#turn-2")
    assert "Verdict:" in turn2 and "State after this turn" in turn2
    assert CASE.stages[2].client in tia.inner_text("#play")
    # exam: section 1 answered, then locked; section 2 open
    tia.goto(f"{server}/practice")
    tia.locator(f"#case-{CASE.id} button[value=exam]").click()
    tia.wait_for_url("**/practice/sessions/*")
    for item in CASE.stages[0].items:
        tia.check(f"input[name=item_{item.id}][value={item.key}]")
    tia.click("text=Answer section 1")
    tia.wait_for_load_state()
    assert "(locked)" in tia.inner_text("#section-1")
    assert tia.locator("#section-1 input[type=radio]").count() == 0
    assert tia.locator("#section-2 input[type=radio]").count() > 0
    assert tia.errors == []  # type: ignore[attr-defined]
    # the supervisor: trainee list, progress, the (unfinished) practice replay, no form
    lee = _login(browser, server, "lee@example.org")
    lee.goto(f"{server}/practice/trainees")
    lee.click("text=Tia")
    lee.wait_for_load_state()
    assert "Progress of Tia" in lee.inner_text("h1")
    lee.goto(session_url)
    assert "Let's fill in the thought record together now." in lee.inner_text("#turn-1")
    assert lee.locator("#response").count() == 0
    assert lee.errors == []  # type: ignore[attr-defined]
