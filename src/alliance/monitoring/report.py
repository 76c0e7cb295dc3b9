"""Monitoring a case end to end: every rule, the episodes and the alert, as a
:class:`CaseReport`.

:func:`monitor_case` and :func:`monitor_cases` are the per-case path; the batch path
(:mod:`alliance.monitoring.batch`) builds its panel from long tables and then calls
:func:`reports_from_panel` exactly as these do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alliance.instruments import Catalog
from alliance.monitoring.alerts import Alert, build_alert
from alliance.monitoring.casefile import Case
from alliance.monitoring.components import find_component_deficits
from alliance.monitoring.container import find_container_strain, find_homework
from alliance.monitoring.episodes import Episode, find_episodes
from alliance.monitoring.markers import find_hidden_ruptures
from alliance.monitoring.members import find_rater_discrepancy, find_split_alliance
from alliance.monitoring.panel import Panel, panel_from_cases
from alliance.monitoring.policy import Policy, default_policy
from alliance.monitoring.signals import Signal
from alliance.monitoring.trajectory import (
    drop_table,
    find_ceiling,
    find_drops,
    find_early_warning,
    find_low_alliance,
)


@dataclass(frozen=True)
class CaseReport:
    """What monitoring found for one case."""

    case_id: str
    signals: list[Signal] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)
    alert: Alert | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.case_id, "signals": [s.to_dict() for s in self.signals],
                "episodes": [e.to_dict() for e in self.episodes],
                "alert": self.alert.to_dict() if self.alert else None}


def reports_from_panel(panel: Panel, policy: Policy) -> list[CaseReport]:
    """Run every rule on a panel and assemble one report per case, in panel order."""
    table = drop_table(panel, policy)
    found: list[tuple[int, Signal]] = []
    found += find_low_alliance(panel, policy, table)
    found += find_drops(panel, policy, table)
    found += find_early_warning(panel, policy, table)
    found += find_ceiling(panel, policy, table)
    episodes, repair_signals = find_episodes(panel, policy, table)
    found += repair_signals
    found += find_component_deficits(panel, policy)
    found += find_container_strain(panel, policy)
    found += find_homework(panel, policy)
    found += find_hidden_ruptures(panel, policy)
    found += find_split_alliance(panel, policy)
    found += find_rater_discrepancy(panel, policy)
    per_case: list[list[Signal]] = [[] for _ in range(panel.n_cases)]
    for case, signal in found:
        per_case[case].append(signal)
    per_case_eps: list[list[Episode]] = [[] for _ in range(panel.n_cases)]
    for case, ep in episodes:
        per_case_eps[case].append(ep)
    reports = []
    numbers = panel.session_no
    for c, case_id in enumerate(panel.case_ids):
        signals = sorted(per_case[c], key=Signal.sort_key)
        eps = sorted(per_case_eps[c], key=Episode.sort_key)
        row = numbers[c]
        sessions = [int(x) for x in row[~np.isnan(row)]]
        reports.append(CaseReport(case_id, signals, eps,
                                  build_alert(case_id, signals, sessions, policy)))
    return reports


def monitor_cases(cases: Iterable[Case], policy: Policy | None = None,
                  catalog: Catalog | None = None) -> list[CaseReport]:
    """Monitor parsed cases; one :class:`CaseReport` per case, in order."""
    policy = policy if policy is not None else default_policy()
    cases = list(cases)
    if not cases:
        return []
    return reports_from_panel(panel_from_cases(cases, policy, catalog), policy)


def monitor_case(case: Case, policy: Policy | None = None,
                 catalog: Catalog | None = None) -> CaseReport:
    """Monitor one parsed case.

    >>> from alliance.monitoring import parse_cases
    >>> case = parse_cases({"cases": [{"id": "c1", "modality": "individual",
    ...     "members": [{"id": "m1", "role": "client"}],
    ...     "sessions": [{"number": n, "attendance": "attended", "ratings": [
    ...         {"rater": "m1", "instrument": "pulse-3",
    ...          "items": {"bond": v, "goal": v, "task": v}}]}
    ...         for n, v in [(1, 6), (2, 6), (3, 3)]]}]})[0]
    >>> [(s.kind, s.session, s.severity) for s in monitor_case(case).signals]
    [('early_warning', 3, 'act'), ('low_alliance', 3, 'watch'), ('drop', 3, 'act')]
    """
    return monitor_cases([case], policy, catalog)[0]


def reports_by_id(reports: Sequence[CaseReport]) -> dict[str, CaseReport]:
    return {r.case_id: r for r in reports}
