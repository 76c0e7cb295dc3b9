"""Trainees for the practice tests: ``tia`` (supervised by ``lee``) and ``tom`` (nobody's)."""

from __future__ import annotations

from alliance.store.actors import Actor, load_actor
from alliance.store.database import Database
from alliance.store.models import Supervision, User

TRAINEES = {"tia": "tia@example.org", "tom": "tom@example.org"}


def add_trainees(db: Database, people: dict[str, Actor], password_hash: str) -> dict[str, Actor]:
    """Adds tia and tom to ``people`` (and reloads lee, who now supervises tia too)."""
    with db.write() as s:
        users = {}
        for key, email in TRAINEES.items():
            users[key] = User(email=email, name=key.title(), role="trainee",
                              password_hash=password_hash)
            s.add(users[key])
        s.flush()
        s.add(Supervision(supervisor_id=people["lee"].id, clinician_id=users["tia"].id))
        s.flush()
        people.update({k: load_actor(s, u) for k, u in users.items()})
        lee = s.get(User, people["lee"].id)
        assert lee is not None
        people["lee"] = load_actor(s, lee)
    return people
