"""Expected treatment response: is the client on track?

The approach of OQ-Analyst's clinical-support tools (Lambert et al. 2001; Finch, Lambert &
Schaalje 2001): from the clinic's own outcome data, fit how much clients who start at a given
severity are expected to have changed by each session, with a tolerance band around that
expectation; a client whose outcome falls outside the band, on the worse side, is *not on
track*. Feedback helps most for those clients, and the first thing to look at with them is
the alliance (Lambert & Shimokawa 2011; Harmon et al. 2007).

Model, per instrument and intake band (the instrument's own severity bands, or its clinical
cutoff, or one group), with ``t`` the rated session's rank since intake (intake ``t = 1``):

* expected change ``E[y_t - y_1] = b * ln t`` (fast early change that levels off, the
  dose-response shape; ``b`` by least squares through the origin);
* the spread of individual paths around it grows with time: ``Var(e_t) = s0^2 + s1^2 ln t``,
  fitted by least squares on the squared residuals (each term floored at zero);
* the tolerance band is ``expected +- z * sqrt(Var(e_t))`` with ``z = 1.96`` by default: a
  client is flagged only beyond the one-sided 97.5% limit, at two ratings in a row. (On the
  synthetic generator's planted paths, seeds 12-14, z = 1.645 gave precision 0.85 at recall
  0.94, z = 1.96 gave 0.93 at 0.91; z = 2.33 gave 0.97 at 0.86. The clinic may choose.)

A client is *off track* at a session when the score lies beyond the band on the worse side
(above it when ``higher_is: worse``, as on the PHQ-9; below it on the ORS); *not on track*
once that holds at ``consecutive`` rated sessions in a row (two by default, so that one noisy
rating does not raise a flag).

Example (a hand-sized fit: every client improves by 3 points per unit of ``ln t``):

>>> import math
>>> import pandas as pd
>>> rows = [(c, s, 20 - 3 * math.log(s) + (0.5 if c % 2 else -0.5) * (s > 1))
...         for c in range(20) for s in range(1, 9)]
>>> table = pd.DataFrame(rows, columns=["case_id", "session", "score"])
>>> model = fit_expected_response(table, "phq-9")
>>> curve = model.curve_for(20)
>>> round(curve.slope, 2), curve.label
(-3.0, 'severe')
>>> round(curve.expected(20, 4), 2)
15.84
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from alliance.errors import InputFileError
from alliance.instruments import Catalog, Instrument, builtin_catalog
from alliance.monitoring.casefile import Case

Z_DEFAULT = 1.96
MIN_CASES_PER_BAND = 10
FORMAT = "alliance.expected-response/1"


@dataclass(frozen=True)
class ExpectedCurve:
    """The expected path and tolerance for clients whose intake score lies in one band."""

    label: str
    intake_from: float            # the band's lower edge (inclusive); -inf for the lowest
    intake_to: float              # upper edge (exclusive); inf for the highest
    slope: float                  # expected change per unit of ln(session rank)
    var_base: float               # s0^2
    var_growth: float             # s1^2
    cases: int

    def expected(self, intake: float, rank: int) -> float:
        return intake + self.slope * math.log(max(rank, 1))

    def half_width(self, rank: int, z: float) -> float:
        return z * math.sqrt(max(self.var_base + self.var_growth * math.log(max(rank, 1)),
                                 1e-12))


@dataclass(frozen=True)
class ExpectedResponse:
    """Expected-change curves for one outcome instrument, with where they came from."""

    instrument: str
    higher_is: str
    z: float
    curves: tuple[ExpectedCurve, ...]
    source: str
    cases: int = 0

    def curve_for(self, intake: float) -> ExpectedCurve:
        for curve in self.curves:
            if curve.intake_from <= intake < curve.intake_to:
                return curve
        return self.curves[-1] if intake >= self.curves[-1].intake_from else self.curves[0]

    def to_dict(self) -> dict[str, Any]:
        def edge(x: float) -> float | None:
            return None if math.isinf(x) else x

        return {"format": FORMAT, "instrument": self.instrument, "higher_is": self.higher_is,
                "z": self.z, "source": self.source, "cases": self.cases,
                "curves": [{**asdict(c), "intake_from": edge(c.intake_from),
                            "intake_to": edge(c.intake_to)} for c in self.curves]}


@dataclass(frozen=True)
class TrackPoint:
    """One rated session of one client against the expected path."""

    session: int
    rank: int
    score: float
    expected: float
    lower: float
    upper: float
    off_track: bool


@dataclass(frozen=True)
class Tracking:
    """A client's outcome series read against the expected response."""

    instrument: str
    intake: float
    band: str
    points: tuple[TrackPoint, ...]
    not_on_track_from: int | None = None        # the session where the flag was raised
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def not_on_track(self) -> bool:
        return self.not_on_track_from is not None


def _bands(inst: Instrument) -> list[tuple[str, float]]:
    """(label, lower edge) of the intake groups, lowest first."""
    if inst.bands:
        bands = sorted(inst.bands, key=lambda b: b.at_least)
        first = "below " + bands[0].label
        return [(first, -math.inf), *((b.label, b.at_least) for b in bands)]
    cut = inst.cutoff()
    if cut is not None:
        low, high = (cut.label, "above " + cut.label) if inst.higher_is == "better" else (
            "below " + cut.label, cut.label)
        return [(low, -math.inf), (high, cut.below)]
    return [("all", -math.inf)]


def _series(table: Any) -> dict[str, list[tuple[int, float]]]:
    for col in ("case_id", "session", "score"):
        if col not in table.columns:
            raise InputFileError(f"outcome table: column {col!r} is missing; expected "
                                 f"case_id, session and score")
    out: dict[str, list[tuple[int, float]]] = {}
    for case_id, session, score in zip(table["case_id"], table["session"], table["score"],
                                       strict=True):
        try:
            s, y = int(session), float(score)
        except (TypeError, ValueError):
            raise InputFileError(f"outcome table: case {case_id}: session {session!r} and "
                                 f"score {score!r} must be numbers") from None
        if not math.isnan(y):
            out.setdefault(str(case_id), []).append((s, y))
    for rows in out.values():
        rows.sort()
    return out


def fit_expected_response(table: Any, instrument: str, *, catalog: Catalog | None = None,
                          z: float = Z_DEFAULT, min_cases: int = MIN_CASES_PER_BAND,
                          source: str | None = None) -> ExpectedResponse:
    """Fit expected-change curves from a long table ``case_id, session, score``.

    Clients with fewer than two rated sessions carry no information on change and are left
    out; an intake band with fewer than ``min_cases`` clients is merged into its neighbour
    (downwards, else upwards) so that no curve rests on a handful of paths.
    """
    catalog = catalog if catalog is not None else builtin_catalog()
    inst = catalog[instrument]            # an unknown id is an InstrumentError naming the known
    if inst.kind != "outcome":
        outcome_ids = ", ".join(i.id for i in catalog.values() if i.kind == "outcome")
        raise InputFileError(f"{instrument} is an alliance measure; expected change is fitted "
                             f"for outcome measures ({outcome_ids})")
    series = {k: v for k, v in _series(table).items() if len(v) >= 2}
    if len(series) < min_cases:
        raise InputFileError(f"{instrument}: {len(series)} clients with at least two rated "
                             f"sessions; at least {min_cases} are needed to fit expected "
                             f"change")
    groups = _bands(inst)
    members: list[list[list[tuple[int, float]]]] = [[] for _ in groups]
    for rows in series.values():
        intake = rows[0][1]
        index = max(i for i, (_, lo) in enumerate(groups) if intake >= lo)
        members[index].append(rows)
    # Empty groups give their range to the group below (the lowest gives it to the next);
    # then groups thinner than min_cases merge into a neighbour, so that no curve rests on a
    # handful of paths. The merged label names every band it covers.
    edges = [lo for _, lo in groups]
    labels = [label for label, _ in groups]
    for i in reversed(range(len(members))):
        if not members[i] and len(members) > 1:
            if i == 0:
                edges[1] = edges[0]
            del members[i], edges[i], labels[i]
    i = 0
    while len(members) > 1 and i < len(members):
        if len(members[i]) >= min_cases:
            i += 1
            continue
        j = i - 1 if i > 0 else i + 1
        members[j].extend(members[i])
        if j < i:
            labels[j] = f"{labels[j]} / {labels[i]}"
        else:
            edges[j] = edges[i]
            labels[j] = f"{labels[i]} / {labels[j]}"
        del members[i], edges[i], labels[i]
        i = max(i - 1, 0)
    curves = []
    for k, paths in enumerate(members):
        upper = edges[k + 1] if k + 1 < len(edges) else math.inf
        curves.append(_fit_group(labels[k], edges[k], upper, paths))
    return ExpectedResponse(
        instrument=instrument, higher_is=inst.higher_is, z=z, curves=tuple(curves),
        cases=len(series),
        source=source or f"fitted on {len(series)} clients' {instrument} scores")


def _fit_group(label: str, lower: float, upper: float,
               paths: Sequence[Sequence[tuple[int, float]]]) -> ExpectedCurve:
    ranks, changes = [], []
    for rows in paths:
        intake = rows[0][1]
        for rank, (_, y) in enumerate(rows[1:], start=2):
            ranks.append(rank)
            changes.append(y - intake)
    r, d = np.array(ranks), np.array(changes, dtype=float)
    x = np.log(r)
    keep = np.ones(len(d), dtype=bool)
    base = growth = 0.0
    slope = 0.0
    # Two rounds: fit, then refit without points more than 2.5 robust SDs off. The band must
    # describe the clients who respond as usual, not be widened by the minority who worsen,
    # whom it exists to catch (the OQ curves were likewise fitted on typical change).
    for _ in range(2):
        slope = float((x[keep] @ d[keep]) / (x[keep] @ x[keep]))
        resid = d - slope * x
        base, growth = _spread(r[keep], x[keep], resid[keep])
        sd = np.sqrt(np.maximum(base + growth * x, 1e-12))
        keep = np.abs(resid) <= 2.5 * sd + 1e-9
        if keep.sum() < 2:
            break
    return ExpectedCurve(label=label, intake_from=lower, intake_to=upper, slope=slope,
                         var_base=base, var_growth=growth, cases=len(paths))


def _spread(ranks: np.ndarray, logs: np.ndarray, resid: np.ndarray) -> tuple[float, float]:
    """``(s0^2, s1^2)`` of ``Var(e) = s0^2 + s1^2 ln t`` from robust per-rank variances
    (1.4826 x median absolute deviation), weighted by the number of points at each rank."""
    ls, vs, ws = [], [], []
    for rank in np.unique(ranks):
        e = resid[ranks == rank]
        if len(e) < 3:
            continue
        mad = 1.4826 * float(np.median(np.abs(e - np.median(e))))
        ls.append(math.log(rank))
        vs.append(mad * mad)
        ws.append(len(e))
    if not vs:
        return max(float(np.var(resid)), 1e-6), 0.0
    lx, v, w = np.array(ls), np.array(vs), np.sqrt(np.array(ws, dtype=float))
    design = np.column_stack([np.ones_like(lx), lx]) * w[:, None]
    (base, growth), *_ = np.linalg.lstsq(design, v * w, rcond=None)
    if growth < 0 or base <= 0:      # keep the variance positive and not shrinking with time
        growth = max(float(growth), 0.0)
        base = max(float(np.average(v - growth * lx, weights=w)), 1e-6)
    return float(base), float(growth)


def track_outcome(scores: Iterable[tuple[int, float]], model: ExpectedResponse, *,
          consecutive: int = 2) -> Tracking:
    """Read one client's ``(session, score)`` series against ``model``.

    >>> model = load_expected_response("phq-9")
    >>> t = track_outcome([(1, 18), (2, 17), (3, 19), (4, 21), (5, 22)], model)
    >>> t.band, [p.off_track for p in t.points], t.not_on_track_from
    ('moderately severe', [False, False, False, True, True], 5)
    >>> round(t.points[3].upper, 1)          # 18 - 2.93 ln 4, plus 1.96 SD at the 4th rating
    18.8
    """
    rows = sorted((int(s), float(y)) for s, y in scores if not math.isnan(float(y)))
    if not rows:
        raise InputFileError(f"{model.instrument}: no rated session to track")
    intake = rows[0][1]
    curve = model.curve_for(intake)
    worse_is_higher = model.higher_is == "worse"
    points, run, flagged = [], 0, None
    for rank, (session, y) in enumerate(rows, start=1):
        expected = curve.expected(intake, rank)
        half = curve.half_width(rank, model.z) if rank > 1 else 0.0
        off = rank > 1 and (y > expected + half if worse_is_higher else y < expected - half)
        run = run + 1 if off else 0
        if flagged is None and run >= consecutive:
            flagged = session
        points.append(TrackPoint(session, rank, y, expected, expected - half, expected + half,
                                 off))
    notes = () if len(rows) > 1 else ("one rated session: nothing to compare yet",)
    return Tracking(instrument=model.instrument, intake=intake, band=curve.label,
                    points=tuple(points), not_on_track_from=flagged, source=model.source,
                    notes=notes)


def outcome_series(case: Case, catalog: Catalog | None = None
                   ) -> dict[tuple[str, str], list[tuple[int, float]]]:
    """Each (rater, outcome instrument)'s valid totals by session number in ``case``."""
    catalog = catalog if catalog is not None else builtin_catalog()
    out: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for session in case.sessions:
        for r in session.ratings:
            inst = catalog.get(r.instrument)
            if inst is None or inst.kind != "outcome" or not r.score.total.valid:
                continue
            out.setdefault((r.rater, r.instrument), []).append(
                (session.number, float(r.score.total.raw)))  # type: ignore[arg-type]
    return out


def outcome_table(cases: Iterable[Case], instrument: str,
                  catalog: Catalog | None = None) -> Any:
    """The long table ``case_id, rater, session, score`` of one outcome instrument, for
    :func:`fit_expected_response` (one series per case and rater)."""
    import pandas as pd

    rows = [(f"{case.id}/{rater}", rater, session, score)
            for case in cases
            for (rater, inst), series in outcome_series(case, catalog).items()
            if inst == instrument for session, score in series]
    return pd.DataFrame(rows, columns=["case_id", "rater", "session", "score"])


def parse_expected_response(data: Mapping[str, Any], origin: str = "<expected>"
                            ) -> ExpectedResponse:
    """Read the JSON written by :meth:`ExpectedResponse.to_dict`."""
    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise InputFileError(f"{origin}: not an expected-response file (format {FORMAT})")
    try:
        curves = tuple(ExpectedCurve(
            label=str(c["label"]),
            intake_from=-math.inf if c["intake_from"] is None else float(c["intake_from"]),
            intake_to=math.inf if c["intake_to"] is None else float(c["intake_to"]),
            slope=float(c["slope"]), var_base=float(c["var_base"]),
            var_growth=float(c["var_growth"]), cases=int(c["cases"]))
            for c in data["curves"])
        model = ExpectedResponse(instrument=str(data["instrument"]),
                                 higher_is=str(data["higher_is"]), z=float(data["z"]),
                                 curves=curves, source=str(data["source"]),
                                 cases=int(data.get("cases", 0)))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputFileError(f"{origin}: malformed expected-response file ({exc!r})") from None
    if not curves or model.higher_is not in ("better", "worse"):
        raise InputFileError(f"{origin}: an expected-response file needs curves and "
                             f"higher_is better|worse")
    return model


def load_expected_response(instrument: str) -> ExpectedResponse:
    """The bundled default curves for ``instrument`` (fitted on synthetic data, and labelled
    so: replace them with your clinic's own, ``alliance outcomes fit``)."""
    folder = resources.files("alliance.monitoring") / "expected"
    entry = folder / f"{instrument}.json"
    if not entry.is_file():
        raise InputFileError(f"no bundled expected-response curves for {instrument!r}; fit "
                             f"your own with `alliance outcomes fit`")
    return parse_expected_response(json.loads(entry.read_text("utf-8")),
                                   f"expected/{instrument}.json")


__all__ = ["ExpectedCurve", "ExpectedResponse", "TrackPoint", "Tracking",
           "fit_expected_response", "load_expected_response", "outcome_series",
           "outcome_table", "parse_expected_response", "track_outcome"]
