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

import numpy as np

from alliance.monitoring.panel import Panel, compress
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import Signal, clean, num, signed

Found = list[tuple[int, Signal]]


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


def _session(panel: Panel, case: int, col: int) -> int:
    return int(panel.session_no[case, col])


def _sd_phrase(sd: float, history: int) -> str:
    if history:
        return f"SD {num(sd)} of their own {history} earlier changes"
    return f"SD {num(sd)}, the instrument's norm for session-to-session change"


def find_drops(panel: Panel, policy: Policy, table: DropTable) -> Found:
    """``drop``: a fall between consecutive rated sessions meeting any criterion."""
    out: Found = []
    pol = policy.drop
    hit = table.absolute | table.lenient | table.strict | table.reliable
    for i, k in zip(*np.nonzero(hit), strict=True):
        row = int(table.rows[i])
        case = int(panel.s_case[row])
        p = panel.params[row]
        member = str(panel.s_rater[row])
        s_from = _session(panel, case, int(table.cols[i, k - 1]))
        s_to = _session(panel, case, int(table.cols[i, k]))
        a, le, st, re = (bool(table.absolute[i, k]), bool(table.lenient[i, k]),
                         bool(table.strict[i, k]), bool(table.reliable[i, k]))
        sd, hist = float(table.sd_ref[i, k]), int(table.history[i, k])
        before, after, d = float(table.vals[i, k - 1]), float(table.vals[i, k]), \
            float(table.change[i, k])
        severity = "act" if st else "watch" if (a or re) else "info"
        evidence = {
            "rule": "drop", "instrument": p.instrument, "rater": member,
            "from_session": s_from, "to_session": s_to, "from_score": before,
            "to_score": after, "change": d,
            "absolute": {"threshold": clean(p.absolute_drop), "met": a},
            "lenient_1sd": {"sd": clean(sd), "multiplier": pol.lenient_sd,
                            "own_history": hist, "met": le},
            "strict_2sd": {"sd": clean(sd), "multiplier": pol.strict_sd,
                           "own_history": hist, "met": st},
            "reliable_change": {"rci": clean(table.rci[i, k]), "z": pol.rci_z,
                                "reliability": clean(p.reliability),
                                "norm_sd": clean(p.norm_sd), "met": re},
        }
        met = []
        if a:
            met.append(f"at least the absolute threshold of {num(p.absolute_drop)}")
        if st:
            met.append(f"at least {num(pol.strict_sd)} SD ({_sd_phrase(sd, hist)})")
        elif le:
            met.append(f"at least {num(pol.lenient_sd)} SD ({_sd_phrase(sd, hist)})")
        if re:
            met.append(f"a reliable change (RCI {num(float(table.rci[i, k]))}, "
                       f"reliability {num(p.reliability)})")
        explanation = (f"{member}'s {p.instrument} total fell from {num(before)} to {num(after)} "
                       f"({signed(d)}) between sessions {s_from} and {s_to}: "
                       + "; ".join(met) + ".")
        out.append((case, Signal("drop", s_to, member, severity, evidence, explanation)))  # type: ignore[arg-type]
    return out


def find_low_alliance(panel: Panel, policy: Policy, table: DropTable) -> Found:
    """``low_alliance``: a total below the instrument's cutoff; ``act`` after a run of them."""
    out: Found = []
    need = policy.low_alliance.consecutive_for_act
    cutoff = panel.param("cutoff")[table.rows]
    with np.errstate(invalid="ignore"):
        low = table.vals < cutoff[:, None]
    run = np.zeros(low.shape, dtype=np.int64)
    for k in range(low.shape[1]):
        run[:, k] = np.where(low[:, k], (run[:, k - 1] if k else 0) + 1, 0)
    for i, k in zip(*np.nonzero(low), strict=True):
        row = int(table.rows[i])
        case = int(panel.s_case[row])
        p = panel.params[row]
        member = str(panel.s_rater[row])
        session = _session(panel, case, int(table.cols[i, k]))
        streak = int(run[i, k])
        severity = "act" if streak >= need else "watch"
        score = float(table.vals[i, k])
        evidence = {"rule": "low_alliance", "instrument": p.instrument, "rater": member,
                    "score": score, "cutoff": p.cutoff, "consecutive_low": streak,
                    "consecutive_for_act": need, "cutoff_source": p.sources.get("cutoff", "")}
        run_text = (f"; {streak} rated sessions in a row below it" if streak > 1 else "")
        explanation = (f"{member}'s {p.instrument} total of {num(score)} in session {session} "
                       f"is below the cutoff of {num(p.cutoff)}{run_text}.")
        out.append((case, Signal("low_alliance", session, member, severity, evidence,  # type: ignore[arg-type]
                                 explanation)))
    return out


def find_early_warning(panel: Panel, policy: Policy, table: DropTable) -> Found:
    """``early_warning``: below the cutoff, or an absolute or 1 SD fall, in sessions 1-N."""
    out: Found = []
    last = policy.early_warning.sessions
    cutoff = panel.param("cutoff")[table.rows]
    case_of = panel.s_case[table.rows]
    session = np.take_along_axis(panel.session_no[case_of], table.cols, axis=1)
    with np.errstate(invalid="ignore"):
        low = table.vals < cutoff[:, None]
        early = session <= last
    valid = np.arange(table.vals.shape[1])[None, :] < table.length[:, None]
    falling = table.absolute | table.lenient
    hit = valid & early & (low | falling)
    for i, k in zip(*np.nonzero(hit), strict=True):
        row = int(table.rows[i])
        case = int(panel.s_case[row])
        p = panel.params[row]
        member = str(panel.s_rater[row])
        s = int(session[i, k])
        is_low, is_falling = bool(low[i, k]), bool(falling[i, k])
        score = float(table.vals[i, k])
        evidence = {"rule": "early_warning", "instrument": p.instrument, "rater": member,
                    "score": score, "cutoff": p.cutoff, "below_cutoff": is_low,
                    "falling": is_falling, "change": clean(table.change[i, k]),
                    "early_sessions": last}
        what = []
        if is_low:
            what.append(f"below the cutoff of {num(p.cutoff)}")
        if is_falling:
            what.append(f"falling ({signed(float(table.change[i, k]))} from the session before)")
        explanation = (f"Early alliance warning: in session {s}, {member}'s {p.instrument} "
                       f"total of {num(score)} is {' and '.join(what)}. A weak alliance in the "
                       f"first {last} sessions predicts dropout; attend to it now.")
        out.append((case, Signal("early_warning", s, member, "act" if is_low else "watch",
                                 evidence, explanation)))
    return out


def find_ceiling(panel: Panel, policy: Policy, table: DropTable) -> Found:
    """``ceiling``: the first N rated sessions all at the maximum, with no variance.

    The cue behind it is deference (reluctance to criticise); when the case's
    ``normative_cues`` include ``deference`` the signal is ``ambiguous`` and only ``info``.
    """
    out: Found = []
    n_first = policy.ceiling.first_sessions
    if table.vals.shape[1] < n_first:
        return out
    pom = np.take_along_axis(panel.pom[table.rows], table.cols, axis=1)[:, :n_first]
    with np.errstate(invalid="ignore"):
        at_max = (pom >= policy.ceiling.min_pom).all(axis=1)
    first = table.vals[:, :n_first]
    flat = (first == first[:, :1]).all(axis=1)
    hit = (table.length >= n_first) & at_max & flat
    for i in np.flatnonzero(hit):
        row = int(table.rows[i])
        case = int(panel.s_case[row])
        p = panel.params[row]
        member = str(panel.s_rater[row])
        s = _session(panel, case, int(table.cols[i, n_first - 1]))
        ambiguous = "deference" in panel.normative[case]
        evidence = {"rule": "ceiling", "instrument": p.instrument, "rater": member,
                    "sessions": n_first, "score": float(first[i, 0]), "maximum": p.high,
                    "min_pom": policy.ceiling.min_pom, "cue": "deference",
                    "ambiguous": ambiguous}
        base = (f"{member} gave {p.instrument} its maximum score of {num(p.high)} in each of "
                f"the first {n_first} rated sessions, without any variation.")
        if ambiguous:
            explanation = (base + " Deference is a norm in this client's culture, so read this "
                           "as ambiguous rather than as hidden strain: check in, warmly and "
                           "without pressing, whether anything could be going better.")
            severity = "info"
        else:
            explanation = (base + " A perfect score can hide reluctance to criticise; invite "
                           "candid feedback and make it clear that criticism is welcome.")
            severity = "watch"
        out.append((case, Signal("ceiling", s, member, severity, evidence,  # type: ignore[arg-type]
                                 explanation)))
    return out
