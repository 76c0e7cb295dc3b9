"""Progress: the outcome beside the alliance, and what an off-track outcome means for the alert.

:func:`assess_progress` reads each outcome series of a case (:func:`outcome_series`) against
the clinic's expected-response curves (:mod:`alliance.monitoring.outcomes`) and adds a
``not_on_track`` signal (severity ``act``) from the session where the flag was raised. When a
case is not on track **and** its alliance is low or falling (a recent ``low_alliance``,
``drop``, ``early_warning`` or unrepaired ``rupture_repair`` signal), the alert leads with
alliance repair: feedback helps most for not-on-track clients, and the first thing to review
with them is the relationship (Lambert & Shimokawa 2011; Harmon et al. 2007, the
clinical-support tools of OQ-Analyst). A not-on-track case with a sound alliance gets an
alert that says so and asks for a review of the plan instead.

Example: an alliance drop at session 3 and a PHQ-9 that rises against the expected fall.

>>> from alliance.monitoring import monitor_case, parse_cases
>>> from alliance.monitoring.outcomes import load_expected_response
>>> case = parse_cases({"cases": [{"id": "c1", "modality": "individual",
...     "members": [{"id": "m1", "role": "client"}],
...     "sessions": [{"number": n, "attendance": "attended", "ratings": [
...         {"rater": "m1", "instrument": "pulse-3", "items": {"bond": a, "goal": a, "task": a}},
...         {"rater": "m1", "instrument": "phq-9", "items": {f"phq{i}": p for i in range(1, 10)}}]}
...         for n, a, p in [(1, 6, 2), (2, 6, 3), (3, 3, 3)]]}]})[0]
>>> progress = assess_progress(case, monitor_case(case), {"phq-9": load_expected_response("phq-9")})
>>> progress.not_on_track, progress.alliance_strained
(True, True)
>>> progress.report.alert.headline.split(":")[0], progress.report.alert.steps[0].phase
('ACT', 'alliance_first')
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from alliance.errors import InputFileError
from alliance.instruments import Catalog, builtin_catalog
from alliance.monitoring.alerts import Alert, alert_id
from alliance.monitoring.casefile import Case
from alliance.monitoring.guidance import RepairStep, repair_steps
from alliance.monitoring.outcomes import (
    ExpectedResponse,
    Tracking,
    load_expected_response,
    outcome_series,
    parse_expected_response,
    track_outcome,
)
from alliance.monitoring.report import CaseReport
from alliance.monitoring.signals import Signal

#: Alliance rules whose recent firing means "low or falling".
STRAIN_KINDS = ("low_alliance", "drop", "early_warning", "rupture_repair")
RECENT_SESSIONS = 3

_ALLIANCE_FIRST = ("Review the alliance first: this client is not on track on {outcome}, and "
                   "for clients who are not on track the relationship is the first thing to "
                   "look at. Show them both charts and ask how the work with you is going "
                   "before changing the treatment.")
_REVIEW_PLAN = ("Review the plan with the client: {outcome} is not improving as expected "
                "while the alliance looks sound. Ask what is and is not helping, check the "
                "goals and consider a change of approach, intensity or a consultation.")


@dataclass(frozen=True)
class Progress:
    """A case report with the outcome read in, and what that reading found."""

    report: CaseReport
    tracks: Mapping[tuple[str, str], Tracking] = field(default_factory=dict)
    not_on_track: bool = False
    alliance_strained: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The report's dict plus ``not_on_track`` and an ``outcome`` entry per series."""
        data = self.report.to_dict()
        data["not_on_track"] = self.not_on_track
        data["outcome"] = [
            {"rater": rater, "instrument": inst, "band": t.band, "intake": t.intake,
             "not_on_track_from": t.not_on_track_from, "source": t.source,
             "points": [{"session": p.session, "score": p.score, "expected": p.expected,
                         "lower": p.lower, "upper": p.upper, "off_track": p.off_track}
                        for p in t.points]}
            for (rater, inst), t in sorted(self.tracks.items())]
        return data


def assess_progress(case: Case, report: CaseReport, models: Mapping[str, ExpectedResponse],
                    catalog: Catalog | None = None, *,
                    recent_sessions: int = RECENT_SESSIONS) -> Progress:
    """Read ``case``'s outcome series against ``models`` (instrument id → curves) and fold a
    not-on-track finding into ``report`` (see the module docstring). Series of instruments
    without curves are left out."""
    catalog = catalog if catalog is not None else builtin_catalog()
    tracks: dict[tuple[str, str], Tracking] = {}
    signals: list[Signal] = []
    for (rater, inst), series in outcome_series(case, catalog).items():
        model = models.get(inst)
        if model is None:
            continue
        track = track_outcome(series, model)
        tracks[(rater, inst)] = track
        if track.not_on_track_from is not None:
            signals.append(_signal(rater, track))
    if not signals:
        return Progress(report, tracks)
    numbers = sorted(s.number for s in case.sessions)
    recent_from = numbers[-min(recent_sessions, len(numbers))]
    strain = [s for s in report.signals if s.kind in STRAIN_KINDS and s.severity != "info"
              and s.session >= recent_from and not s.ambiguous]
    alert = _alert(case.id, report.alert, signals, strain)
    merged = replace(report, signals=[*report.signals, *signals], alert=alert)
    return Progress(merged, tracks, True, bool(strain))


def expected_models(catalog: Catalog, folder: Path | None = None
                    ) -> dict[str, ExpectedResponse]:
    """The expected-response curves for the catalogue's outcome instruments: the clinic's own
    ``folder/<instrument>.json`` (written by ``alliance outcomes fit``) where present, else the
    bundled default (fitted on synthetic data, and labelled so); instruments with neither are
    left out."""
    out: dict[str, ExpectedResponse] = {}
    for inst in catalog.values():
        if inst.kind != "outcome":
            continue
        own = folder / f"{inst.id}.json" if folder is not None else None
        if own is not None and own.is_file():
            try:
                data = json.loads(own.read_text("utf-8"))
            except (OSError, ValueError) as exc:
                raise InputFileError(f"{own}: cannot read expected-response curves "
                                     f"({exc})") from None
            out[inst.id] = parse_expected_response(data, str(own))
            continue
        try:
            out[inst.id] = load_expected_response(inst.id)
        except InputFileError:
            continue
    return out


def _signal(rater: str, track: Tracking) -> Signal:
    flagged = next(p for p in track.points if p.session == track.not_on_track_from)
    worse = "above" if flagged.score > flagged.expected else "below"
    edge = flagged.upper if worse == "above" else flagged.lower
    member = None if rater in ("therapist", "observer") else rater
    return Signal(
        "not_on_track", flagged.session, member, "act",
        {"instrument": track.instrument, "intake": track.intake, "band": track.band,
         "score": flagged.score, "expected": round(flagged.expected, 1),
         "limit": round(edge, 1), "source": track.source},
        f"{track.instrument} {flagged.score:g} at session {flagged.session} is {worse} the "
        f"tolerance band ({edge:.1f}; expected {flagged.expected:.1f} for an intake of "
        f"{track.intake:g}, {track.band}) at two ratings in a row: not on track.")


def _alert(case_id: str, alert: Alert | None, off: Sequence[Signal],
           strain: Sequence[Signal]) -> Alert:
    outcome = ", ".join(sorted({str(s.evidence["instrument"]) for s in off}))
    latest = max(off, key=lambda s: s.session)
    if strain:
        lead = RepairStep("alliance_first", _ALLIANCE_FIRST.format(outcome=outcome),
                          "exploratory: invite talk about the relationship")
        headline = (f"ACT: Not on track on {outcome} and the alliance is low or falling "
                    f"(session {max(s.session for s in strain)}): repair the alliance first")
    else:
        lead = RepairStep("review_plan", _REVIEW_PLAN.format(outcome=outcome), "")
        headline = f"ACT: Not on track on {outcome} (session {latest.session}); alliance sound"
    if alert is None:
        rest: tuple[RepairStep | str, ...] = (
            tuple(repair_steps("unspecified", None)) if strain else ())
        return Alert(id=alert_id(case_id, min(s.session for s in off)), case_id=case_id,
                     severity="act", headline=headline, evidence=(*off, *strain),
                     steps=(lead, *rest))
    return replace(alert, severity="act", headline=headline,
                   evidence=(*off, *alert.evidence), steps=(lead, *alert.steps))


__all__ = ["Progress", "assess_progress", "expected_models"]
