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

from typing import Any

import numpy as np

from alliance.monitoring.panel import MARKERS, Panel
from alliance.monitoring.policy import Policy
from alliance.monitoring.signals import Hits, num, severity_codes

_W, _C, _U, _T = (MARKERS.index(m) for m in ("withdrawal", "confrontation", "unresolved",
                                             "threats"))


def find_hidden_ruptures(panel: Panel, policy: Policy) -> Hits:
    high_pom = policy.hidden_rupture.high_pom
    marks = panel.marks
    flagged = panel.has_transcript & (marks[:, :, _U] >= 1) & (
        marks[:, :, _W] + marks[:, :, _C] + marks[:, :, _T] >= 1)
    n_cases, width = flagged.shape
    rated = np.zeros((n_cases, width), dtype=np.int64)
    not_high = np.zeros((n_cases, width), dtype=np.int64)
    min_pom = np.full((n_cases, width), np.inf)
    if flagged.any():
        cutoff = panel.param("cutoff")
        rows = np.flatnonzero(panel.is_member)
        case_of = panel.s_case[rows]
        pom = panel.pom[rows]
        with np.errstate(invalid="ignore"):
            low = (pom < high_pom) | (panel.total[rows] < cutoff[rows][:, None])
        present = ~np.isnan(pom)
        np.add.at(rated, case_of, present.astype(np.int64))
        np.add.at(not_high, case_of, (present & low).astype(np.int64))
        np.minimum.at(min_pom, case_of, np.where(present, pom, np.inf))
    cs, js = np.nonzero(flagged & (rated >= 1) & (not_high == 0))
    session = panel.session_no[cs, js].astype(np.int64)
    withdrawal_only = (marks[cs, js, _C] == 0) & (marks[cs, js, _T] == 0)
    ambiguous = np.array([bool(wo) and bool(panel.cues[c, j]) and
                          set(panel.cues[c, j]) <= panel.normative[c]
                          for c, j, wo in zip(cs.tolist(), js.tolist(), withdrawal_only.tolist(),
                                              strict=True)], dtype=bool)
    sole = np.array([m[0] if len(m) == 1 else None for m in panel.members], dtype=object)

    def build(n: int) -> tuple[dict[str, Any], str]:
        c, j = int(cs[n]), int(js[n])
        w, conf, unres, thr = (int(marks[c, j, x]) for x in (_W, _C, _U, _T))
        cues = tuple(panel.cues[c, j])
        amb = bool(ambiguous[n])
        kind = "withdrawal" if withdrawal_only[n] else "confrontation"
        evidence = {"rule": "hidden_rupture", "markers": {"withdrawal": w, "confrontation": conf,
                                                          "unresolved": unres, "threats": thr},
                    "rupture_type": kind, "cues": list(cues),
                    "lowest_member_pom": float(min_pom[c, j]), "high_pom": high_pom,
                    "ambiguous": amb,
                    "normative_cues": sorted(panel.normative[c]) if amb else []}
        counted = ", ".join(f"{k} {label}" for k, label in ((w, "withdrawal"),
                                                           (conf, "confrontation"),
                                                           (thr, "threat")) if k)
        score_text = f"self-report stays high (lowest {num(float(min_pom[c, j]))} of 100)"
        s_no = int(session[n])
        if amb:
            explanation = (f"Ambiguous in session {s_no}: the transcript shows withdrawal "
                           f"cues ({', '.join(cues)}) that are respectful norms for this client, "
                           f"while the {score_text}. Do not read this as a rupture; check in "
                           f"gently about how the sessions feel and what would help.")
        else:
            explanation = (f"Possible hidden rupture in session {s_no}: the transcript has "
                           f"{counted} marker(s), {unres} left unresolved, yet the "
                           f"{score_text}. Bring it up: name what you noticed and ask how the "
                           f"session was for them.")
        return evidence, explanation

    return Hits("hidden_rupture", cs, session, sole[cs] if len(cs) else sole[:0],
                severity_codes(~ambiguous & ~withdrawal_only, ~ambiguous), build,
                ambiguous=ambiguous,
                tag=np.where(withdrawal_only, "withdrawal", "confrontation").astype(object))
