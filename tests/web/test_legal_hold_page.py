"""Legal holds on the web (issue 11, item 11): an admin places and lifts them by case number
without reading the case; a held case cannot be deleted by its clinician."""

from __future__ import annotations

from sqlalchemy import select
from tests.web.conftest import Web, make_case

from alliance.store.models import AuditEvent, Case


def _hold(admin: object, case: str, action: str = "hold") -> object:
    return admin.post("/admin/holds", data={"csrf": admin.csrf, "case": case,  # type: ignore[attr-defined]
                                            "action": action})


def test_an_admin_places_a_hold_that_stops_the_clinicians_deletion_and_lifts_it(
        web_any: Web) -> None:
    web = web_any
    case_id, _ = make_case(web, web.people["dana"], label="R.K.")
    admin, dana = web.session_for("admin"), web.session_for("dana")
    assert _hold(admin, str(case_id)).status_code == 303          # type: ignore[attr-defined]
    page = admin.get("/admin/holds")
    assert page.status_code == 200 and f"<td>{case_id}</td>" in page.text
    assert "admin@example.org" in page.text and "R.K." not in page.text  # ids only
    assert "legal hold" in dana.get(f"/cases/{case_id}").text
    refused = dana.post(f"/cases/{case_id}/delete", data={"csrf": dana.csrf,  # type: ignore[attr-defined]
                                                          "confirm": "R.K."})
    assert refused.status_code >= 400 and "legal hold" in refused.text
    assert "Traceback" not in refused.text
    with web.db.read() as s:
        assert s.get(Case, case_id) is not None

    assert _hold(admin, str(case_id), "lift").status_code == 303  # type: ignore[attr-defined]
    assert "No case is on legal hold" in admin.get("/admin/holds").text
    gone = dana.post(f"/cases/{case_id}/delete", data={"csrf": dana.csrf,  # type: ignore[attr-defined]
                                                       "confirm": "R.K."})
    assert gone.status_code == 303
    with web.db.read() as s:
        assert s.get(Case, case_id) is None
        changes = s.execute(select(AuditEvent.actor_email, AuditEvent.detail).where(
            AuditEvent.action == "case.hold").order_by(AuditEvent.id)).all()
        listed = s.scalars(select(AuditEvent.id).where(AuditEvent.action == "hold.list")).all()
    assert [(e, d["hold"]) for e, d in changes] == [("admin@example.org", True),
                                                    ("admin@example.org", False)]
    assert len(listed) == 2


def test_bad_hold_requests_answer_a_readable_error(web_any: Web) -> None:
    web = web_any
    admin = web.session_for("admin")
    for case, action, status, words in (("987654321", "hold", 404, "not yours to see"),
                                        ("abc", "hold", 400, "not a whole number"),
                                        ("", "hold", 400, "required"),
                                        (str(2**63), "hold", 400, "out of range"),
                                        ("1", "destroy", 400, "is not one of")):
        answer = _hold(admin, case, action)
        assert answer.status_code == status, (case, action, answer.text[:200])  # type: ignore[attr-defined]
        assert words in answer.text and "Traceback" not in answer.text  # type: ignore[attr-defined]
