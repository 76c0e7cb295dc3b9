"""``component_deficit``: which of bond, goal and task is weakest, and whether it matters.

In a rated session, with subscale scores on a common 0-100 footing (percent of maximum), each
component's gap is ``gap_c = mean(other components) - c``; the weakest component ``w`` (largest
gap) is a deficit when

    gap_w >= component_deficit.min_gap_pom

Against the client's own history: it is ``act`` when ``gap_w`` is also at least
``history_drop_pom`` wider than the mean of the same component's earlier gaps for this rater and
instrument (a developing deficit; a rupture that lowers every component alike does not widen
it), ``watch`` when there is no history yet (the first rated session), and ``info`` otherwise (a
stable profile in which this component is usually the weakest). Ties between components
resolve in the order bond, goal, task. Bordin's model: a client can trust the therapist
(bond) and agree on goals yet reject the tasks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alliance.monitoring.panel import COMPONENTS, Panel
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import Hits, num, severity_codes

ADVICE = {
    "bond": "strengthen the bond first: slow down, check how the client feels with you, and "
            "repair before adding technique",
    "goal": "revisit what the client wants from therapy and agree the goals again in their "
            "words",
    "task": "renegotiate the tasks: ask what makes the work or the homework hard and adapt it "
            "together",
}


def find_component_deficits(panel: Panel, policy: Policy) -> Hits:
    pol = policy.component_deficit
    rows = np.flatnonzero(panel.is_member)
    stack = np.stack([panel.comp[c][rows] for c in COMPONENTS])        # (3, R, S)
    present = ~np.isnan(stack)
    n_present = present.sum(axis=0)
    filled = np.where(present, stack, np.inf)
    weakest = filled.argmin(axis=0)                                     # (R, S)
    w_val = np.take_along_axis(filled, weakest[None], axis=0)[0]
    total = np.where(present, stack, 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        others = (total - w_val) / (n_present - 1)
        gap = others - w_val
        hit = (n_present >= 2) & (gap >= pol.min_gap_pom)
    # Each component's gap to the mean of the others, and the running mean of earlier gaps.
    with np.errstate(invalid="ignore", divide="ignore"):
        gaps = (total[None] - stack) / (n_present[None] - 1) - stack      # (3, R, S)
    has_gap = present & (n_present[None] >= 2)
    counts = np.cumsum(has_gap, axis=2) - has_gap
    g0 = np.where(has_gap, gaps, 0.0)
    sums = np.cumsum(g0, axis=2) - g0
    with np.errstate(invalid="ignore", divide="ignore"):
        earlier = sums / counts                                         # (3, R, S)
    i, j = np.nonzero(hit)
    row = rows[i]
    case = panel.s_case[row]
    session = panel.session_no[case, j].astype(np.int64)
    c_idx = weakest[i, j]
    base = earlier[c_idx, i, j]
    fell = gap[i, j] - base
    no_history = np.isnan(base)
    with np.errstate(invalid="ignore"):
        act = ~no_history & (fell >= pol.history_drop_pom)

    def build(n: int) -> tuple[dict[str, Any], str]:
        ii, jj, r = int(i[n]), int(j[n]), int(row[n])
        p = panel.params[r]
        member = str(panel.s_rater[r])
        comp = COMPONENTS[int(c_idx[n])]
        b = float(base[n])
        value = float(w_val[ii, jj])
        f = None if np.isnan(b) else float(fell[n])
        scores = {COMPONENTS[x]: (None if np.isnan(stack[x, ii, jj]) else float(stack[x, ii, jj]))
                  for x in range(len(COMPONENTS))}
        evidence = {"rule": "component_deficit", "instrument": p.instrument, "rater": member,
                    "component": comp, "scores_pom": scores,
                    "others_mean_pom": float(others[ii, jj]), "gap_pom": float(gap[ii, jj]),
                    "min_gap_pom": pol.min_gap_pom,
                    "own_earlier_gap_pom": None if f is None else b,
                    "history_drop_pom": pol.history_drop_pom}
        history = ("" if f is None else
                   f"; the gap is {num(abs(f))} points {'wider' if f >= 0 else 'narrower'} "
                   f"than in {member}'s earlier sessions")
        explanation = (f"In session {int(session[n])} {comp} is {member}'s weakest component on "
                       f"{p.instrument} ({num(value)} of 100, {num(float(gap[ii, jj]))} points "
                       f"below the other components{history}): {ADVICE[comp]}.")
        return evidence, explanation

    return Hits("component_deficit", case, session, panel.s_rater[row],
                severity_codes(act, no_history), build,
                instrument=panel.s_instrument[row], rater=panel.s_rater[row],
                tag=np.array(COMPONENTS, dtype=object)[c_idx])
