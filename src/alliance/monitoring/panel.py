"""The panel: a case's (or many cases') sessions and rating series as aligned arrays.

Every rule runs on a :class:`Panel`, vectorised across rows and stepping through session
columns. The per-case path builds a one-case panel from a parsed :class:`Case`
(:func:`panel_from_cases`, scores from :func:`~alliance.instruments.score_response`); the
batch path builds a panel for many cases from long tables (:mod:`alliance.monitoring.batch`,
scores from :func:`~alliance.instruments.score_table`). Both must build identical rows, which
the benchmark and a test check.

Layout
------
* case arrays, shape ``(C, S)``: column ``j`` is the case's ``j``-th session in ascending
  session number, padded with ``NaN`` / ``-1`` past the case's last session;
* series arrays, shape ``(R, S)``: one row per (case, rater, instrument), aligned to the same
  session columns; ``NaN`` where that rater gave no valid rating.
Rows are sorted by (case, rater, instrument) so both builders agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from alliance.instruments import TOTAL, Catalog, Instrument, builtin_catalog
from alliance.monitoring.casefile import ATTENDANCE, HOMEWORK, Case
from alliance.monitoring.policy import InstrumentParams, Policy

COMPONENTS: tuple[str, ...] = ("bond", "goal", "task")
MARKERS: tuple[str, ...] = ("withdrawal", "confrontation", "unresolved", "threats")
MEMBER_ROLES: frozenset[str] = frozenset({"client", "family_member"})


@dataclass
class Panel:
    """Aligned arrays of sessions (per case) and rating series (per case, rater, instrument)."""

    case_ids: list[str]
    modality: list[str]
    members: list[tuple[str, ...]]           # member ids per case, in file order
    normative: list[frozenset[str]]
    session_no: np.ndarray                    # (C, S) float, NaN pad
    attendance: np.ndarray                    # (C, S) int8 index into ATTENDANCE, -1 pad
    homework: np.ndarray                      # (C, S) int8 index into HOMEWORK, -1 pad
    minutes_late: np.ndarray                  # (C, S) int
    has_transcript: np.ndarray                # (C, S) bool
    marks: np.ndarray                         # (C, S, 4) int, MARKERS order
    cues: np.ndarray                          # (C, S) object: tuple of cue names
    s_case: np.ndarray                        # (R,) int
    s_rater: np.ndarray                       # (R,) object
    s_role: np.ndarray                        # (R,) object
    s_instrument: np.ndarray                  # (R,) object
    total: np.ndarray                         # (R, S) raw total, NaN when absent or invalid
    pom: np.ndarray                           # (R, S) total, percent of maximum
    comp: dict[str, np.ndarray]               # component -> (R, S) pom of its subscale
    params: list[InstrumentParams]            # per row

    @property
    def n_cases(self) -> int:
        return len(self.case_ids)

    def param(self, name: str) -> np.ndarray:
        return np.array([getattr(p, name) for p in self.params], dtype=float)

    @property
    def is_member(self) -> np.ndarray:
        return np.array([r in MEMBER_ROLES for r in self.s_role], dtype=bool)


def component_subscales(inst: Instrument) -> dict[str, str]:
    """Map bond / goal / task to the id of the subscale measuring it (first one wins)."""
    out: dict[str, str] = {}
    for sub in inst.subscales:
        if sub.component in COMPONENTS and sub.component not in out:
            out[sub.component] = sub.id
    return out


def empty_case_arrays(n_cases: int, width: int) -> dict[str, np.ndarray]:
    cues = np.empty((n_cases, width), dtype=object)
    cues.fill(())
    return {
        "session_no": np.full((n_cases, width), np.nan),
        "attendance": np.full((n_cases, width), -1, dtype=np.int8),
        "homework": np.full((n_cases, width), -1, dtype=np.int8),
        "minutes_late": np.zeros((n_cases, width), dtype=np.int64),
        "has_transcript": np.zeros((n_cases, width), dtype=bool),
        "marks": np.zeros((n_cases, width, len(MARKERS)), dtype=np.int64),
        "cues": cues,
    }


def panel_from_cases(cases: Sequence[Case], policy: Policy,
                     catalog: Catalog | None = None) -> Panel:
    """Build the panel of parsed cases (the per-case path)."""
    catalog = catalog if catalog is not None else builtin_catalog()
    width = max((len(c.sessions) for c in cases), default=0)
    arrays = empty_case_arrays(len(cases), width)
    att_code = {a: i for i, a in enumerate(ATTENDANCE)}
    hw_code = {h: i for i, h in enumerate(HOMEWORK)}
    rows: dict[tuple[int, str, str], dict[int, tuple[float, float, dict[str, float]]]] = {}
    for ci, case in enumerate(cases):
        for j, s in enumerate(case.sessions):
            arrays["session_no"][ci, j] = s.number
            arrays["attendance"][ci, j] = att_code[s.attendance]
            arrays["homework"][ci, j] = hw_code[s.homework]
            arrays["minutes_late"][ci, j] = s.minutes_late
            if s.transcript is not None:
                t = s.transcript
                arrays["has_transcript"][ci, j] = True
                arrays["marks"][ci, j] = (t.withdrawal, t.confrontation, t.unresolved, t.threats)
                arrays["cues"][ci, j] = tuple(t.cues)
            for r in s.ratings:
                total = r.score.total
                if not total.valid:
                    continue
                inst = catalog[r.instrument]
                if inst.kind != "alliance":   # outcome measures are not alliance series
                    continue
                comps: dict[str, float | None] = {
                    c: r.score[sub].pom for c, sub in component_subscales(inst).items()}
                rows.setdefault((ci, r.rater, r.instrument), {})[j] = (
                    float(total.raw), float(total.pom),  # type: ignore[arg-type]
                    {c: (np.nan if v is None else float(v)) for c, v in comps.items()})
    keys = sorted(rows)
    n = len(keys)
    total_arr = np.full((n, width), np.nan)
    pom_arr = np.full((n, width), np.nan)
    comp = {c: np.full((n, width), np.nan) for c in COMPONENTS}
    params = []
    for i, key in enumerate(keys):
        _, _, inst_id = key
        for j, (raw, pom, by_comp) in rows[key].items():
            total_arr[i, j] = raw
            pom_arr[i, j] = pom
            for c, v in by_comp.items():
                comp[c][i, j] = v
        params.append(policy.params_for(catalog[inst_id]))
    return Panel(
        case_ids=[c.id for c in cases], modality=[c.modality for c in cases],
        members=[c.member_ids for c in cases],
        normative=[frozenset(c.context.normative_cues) for c in cases],
        **arrays,
        s_case=np.array([k[0] for k in keys], dtype=np.int64),
        s_rater=np.array([k[1] for k in keys], dtype=object),
        s_role=np.array([cases[k[0]].role_of(k[1]) for k in keys], dtype=object),
        s_instrument=np.array([k[2] for k in keys], dtype=object),
        total=total_arr, pom=pom_arr, comp=comp, params=params)


def consecutive(mask: np.ndarray) -> np.ndarray:
    """For each column, how many columns in a row up to and including it are true."""
    run = np.zeros(mask.shape, dtype=np.int64)
    for j in range(mask.shape[1]):
        run[:, j] = np.where(mask[:, j], (run[:, j - 1] if j else 0) + 1, 0)
    return run


def compress(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left-justify each row's non-NaN values.

    Returns ``(vals, cols, length)``: ``vals[i, k]`` is row ``i``'s ``k``-th present value,
    ``cols[i, k]`` the session column it came from, ``length[i]`` how many there are.
    """
    missing = np.isnan(values)
    order = np.argsort(missing, axis=1, kind="stable")
    vals = np.take_along_axis(values, order, axis=1)
    length = (~missing).sum(axis=1)
    return vals, order, length


__all__ = ["COMPONENTS", "MARKERS", "TOTAL", "Panel", "compress", "panel_from_cases"]
