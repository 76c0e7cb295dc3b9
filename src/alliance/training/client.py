"""The simulated client: an explicit rupture state moved by each trainee response.

The state is Bordin's three components on a 1-5 scale (bond, goal agreement, task
agreement) plus the active 3RS marker (a codebook id such as
``withdrawal.minimal_response``, or ``None`` when no rupture is active). Every move is a
rule below; there is no language model and no randomness, so a session replays exactly.

Raising (each component moves at most one point per turn):

* bond +1 when the response names the rupture, invites the client's view, takes the
  counsellor's share or reflects accurately;
* goal +1 and task +1 when it renegotiates the goal or task.

Lowering:

* ``judgmental``: bond -1 and goal -1; ``defensive``: bond -1 (a step the response also
  took does not offset the harm: harm wins the turn);
* ``technique_first``: task -1 (a technique pushed on a strained alliance costs buy-in).

The marker:

* a ``repair`` verdict resolves the active marker (``None``);
* a judgmental or defensive response turns a withdrawal or safety marker, or a calm client,
  into the case's confrontation subtype (withdrawal -> confrontation);
* technique first on a calm client opens the case's withdrawal subtype (surface
  compliance); on a withdrawn client whose task agreement is already at the floor it
  switches to confrontation;
* a ``partial`` response leaves the marker where it is.

The client answers with the case's scripted line for its new state: the marker's family
(``withdrawal``, ``confrontation`` or ``safety``), or, with no marker, ``engaged`` when every
component is at least 3 and ``opening`` otherwise. Lines of a mode are used in turn.

At the end the client rates the session on ``alliance-12``: each item is answered with the
level of its component; while a marker is still active, the reverse-keyed items (the
"holding back" items) are answered as if that component were one point lower.

>>> from alliance.training.casebook import load_casebook
>>> case = load_casebook()["quiet-homework"]
>>> state = RuptureState.start(case)
>>> state.mode
'withdrawal'
>>> after = next_state(state, "repair", {"named": True, "invited": True}, case)
>>> after.bond, after.marker, after.mode
(4, None, 'opening')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from alliance.errors import TrainingError
from alliance.training.casebook import LEVEL_MAX, LEVEL_MIN, TrainingCase

BOND_STEPS = ("named", "invited", "responsibility", "reflected")
INSTRUMENT = "alliance-12"


def _clamp(x: int) -> int:
    return max(LEVEL_MIN, min(LEVEL_MAX, x))


@dataclass(frozen=True)
class RuptureState:
    bond: int
    goal: int
    task: int
    marker: str | None

    @classmethod
    def start(cls, case: TrainingCase) -> RuptureState:
        s = case.start
        return cls(s.bond, s.goal, s.task, s.marker)

    @property
    def family(self) -> str | None:
        return self.marker.split(".")[0] if self.marker else None

    @property
    def mode(self) -> str:
        """Which set of scripted lines the client speaks from."""
        if self.family is not None:
            return self.family
        return "engaged" if min(self.bond, self.goal, self.task) >= 3 else "opening"

    @property
    def level(self) -> float:
        """Mean of the three components (1-5)."""
        return round((self.bond + self.goal + self.task) / 3, 2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuptureState:
        return cls(int(data["bond"]), int(data["goal"]), int(data["task"]), data["marker"])

    def describe(self) -> str:
        marker = self.marker or "no active marker"
        return f"bond {self.bond}/5, goal {self.goal}/5, task {self.task}/5, {marker}"


def next_state(state: RuptureState, verdict: str, steps: Mapping[str, bool],
               case: TrainingCase) -> RuptureState:
    """The client's state after a response with ``verdict`` and ``steps`` (rules above)."""
    bond, goal, task, marker = state.bond, state.goal, state.task, state.marker
    harmful = verdict in ("judgmental", "defensive")
    if harmful:
        bond -= 1
        if verdict == "judgmental":
            goal -= 1
        if state.family != "confrontation":
            marker = case.confrontation_marker
    elif verdict == "technique_first":
        task -= 1
        if marker is None:
            marker = case.withdrawal_marker
        elif state.family in ("withdrawal", "safety") and state.task <= LEVEL_MIN:
            marker = case.confrontation_marker
    else:
        if any(steps.get(s) for s in BOND_STEPS):
            bond += 1
        if steps.get("renegotiated"):
            goal += 1
            task += 1
        if verdict == "repair":
            marker = None
    return replace(state, bond=_clamp(bond), goal=_clamp(goal), task=_clamp(task),
                   marker=marker)


def client_line(case: TrainingCase, state: RuptureState, used: Mapping[str, int]) -> str:
    """The scripted line for ``state``; ``used`` counts the lines already spoken per mode."""
    mode = state.mode
    if mode == "safety" and "safety" not in case.lines:
        mode = "withdrawal"
    lines = case.lines[mode]
    return lines[used.get(mode, 0) % len(lines)]


def alliance12_answers(state: RuptureState) -> dict[str, int]:
    """The simulated client's ``alliance-12`` answers for its state (rules above)."""
    from alliance.instruments import get_instrument

    inst = get_instrument(INSTRUMENT)
    components = {sub.id: sub.component for sub in inst.subscales}
    levels = {"bond": state.bond, "goal": state.goal, "task": state.task}
    answers: dict[str, int] = {}
    for item in inst.items:
        component = components.get(item.subscale or "")
        if component not in levels:
            raise TrainingError(f"{INSTRUMENT} item {item.id} has no bond/goal/task component")
        level = levels[component]
        if item.reverse:
            if state.marker is not None:
                level = _clamp(level - 1)
            answers[item.id] = LEVEL_MIN + LEVEL_MAX - level
        else:
            answers[item.id] = level
    return answers


def alliance12_rating(state: RuptureState) -> dict[str, Any]:
    """The ``alliance-12`` scores (subscales and total) the simulated client gives."""
    from alliance.instruments import get_instrument, score_response

    score = score_response(get_instrument(INSTRUMENT), alliance12_answers(state))
    return {"instrument": INSTRUMENT,
            "answers": alliance12_answers(state),
            "scores": {name: {"raw": s.raw, "pom": None if s.pom is None else round(s.pom, 1)}
                       for name, s in score.scores.items()}}
