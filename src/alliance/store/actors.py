"""Who is acting, and which cases they may see: the one place access is decided.

Roles (documented in ``docs/web.md``):

* ``clinician`` reads and writes their own cases;
* ``supervisor`` reads, never writes, the cases of the clinicians they supervise;
* ``admin`` manages accounts and supervision and browses the audit log; no case data;
* ``researcher`` gets the clinic-wide de-identified export; no case pages.
* ``trainee`` practises on training cases (:mod:`alliance.store.practice`) and sees only
  their own practice sessions; no case pages. Supervisors assigned to a trainee (the same
  supervision rows as for clinicians) read that trainee's sessions.

Every case query goes through :func:`case_scope` or :func:`get_case`. A case the actor may
not see raises :class:`~alliance.errors.NotFound` (the web answers 404: another clinician's
case looks exactly like a case that does not exist); a visible case the actor may not change
raises :class:`~alliance.errors.PermissionDenied`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, select
from sqlalchemy.orm import Session

from alliance.errors import NotFound, PermissionDenied
from alliance.store.models import Case, Supervision, User


@dataclass(frozen=True)
class Actor:
    """The acting user, with the clinicians and trainees they supervise (empty unless
    supervisor)."""

    id: int
    email: str
    role: str
    name: str = ""
    supervisees: frozenset[int] = frozenset()

    @property
    def sees_cases(self) -> bool:
        return self.role in ("clinician", "supervisor")

    @property
    def writes_cases(self) -> bool:
        return self.role == "clinician"


def load_actor(session: Session, user: User) -> Actor:
    supervisees: frozenset[int] = frozenset()
    if user.role == "supervisor":
        rows = session.scalars(select(Supervision.clinician_id)
                               .where(Supervision.supervisor_id == user.id))
        supervisees = frozenset(rows)
    return Actor(user.id, user.email, user.role, user.name, supervisees)


def case_scope(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause limiting ``cases`` to those ``actor`` may read."""
    if actor.role == "clinician":
        return Case.clinician_id == actor.id
    if actor.role == "supervisor" and actor.supervisees:
        return Case.clinician_id.in_(sorted(actor.supervisees))
    return false()


def get_case(session: Session, actor: Actor, case_id: int, *, write: bool = False) -> Case:
    """The case ``case_id`` if ``actor`` may read it (and change it, with ``write``)."""
    case = session.scalars(select(Case).where(Case.id == case_id, case_scope(actor))).first()
    if case is None:
        raise NotFound(f"case {case_id} not found")
    if write and not (actor.writes_cases and case.clinician_id == actor.id):
        raise PermissionDenied("you may view this case but not change it")
    return case


def require_role(actor: Actor, *roles: str) -> None:
    """Refuse with :class:`NotFound` when the actor's role is not among ``roles``.

    Pages of another role look absent rather than forbidden, like foreign cases.
    """
    if actor.role not in roles:
        raise NotFound("page not found")
