"""Rules on the frame of therapy: ``container_strain`` (attendance) and ``homework``.

Container strain (Sirota: repeated or late cancellations and lateness strain the frame).
In each scheduled session, the patterns met are:

* ``late_cancellation`` / ``no_show``: the session itself (``info`` when nothing else holds);
* ``recurrent_missed``: at least ``recurrent_count`` late cancellations or no-shows among the
  last ``recent_window`` sessions, this one included (``watch``);
* ``missed_run``: ``missed_run`` late cancellations or no-shows in a row (``act``: a client
  who stops coming may be dropping out);
* ``lateness_streak``: ``lateness_streak`` late arrivals in a row (``watch``);
* ``rising_cancellations``: the share of cancelled, late-cancelled and missed sessions in the
  last ``recent_window`` is at least ``rising_rate`` above the share before them, with at least
  ``recent_window`` earlier sessions and at least ``recurrent_count`` such sessions in the
  window (``watch``).

Homework (task agreement in action, Bordin). Among sessions with homework assigned, a
``run`` of ``run_length`` partly or not done in a row is ``watch`` (``act`` from
``act_run_length``); ``rate``: at least ``rising_rate`` of the last ``recent_window`` assigned
not completed is ``watch``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alliance.monitoring.casefile import ATTENDANCE, HOMEWORK
from alliance.monitoring.panel import Panel, consecutive
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import Hits, severity_codes

_LATE_CANCEL = ATTENDANCE.index("late_cancelled")
_NO_SHOW = ATTENDANCE.index("no_show")
_CANCELLED = ATTENDANCE.index("cancelled")
_LATE = ATTENDANCE.index("late")


def _window_count(mask: np.ndarray, width: int) -> np.ndarray:
    c = np.cumsum(mask, axis=1)
    shifted = np.zeros_like(c)
    if width < mask.shape[1]:
        shifted[:, width:] = c[:, :-width]
    return c - shifted


def find_container_strain(panel: Panel, policy: Policy) -> Hits:
    pol = policy.container_strain
    att = panel.attendance
    valid = att >= 0
    missed = (att == _LATE_CANCEL) | (att == _NO_SHOW)
    cancel_like = missed | (att == _CANCELLED)
    late = att == _LATE
    recent_missed = _window_count(missed, pol.recent_window)
    missed_run = consecutive(missed)
    late_run = consecutive(late)
    w = pol.recent_window
    recent_cancel = _window_count(cancel_like, w)
    before_cancel = np.cumsum(cancel_like, axis=1) - recent_cancel
    position = np.arange(att.shape[1])[None, :]
    n_before = position + 1 - w
    with np.errstate(invalid="ignore", divide="ignore"):
        rise = recent_cancel / w - before_cancel / np.maximum(n_before, 1)
    rising = (cancel_like & (n_before >= w) & (rise >= pol.rising_rate)
              & (recent_cancel >= pol.recurrent_count))
    recurrent = missed & (recent_missed >= pol.recurrent_count)
    run_hit = missed & (missed_run >= pol.missed_run)
    streak = late & (late_run >= pol.lateness_streak)
    cs, js = np.nonzero(valid & (missed | streak | rising))
    session = panel.session_no[cs, js].astype(np.int64)
    severity = severity_codes(run_hit[cs, js],
                              recurrent[cs, js] | streak[cs, js] | rising[cs, js])

    def build(n: int) -> tuple[dict[str, Any], str]:
        c, j = int(cs[n]), int(js[n])
        patterns: list[str] = []
        parts: list[str] = []
        a = ATTENDANCE[att[c, j]]
        if missed[c, j]:
            patterns.append(a if a == "no_show" else "late_cancellation")
        if run_hit[c, j]:
            patterns.append("missed_run")
            parts.append(f"{int(missed_run[c, j])} sessions in a row were missed or cancelled "
                         f"late; the client may be dropping out")
        elif recurrent[c, j]:
            patterns.append("recurrent_missed")
            parts.append(f"{int(recent_missed[c, j])} of the last {w} sessions were missed or "
                         f"cancelled late")
        if streak[c, j]:
            patterns.append("lateness_streak")
            parts.append(f"the client has arrived late {int(late_run[c, j])} times in a row "
                         f"(this time {int(panel.minutes_late[c, j])} minutes)")
        if rising[c, j]:
            patterns.append("rising_cancellations")
            parts.append(f"cancellations rose to {int(recent_cancel[c, j])} of the last {w} "
                         f"sessions from {int(before_cancel[c, j])} of {int(n_before[0, j])} "
                         f"before")
        what = {"no_show": "was a no-show", "late_cancelled": "was cancelled late",
                "late": "started late", "cancelled": "was cancelled"}.get(a, a)
        detail = ("; ".join(parts) + ".") if parts else (
            "A single occurrence; watch whether it repeats.")
        explanation = f"Session {int(session[n])} {what}. {detail[0].upper() + detail[1:]}"
        if severity[n]:
            explanation += (" Treat the frame as part of the work: raise it openly and with "
                            "curiosity, not blame.")
        evidence = {"rule": "container_strain", "attendance": a, "patterns": patterns,
                    "missed_in_window": int(recent_missed[c, j]), "window": w,
                    "missed_run": int(missed_run[c, j]), "late_run": int(late_run[c, j]),
                    "minutes_late": int(panel.minutes_late[c, j]),
                    "cancellation_rate_recent": float(recent_cancel[c, j]) / w,
                    "cancellation_rate_before": (None if n_before[0, j] < 1 else
                                                 float(before_cancel[c, j]) / int(n_before[0, j]))}
        return evidence, explanation

    return Hits("container_strain", cs, session, _members(panel, cs), severity, build)


def _members(panel: Panel, cases: np.ndarray) -> np.ndarray:
    sole = np.array([m[0] if len(m) == 1 else None for m in panel.members], dtype=object)
    return sole[cases] if len(cases) else np.array([], dtype=object)


_ASSIGNED_NOT_DONE = (HOMEWORK.index("partial"), HOMEWORK.index("not_done"))
_NONE = HOMEWORK.index("none")


def find_homework(panel: Panel, policy: Policy) -> Hits:
    pol = policy.homework
    hw = panel.homework
    assigned = hw > _NONE
    undone = np.isin(hw, _ASSIGNED_NOT_DONE)
    n_cases, width = hw.shape
    run = np.zeros(hw.shape, dtype=np.int64)
    current = np.zeros(n_cases, dtype=np.int64)
    # recent window over assigned sessions only: a ring of the last outcomes
    ring = np.zeros((n_cases, pol.recent_window), dtype=np.int64)
    n_assigned = np.zeros(n_cases, dtype=np.int64)
    recent_undone = np.zeros(hw.shape, dtype=np.int64)
    recent_count = np.zeros(hw.shape, dtype=np.int64)
    for j in range(width):
        a = assigned[:, j]
        current = np.where(a, np.where(undone[:, j], current + 1, 0), current)
        run[:, j] = current
        slot = n_assigned % pol.recent_window
        ring[np.flatnonzero(a), slot[a]] = undone[a, j]
        n_assigned = n_assigned + a
        recent_undone[:, j] = ring.sum(axis=1)
        recent_count[:, j] = np.minimum(n_assigned, pol.recent_window)
    run_hit = undone & (run >= pol.run_length)
    rate_hit = undone & (recent_count >= pol.recent_window) & (
        recent_undone >= pol.rising_rate * pol.recent_window)
    cs, js = np.nonzero(run_hit | rate_hit)
    session = panel.session_no[cs, js].astype(np.int64)
    severity = severity_codes(run_hit[cs, js] & (run[cs, js] >= pol.act_run_length),
                              np.ones(len(cs), dtype=bool))

    def build(n: int) -> tuple[dict[str, Any], str]:
        c, j = int(cs[n]), int(js[n])
        r = int(run[c, j])
        patterns = (["run"] if run_hit[c, j] else []) + (["rate"] if rate_hit[c, j] else [])
        parts = []
        if run_hit[c, j]:
            parts.append(f"{r} assigned tasks in a row were only partly done or not done")
        if rate_hit[c, j]:
            parts.append(f"{int(recent_undone[c, j])} of the last {pol.recent_window} assigned "
                         f"were not completed")
        explanation = (f"Homework in session {int(session[n])}: " + " and ".join(parts) + ". "
                       "Missed homework usually means the task is not agreed: ask what got in "
                       "the way and reshape the task together rather than pressing on.")
        evidence = {"rule": "homework", "homework": HOMEWORK[hw[c, j]], "patterns": patterns,
                    "run": r, "run_length": pol.run_length, "act_run_length": pol.act_run_length,
                    "not_completed_recent": int(recent_undone[c, j]),
                    "recent_window": pol.recent_window,
                    "rate": float(recent_undone[c, j]) / pol.recent_window,
                    "rising_rate": pol.rising_rate}
        return evidence, explanation

    return Hits("homework", cs, session, _members(panel, cs), severity, build)
