"""``component_deficit``: which of bond, goal and task is weakest, and whether it matters.

In a rated session, with subscale scores on a common 0-100 footing (percent of maximum), each
component's gap is ``gap_c = mean(other components) - c``; the weakest component ``w`` (largest
gap) is a deficit when

    gap_w >= component_deficit.min_gap_pom

Against the client's own history: it is ``act`` when ``gap_w`` is also at least
``history_drop_pom`` wider than the mean of the same component's earlier gaps for this rater and
instrument (a developing deficit; a rupture that lowers every component alike does not widen
it), ``watch`` when there is no history yet (the first rated session), and ``info`` otherwise (a
stable profile in which this component is usually the weakest). Ties between components resolve in the order bond, goal, task. Bordin's model: a client can
trust the therapist (bond) and agree on goals yet reject the tasks.
"""

from __future__ import annotations

import numpy as np

from alliance.monitoring.panel import COMPONENTS, Panel
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import Signal, num

ADVICE = {
    "bond": "strengthen the bond first: slow down, check how the client feels with you, and "
            "repair before adding technique",
    "goal": "revisit what the client wants from therapy and agree the goals again in their "
            "words",
    "task": "renegotiate the tasks: ask what makes the work or the homework hard and adapt it "
            "together",
}


def find_component_deficits(panel: Panel, policy: Policy) -> list[tuple[int, Signal]]:
    out: list[tuple[int, Signal]] = []
    pol = policy.component_deficit
    rows = np.flatnonzero(panel.is_member)
    if not len(rows):
        return out
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
    for i, j in zip(*np.nonzero(hit), strict=True):
        row = int(rows[i])
        case = int(panel.s_case[row])
        p = panel.params[row]
        member = str(panel.s_rater[row])
        c = int(weakest[i, j])
        comp = COMPONENTS[c]
        base = float(earlier[c, i, j])
        value = float(w_val[i, j])
        fell = None if np.isnan(base) else float(gap[i, j]) - base
        if fell is None:
            severity = "watch"        # no history yet: the profile itself is the news
        elif fell >= pol.history_drop_pom:
            severity = "act"          # weakest and newly weaker: a developing deficit
        else:
            severity = "info"         # a stable profile: this component is usually the weakest
        session = int(panel.session_no[case, j])
        scores = {COMPONENTS[x]: (None if np.isnan(stack[x, i, j]) else float(stack[x, i, j]))
                  for x in range(len(COMPONENTS))}
        evidence = {"rule": "component_deficit", "instrument": p.instrument, "rater": member,
                    "component": comp, "scores_pom": scores, "others_mean_pom": float(others[i, j]),
                    "gap_pom": float(gap[i, j]), "min_gap_pom": pol.min_gap_pom,
                    "own_earlier_gap_pom": None if fell is None else base,
                    "history_drop_pom": pol.history_drop_pom}
        history = ("" if fell is None else
                   f"; the gap is {num(abs(fell))} points {'wider' if fell >= 0 else 'narrower'} "
                   f"than in {member}'s earlier sessions")
        explanation = (f"In session {session} {comp} is {member}'s weakest component on "
                       f"{p.instrument} ({num(value)} of 100, {num(float(gap[i, j]))} points "
                       f"below the other components{history}): {ADVICE[comp]}.")
        out.append((case, Signal("component_deficit", session, member, severity,  # type: ignore[arg-type]
                                 evidence, explanation)))
    return out
