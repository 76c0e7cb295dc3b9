"""Rules on one member's score trajectory: ``low_alliance``, ``drop``, ``early_warning`` and
``ceiling``.

All work on each member series' *rated* sessions in order (sessions without a valid rating
from that member are skipped), vectorised across series.

Drop criteria, for the change ``d = x_k - x_(k-1)`` between consecutive rated sessions
(a fall is ``-d > 0``):

* **absolute**: ``-d >= absolute_drop`` (the instrument spec's threshold, or the policy's);
* **lenient / strict** (Gumz et al. 2012): ``-d >= 1 SD`` / ``-d >= 2 SD``, where SD is the
  sample SD of the rater's own earlier changes ``d_1..d_(k-1)`` once at least
  ``drop.min_history`` of them exist (never below ``sd_floor_ratio * sd_change``), and the
  spec's session-to-session ``sd_change`` norm before that;
* **reliable change** (Jacobson & Truax 1991): ``RCI = d / S_diff`` with
  ``S_diff = sqrt(2) * SD_norm * sqrt(1 - r)``; a drop when ``RCI <= -rci_z`` (1.96).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from alliance.monitoring.panel import Panel, compress, consecutive
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import Hits, clean, num, severity_codes, signed


@dataclass
class DropTable:
    """Per member series, per rated position ``k`` (shape ``(R, K)``): the drop criteria."""

    rows: np.ndarray          # series row index (member rows only)
    vals: np.ndarray          # compressed totals
    cols: np.ndarray          # session column of each compressed value
    length: np.ndarray
    change: np.ndarray
    absolute: np.ndarray
    lenient: np.ndarray
    strict: np.ndarray
    reliable: np.ndarray
    sd_ref: np.ndarray
    history: np.ndarray       # number of earlier changes behind an own-history SD (0 = norm)
    rci: np.ndarray


def drop_table(panel: Panel, policy: Policy) -> DropTable:
    rows = np.flatnonzero(panel.is_member)
    vals, cols, length = compress(panel.total[rows])
    n, k_max = vals.shape
    pol = policy.drop
    abs_thr = panel.param("absolute_drop")[rows]
    sd_change = panel.param("sd_change")[rows]
    norm_sd = panel.param("norm_sd")[rows]
    rel = panel.param("reliability")[rows]
    s_diff = np.sqrt(2.0) * norm_sd * np.sqrt(1.0 - rel)
    floor = np.nan_to_num(pol.sd_floor_ratio * sd_change, nan=0.0)
    min_hist = max(pol.min_history, 2)

    shape = (n, k_max)
    change = np.full(shape, np.nan)
    absolute = np.zeros(shape, dtype=bool)
    lenient = np.zeros(shape, dtype=bool)
    strict = np.zeros(shape, dtype=bool)
    reliable = np.zeros(shape, dtype=bool)
    sd_ref = np.full(shape, np.nan)
    history = np.zeros(shape, dtype=np.int64)
    rci = np.full(shape, np.nan)
    # Welford running mean / M2 of each row's changes so far.
    count = np.zeros(n, dtype=np.int64)
    mean = np.zeros(n)
    m2 = np.zeros(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(1, k_max):
            d = vals[:, k] - vals[:, k - 1]
            ok = ~np.isnan(d)
            fall = -d
            own = np.sqrt(m2 / (count - 1))
            use_own = count >= min_hist
            ref = np.where(use_own, np.fmax(own, floor), sd_change)
            falling = ok & (fall > 0)
            change[:, k] = d
            absolute[:, k] = falling & (fall >= abs_thr)
            lenient[:, k] = falling & (fall >= pol.lenient_sd * ref)
            strict[:, k] = falling & (fall >= pol.strict_sd * ref)
            r = d / s_diff
            rci[:, k] = r
            reliable[:, k] = falling & (r <= -pol.rci_z)
            sd_ref[:, k] = np.where(ok, ref, np.nan)
            history[:, k] = np.where(ok & use_own, count, 0)
            # update the running statistics with this change
            c_new = count + ok
            delta = np.where(ok, d - mean, 0.0)
            mean = np.where(ok, mean + delta / np.maximum(c_new, 1), mean)
            m2 = np.where(ok, m2 + delta * (np.where(ok, d, 0.0) - mean), m2)
            count = c_new
    return DropTable(rows, vals, cols, length, change, absolute, lenient, strict, reliable,
                     sd_ref, history, rci)


def _sd_phrase(sd: float, history: int) -> str:
    if history:
        return f"SD {num(sd)} of their own {history} earlier changes"
    return f"SD {num(sd)}, the instrument's norm for session-to-session change"


def _located(panel: Panel, table: DropTable, i: np.ndarray, k: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = table.rows[i]
    case = panel.s_case[rows]
    session = panel.session_no[case, table.cols[i, k]].astype(np.int64)
    return rows, case, session


def find_drops(panel: Panel, policy: Policy, table: DropTable) -> Hits:
    """``drop``: a fall between consecutive rated sessions meeting any criterion."""
    pol = policy.drop
    hit = table.absolute | table.lenient | table.strict | table.reliable
    i, k = np.nonzero(hit)
    rows, case, session = _located(panel, table, i, k)
    a, le, st, re = (table.absolute[i, k], table.lenient[i, k], table.strict[i, k],
                     table.reliable[i, k])

    def build(n: int) -> tuple[dict[str, Any], str]:
        ii, kk, row = int(i[n]), int(k[n]), int(rows[n])
        p = panel.params[row]
        member = str(panel.s_rater[row])
        c = int(case[n])
        s_from = int(panel.session_no[c, int(table.cols[ii, kk - 1])])
        s_to = int(session[n])
        ab, len_, st_, re_ = bool(a[n]), bool(le[n]), bool(st[n]), bool(re[n])
        sd, hist = float(table.sd_ref[ii, kk]), int(table.history[ii, kk])
        before, after = float(table.vals[ii, kk - 1]), float(table.vals[ii, kk])
        d = float(table.change[ii, kk])
        evidence = {
            "rule": "drop", "instrument": p.instrument, "rater": member,
            "from_session": s_from, "to_session": s_to, "from_score": before,
            "to_score": after, "change": d,
            "absolute": {"threshold": clean(p.absolute_drop), "met": ab},
            "lenient_1sd": {"sd": clean(sd), "multiplier": pol.lenient_sd,
                            "own_history": hist, "met": len_},
            "strict_2sd": {"sd": clean(sd), "multiplier": pol.strict_sd,
                           "own_history": hist, "met": st_},
            "reliable_change": {"rci": clean(table.rci[ii, kk]), "z": pol.rci_z,
                                "reliability": clean(p.reliability),
                                "norm_sd": clean(p.norm_sd), "met": re_},
        }
        met = []
        if ab:
            met.append(f"at least the absolute threshold of {num(p.absolute_drop)}")
        if st_:
            met.append(f"at least {num(pol.strict_sd)} SD ({_sd_phrase(sd, hist)})")
        elif len_:
            met.append(f"at least {num(pol.lenient_sd)} SD ({_sd_phrase(sd, hist)})")
        if re_:
            met.append(f"a reliable change (RCI {num(float(table.rci[ii, kk]))}, "
                       f"reliability {num(p.reliability)})")
        explanation = (f"{member}'s {p.instrument} total fell from {num(before)} to {num(after)} "
                       f"({signed(d)}) between sessions {s_from} and {s_to}: "
                       + "; ".join(met) + ".")
        return evidence, explanation

    return Hits("drop", case, session, panel.s_rater[rows], severity_codes(st, a | re), build,
                instrument=panel.s_instrument[rows], rater=panel.s_rater[rows])


def find_low_alliance(panel: Panel, policy: Policy, table: DropTable) -> Hits:
    """``low_alliance``: a total below the instrument's cutoff; ``act`` after a run of them."""
    need = policy.low_alliance.consecutive_for_act
    cutoff = panel.param("cutoff")[table.rows]
    with np.errstate(invalid="ignore"):
        low = table.vals < cutoff[:, None]
    run = consecutive(low)
    i, k = np.nonzero(low)
    rows, case, session = _located(panel, table, i, k)
    streak = run[i, k]

    def build(n: int) -> tuple[dict[str, Any], str]:
        row = int(rows[n])
        p = panel.params[row]
        member = str(panel.s_rater[row])
        st = int(streak[n])
        score = float(table.vals[int(i[n]), int(k[n])])
        evidence = {"rule": "low_alliance", "instrument": p.instrument, "rater": member,
                    "score": score, "cutoff": p.cutoff, "consecutive_low": st,
                    "consecutive_for_act": need, "cutoff_source": p.sources.get("cutoff", "")}
        run_text = (f"; {st} rated sessions in a row below it" if st > 1 else "")
        explanation = (f"{member}'s {p.instrument} total of {num(score)} in session "
                       f"{int(session[n])} is below the cutoff of {num(p.cutoff)}{run_text}.")
        return evidence, explanation

    return Hits("low_alliance", case, session, panel.s_rater[rows],
                severity_codes(streak >= need, np.ones(len(i), dtype=bool)), build,
                instrument=panel.s_instrument[rows], rater=panel.s_rater[rows])


def find_early_warning(panel: Panel, policy: Policy, table: DropTable) -> Hits:
    """``early_warning``: below the cutoff, or an absolute or 1 SD fall, in sessions 1-N."""
    last = policy.early_warning.sessions
    cutoff = panel.param("cutoff")[table.rows]
    case_of = panel.s_case[table.rows]
    sessions = np.take_along_axis(panel.session_no[case_of], table.cols, axis=1)
    with np.errstate(invalid="ignore"):
        low = table.vals < cutoff[:, None]
        early = sessions <= last
    valid = np.arange(table.vals.shape[1])[None, :] < table.length[:, None]
    falling = table.absolute | table.lenient
    i, k = np.nonzero(valid & early & (low | falling))
    rows, case, session = _located(panel, table, i, k)
    is_low, is_falling = low[i, k], falling[i, k]

    def build(n: int) -> tuple[dict[str, Any], str]:
        ii, kk, row = int(i[n]), int(k[n]), int(rows[n])
        p = panel.params[row]
        member = str(panel.s_rater[row])
        score = float(table.vals[ii, kk])
        lo, fa = bool(is_low[n]), bool(is_falling[n])
        evidence = {"rule": "early_warning", "instrument": p.instrument, "rater": member,
                    "score": score, "cutoff": p.cutoff, "below_cutoff": lo,
                    "falling": fa, "change": clean(table.change[ii, kk]),
                    "early_sessions": last}
        what = []
        if lo:
            what.append(f"below the cutoff of {num(p.cutoff)}")
        if fa:
            what.append(f"falling ({signed(float(table.change[ii, kk]))} from the session "
                        f"before)")
        explanation = (f"Early alliance warning: in session {int(session[n])}, {member}'s "
                       f"{p.instrument} total of {num(score)} is {' and '.join(what)}. A weak "
                       f"alliance in the first {last} sessions predicts dropout; attend to it "
                       f"now.")
        return evidence, explanation

    return Hits("early_warning", case, session, panel.s_rater[rows],
                severity_codes(is_low, np.ones(len(i), dtype=bool)), build,
                instrument=panel.s_instrument[rows], rater=panel.s_rater[rows])


def find_ceiling(panel: Panel, policy: Policy, table: DropTable) -> Hits:
    """``ceiling``: the first N rated sessions all at the maximum, with no variance.

    The cue behind it is deference (reluctance to criticise); when the case's
    ``normative_cues`` include ``deference`` the signal is ``ambiguous`` and only ``info``.
    """
    n_first = policy.ceiling.first_sessions
    if table.vals.shape[1] < n_first:
        hit = np.zeros(len(table.rows), dtype=bool)
        first = table.vals
    else:
        pom = np.take_along_axis(panel.pom[table.rows], table.cols, axis=1)[:, :n_first]
        with np.errstate(invalid="ignore"):
            at_max = (pom >= policy.ceiling.min_pom).all(axis=1)
        first = table.vals[:, :n_first]
        flat = (first == first[:, :1]).all(axis=1)
        hit = (table.length >= n_first) & at_max & flat
    i = np.flatnonzero(hit)
    k = np.full(len(i), n_first - 1, dtype=np.int64)
    rows, case, session = _located(panel, table, i, k) if len(i) else (
        i, i, i)
    ambiguous = np.array(["deference" in panel.normative[int(c)] for c in case], dtype=bool)

    def build(n: int) -> tuple[dict[str, Any], str]:
        row = int(rows[n])
        p = panel.params[row]
        member = str(panel.s_rater[row])
        amb = bool(ambiguous[n])
        evidence = {"rule": "ceiling", "instrument": p.instrument, "rater": member,
                    "sessions": n_first, "score": float(first[int(i[n]), 0]),
                    "maximum": p.high, "min_pom": policy.ceiling.min_pom, "cue": "deference",
                    "ambiguous": amb}
        base = (f"{member} gave {p.instrument} its maximum score of {num(p.high)} in each of "
                f"the first {n_first} rated sessions, without any variation.")
        if amb:
            explanation = (base + " Deference is a norm in this client's culture, so read this "
                           "as ambiguous rather than as hidden strain: check in, warmly and "
                           "without pressing, whether anything could be going better.")
        else:
            explanation = (base + " A perfect score can hide reluctance to criticise; invite "
                           "candid feedback and make it clear that criticism is welcome.")
        return evidence, explanation

    return Hits("ceiling", case, session, panel.s_rater[rows],
                severity_codes(np.zeros(len(i), dtype=bool), ~ambiguous), build,
                ambiguous=ambiguous, instrument=panel.s_instrument[rows],
                rater=panel.s_rater[rows])
