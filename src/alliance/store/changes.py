"""The data version of a case, bumped by every change monitoring reads.

The alert worker (:mod:`alliance.store.monitoring`) re-assesses a case whose ``version`` is
ahead of what it last assessed; store functions that change sessions, responses, voids,
context or transcript summaries call :func:`touch` in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session as DbSession

from alliance.store.models import CaseMonitor


def touch(db: DbSession, case_id: int) -> None:
    """Mark the case as changed since the alert worker last looked."""
    db.flush()
    bumped = db.execute(update(CaseMonitor).where(CaseMonitor.case_id == case_id)
                        .values(version=CaseMonitor.version + 1)
                        .execution_options(synchronize_session=False))
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        db.add(CaseMonitor(case_id=case_id, version=1, assessed_version=0, lease_owner="",
                           error="", assessments=0, basis=""))
        db.flush()
