"""Fuzz the JSON API from its own OpenAPI schema (schemathesis): every operation, with each
role's token and with none; the only failure counted is a server error (5xx) or an exception.

The clinic is the demo clinic (``alliance.store.demo``: six accounts, about 40 cases with
sessions, responses, transcripts and alerts) in a temporary SQLite database, each account
holding a write token. Schemathesis draws path parameters, queries and bodies from the
schema (and, for half the cases, puts a real case id of the demo in the path, so that
the drawn bodies reach past the 404 of an unknown case).

Usage::

    python benchmarks/fuzz_api.py --quick        # seconds; tests/web/test_api_fuzz.py runs it
    nice python benchmarks/fuzz_api.py           # the figure in docs/reliability.md
    python benchmarks/fuzz_api.py --examples 500 --operation create_response

It prints cases run and server errors per operation, the statuses seen, the time, and exits
1 when any case answered 5xx or raised.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

IDENTITIES = ("anon", "admin", "dana", "sam", "lee", "rowan", "tia")


@dataclass
class Report:
    cases: int = 0
    errors: list[str] = field(default_factory=list)
    per_operation: dict[str, int] = field(default_factory=lambda: collections.Counter())
    statuses: dict[int, int] = field(default_factory=lambda: collections.Counter())
    seconds: float = 0.0


def demo_clinic(folder: Path) -> tuple[Any, dict[str, str], list[int]]:
    """The demo clinic's app, a write token per account (by first name) and its case ids."""
    from sqlalchemy import select

    from alliance.clinic import Clinic, Settings
    from alliance.store import Box, Database, apitokens, generate_key, upgrade
    from alliance.store.demo import seed_demo
    from alliance.store.models import Case, User
    from alliance.web.app import create_app

    db = Database(f"sqlite:///{folder / 'fuzz.db'}")
    upgrade(db.engine)
    settings = Settings(database_url=db.url, box=Box.from_text(generate_key()),
                        run_worker=False, transcript_coder="rules", instruments_dir=None)
    clinic = Clinic(settings, db)
    seed_demo(clinic)
    tokens = {}
    with db.write() as s:
        for user in s.scalars(select(User)):
            tokens[user.email.split("@")[0]] = apitokens.create_token(s, user, scope="write")[1]
        case_ids = list(s.scalars(select(Case.id)))
    return create_app(clinic=clinic), tokens, case_ids


def fuzz(examples: int, *, only: str | None = None, seed: int | None = 1,
         log: Callable[[str], None] = print) -> Report:
    """Run ``examples`` drawn cases per operation and identity; see the module docs."""
    import schemathesis

    report = Report()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="alliance-fuzz-") as folder:
        app, tokens, case_ids = demo_clinic(Path(folder))
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()
            name = operation.definition.raw.get("operationId", operation.label)
            if only and name != only:
                continue
            before = report.cases
            for who in IDENTITIES:
                headers = {"Authorization": f"Bearer {tokens[who]}"} if who in tokens else {}
                _runner(report, operation, f"{name} as {who}", headers, case_ids, examples,
                        seed)()
            report.per_operation[name] = report.cases - before
            log(f"{name:24} {report.cases - before:6} cases")
    report.seconds = time.perf_counter() - started
    return report


def _runner(report: Report, operation: Any, who: str, headers: dict[str, str],
            case_ids: list[int], examples: int, seed: int | None) -> Callable[[], None]:
    """A hypothesis test drawing ``examples`` cases of ``operation``: half of them with a
    real case id in the path."""
    import hypothesis
    from hypothesis import HealthCheck, Phase
    from hypothesis import strategies as st

    drawn = st.tuples(operation.as_strategy(), st.sampled_from(case_ids), st.booleans())

    @hypothesis.settings(max_examples=examples, deadline=None, database=None,
                         derandomize=seed is not None, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    @hypothesis.given(drawn)
    def run(draw: tuple[Any, int, bool]) -> None:
        case, real_id, use_real = draw
        if use_real and "case_id" in (case.path_parameters or {}):
            case.path_parameters["case_id"] = real_id
        report.cases += 1
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # an exception escaping the app: a crash
            report.errors.append(f"{who}: {type(exc).__name__} ({case.method} "
                                 f"{case.formatted_path})")
            return
        report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            report.errors.append(f"{who}: {response.status_code} ({case.method} "
                                 f"{case.formatted_path})")

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 cases per operation and "
                        "identity (the test's mode)")
    parser.add_argument("--examples", type=int, default=200,
                        help="cases per operation and identity (default 200)")
    parser.add_argument("--operation", default=None, help="only this operationId")
    args = parser.parse_args(argv)
    examples = 5 if args.quick else args.examples
    report = fuzz(examples, only=args.operation)
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(report.statuses.items()))
    print(f"operations: {len(report.per_operation)}, identities: {len(IDENTITIES)}, "
          f"cases: {report.cases}, server errors: {len(report.errors)}, "
          f"time: {report.seconds:.1f} s")
    print(f"statuses: {statuses}")
    for line in report.errors[:50]:
        print("  " + line)
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
