"""Repair guidance: ordered steps matched to the rupture type and the weak component.

The order follows the repair sequence in the project's domain notes: notice the marker →
name it without defensiveness and invite the client's view → take your share → renegotiate
the goal or task → keep asking for feedback; when a client disengages, repair comes before
any new technique. Within the steps, the resolution strategies are those of the Rupture
Resolution Rating System (Eubanks, Muran & Safran 2015): immediate ones (clarify, give a
rationale, change the task or goal) and exploratory ones (talk about the relationship,
acknowledge one's contribution, validate the defensive stance, link to wider patterns).
All wording here was written for alliance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

RuptureType = Literal["withdrawal", "confrontation", "unspecified"]


@dataclass(frozen=True)
class RepairStep:
    """One step of repair guidance; ``strategy`` names the 3RS strategy family it draws on."""

    phase: str
    text: str
    strategy: str = ""

    def __str__(self) -> str:
        return self.text


_NOTICE = {
    "withdrawal": "Notice the pulling away before the next session: shorter answers, vaguer "
                  "talk, quick agreement, missed tasks or sessions. Look back at the sessions "
                  "flagged here and find the moment things went quiet.",
    "confrontation": "Notice your own reaction first: a complaint or a rejected idea invites "
                     "defending yourself. Plan to meet it with curiosity, not a counter-argument.",
    "unspecified": "Notice the change in the ratings and hold it as information about the "
                   "relationship, not as a verdict on the client or on you.",
}
_NAME = {
    "withdrawal": "Name it gently and make room: say what you noticed (for example that the "
                  "last sessions seemed harder to get into) and ask how the work has been for "
                  "them. Validate any hesitation to say so; a minimal answer is an answer too.",
    "confrontation": "Name the disagreement openly and invite more of it: ask what has not "
                     "been helpful, listen to the whole of it, and say back what you heard "
                     "before you respond.",
    "unspecified": "Bring the ratings into the room: mention the change without defensiveness "
                   "and ask what was different for them in those sessions.",
}
_OWN = ("Take your share of it: acknowledge what you did that may have contributed (pace, a "
        "missed cue, pushing a task) plainly and without over-apologising, so the client does "
        "not have to look after your feelings.")
_RENEGOTIATE = {
    "task": "Renegotiate the tasks: ask what made the in-session work or the homework hard, "
            "explain the rationale again if it was unclear, and agree together on a version "
            "they are willing to try, even a smaller one.",
    "goal": "Renegotiate the goals: go back to what the client wants from therapy, in their "
            "words, and check whether the current focus still serves it; agree what to work "
            "on next.",
    "bond": "Repair the bond before adding technique: slow down, attend to how safe and "
            "understood the client feels with you, and postpone demanding tasks until the "
            "relationship feels steady again.",
    None: "Renegotiate whatever is not agreed: check the goals and the way of working, and "
          "adapt one of them together rather than pressing on with the plan.",
}
_FEEDBACK = ("Keep asking for feedback at the end of each session, and thank the client for "
             "any criticism, so that the next strain surfaces early; watch the next ratings "
             "for a return to the earlier level.")
# Said when the strain is in the first rated session: there is no earlier level to return to.
_FEEDBACK_FIRST = ("Keep asking for feedback at the end of each session, and thank the client "
                   "for any criticism, so that the next strain surfaces early; watch the next "
                   "ratings for a rise as goals and ways of working are agreed.")
_FRAME = ("Raise the pattern of missed, late-cancelled or late sessions as part of the work: "
          "be curious about what the frame means to the client, restate the agreement, and "
          "agree together how to handle the next missed session.")
_BALANCE = ("Balance the alliance across members: make space for {member} to speak first about "
            "what is not working for them, and avoid being drawn into taking sides.")
_DISCREPANCY = ("Check your own reading against the client's: you rate the work more "
                "positively than they do, so ask about their experience rather than assuming "
                "it matches yours.")
_EARLY = ("Treat the early alliance as the priority: in the first sessions, agreeing goals "
          "and ways of working matters more than technique, and early strain predicts dropout.")
_CEILING = ("Invite candid feedback: say that criticism helps and will not offend, and ask "
            "what one thing could make the sessions more useful.")


@lru_cache(maxsize=512)
def _steps(rupture: RuptureType, component: str | None, container: bool,
           split_member: str | None, discrepancy: bool, early: bool,
           ceiling: bool, first: bool = False) -> tuple[RepairStep, ...]:
    return tuple(_build_steps(rupture, component, container=container,
                              split_member=split_member, discrepancy=discrepancy, early=early,
                              ceiling=ceiling, first=first))


def repair_steps(rupture: RuptureType, component: str | None, *,
                 container: bool = False, split_member: str | None = None,
                 discrepancy: bool = False, early: bool = False,
                 ceiling: bool = False, first: bool = False) -> list[RepairStep]:
    """The ordered steps for an alert (``first``: the strain is in the first rated session,
    so no step speaks of an earlier level).

    >>> [s.phase for s in repair_steps("withdrawal", "task", container=True)]
    ['notice', 'frame', 'name', 'own_part', 'renegotiate', 'feedback']
    """
    return list(_steps(rupture, component, container, split_member, discrepancy, early,
                       ceiling, first))


def _build_steps(rupture: RuptureType, component: str | None, *,
                 container: bool = False, split_member: str | None = None,
                 discrepancy: bool = False, early: bool = False,
                 ceiling: bool = False, first: bool = False) -> list[RepairStep]:
    steps = [RepairStep("notice", _NOTICE[rupture], "")]
    if early:
        steps.append(RepairStep("notice", _EARLY, ""))
    if container:
        steps.append(RepairStep("frame", _FRAME, "exploratory: link to wider patterns"))
    steps.append(RepairStep("name", _NAME[rupture],
                            "exploratory: invite talk about the relationship"
                            + ("; validate the defensive stance" if rupture == "withdrawal"
                               else "")))
    if split_member:
        steps.append(RepairStep("name", _BALANCE.format(member=split_member),
                                "exploratory: invite talk about the relationship"))
    if discrepancy:
        steps.append(RepairStep("name", _DISCREPANCY, "exploratory: invite talk about the "
                                                      "relationship"))
    steps.append(RepairStep("own_part", _OWN, "exploratory: acknowledge own contribution"))
    steps.append(RepairStep("renegotiate", _RENEGOTIATE.get(component, _RENEGOTIATE[None]),
                            "immediate: change the task or goal; give a rationale"))
    if ceiling:
        steps.append(RepairStep("feedback", _CEILING, ""))
    steps.append(RepairStep("feedback", _FEEDBACK_FIRST if first else _FEEDBACK, ""))
    return steps


def phases(steps: Sequence[RepairStep]) -> list[str]:
    return [s.phase for s in steps]
