"""How well the detector recovers planted events: precision and recall per event type.

Compares :class:`~alliance.monitoring.report.CaseReport` objects with the ground truth of
:func:`alliance.monitoring.synthetic.generate`. What counts as a detection of each event
type at default settings (documented in ``docs/monitoring.md``):

* ``ruptures``: a closed episode under the strict 2 SD criterion for the planted member whose
  drop is at the planted session or the next, with the same verdict (repaired / unrepaired);
* ``deficits``: at least two ``component_deficit`` signals (watch or act) for the member,
  naming the component;
* ``splits``: at least two ``split_alliance`` signals naming the member; a detection naming a
  member with a planted rupture or deficit also counts as correct (it really lowers that one
  member's alliance below the others'), but recall counts planted splits only;
* ``ceilings``: a ``ceiling`` signal for the member;
* ``strain``: at least two ``container_strain`` signals showing a pattern (recurrent missed
  sessions, a lateness streak or rising cancellations); in a case with a planted dropout this
  also counts as correct (a dropout is the frame giving way), recall counts planted strain;
* ``dropouts``: a ``container_strain`` signal with the ``missed_run`` pattern;
* ``hidden`` / ``ambiguous``: a ``hidden_rupture`` signal at the planted session, not
  ambiguous / ambiguous;
* ``discrepancies``: at least two ``rater_discrepancy`` signals for the member; a detection for
  a member with a planted rupture, deficit or split also counts as correct (the generator's
  therapist does not see them, so the therapist really does rate that member's alliance
  higher), recall counts planted discrepancies.

Precision = detections matching a planted event / all detections; recall = planted events
detected / all planted events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from alliance.monitoring.report import CaseReport

EVENT_TYPES: tuple[str, ...] = ("ruptures", "deficits", "splits", "ceilings", "strain",
                                "dropouts", "hidden", "ambiguous", "discrepancies")
_PATTERNS = {"recurrent_missed", "lateness_streak", "rising_cancellations"}


def detections(report: CaseReport) -> dict[str, set[tuple[Any, ...]]]:
    """The detector's events for one case, keyed as the ground truth keys them."""
    out: dict[str, set[tuple[Any, ...]]] = {t: set() for t in EVENT_TYPES}
    for ep in report.episodes:
        if ep.criterion == "2sd" and not ep.open:
            out["ruptures"].add((ep.member, ep.drop_session, ep.status))
    sig = [s for s in report.signals if s.severity != "info" or s.ambiguous]
    deficit = Counter((s.member, s.evidence["component"]) for s in sig
                      if s.kind == "component_deficit")
    out["deficits"] = {k for k, n in deficit.items() if n >= 2}
    split = Counter(s.member for s in sig if s.kind == "split_alliance")
    out["splits"] = {(m,) for m, n in split.items() if n >= 2}
    out["ceilings"] = {(s.member,) for s in report.signals if s.kind == "ceiling"}
    strain = [s for s in sig if s.kind == "container_strain"
              and _PATTERNS & set(s.evidence["patterns"])]
    if len(strain) >= 2:
        out["strain"].add(("case",))
    if any(s.kind == "container_strain" and "missed_run" in s.evidence["patterns"]
           for s in report.signals):
        out["dropouts"].add(("case",))
    for s in report.signals:
        if s.kind == "hidden_rupture":
            out["ambiguous" if s.ambiguous else "hidden"].add((s.session,))
    disc = Counter(s.member for s in sig if s.kind == "rater_discrepancy")
    out["discrepancies"] = {(m,) for m, n in disc.items() if n >= 2}
    return out


def planted(events: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in EVENT_TYPES}
    for key, rows in events.items():
        if key == "hidden":
            for r in rows:
                out["ambiguous" if r["ambiguous"] else "hidden"].append(r)
        elif key in out:
            out[key].extend(rows)
    return out


def _explained(kind: str, events: Mapping[str, Any], found: tuple[Any, ...]) -> bool:
    """A detection the generator caused without planting it under this name."""
    if kind == "splits":
        return any(r["member"] == found[0] for key in ("ruptures", "deficits")
                   for r in events.get(key, ()))
    if kind == "strain":
        return bool(events.get("dropouts"))
    if kind == "discrepancies":
        return any(r["member"] == found[0] for key in ("ruptures", "deficits", "splits")
                   for r in events.get(key, ()))
    return False


def _matches(kind: str, truth: dict[str, Any], found: tuple[Any, ...]) -> bool:
    if kind == "ruptures":
        member, drop, status = found
        return bool(member == truth["member"] and truth["drop_session"] <= drop
                    <= truth["drop_session"] + 1 and status == truth["status"])
    if kind == "deficits":
        return found == (truth["member"], truth["component"])
    if kind in ("splits", "ceilings", "discrepancies"):
        return found == (truth["member"],)
    if kind in ("strain", "dropouts"):
        return True
    return found == (truth["session"],)


def recovery(reports: Iterable[CaseReport], truth: Mapping[str, Any]) -> dict[str, Any]:
    """Precision and recall per event type over all cases in ``reports``."""
    tally: dict[str, Counter[str]] = {t: Counter() for t in EVENT_TYPES}
    cases = truth["cases"]
    for report in reports:
        found = detections(report)
        plants = planted(cases[report.case_id])
        for kind in EVENT_TYPES:
            t, f = plants[kind], found[kind]
            tally[kind]["planted"] += len(t)
            tally[kind]["detected"] += len(f)
            tally[kind]["recalled"] += sum(any(_matches(kind, x, y) for y in f) for x in t)
            tally[kind]["correct"] += sum(
                any(_matches(kind, x, y) for x in t) or _explained(kind, cases[report.case_id], y)
                for y in f)
    out: dict[str, Any] = {}
    for kind, c in tally.items():
        out[kind] = {
            "planted": c["planted"], "detected": c["detected"],
            "precision": c["correct"] / c["detected"] if c["detected"] else None,
            "recall": c["recalled"] / c["planted"] if c["planted"] else None}
    total = sum((c for c in tally.values()), Counter())
    out["overall"] = {
        "planted": total["planted"], "detected": total["detected"],
        "precision": total["correct"] / total["detected"] if total["detected"] else None,
        "recall": total["recalled"] / total["planted"] if total["planted"] else None}
    return out
