"""Regression tests of issue 9's defects, each reproduced on 638c714 and fixed since.

The HTTP-level ones drive the app as a clinician and a client would; see the closing note of
issue 9 for which of them were run against the original code and failed there.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select
from tests.web.conftest import ALL_FOUR, Web, csrf_of, make_case, plant_drop

from alliance.store import cases
from alliance.store.models import AuditEvent, Response, SurveyLink, Transcript

EXAMPLES = Path(__file__).parents[2] / "examples" / "transcripts"


def _post(client: Any, path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf": client.csrf, **data})


def _answers(level: int) -> dict[str, int]:
    return {k: (6 - level if k.endswith("3") else level) for k in ALL_FOUR}


def _link_url(page: Any) -> str:
    assert page.status_code == 200, page.text
    url = page.text.split('id="survey-url" class="url" value="')[1].split('"')[0]
    return str(url.removeprefix("https://testserver"))


def _open_link(web: Web, path: str) -> tuple[Any, str]:
    phone = web.anonymous()
    assert phone.get(path).status_code == 303
    form = phone.get("/survey")
    assert form.status_code == 200
    return phone, csrf_of(form.text)


# -- defect 1 -------------------------------------------------------------------------------

def test_a_deleted_clients_alert_never_shows_on_another_clinicians_new_case(web_any: Web
                                                                             ) -> None:
    web = web_any
    dana, sam = web.session_for("dana"), web.session_for("sam")
    doomed, _ = make_case(web, web.people["dana"], label="Doomed", members=("Alice Smith",))
    plant_drop(web.db, web.people["dana"], doomed, before=5)
    assert "Alice Smith" in dana.get(f"/cases/{doomed}").text
    assert _post(dana, f"/cases/{doomed}/delete", confirm="Doomed").status_code == 303
    fresh, _ = make_case(web, web.people["sam"], label="Fresh", members=("Bob",))
    plant_drop(web.db, web.people["sam"], fresh, high=4, low=4, before=5)
    assert fresh != doomed, "the id of a deleted case is never given to a new one"
    page = sam.get(f"/cases/{fresh}").text
    assert "Alice Smith" not in page and "Alliance drop" not in page
    assert "Alice Smith" not in sam.get("/dashboard").text


# -- defect 2 -------------------------------------------------------------------------------

def test_a_second_answer_supersedes_the_first_and_monitoring_stays_on(web: Web) -> None:
    dana = web.session_for("dana")
    case_id, _ = make_case(web, web.people["dana"])
    plant_drop(web.db, web.people["dana"], case_id, high=4, low=4)  # steady; latest rated
    with web.db.read() as s:
        latest = cases.sessions(s, case_id)[-1].id
        member = cases.members(s, case_id)[0].id
    page = _post(dana, f"/cases/{case_id}/links", session_id=latest,
                 measure="alliance-12:client", member_id=member)
    assert "will count instead of it" in page.text, "the link form says what will happen"
    phone, token = _open_link(web, _link_url(page))
    done = phone.post("/survey", data={"csrf": token, **{f"item_{k}": str(v)
                                                          for k, v in _answers(1).items()}})
    assert done.status_code == 303
    page = dana.get(f"/cases/{case_id}").text
    assert "already rated" not in page
    assert "superseded" in page, "the earlier answer stays in the history"
    board = dana.get("/dashboard").text
    assert "no alert" not in board and 'class="badge sev-' in board


def test_a_voided_response_leaves_monitoring_but_stays_in_the_history(web: Web) -> None:
    dana = web.session_for("dana")
    case_id, _ = make_case(web, web.people["dana"])
    plant_drop(web.db, web.people["dana"], case_id)  # the last answer opens an alert
    assert 'class="badge sev-' in dana.get("/dashboard").text
    with web.db.read() as s:
        last = s.scalars(select(Response).where(Response.case_id == case_id)
                         .order_by(Response.id.desc())).first()
    assert last is not None
    refused = _post(dana, f"/cases/{case_id}/responses/{last.id}/void", reason=" ")
    assert refused.status_code == 400 and "say why" in refused.text
    assert _post(dana, f"/cases/{case_id}/responses/{last.id}/void",
                 reason="entered for the wrong client").status_code == 303
    page = dana.get(f"/cases/{case_id}").text
    assert "voided" in page and "entered for the wrong client" in page
    assert 'class="badge sev-' not in dana.get("/dashboard").text
    with web.db.read() as s:
        assert s.get(Response, last.id) is not None, "a void is a row, not a deletion"
        actions = s.scalars(select(AuditEvent.action)).all()
    assert "response.void" in actions


def test_a_voided_session_leaves_monitoring(web: Web) -> None:
    dana = web.session_for("dana")
    case_id, _ = make_case(web, web.people["dana"])
    plant_drop(web.db, web.people["dana"], case_id)
    with web.db.read() as s:
        last = cases.sessions(s, case_id)[-1].id
    assert _post(dana, f"/cases/{case_id}/sessions/{last}/void",
                 reason="session recorded twice").status_code == 303
    assert 'class="badge sev-' not in dana.get("/dashboard").text


# -- defect 3 -------------------------------------------------------------------------------

def test_paper_form_for_the_therapist_opens_and_stores(web: Web) -> None:
    dana = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    form = dana.get(f"/cases/{case_id}/paper", params={
        "session_id": session_id, "measure": "alliance-12:therapist", "member_id": ""})
    assert form.status_code == 200, form.text
    stored = _post(dana, f"/cases/{case_id}/paper", session_id=session_id,
                   instrument_id="alliance-12", rater="therapist", member_id="",
                   **{f"item_{k}": v for k, v in ALL_FOUR.items()})
    assert stored.status_code == 303, stored.text
    with web.db.read() as s:
        row = s.scalars(select(Response).where(Response.case_id == case_id)).one()
    assert row.rater == "therapist" and row.member_id is None
    again = dana.get(f"/cases/{case_id}/paper", params={
        "session_id": session_id, "measure": "alliance-12:therapist", "member_id": ""})
    assert "will count instead of it" in again.text, "the form says a new answer supersedes"


# -- defect 4 -------------------------------------------------------------------------------

def test_a_couples_rupture_is_marked_on_the_line_of_the_member_it_belongs_to(web: Web) -> None:
    from alliance.store import surveys

    dana_actor = web.people["dana"]
    case_id, _ = make_case(web, dana_actor, modality="couple",
                           members=("Partner R", "Partner J"), sessions=0)
    with web.db.write() as s:
        r, j = cases.members(s, case_id)
        for week, j_level in enumerate([4, 4, 4, 4, 4, 1, 1]):
            session = cases.add_session(s, dana_actor, case_id,
                                        date=dt.date(2026, 1, 5) + dt.timedelta(weeks=week))
            for member, level in ((j, j_level), (r, 5)):  # R's entered last, each session
                surveys.enter_paper(s, dana_actor, case_id, session.id,
                                    instrument_id="alliance-12", rater="client",
                                    member_id=member.id, answers=_answers(level))
    figure = web.session_for("dana").get(f"/cases/{case_id}/trajectory.json").json()
    traces = figure["data"]
    ruptures = [t for t in traces if "rupture" in str(t.get("hovertext", ""))]
    assert ruptures, "the drop of Partner J is marked"
    line = next(t for t in traces if "Partner J" in str(t.get("name")) and
                "total" in str(t.get("name")))
    for marker in ruptures:
        assert "Partner J" in marker["hovertext"], "the hover text says whose rupture"
        x = marker["x"][0]
        assert marker["y"][0] == line["y"][line["x"].index(x)], "on J's line, not R's"
    legend = {t.get("name") for t in traces if t.get("showlegend")}
    assert {"no show", "not done"} <= legend, "the attendance/homework strip has a legend"


# -- defect 5 -------------------------------------------------------------------------------

@pytest.mark.parametrize("example", ["whisperx.vtt", "whisperx.json", "session.srt"])
def test_a_diarised_transcript_is_analysed_after_the_clinician_names_the_speakers(
        web: Web, example: str) -> None:
    dana = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    data = (EXAMPLES / example).read_bytes()
    up = dana.post(f"/cases/{case_id}/transcripts", data={"csrf": dana.csrf,  # type: ignore[attr-defined]
                                                          "session_id": session_id},
                   files={"file": (example, data, "application/octet-stream")})
    assert up.status_code == 303
    assert web.worker.analyse_once()
    with web.db.read() as s:
        row = s.scalars(select(Transcript)).one()
    assert row.status == "failed", "unnamed speakers cannot be analysed yet"
    page = dana.get(f"/cases/{case_id}/transcripts/{row.id}").text
    speakers = [chunk.split('"')[0] for chunk in page.split('name="role_')[1:]]
    assert len(speakers) >= 2, "the page offers a role for each speaker"
    roles = {f"role_{speakers[0]}": "therapist",
             **{f"role_{sp}": "client" for sp in speakers[1:]}}
    assert _post(dana, f"/cases/{case_id}/transcripts/{row.id}/roles",
                 **roles).status_code == 303
    assert web.worker.analyse_once()
    with web.db.read() as s:
        again = s.get(Transcript, row.id)
        assert again is not None and again.status == "done", again.error
    # the mapping can be changed and the analysis run again
    swapped = {k: ("client" if v == "therapist" else "therapist") if k.endswith(
        speakers[0]) or k.endswith(speakers[1]) else v for k, v in roles.items()}
    assert _post(dana, f"/cases/{case_id}/transcripts/{row.id}/roles",
                 **swapped).status_code == 303
    assert web.worker.analyse_once()
    with web.db.read() as s:
        third = s.get(Transcript, row.id)
        assert third is not None and third.status == "done" and third.attempts == 3


def test_a_misfiled_transcript_can_be_deleted(web: Web) -> None:
    dana = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    dana.post(f"/cases/{case_id}/transcripts", data={"csrf": dana.csrf,  # type: ignore[attr-defined]
                                                     "session_id": session_id},
              files={"file": ("wrong.txt", b"T: hi\nC: hello\n", "text/plain")})
    with web.db.read() as s:
        tid = s.scalars(select(Transcript.id)).one()
    assert _post(dana, f"/cases/{case_id}/transcripts/{tid}/delete").status_code == 303
    with web.db.read() as s:
        assert s.scalars(select(Transcript)).all() == []


# -- defect 6 -------------------------------------------------------------------------------

def test_withdrawing_consent_stops_a_link_that_is_already_open(web_any: Web) -> None:
    web = web_any
    dana = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    with web.db.read() as s:
        member = cases.members(s, case_id)[0].id
    path = _link_url(_post(dana, f"/cases/{case_id}/links", session_id=session_id,
                           measure="alliance-12:client", member_id=member))
    phone, token = _open_link(web, path)
    assert _post(dana, f"/cases/{case_id}/consent", kind="measures",
                 granted="no").status_code == 303
    refused = phone.post("/survey", data={"csrf": token, **{f"item_{k}": str(v)
                                                             for k, v in ALL_FOUR.items()}})
    assert refused.status_code == 410
    with web.db.read() as s:
        assert s.scalars(select(Response)).all() == []
        link = s.scalars(select(SurveyLink)).one()
        assert link.revoked_at is not None, "withdrawal revokes the case's open links"


def test_consent_is_checked_when_the_answers_are_stored(web: Web) -> None:
    """Even a link that escaped revocation cannot store answers without consent."""
    from alliance.errors import AuthError
    from alliance.store import surveys
    from alliance.store.models import Consent

    case_id, (session_id,) = make_case(web, web.people["dana"])
    with web.db.write() as s:
        member = cases.members(s, case_id)[0].id
        issued = surveys.create_link(s, web.people["dana"], case_id, session_id,
                                     instrument_id="alliance-12", member_id=member)
        s.add(Consent(case_id=case_id, kind="measures", granted=False,
                      recorded_by=web.people["dana"].id))
    with pytest.raises(AuthError), web.db.write() as s:
        surveys.submit(s, issued.token, ALL_FOUR)


# -- defect 7 -------------------------------------------------------------------------------

def _upload(web: Web, client: Any) -> tuple[int, int]:
    case_id, (session_id,) = make_case(web, web.people["dana"])
    client.post(f"/cases/{case_id}/transcripts", data={"csrf": client.csrf,
                                                       "session_id": session_id},
                files={"file": ("s.txt", b"T: How are you?\nC: Tired.\n", "text/plain")})
    with web.db.read() as s:
        return case_id, s.scalars(select(Transcript.id)).one()


def test_a_coder_crash_becomes_a_failure_row_with_a_retry(web: Web) -> None:
    from alliance.worker import Worker

    dana = web.session_for("dana")
    case_id, tid = _upload(web, dana)

    def crash(data: bytes, name: str, roles: object) -> dict[str, Any]:
        raise RuntimeError("out of memory")

    assert Worker(web.clinic, analyser=crash).analyse_once()
    page = dana.get(f"/cases/{case_id}").text
    assert "failed" in page and "1 failed attempt" in page and "Retry" in page
    # the class is shown, never the message (it may quote the transcript; issue 11)
    assert "RuntimeError" in dana.get(f"/cases/{case_id}/transcripts/{tid}").text
    assert _post(dana, f"/cases/{case_id}/transcripts/{tid}/retry").status_code == 303
    assert web.worker.analyse_once()
    with web.db.read() as s:
        row = s.get(Transcript, tid)
        assert row is not None and row.status == "done" and row.attempts == 2


def test_a_killed_workers_claim_expires_and_another_worker_finishes_the_job(web: Web) -> None:
    from alliance.store import transcripts

    _case_id, tid = _upload(web, web.session_for("dana"))
    t0 = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    lease = dt.timedelta(minutes=5)
    dead = transcripts.claim(web.db, now=t0, lease=lease)  # then kill -9: never finishes
    assert dead is not None and dead.transcript_id == tid
    assert transcripts.claim(web.db, now=t0 + dt.timedelta(minutes=1), lease=lease) is None
    analyser = transcripts.analyse_with(web.clinic.coder)
    assert transcripts.run_one(web.db, web.box, analyser, now=lambda: t0 + 2 * lease,
                               lease=lease)
    with web.db.read() as s:
        row = s.get(Transcript, tid)
        assert row is not None and row.status == "done" and row.attempts == 2
    # the killed worker, were it to wake up, writes nothing over the finished job
    assert not transcripts.fail(web.db, dead, "late", now=t0 + 3 * lease)


def test_a_transcript_that_kills_its_worker_three_times_is_failed_not_retaken(
        web: Web) -> None:
    from alliance.store import transcripts
    from alliance.store.models import JobFailure

    dana = web.session_for("dana")
    case_id, tid = _upload(web, dana)
    t0 = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    lease = dt.timedelta(minutes=5)
    # claimed at 0, 2, 4 leases; each worker dies (lost leases 1 and 2 are taken over)
    for round_ in range(transcripts.MAX_LOST_LEASES):
        claimed = transcripts.claim(web.db, now=t0 + 2 * round_ * lease, lease=lease)
        assert claimed is not None and claimed.attempt == round_ + 1
    # the third lost lease fails the job instead of handing it out a fourth time
    assert transcripts.claim(web.db, now=t0 + 6 * lease, lease=lease) is None
    with web.db.read() as s:
        row = s.get(Transcript, tid)
        assert row is not None and row.status == "failed" and row.lost_leases == 3
        assert row.error.startswith("LeaseLost: the analysis stopped its worker 3 times")
        failures = s.scalars(select(JobFailure).where(JobFailure.transcript_id == tid)).all()
        assert [f.error[:9] for f in failures] == ["LeaseLost"]
    assert "Retry" in dana.get(f"/cases/{case_id}").text
    # a retry starts the count again, and a finished analysis clears it
    assert _post(dana, f"/cases/{case_id}/transcripts/{tid}/retry").status_code == 303
    assert web.worker.analyse_once()
    with web.db.read() as s:
        row = s.get(Transcript, tid)
        assert row is not None and row.status == "done" and row.lost_leases == 0


# -- defect 8 -------------------------------------------------------------------------------

def test_a_therapist_questionnaire_is_never_sent_to_a_client(web: Web) -> None:
    dana = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    with web.db.read() as s:
        member = cases.members(s, case_id)[0].id
    refused = _post(dana, f"/cases/{case_id}/links", session_id=session_id,
                    measure="alliance-12:therapist", member_id=member)
    assert refused.status_code == 400 and "therapist" in refused.text
    missing = _post(dana, f"/cases/{case_id}/links", session_id=session_id,
                    measure="alliance-12:client", member_id="")
    assert missing.status_code == 400 and "member" in missing.text
    with web.db.read() as s:
        assert s.scalars(select(SurveyLink)).all() == []


# -- defect 9 -------------------------------------------------------------------------------

def test_licensed_wording_added_by_the_deployer_reaches_the_web(web: Web,
                                                                tmp_path: Path) -> None:
    from tests.web.conftest import make_clinic

    from alliance.interop.specfiles import add_instrument
    from alliance.web.app import create_app

    wording = {"instrument": "wai-sr", "licence": "Licensed to a test clinic, 2026",
               "instructions": "Think of this week's session.",
               "anchors": {1: "seldom", 5: "always"},
               "items": {str(i): f"Licensed test item {i}" for i in range(1, 13)}}
    path = tmp_path / "wording.yaml"
    path.write_text(yaml.safe_dump(wording))
    folder = tmp_path / "instruments"
    add_instrument(path, folder)
    web.clinic = make_clinic(web.db, web.box, instruments_dir=folder)
    web.app = create_app(clinic=web.clinic)
    dana = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    with web.db.read() as s:
        member = cases.members(s, case_id)[0].id
    link = _post(dana, f"/cases/{case_id}/links", session_id=session_id,
                 measure="wai-sr:client", member_id=member)
    phone = web.anonymous()
    phone.get(_link_url(link))
    assert "Licensed test item 1" in phone.get("/survey").text


# -- defect 11 ------------------------------------------------------------------------------

def test_the_app_refuses_to_start_with_a_key_that_does_not_open_the_transcripts(web: Web
                                                                                ) -> None:
    from tests.web.conftest import make_clinic

    from alliance.errors import ConfigError
    from alliance.store import Box, generate_key
    from alliance.web.app import create_app

    _upload(web, web.session_for("dana"))
    with pytest.raises(ConfigError, match="does not decrypt"):
        create_app(clinic=make_clinic(web.db, Box.from_text(generate_key())))
    with pytest.raises(ConfigError, match="no encryption key"):
        create_app(clinic=make_clinic(web.db, None))
    create_app(clinic=make_clinic(web.db, web.box))  # the right key starts


def test_demo_on_an_existing_database_keeps_its_key(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from alliance.cli import main
    from alliance.store import Box, Database

    monkeypatch.delenv("ALLIANCE_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("ALLIANCE_ENCRYPTION_KEY_FILE", raising=False)
    monkeypatch.setenv("ALLIANCE_TRANSCRIPT_CODER", "rules")
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    first = CliRunner().invoke(main, ["demo", "--no-serve", "--database-url", url])
    assert first.exit_code == 0, first.output
    key = [line for line in first.output.splitlines() if "key" in line]
    second = CliRunner().invoke(main, ["demo", "--no-serve", "--database-url", url])
    assert second.exit_code == 0, second.output
    assert [line for line in second.output.splitlines() if "key" in line] == key
    for output in (first.output, second.output):
        assert "http://" not in output, "--no-serve serves nothing, so prints no address"
    from alliance.store.transcripts import report_aad

    box = Box.from_text(Path(f"{tmp_path / 'clinic.db'}.key").read_text())
    db = Database(url)
    from alliance.store import sealing

    sealing.attach(db.engine, box)  # reports are sealed under each client's data key
    with db.read() as s:
        rows = s.scalars(select(Transcript).where(Transcript.status == "done")).all()
        assert rows, "the first run's transcripts were analysed"
        for row in rows:  # and still open with the key the second run used
            report = sealing.open_bytes(s, box, row.report or b"", report_aad(row.id))
            assert json.loads(report)["schema"]
    db.dispose()
    serve = CliRunner().invoke(main, ["serve", "--database-url", url],
                               env={"ALLIANCE_ENCRYPTION_KEY": _other_key()})
    assert serve.exit_code == 1 and "does not decrypt" in serve.output


def _other_key() -> str:
    from alliance.store import generate_key

    return generate_key()


def test_exports_carry_corrections_and_research_leaves_voided_answers_out(web: Web) -> None:
    from alliance.store import surveys

    dana_actor = web.people["dana"]
    for i in range(5):
        make_case(web, dana_actor, label=f"Case {i}")
    case_id, (session_id,) = make_case(web, dana_actor, label="Corrected")
    with web.db.write() as s:
        member = cases.members(s, case_id)[0].id
        for _ in range(2):  # the second answer supersedes the first
            surveys.enter_paper(s, dana_actor, case_id, session_id, instrument_id="alliance-12",
                                rater="client", member_id=member, answers=ALL_FOUR)
        wrong = surveys.enter_paper(s, dana_actor, case_id, session_id,
                                    instrument_id="alliance-12", rater="therapist",
                                    member_id=None, answers=ALL_FOUR)
        surveys.void_response(s, dana_actor, case_id, wrong.id, "wrong case")
    record = json.loads(web.session_for("dana").get(f"/cases/{case_id}/export.json").text)
    assert [r["state"] for r in record["responses"]] == ["superseded", "current", "voided"]
    assert record["voids"][0]["reason"] == "wrong case"
    research = web.session_for("rowan").get("/research/export.csv").text
    assert len(research.strip().splitlines()) == 1 + 1, "only the answer that counts"


def test_demo_never_writes_a_new_key_for_a_database_that_holds_transcripts(
        web: Web, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from alliance.cli import main

    monkeypatch.delenv("ALLIANCE_ENCRYPTION_KEY", raising=False)
    monkeypatch.delenv("ALLIANCE_ENCRYPTION_KEY_FILE", raising=False)
    _upload(web, web.session_for("dana"))  # stored with a key the demo does not have
    key = Path(f"{web.db.engine.url.database}.key")
    run = CliRunner().invoke(main, ["demo", "--no-serve", "--database-url", web.db.url])
    assert run.exit_code == 1 and "no encryption key" in run.output
    assert not key.exists(), "no new key was written"



def test_corrections_and_roles_refuse_bad_input_readably(web: Web) -> None:
    dana = web.session_for("dana")
    case_id, (session_id,) = make_case(web, web.people["dana"])
    assert _post(dana, f"/cases/{case_id}/responses/999999/void",
                 reason="typo").status_code == 404
    assert _post(dana, f"/cases/{case_id}/sessions/999999/void",
                 reason="typo").status_code == 404
    twice = _post(dana, f"/cases/{case_id}/sessions/{session_id}/void", reason="duplicate")
    assert twice.status_code == 303
    again = _post(dana, f"/cases/{case_id}/sessions/{session_id}/void", reason="duplicate")
    assert again.status_code == 400 and "already voided" in again.text
    case_id, tid = _upload(web, dana)
    bad = _post(dana, f"/cases/{case_id}/transcripts/{tid}/roles", role_T="boss")
    assert bad.status_code == 400 and "not one of" in bad.text
    lonely = _post(dana, f"/cases/{case_id}/transcripts/{tid}/roles", role_T="therapist")
    assert lonely.status_code == 400 and "one therapist and one client" in lonely.text
    assert _post(dana, f"/cases/{case_id}/transcripts/999999/retry").status_code == 404
