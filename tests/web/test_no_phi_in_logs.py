"""No health data in any log (issue 11, item 3): a database error and a 500 carry no value."""

from __future__ import annotations

import logging
import traceback

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from tests.web.conftest import Web, make_case

from alliance.store import cases
from alliance.store.database import Database

CANARY = "canary-7f3c-cultural-note"


def test_a_database_error_does_not_quote_the_values(db: Database,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(IntegrityError) as raised, db.write() as s:
        s.execute(text("INSERT INTO users (id, email, name, role, password_hash, active) "
                       "VALUES (1, :e, :n, 'admin', 'x', true)"), {"e": "a@b.c", "n": CANARY})
        s.execute(text("INSERT INTO users (id, email, name, role, password_hash, active) "
                       "VALUES (1, :e, :n, 'admin', 'x', true)"), {"e": "a@b.c", "n": CANARY})
    assert CANARY not in "".join(traceback.format_exception(raised.value))  # with its cause
    assert CANARY not in caplog.text


def test_a_500_logs_no_form_value(web_any: Web, caplog: pytest.LogCaptureFixture,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug that fails a statement carrying the clinician's note: the page says 500, and
    neither the log nor the page quotes the note."""
    case_id, _ = make_case(web_any, web_any.people["dana"])

    def broken(s, actor, case_id, *, cultural_notes, normative_cues):  # type: ignore[no-untyped-def]
        s.execute(text("INSERT INTO no_such_table (x) VALUES (:note)"), {"note": cultural_notes})

    monkeypatch.setattr(cases, "update_context", broken)
    caplog.set_level(logging.DEBUG)
    client = web_any.session_for("dana")
    client._transport.raise_server_exceptions = False
    r = client.post(f"/cases/{case_id}/context",
                    data={"csrf": client.csrf, "cultural_notes": CANARY})
    assert r.status_code == 500
    assert CANARY not in r.text
    assert CANARY not in caplog.text
    # what the server logs for a 500: the traceback, chained causes included
    client._transport.raise_server_exceptions = True
    with pytest.raises(Exception) as raised:
        client.post(f"/cases/{case_id}/context",
                    data={"csrf": client.csrf, "cultural_notes": CANARY})
    logged = "".join(traceback.format_exception(raised.value))
    assert "no_such_table" in logged and CANARY not in logged
