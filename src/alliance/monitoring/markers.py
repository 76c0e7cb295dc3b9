"""``hidden_rupture``: rupture markers in the transcript while the self-report stays high.

A session's transcript summary counts 3RS-style markers (Eubanks, Muran & Safran 2015):
withdrawal, confrontation, alliance threats (Gutheil) and how many were left unresolved.
The rule fires when

    unresolved >= 1  and  withdrawal + confrontation + threats >= 1  and
    every member who rated the session is at or above hidden_rupture.high_pom (percent of
    maximum) and not below the instrument's cutoff (at least one member rated).

Confrontation or threats make it ``act`` (confrontation markers predicted dropout, d = .74);
withdrawal alone is ``watch``. **Cultural context**: a withdrawal-only marker whose cues
(``transcript_summary.cues``) are all among the case's ``normative_cues`` (for example
silence, deference or limited eye contact that are respectful norms) is reported as
``ambiguous`` at ``info``, with the advice to check in rather than to treat it as a rupture.
"""

from __future__ import annotations

import numpy as np

from alliance.monitoring.panel import MARKERS, Panel
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import Signal, num

_W, _C, _U, _T = (MARKERS.index(m) for m in ("withdrawal", "confrontation", "unresolved",
                                             "threats"))


def find_hidden_ruptures(panel: Panel, policy: Policy) -> list[tuple[int, Signal]]:
    out: list[tuple[int, Signal]] = []
    high_pom = policy.hidden_rupture.high_pom
    marks = panel.marks
    flagged = panel.has_transcript & (marks[:, :, _U] >= 1) & (
        marks[:, :, _W] + marks[:, :, _C] + marks[:, :, _T] >= 1)
    if not flagged.any():
        return out
    members = panel.is_member
    n_cases, width = flagged.shape
    rated = np.zeros((n_cases, width), dtype=np.int64)
    not_high = np.zeros((n_cases, width), dtype=np.int64)
    min_pom = np.full((n_cases, width), np.inf)
    cutoff = panel.param("cutoff")
    rows = np.flatnonzero(members)
    case_of = panel.s_case[rows]
    pom = panel.pom[rows]
    with np.errstate(invalid="ignore"):
        low = (pom < high_pom) | (panel.total[rows] < cutoff[rows][:, None])
    present = ~np.isnan(pom)
    np.add.at(rated, case_of, present.astype(np.int64))
    np.add.at(not_high, case_of, (present & low).astype(np.int64))
    np.minimum.at(min_pom, case_of, np.where(present, pom, np.inf))
    hit = flagged & (rated >= 1) & (not_high == 0)
    for c, j in zip(*np.nonzero(hit), strict=True):
        c, j = int(c), int(j)
        session = int(panel.session_no[c, j])
        w, conf, unres, thr = (int(marks[c, j, x]) for x in (_W, _C, _U, _T))
        cues = tuple(panel.cues[c, j])
        withdrawal_only = conf == 0 and thr == 0
        ambiguous = withdrawal_only and bool(cues) and set(cues) <= panel.normative[c]
        kind = "confrontation" if not withdrawal_only else "withdrawal"
        members_here = panel.members[c]
        member = members_here[0] if len(members_here) == 1 else None
        evidence = {"rule": "hidden_rupture", "markers": {"withdrawal": w, "confrontation": conf,
                                                          "unresolved": unres, "threats": thr},
                    "rupture_type": kind, "cues": list(cues),
                    "lowest_member_pom": float(min_pom[c, j]), "high_pom": high_pom,
                    "ambiguous": ambiguous,
                    "normative_cues": sorted(panel.normative[c]) if ambiguous else []}
        counted = ", ".join(f"{n} {label}" for n, label in ((w, "withdrawal"),
                                                           (conf, "confrontation"),
                                                           (thr, "threat")) if n)
        score_text = f"self-report stays high (lowest {num(float(min_pom[c, j]))} of 100)"
        if ambiguous:
            explanation = (f"Ambiguous in session {session}: the transcript shows withdrawal "
                           f"cues ({', '.join(cues)}) that are respectful norms for this client, "
                           f"while the {score_text}. Do not read this as a rupture; check in "
                           f"gently about how the sessions feel and what would help.")
            severity = "info"
        else:
            explanation = (f"Possible hidden rupture in session {session}: the transcript has "
                           f"{counted} marker(s), {unres} left unresolved, yet the "
                           f"{score_text}. Bring it up: name what you noticed and ask how the "
                           f"session was for them.")
            severity = "act" if kind == "confrontation" else "watch"
        out.append((c, Signal("hidden_rupture", session, member, severity,  # type: ignore[arg-type]
                              evidence, explanation)))
    return out
