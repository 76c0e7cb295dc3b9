"""The guide's verdict rules over steps and harms, and what the phrase detectors alone find:
shared by the scorer (:mod:`alliance.training.feedback`) and the heads' rule features
(:mod:`alliance.training.head`), which must not import each other both ways."""

from __future__ import annotations

from collections.abc import Mapping

from alliance.training.steps import HARM_NAMES, STEP_NAMES, detect_steps

VERDICTS = ("repair", "partial", "technique_first", "defensive", "judgmental")
RELATIONAL = ("named", "invited", "responsibility", "renegotiated", "reflected")


def phrase_findings(response: str, client: str | None = None) -> tuple[dict[str, bool],
                                                                       dict[str, bool]]:
    """The steps and harms the phrase detectors alone find (no coder), as flags.

    >>> steps, harms = phrase_findings("You need to do the homework.")
    >>> steps["invited"], harms["technique"]
    (False, True)
    """
    present = detect_steps(response, client).present()
    return ({s: present[s] for s in STEP_NAMES}, {h: present[h] for h in HARM_NAMES})


def verdict_for(steps: Mapping[str, bool], harms: Mapping[str, bool]) -> tuple[str, bool]:
    """The verdict and ``technique_before_repair`` from steps and harms (guide's rules).

    >>> verdict_for({"named": True, "invited": True}, {})
    ('repair', False)
    >>> verdict_for({"reflected": True}, {"technique": True})
    ('technique_first', True)
    """
    relational = sum(bool(steps.get(s)) for s in RELATIONAL)
    technique_first = bool(harms.get("technique")) and relational < 2
    if harms.get("judgmental"):
        return "judgmental", technique_first
    if harms.get("defensive"):
        return "defensive", technique_first
    if technique_first:
        return "technique_first", True
    return ("repair" if relational >= 2 else "partial"), False
