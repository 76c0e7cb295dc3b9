"""Monitoring: alliance trajectories, ruptures from scores, strain signals, alerts with repair
guidance. Pure: no database, web or CLI imports.

Typical use::

    cases = parse_cases(json.load(fh), origin=path)
    for report in monitor_cases(cases, default_policy()):
        print(report.case_id, report.alert.headline if report.alert else "no alert")

See ``docs/monitoring.md`` for the rules, their parameters and sources, and
``docs/case-file.md`` for the input format.
"""

from alliance.monitoring import synthetic
from alliance.monitoring.alerts import (
    Alert,
    AlertEvent,
    alert_id,
    apply_transition,
    build_alert,
    current_status,
    open_event,
)
from alliance.monitoring.batch import (
    BatchResult,
    CaseTables,
    monitor_tables,
    monitor_tables_parallel,
    tables_from_casefile,
)
from alliance.monitoring.casefile import (
    Case,
    Context,
    Member,
    Rating,
    Session,
    TranscriptSummary,
    case_file_schema,
    case_to_mapping,
    parse_cases,
)
from alliance.monitoring.episodes import ScoreEpisode
from alliance.monitoring.guidance import RepairStep, repair_steps
from alliance.monitoring.outcomes import (
    ExpectedResponse,
    Tracking,
    fit_expected_response,
    load_expected_response,
    track_outcome,
)
from alliance.monitoring.policy import (
    InstrumentParams,
    Policy,
    default_policy,
    default_policy_text,
    load_policy_text,
    parse_policy,
)
from alliance.monitoring.report import CaseReport, monitor_case, monitor_cases
from alliance.monitoring.signals import KINDS, SEVERITIES, Signal

__all__ = [
    "KINDS",
    "SEVERITIES",
    "Alert",
    "AlertEvent",
    "BatchResult",
    "Case",
    "CaseReport",
    "CaseTables",
    "Context",
    "ExpectedResponse",
    "InstrumentParams",
    "Member",
    "Policy",
    "Rating",
    "RepairStep",
    "ScoreEpisode",
    "Session",
    "Signal",
    "Tracking",
    "TranscriptSummary",
    "alert_id",
    "apply_transition",
    "build_alert",
    "case_file_schema",
    "case_to_mapping",
    "current_status",
    "default_policy",
    "default_policy_text",
    "fit_expected_response",
    "load_expected_response",
    "load_policy_text",
    "monitor_case",
    "monitor_cases",
    "monitor_tables",
    "monitor_tables_parallel",
    "open_event",
    "parse_cases",
    "parse_policy",
    "repair_steps",
    "synthetic",
    "tables_from_casefile",
    "track_outcome",
]
