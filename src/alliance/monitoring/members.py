"""Rules comparing raters: ``split_alliance`` between members and ``rater_discrepancy``
between therapist and client.

Split alliance (multipartial alliance in couple, family and group work; Friedlander et al.,
SOFTA). In a session where at least two members rated the same instrument, with ``low`` the
lowest member's total and ``others`` the median of the other members' totals (both percent of
maximum), it is split when

    others - low >= split_alliance.spread_pom,   or
    exactly one member is below the cutoff while every other member is at or above it, and
    others - low >= split_alliance.one_low_gap_pom.

The median of the others (rather than the highest) keeps one enthusiastic rater from making
everyone else look split off; others rating the maximum (``ceiling.min_pom``) are left out of
that median unless all of them do, since a ceiling rating says little about the alliance.

The signal names the lowest member (ties: the smallest member id), so the verdict does not
depend on the order of members in the file. ``act`` when that member is below the cutoff.

Rater discrepancy: in a session where the therapist and a member rated the same instrument,
``therapist_pom - member_pom >= rater_discrepancy.min_gap_pom``; ``act`` when it holds in
``persist_for_act`` jointly rated sessions in a row.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from alliance.monitoring.panel import Panel, compress, consecutive
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import Hits, num, severity_codes


def _groups(panel: Panel, role_filter: set[str], cases: set[int] | None = None
            ) -> dict[tuple[int, str], list[int]]:
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    keep = np.isin(panel.s_role, list(role_filter))
    if cases is not None:
        keep &= np.isin(panel.s_case, list(cases))
    rows = np.flatnonzero(keep)
    for row, case, inst in zip(rows.tolist(), panel.s_case[rows].tolist(),
                               panel.s_instrument[rows].tolist(), strict=True):
        groups[(case, inst)].append(row)
    return groups


def _empty(kind: str) -> Hits:
    none = np.array([], dtype=np.int64)

    def build(n: int) -> tuple[dict[str, Any], str]:
        raise IndexError(n)

    return Hits(kind, none, none, np.array([], dtype=object), none.astype(np.int8), build)


def find_split_alliance(panel: Panel, policy: Policy) -> Hits:
    pol = policy.split_alliance
    ceiling_pom = policy.ceiling.min_pom
    multi = {c for c, m in enumerate(panel.modality) if m != "individual"}
    groups = [(key, rows) for key, rows in
              _groups(panel, {"client", "family_member"}, multi).items() if len(rows) >= 2]
    if not groups:
        return _empty("split_alliance")
    width = panel.pom.shape[1]
    m_max = max(len(rows) for _, rows in groups)
    pom = np.full((len(groups), m_max, width), np.nan)
    total = np.full((len(groups), m_max, width), np.nan)
    row_of = np.full((len(groups), m_max), -1, dtype=np.int64)
    for g, (_, rows) in enumerate(groups):
        # rows are sorted by rater id within a case, so position 0 is the smallest id
        ordered = sorted(rows, key=lambda r: str(panel.s_rater[r]))
        row_of[g, : len(ordered)] = ordered
        pom[g, : len(ordered)] = panel.pom[ordered]
        total[g, : len(ordered)] = panel.total[ordered]
    cutoff = np.array([panel.params[rows[0]].cutoff for _, rows in groups])
    rated = ~np.isnan(pom)
    n_rated = rated.sum(axis=1)                                       # (G, S)
    low_idx = np.where(rated, pom, np.inf).argmin(axis=1)            # (G, S)
    low = np.take_along_axis(np.where(rated, pom, np.inf), low_idx[:, None], axis=1)[:, 0]
    # median of the others: blank out the lowest member, then take the median of the rest
    others_pom = pom.copy()
    np.put_along_axis(others_pom, low_idx[:, None], np.nan, axis=1)
    enough = n_rated >= 2
    with np.errstate(invalid="ignore"):
        others = np.full(low.shape, np.nan)
        if enough.any():
            g_idx, j_idx = np.nonzero(enough)
            block = others_pom[g_idx, :, j_idx]
            informative = np.where(block >= ceiling_pom, np.nan, block)
            all_max = np.isnan(informative).all(axis=1)
            informative[all_max] = block[all_max]
            others[g_idx, j_idx] = np.nanmedian(informative, axis=1)
        below = rated & (total < cutoff[:, None, None])
    n_below = below.sum(axis=1)
    spread = others - low
    with np.errstate(invalid="ignore"):
        one_low = (n_below == 1) & below[np.arange(len(groups))[:, None], low_idx,
                                         np.arange(width)[None, :]] & (
            spread >= pol.one_low_gap_pom)
        hit = enough & ((spread >= pol.spread_pom) | one_low)
    gs, js = np.nonzero(hit)
    ms = low_idx[gs, js]
    rows_hit = row_of[gs, ms]
    case = np.array([groups[int(g)][0][0] for g in gs], dtype=np.int64)
    session = panel.session_no[case, js].astype(np.int64) if len(case) else case
    is_below = below[gs, ms, js]

    def build(n: int) -> tuple[dict[str, Any], str]:
        g, j, m = int(gs[n]), int(js[n]), int(ms[n])
        inst = groups[g][0][1]
        row = int(rows_hit[n])
        member = str(panel.s_rater[row])
        p = panel.params[row]
        scores = {str(panel.s_rater[int(row_of[g, x])]): float(pom[g, x, j])
                  for x in range(m_max) if row_of[g, x] >= 0 and rated[g, x, j]}
        evidence = {"rule": "split_alliance", "instrument": inst, "scores_pom": scores,
                    "others_median_pom": float(others[g, j]), "gap_pom": float(spread[g, j]),
                    "spread_threshold_pom": pol.spread_pom,
                    "one_member_below_cutoff": bool(one_low[g, j]), "cutoff": p.cutoff,
                    "lowest_member": member}
        reason = (f"the only member below the {inst} cutoff of {num(p.cutoff)} and "
                  f"{num(float(spread[g, j]))} points (of 100) below the others' median"
                  if one_low[g, j] else
                  f"{num(float(spread[g, j]))} points (of 100) below the other members' median")
        explanation = (f"Split alliance in session {int(session[n])}: {member} rates the "
                       f"alliance at {num(float(pom[g, m, j]))} of 100, {reason}. Balance the "
                       f"alliance: give {member} room to say what is not working for them, "
                       f"without siding against the others.")
        return evidence, explanation

    return Hits("split_alliance", case, session, panel.s_rater[rows_hit],
                severity_codes(is_below, np.ones(len(gs), dtype=bool)), build,
                instrument=panel.s_instrument[rows_hit])


def find_rater_discrepancy(panel: Panel, policy: Policy) -> Hits:
    pol = policy.rater_discrepancy
    therapists = _groups(panel, {"therapist"})
    members = _groups(panel, {"client", "family_member"}, {c for c, _ in therapists})
    pairs = [(t_rows[0], m_row) for key, t_rows in therapists.items()
             for m_row in members.get(key, [])]
    if not pairs:
        return _empty("rater_discrepancy")
    t_idx = np.array([p[0] for p in pairs])
    m_idx = np.array([p[1] for p in pairs])
    gap = panel.pom[t_idx] - panel.pom[m_idx]                          # NaN unless both rated
    vals, cols, _ = compress(gap)
    with np.errstate(invalid="ignore"):
        wide = vals >= pol.min_gap_pom
    run = consecutive(wide)
    i, k = np.nonzero(wide)
    m_rows = m_idx[i]
    case = panel.s_case[m_rows]
    j_all = cols[i, k]
    session = panel.session_no[case, j_all].astype(np.int64)
    streak = run[i, k]

    def build(n: int) -> tuple[dict[str, Any], str]:
        t_row, m_row, j = int(t_idx[int(i[n])]), int(m_rows[n]), int(j_all[n])
        member = str(panel.s_rater[m_row])
        inst = panel.params[m_row].instrument
        t_pom, m_pom = float(panel.pom[t_row, j]), float(panel.pom[m_row, j])
        st = int(streak[n])
        g = float(vals[int(i[n]), int(k[n])])
        evidence = {"rule": "rater_discrepancy", "instrument": inst, "rater": "therapist",
                    "therapist_pom": t_pom, "member_pom": m_pom, "gap_pom": g,
                    "min_gap_pom": pol.min_gap_pom, "consecutive": st,
                    "persist_for_act": pol.persist_for_act}
        run_text = f" ({st} jointly rated sessions in a row)" if st > 1 else ""
        explanation = (f"In session {int(session[n])} the therapist rated the alliance on {inst} "
                       f"at {num(t_pom)} of 100 and {member} at {num(m_pom)}: {num(g)} points "
                       f"apart{run_text}. The client may experience the work less positively "
                       f"than it looks from the chair; ask them.")
        return evidence, explanation

    return Hits("rater_discrepancy", case, session, panel.s_rater[m_rows],
                severity_codes(streak >= pol.persist_for_act, np.ones(len(i), dtype=bool)),
                build, instrument=panel.s_instrument[m_rows],
                rater=np.full(len(i), "therapist", dtype=object))
