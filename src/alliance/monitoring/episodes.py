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
from alliance.monitoring.signals import Hits, num, severity_codes
from alliance.monitoring.trajectory import DropTable

Criterion = Literal["absolute", "1sd", "2sd"]
CRITERIA: tuple[str, ...] = ("absolute", "1sd", "2sd")


@dataclass(frozen=True)
class ScoreEpisode:
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
                  ) -> tuple[EpisodeTable, Hits]:
    """All episodes (per case position) and the ``rupture_repair`` hits of closed ones."""
    window = policy.rupture_repair.window
    n, k_max = table.vals.shape
    vals = table.vals
    ar = np.arange(n)
    parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                      np.ndarray, np.ndarray]] = []
    for criterion, drops in (("absolute", table.absolute), ("1sd", table.lenient),
                             ("2sd", table.strict)):
        active = np.zeros(n, dtype=bool)
        pre = np.zeros(n)
        start_k = np.zeros(n, dtype=np.int64)
        drop_k = np.zeros(n, dtype=np.int64)
        low_k = np.zeros(n, dtype=np.int64)

        def close(mask: np.ndarray, end_k: int, repaired: bool) -> None:
            idx = np.flatnonzero(mask)
            if len(idx):
                parts.append((criterion, idx, start_k[idx], drop_k[idx], low_k[idx],  # noqa: B023
                              np.full(len(idx), end_k), np.full(len(idx), repaired),
                              pre[idx]))  # noqa: B023

        for k in range(1, k_max):
            valid = k < table.length
            with np.errstate(invalid="ignore"):
                back = active & valid & (vals[:, k] >= pre)
            close(back, k, True)
            active &= ~back
            deeper = active & valid & (vals[:, k] < vals[ar, low_k])
            low_k = np.where(deeper, k, low_k)
            expired = active & valid & (k - drop_k >= window)
            close(expired, k, False)
            active &= ~expired
            start = ~active & valid & drops[:, k]
            active |= start
            pre = np.where(start, vals[:, k - 1], pre)
            start_k = np.where(start, k - 1, start_k)
            drop_k = np.where(start, k, drop_k)
            low_k = np.where(start, k, low_k)
        close(active, -1, False)

    if parts:
        crit = np.concatenate([np.full(len(p[1]), p[0], dtype=object) for p in parts])
        idx, sk, dk, lk, ek, rep, pre_all = (np.concatenate([p[j] for p in parts])
                                            for j in range(1, 8))
    else:
        crit = np.array([], dtype=object)
        idx = sk = dk = lk = ek = np.array([], dtype=np.int64)
        rep = np.array([], dtype=bool)
        pre_all = np.array([], dtype=float)
    rows = table.rows[idx]
    case = panel.s_case[rows]
    sess = panel.session_no[case]
    cols = table.cols[idx]

    def at(k: np.ndarray) -> np.ndarray:
        return np.take_along_axis(sess, np.take_along_axis(cols, np.maximum(k, 0)[:, None],
                                                           axis=1), axis=1)[:, 0]

    start_s, drop_s, low_s, end_s = at(sk), at(dk), at(lk), at(ek)
    low_v = vals[idx, lk]
    end_v = vals[idx, np.maximum(ek, 0)]
    closed = ek >= 0
    table_ = EpisodeTable(case=case, member=panel.s_rater[rows],
                          instrument=panel.s_instrument[rows], criterion=crit,
                          start=start_s.astype(np.int64), drop=drop_s.astype(np.int64),
                          low=low_s.astype(np.int64), end=end_s.astype(np.int64), closed=closed,
                          repaired=rep.astype(bool), pre=pre_all, low_score=low_v,
                          end_score=end_v)
    which = np.flatnonzero(closed)

    def build(j: int) -> tuple[dict[str, Any], str]:
        return _describe(table_.episode(int(which[j])), window)

    unrepaired = ~rep[which].astype(bool)
    hits = Hits("rupture_repair", case[which], end_s[which].astype(np.int64),
                panel.s_rater[rows][which],
                severity_codes(unrepaired & (crit[which] == "2sd"), unrepaired), build,
                instrument=panel.s_instrument[rows][which], criterion=crit[which],
                rater=panel.s_rater[rows][which])
    return table_, hits


@dataclass
class EpisodeTable:
    """Episodes as arrays (one entry each); :meth:`episode` builds one :class:`ScoreEpisode`."""

    case: np.ndarray
    member: np.ndarray
    instrument: np.ndarray
    criterion: np.ndarray
    start: np.ndarray
    drop: np.ndarray
    low: np.ndarray
    end: np.ndarray
    closed: np.ndarray
    repaired: np.ndarray
    pre: np.ndarray
    low_score: np.ndarray
    end_score: np.ndarray

    def __len__(self) -> int:
        return len(self.case)

    def episode(self, i: int) -> ScoreEpisode:
        ok = bool(self.closed[i])
        return ScoreEpisode(member=str(self.member[i]), instrument=str(self.instrument[i]),
                       criterion=str(self.criterion[i]),  # type: ignore[arg-type]
                       start_session=int(self.start[i]), drop_session=int(self.drop[i]),
                       low_session=int(self.low[i]),
                       end_session=int(self.end[i]) if ok else None,
                       status="repaired" if self.repaired[i] else "unrepaired",
                       pre_score=float(self.pre[i]), low_score=float(self.low_score[i]),
                       end_score=float(self.end_score[i]) if ok else None)

    def order(self, rank: Any) -> np.ndarray:
        """Report order: case, start session, member, instrument, criterion."""
        crit = np.array([CRITERIA.index(c) for c in self.criterion.tolist()], dtype=np.int64)
        return np.lexsort((crit, rank(self.instrument), rank(self.member), self.start,
                           self.case))


def _describe(ep: ScoreEpisode, window: int) -> tuple[dict[str, Any], str]:
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
    else:
        explanation = (f"Unrepaired rupture ({label} criterion): {ep.member}'s {ep.instrument} "
                       f"total fell from {num(ep.pre_score)} after session {ep.start_session} "
                       f"and, {window} rated sessions later (session {ep.end_session}), is "
                       f"still below that level at {num(ep.end_score)} (lowest "
                       f"{num(ep.low_score)} in session {ep.low_session}).")
    return evidence, explanation
