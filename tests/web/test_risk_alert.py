"""A risk answer is a monitoring alert (severity act, the highest) with the safety steps: on
the case page, on the caseload and its severity filter, and in the API's alerts list.

Hand-made case: one session, PHQ-9 on paper with items 1-8 at 1 and item 9 at 2, so the
alert reads "Safety: Client answered a safety question on phq-9 (item phq9: 2) in session 1".
"""

from __future__ import annotations

import html

from sqlalchemy import select

from alliance.monitoring.safety import STEPS
from alliance.store import surveys
from alliance.store.models import CaseSignal

from .test_api import token_for
from .test_client_voice import VoiceWeb, a_case, vw  # noqa: F401  (fixture)

HEADLINE = ("Safety: Client answered a safety question on phq-9 (item phq9: 2) in session 1: "
            "contact the client today")


def _risk_case(w: VoiceWeb, item9: int = 2) -> int:
    case_id, member_id, session_id = a_case(w, measures=(("phq-9", "client", 1),))
    answers = {f"phq{i}": 1 for i in range(1, 9)} | {"phq9": item9}
    with w.db.write() as s:
        surveys.enter_paper(s, w.people["dana"], case_id, session_id, instrument_id="phq-9",
                            rater="client", member_id=member_id, answers=answers,
                            catalog=w.clinic.catalog)
    return case_id


def test_a_risk_answer_is_an_act_alert_with_the_safety_steps(vw: VoiceWeb) -> None:  # noqa: F811
    case_id = _risk_case(vw)
    page = html.unescape(vw.session_for("dana").get(f"/cases/{case_id}").text)
    assert HEADLINE in page
    assert STEPS[0] in page and STEPS[-1] in page


def test_the_caseload_severity_filter_finds_the_risk_alert(vw: VoiceWeb) -> None:  # noqa: F811
    risk = _risk_case(vw)
    calm = _risk_case(vw, item9=0)
    dana = vw.session_for("dana")
    act = html.unescape(dana.get("/dashboard", params={"severity": "act"}).text)
    assert f'/cases/{risk}"' in act and HEADLINE in act
    assert f'/cases/{calm}"' not in act
    # an unacknowledged risk answer shows under every filter (the caseload's rule); once the
    # clinician has acknowledged it, the alert's own severity decides
    assert f'/cases/{risk}"' in dana.get("/dashboard", params={"severity": "watch"}).text
    with vw.db.read() as s:
        (signal_id,) = s.scalars(select(CaseSignal.id).where(CaseSignal.case_id == risk))
    assert dana.post(f"/cases/{risk}/signals/{signal_id}/acknowledge",
                     data={"csrf": dana.csrf}).status_code == 303
    assert f'/cases/{risk}"' not in dana.get("/dashboard", params={"severity": "watch"}).text
    assert f'/cases/{risk}"' in dana.get("/dashboard", params={"severity": "act"}).text


def test_the_api_lists_the_risk_alert(vw: VoiceWeb) -> None:  # noqa: F811
    risk = _risk_case(vw)
    _risk_case(vw, item9=0)
    client = vw.anonymous()
    got = client.get("/api/v1/alerts",
                     headers={"Authorization": f"Bearer {token_for(vw, 'dana', 'read')}"})
    assert got.status_code == 200
    alerts = {a["case_id"]: a["current"] for a in got.json()}
    assert list(alerts) == [risk]                 # the calm case has no alert at all
    assert alerts[risk]["severity"] == "act"
    assert HEADLINE in alerts[risk]["headline"]
