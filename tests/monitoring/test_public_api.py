"""The public surface of alliance.monitoring: sorted, complete, importable."""

from __future__ import annotations

import alliance.monitoring as monitoring


def test_all_is_sorted_and_every_name_exists() -> None:
    names = monitoring.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    for name in names:
        assert hasattr(monitoring, name), name


def test_contract_names_for_the_web_application_are_exported() -> None:
    for name in ("parse_cases", "Policy", "default_policy", "load_policy_text", "monitor_case",
                 "monitor_cases", "CaseReport", "Signal", "ScoreEpisode", "Alert", "RepairStep",
                 "AlertEvent", "apply_transition", "current_status", "synthetic"):
        assert name in monitoring.__all__, name
    assert callable(monitoring.synthetic.generate)


def test_core_imports_no_database_web_or_cli_code() -> None:
    import sys

    import alliance.monitoring.plot  # noqa: F401 - plotting is imported lazily inside
    for module in list(sys.modules):
        if module.startswith("alliance.monitoring"):
            source = sys.modules[module].__dict__
            for banned in ("alliance.store", "alliance.web", "alliance.cli", "sqlalchemy",
                           "fastapi"):
                assert not any(getattr(v, "__name__", "").startswith(banned)
                               for v in source.values()), (module, banned)
