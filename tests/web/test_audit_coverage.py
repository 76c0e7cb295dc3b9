"""What the audit log records now (issue 11, item 5): charts, paper forms, the research and
user pages, opened links, denied access, and the client address of every web write."""

from __future__ import annotations

from tests.web.conftest import Web, make_case

from alliance.store import audit, cases, surveys


def _last(web: Web, action: str):  # type: ignore[no-untyped-def]
    with web.db.read() as s:
        rows = audit.browse(s, action=action, limit=1)
    assert rows, f"no {action} row"
    return rows[0]


def test_pages_that_read_are_audited_with_the_address(web: Web) -> None:
    case_id, (session_id,) = make_case(web, web.people["dana"])
    dana = web.session_for("dana")
    assert dana.get(f"/cases/{case_id}/trajectory.json").status_code == 200
    assert _last(web, "case.trajectory").case_id == case_id
    with web.db.read() as s:
        member_id = cases.members(s, case_id)[0].id
    r = dana.get(f"/cases/{case_id}/paper", params={
        "measure": "alliance-12:client", "session_id": session_id, "member_id": member_id})
    assert r.status_code == 200
    assert _last(web, "paper.open").ip == "testclient"
    assert web.session_for("admin").get("/admin/users").status_code == 200
    assert _last(web, "user.list").actor_email == "admin@example.org"
    assert web.session_for("rowan").get("/research").status_code == 200
    assert _last(web, "research.read").actor_email == "rowan@example.org"


def test_opening_a_link_and_submitting_carry_the_address(web: Web) -> None:
    case_id, (session_id,) = make_case(web, web.people["dana"])
    with web.db.write() as s:
        member = cases.members(s, case_id)[0]
        token = surveys.create_link(s, web.people["dana"], case_id, session_id,
                                    instrument_id="alliance-12", member_id=member.id).token
    client = web.anonymous()
    assert client.get(f"/s/{token}").status_code == 303
    opened = _last(web, "link.open")
    assert opened.case_id == case_id and opened.ip == "testclient"
    page = client.get("/survey").text
    import re

    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    answers = {f"item_{k}": "4" for k in ("b1", "b2", "b3", "b4", "g1", "g2", "g3", "g4",
                                          "t1", "t2", "t3", "t4")}
    r = client.post("/survey", data={"csrf": csrf.group(1), **answers})
    assert r.status_code == 303, r.text
    assert _last(web, "response.submit").ip == "testclient"


def test_denied_access_is_audited(web: Web) -> None:
    case_id, _ = make_case(web, web.people["dana"])
    sam = web.session_for("sam")
    assert sam.get(f"/cases/{case_id}").status_code == 404
    denied = _last(web, "access.denied")
    assert denied.actor_email == "sam@example.org"
    assert denied.detail == {"path": f"/cases/{case_id}", "status": 404, "error": "NotFound"}
    dana = web.session_for("dana")
    r = dana.post(f"/cases/{case_id}/context", data={"csrf": "forged", "cultural_notes": "x"})
    assert r.status_code == 403
    assert _last(web, "access.denied").detail["error"] == "CsrfError"


def _recorded_actions() -> dict[str, str]:
    """Every action written by ``audit.record(...)`` in the source: literal → where."""
    import ast
    from pathlib import Path

    import alliance

    found: dict[str, str] = {}
    root = Path(alliance.__file__).parent
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "record" and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "audit"):
                args = node.args[2:3] or [k.value for k in node.keywords if k.arg == "action"]
                for arg in args:
                    for leaf in ast.walk(arg):  # literals, also in a conditional expression
                        if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                            found[leaf.value] = f"{path.relative_to(root)}:{node.lineno}"
    return found


def test_every_action_the_code_records_is_one_the_admin_can_filter_by() -> None:
    from alliance.store import audit

    found = _recorded_actions()
    assert len(found) > 40  # the scan sees the calls (a broken scan must not pass)
    unknown = {a: where for a, where in found.items() if a not in audit.ACTIONS}
    assert unknown == {}
