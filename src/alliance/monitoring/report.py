"""Monitoring a case end to end: every rule, the episodes and the alert, as a
:class:`CaseReport`.

:func:`monitor_case` and :func:`monitor_cases` are the per-case path; the batch path
(:mod:`alliance.monitoring.batch`) builds its panel from long tables and then calls
:func:`reports_from_panel` exactly as these do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

import numpy as np
import pandas as pd

from alliance.instruments import Catalog
from alliance.monitoring.alerts import Alert, alert_from_recent
from alliance.monitoring.casefile import ATTENDANCE, HELD, Case
from alliance.monitoring.components import find_component_deficits
from alliance.monitoring.container import find_container_strain, find_homework
from alliance.monitoring.episodes import EpisodeTable, ScoreEpisode, find_episodes
from alliance.monitoring.markers import find_hidden_ruptures
from alliance.monitoring.members import find_rater_discrepancy, find_split_alliance
from alliance.monitoring.panel import Panel, panel_from_cases
from alliance.monitoring.policy import Policy, default_policy
from alliance.monitoring.signals import KIND_RANK, Signal
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
    signals: Sequence[Signal] = field(default_factory=list)
    episodes: Sequence[ScoreEpisode] = field(default_factory=list)
    alert: Alert | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.case_id, "signals": [s.to_dict() for s in self.signals],
                "episodes": [e.to_dict() for e in self.episodes],
                "alert": self.alert.to_dict() if self.alert else None}


def _ranks(values: np.ndarray) -> np.ndarray:
    """Codes that sort like the strings; ``None`` sorts first (only members are ever None, and
    never the empty string, so this is the order of ``member or ""``)."""
    codes, _ = pd.factorize(values, sort=True, use_na_sentinel=True)
    return np.asarray(codes)


@dataclass
class Assembly:
    """Every finding of a panel in report order, as arrays, plus the alerts."""

    case_ids: list[str]
    case: np.ndarray            # per signal, sorted
    kind: np.ndarray
    session: np.ndarray
    member: np.ndarray
    severity: np.ndarray
    bounds: list[int]           # signals of case c: bounds[c]:bounds[c + 1]
    signals: _Store[Signal]
    episodes: EpisodeTable
    episode_order: np.ndarray
    episode_bounds: list[int]
    alerts: dict[int, Alert | None]


def reports_from_panel(panel: Panel, policy: Policy) -> list[CaseReport]:
    """Run every rule on a panel and assemble one report per case, in panel order."""
    a = assemble(panel, policy)
    e_store = _Store(lambda i: a.episodes.episode(int(a.episode_order[i])),
                     len(a.episode_order))
    b, eb = a.bounds, a.episode_bounds
    return [CaseReport(case_id, LazyList(a.signals, b[c], b[c + 1]),
                       LazyList(e_store, eb[c], eb[c + 1]), a.alerts.get(c))
            for c, case_id in enumerate(a.case_ids)]


def assemble(panel: Panel, policy: Policy) -> Assembly:
    """Run every rule on a panel; the findings sorted into report order, and the alerts."""
    table = drop_table(panel, policy)
    episodes, repair_hits = find_episodes(panel, policy, table)
    all_hits = [
        find_low_alliance(panel, policy, table), find_drops(panel, policy, table),
        find_early_warning(panel, policy, table), find_ceiling(panel, policy, table),
        repair_hits, find_component_deficits(panel, policy),
        find_container_strain(panel, policy), find_homework(panel, policy),
        find_hidden_ruptures(panel, policy), find_split_alliance(panel, policy),
        find_rater_discrepancy(panel, policy)]
    all_hits = [h for h in all_hits if len(h)]
    n_cases = panel.n_cases
    if all_hits:
        case = np.concatenate([h.case for h in all_hits]).astype(np.int64)
        session = np.concatenate([h.session for h in all_hits]).astype(np.int64)
        severity = np.concatenate([h.severity for h in all_hits])
        source = np.concatenate([np.full(len(h), n) for n, h in enumerate(all_hits)])
        local = np.concatenate([np.arange(len(h)) for h in all_hits])
        kind_rank = np.concatenate([np.full(len(h), KIND_RANK[h.kind]) for h in all_hits])
        ambiguous = np.concatenate([h.ambiguous if h.ambiguous is not None
                                    else np.zeros(len(h), dtype=bool) for h in all_hits])
        member = np.concatenate([h.member for h in all_hits])
        extra = [_ranks(np.concatenate([h.column(c) for h in all_hits]))
                 for c in ("rater", "criterion", "instrument")]
        order = np.lexsort((*extra, _ranks(member), kind_rank, session, case))
    else:
        case = session = severity = source = local = order = np.array([], dtype=np.int64)
        ambiguous = np.array([], dtype=bool)
    src_sorted, loc_sorted = source[order].tolist(), local[order].tolist()
    store: _Store[Signal] = _Store(lambda i: all_hits[src_sorted[i]].signal(loc_sorted[i]),
                                   len(src_sorted))
    case_sorted = case[order]
    bounds = np.searchsorted(case_sorted, np.arange(n_cases + 1))

    # Which cases need an alert (vectorised); only their recent signals are materialised.
    numbers = panel.session_no
    n_sessions = (~np.isnan(numbers)).sum(axis=1)
    recent_pos = np.minimum(np.maximum(n_sessions - policy.alerts.recent_sessions, 0),
                            max(numbers.shape[1] - 1, 0))
    recent_from = (np.where(n_sessions > 0, numbers[np.arange(n_cases), recent_pos], np.inf)
                   if numbers.size else np.full(n_cases, np.inf))
    recent = (session[order] >= recent_from[case_sorted]) & ~ambiguous[order]
    sev_sorted = severity[order]
    n_act = np.bincount(case_sorted[recent & (sev_sorted == 2)], minlength=n_cases)
    n_watch = np.bincount(case_sorted[recent & (sev_sorted == 1)], minlength=n_cases)
    needs = (n_act > 0) | (n_watch >= policy.alerts.min_watch)
    alerts: dict[int, Alert | None] = {}
    recent_idx = np.flatnonzero(recent & needs[case_sorted])
    r_bounds = np.searchsorted(case_sorted[recent_idx], np.arange(n_cases + 1))
    strained_mask = (sev_sorted >= 1) & ~ambiguous[order]
    session_sorted = session[order]
    held_mask = (np.isin(panel.attendance, _HELD_CODES)) & ~np.isnan(numbers)
    for c in np.flatnonzero(needs).tolist():
        picked = recent_idx[r_bounds[c]:r_bounds[c + 1]].tolist()
        lo, hi = bounds[c], bounds[c + 1]
        strained = set(session_sorted[lo:hi][strained_mask[lo:hi]].tolist())
        held = numbers[c][held_mask[c]].astype(np.int64).tolist()
        alerts[c] = alert_from_recent(panel.case_ids[c], [store[p] for p in picked], policy,
                                      strained, held)

    e_order = episodes.order(_ranks)
    e_bounds = np.searchsorted(episodes.case[e_order], np.arange(n_cases + 1)).tolist()
    kinds = (np.concatenate([np.full(len(h), h.kind, dtype=object) for h in all_hits])[order]
             if all_hits else np.array([], dtype=object))
    members = (np.concatenate([h.member for h in all_hits])[order] if all_hits
               else np.array([], dtype=object))
    return Assembly(panel.case_ids, case_sorted, kinds, session[order], members, sev_sorted,
                    bounds.tolist(), store, episodes, e_order, e_bounds, alerts)


T = TypeVar("T")
_HELD_CODES = [ATTENDANCE.index(a) for a in HELD]


class _Store(Generic[T]):
    """Items in report order, each made on first access and then kept."""

    def __init__(self, make: Callable[[int], T], size: int) -> None:
        self._make = make
        self._size = size
        self._made: dict[int, T] = {}

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, i: int) -> T:
        made = self._made.get(i)
        if made is None:
            made = self._make(i)
            self._made[i] = made
        return made


class LazyList(Sequence[T]):
    """A read-only slice of a store: a case's signals or episodes, made on demand."""

    def __init__(self, store: _Store[T], start: int, stop: int) -> None:
        self._store, self._start, self._stop = store, start, stop

    def __len__(self) -> int:
        return self._stop - self._start

    @overload
    def __getitem__(self, i: int) -> T: ...

    @overload
    def __getitem__(self, i: slice) -> list[T]: ...

    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._store[self._start + i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"[{', '.join(map(repr, self))}]"


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
