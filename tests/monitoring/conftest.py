"""Builders for small hand-made case files used across the monitoring tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from alliance.monitoring import Case, parse_cases


def pulse(value: int | Sequence[int]) -> dict[str, int]:
    """pulse-3 items: one value for all three, or (bond, goal, task)."""
    b, g, t = (value, value, value) if isinstance(value, int) else value
    return {"bond": b, "goal": g, "task": t}


def a12(bond: int, goal: int, task: int) -> dict[str, int]:
    """alliance-12 items with every item of a subscale at the same *scored* value (reverse
    items are entered reversed, so each subscale sums to 4 x value)."""
    items: dict[str, int] = {}
    for prefix, v in (("b", bond), ("g", goal), ("t", task)):
        for n in range(1, 5):
            items[f"{prefix}{n}"] = 6 - v if n == 3 else v
    return items


def case_dict(values: Sequence[Any], *, instrument: str = "pulse-3", case_id: str = "c1",
              member: str = "m1", items: Callable[[Any], dict[str, Any]] = pulse,
              attendance: Sequence[str] | None = None, homework: Sequence[str] | None = None,
              extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One individual case; ``values[i]`` is session i+1's rating (``None``: not rated)."""
    sessions = []
    for n, v in enumerate(values, 1):
        att = attendance[n - 1] if attendance else "attended"
        s: dict[str, Any] = {"number": n, "attendance": att}
        if homework:
            s["homework"] = homework[n - 1]
        if v is not None and att in ("attended", "late"):
            s["ratings"] = [{"rater": member, "instrument": instrument, "items": items(v)}]
        sessions.append(s)
    case = {"id": case_id, "modality": "individual",
            "members": [{"id": member, "role": "client"}], "sessions": sessions}
    case.update(extra or {})
    return {"cases": [case]}


def one_case(data: dict[str, Any]) -> Case:
    return parse_cases(data)[0]


@pytest.fixture
def build() -> Callable[..., Case]:
    return lambda values, **kw: one_case(case_dict(values, **kw))
