"""Rupture-repair episodes: V-shaped sequences in a member's rated sessions.

For each criterion (``absolute``, ``1sd``, ``2sd``; see :mod:`.trajectory`), an episode
starts at a drop that meets it: ``start_session`` is the last session before the drop, whose
score is the pre-drop level. Following rated sessions extend it (``low_session`` is the
lowest point) until one returns to at least the pre-drop level within ``window`` rated
sessions of the drop, and the episode is ``repaired`` at that ``end_session``; if the window
passes without that, it is ``unrepaired`` and closes at the last session of the window
(Stiles et al. 2004; Strauss et al. 2006; both criteria reported after Gumz et al. 2012).
An episode still inside its window when the series ends is ``unrepaired`` with
``end_session`` ``None`` (still open).

A closed episode yields a ``rupture_repair`` signal on the session that settled it, so later
sessions never change it; open episodes appear only in the report's episode list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from alliance.monitoring.panel import Panel
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import Signal, num
from alliance.monitoring.trajectory import DropTable

Criterion = Literal["absolute", "1sd", "2sd"]
CRITERIA: tuple[str, ...] = ("absolute", "1sd", "2sd")


@dataclass(frozen=True)
class Episode:
    """One rupture (and perhaps its repair) in one member's ratings on one instrument."""

    member: str
    instrument: str
    criterion: Criterion
    start_session: int
    drop_session: int
    low_session: int
    end_session: int | None
    status: Literal["repaired", "unrepaired"]
    pre_score: float
    low_score: float
    end_score: float | None

    @property
    def open(self) -> bool:
        return self.end_session is None

    def sort_key(self) -> tuple[Any, ...]:
        return (self.start_session, self.member, self.instrument, CRITERIA.index(self.criterion))

    def to_dict(self) -> dict[str, Any]:
        return {"start_session": self.start_session, "low_session": self.low_session,
                "end_session": self.end_session, "status": self.status,
                "criterion": self.criterion}


def find_episodes(panel: Panel, policy: Policy, table: DropTable
                  ) -> tuple[list[tuple[int, Episode]], list[tuple[int, Signal]]]:
    """All episodes (per case position) and the ``rupture_repair`` signals of closed ones."""
    window = policy.rupture_repair.window
    episodes: list[tuple[int, Episode]] = []
    signals: list[tuple[int, Signal]] = []
    n, k_max = table.vals.shape
    vals = table.vals
    for criterion, drops in (("absolute", table.absolute), ("1sd", table.lenient),
                             ("2sd", table.strict)):
        active = np.zeros(n, dtype=bool)
        pre = np.zeros(n)
        start_k = np.zeros(n, dtype=np.int64)
        drop_k = np.zeros(n, dtype=np.int64)
        low_k = np.zeros(n, dtype=np.int64)

        def emit(i: int, end_k: int | None, repaired: bool) -> None:
            row = int(table.rows[i])
            case = int(panel.s_case[row])
            sess = panel.session_no[case]
            cols = table.cols[i]
            ep = Episode(
                member=str(panel.s_rater[row]), instrument=panel.params[row].instrument,
                criterion=criterion,  # type: ignore[arg-type]
                start_session=int(sess[cols[start_k[i]]]),
                drop_session=int(sess[cols[drop_k[i]]]), low_session=int(sess[cols[low_k[i]]]),
                end_session=None if end_k is None else int(sess[cols[end_k]]),
                status="repaired" if repaired else "unrepaired", pre_score=float(pre[i]),
                low_score=float(vals[i, low_k[i]]),
                end_score=None if end_k is None else float(vals[i, end_k]))
            episodes.append((case, ep))
            if end_k is not None:
                signals.append((case, _signal(ep, window)))

        for k in range(1, k_max):
            valid = k < table.length
            with np.errstate(invalid="ignore"):
                back = active & valid & (vals[:, k] >= pre)
            for i in np.flatnonzero(back):
                emit(int(i), k, True)
            active &= ~back
            deeper = active & valid & (vals[:, k] < vals[np.arange(n), low_k])
            low_k = np.where(deeper, k, low_k)
            expired = active & valid & (k - drop_k >= window)
            for i in np.flatnonzero(expired):
                emit(int(i), k, False)
            active &= ~expired
            start = ~active & valid & drops[:, k]
            active |= start
            pre = np.where(start, vals[:, k - 1], pre)
            start_k = np.where(start, k - 1, start_k)
            drop_k = np.where(start, k, drop_k)
            low_k = np.where(start, k, low_k)
        for i in np.flatnonzero(active):
            emit(int(i), None, False)
    return episodes, signals


def _signal(ep: Episode, window: int) -> Signal:
    label = {"absolute": "absolute-threshold", "1sd": "lenient 1 SD", "2sd": "strict 2 SD"}[
        ep.criterion]
    evidence = {"rule": "rupture_repair", "instrument": ep.instrument, "rater": ep.member,
                "criterion": ep.criterion, "start_session": ep.start_session,
                "drop_session": ep.drop_session, "low_session": ep.low_session,
                "end_session": ep.end_session, "status": ep.status, "pre_score": ep.pre_score,
                "low_score": ep.low_score, "end_score": ep.end_score, "window": window}
    if ep.status == "repaired":
        explanation = (f"Rupture repaired ({label} criterion): {ep.member}'s {ep.instrument} "
                       f"total fell from {num(ep.pre_score)} after session {ep.start_session} to "
                       f"{num(ep.low_score)} in session {ep.low_session} and was back at "
                       f"{num(ep.end_score)} by session {ep.end_session}. Repaired ruptures "
                       f"go with better outcomes; name what helped.")
        severity = "info"
    else:
        explanation = (f"Unrepaired rupture ({label} criterion): {ep.member}'s {ep.instrument} "
                       f"total fell from {num(ep.pre_score)} after session {ep.start_session} "
                       f"and, {window} rated sessions later (session {ep.end_session}), is "
                       f"still below that level at {num(ep.end_score)} (lowest "
                       f"{num(ep.low_score)} in session {ep.low_session}).")
        severity = "act" if ep.criterion == "2sd" else "watch"
    return Signal("rupture_repair", int(ep.end_session or 0), ep.member, severity,  # type: ignore[arg-type]
                  evidence, explanation)
