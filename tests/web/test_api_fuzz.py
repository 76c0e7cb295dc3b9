"""The API fuzzer's quick mode: every operation of /api/v1's OpenAPI schema, drawn by
schemathesis, with each role's token and none: 0 server errors.

``benchmarks/fuzz_api.py`` (long mode: the figure in ``docs/reliability.md``) runs the same
harness with 200 cases per operation and identity. The harness itself is checked too: an
operation that fails is counted, so a fuzzer that never reached the app would not pass.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from tests.benchmark_scripts import load

pytest.importorskip("schemathesis", reason="schemathesis is in the dev extra")

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_api.py"


def _harness() -> ModuleType:
    return load("fuzz_api")


def test_every_operation_with_every_token_answers_without_a_server_error() -> None:
    from tests.web.test_authorization_matrix import MATRIX

    from alliance.web.routes import api

    harness = _harness()
    report = harness.fuzz(3, log=lambda _line: None)
    operations = [key for key in MATRIX if key[1].startswith(api.PREFIX)
                  and not key[1].endswith("/openapi.json")]
    assert report.errors == []
    assert len(report.per_operation) == len(operations)  # every operation was drawn
    assert all(n >= 3 * len(harness.IDENTITIES) for n in report.per_operation.values())
    # it reached the data (200), the scope (404) and the token check (401)
    assert {200, 401, 404} <= set(report.statuses)


def test_a_failing_operation_is_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    import alliance.interop.fhir as fhir

    def broken(_catalog: object) -> dict[str, object]:
        raise RuntimeError("planted")

    monkeypatch.setattr(fhir, "code_system", broken)
    report = _harness().fuzz(2, only="code_system", log=lambda _line: None)
    # every identity with a token reaches the planted fault; anon is refused before it
    assert len(report.errors) == 2 * (len(_harness().IDENTITIES) - 1)
    assert all("code_system as" in line for line in report.errors)
