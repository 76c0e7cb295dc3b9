"""A generator of realistic synthetic case files with planted events and their ground truth.

Used by the tests, the demo and the benchmark. Everything is drawn from one seeded
:class:`numpy.random.Generator`, so ``generate(n, seed)`` is reproducible.

The model, per case:

* modality individual 78%, couple 10%, family 7%, group 5% (2, 3-4 and 4-6 members);
  one instrument per case: alliance-12 60%, session-check-4 25%, pulse-3 15%;
* 10-20 weekly sessions; background attendance: attended 88%, late 5.3%, cancelled 4%, late
  cancellation 1.2%, no-show 1.5%; homework assigned in 60% of sessions after the first, done
  75%, partly 15%, not 10%;
* each member's latent alliance (0-100, percent of maximum): a case level drawn around the
  instrument's norm (mean, 0.7 SD; the spec's assumed norms), a member offset ~ N(0, 3),
  growth ~ N(0.5, 0.3) points a session (capped at 95), per-session noise SD 1.5; components
  bond / goal / task add offsets ~ N(0, 3); each item answer is the latent value on the item's
  scale plus a fixed item offset (SD 8% of the range, so that items do not all round
  together) and noise of 3% of the range, rounded;
* a therapist rating in 35% of cases (latent = the members' mean + 3 + noise), transcript
  summaries in 30% (background withdrawal and confrontation markers, all resolved), cultural
  context with normative cues in 15%.

Planted events (recorded in the ground truth):

* ``ruptures`` (30% of cases, one member): a fall of 24-36 points at ``drop_session``;
  ``repaired`` (55%) back above the pre-drop level within 1-3 sessions, else ``unrepaired``
  (stays 55-90% of the depth down for the rest of the case);
* ``deficits`` (15%): one component (task 50%, goal 25%, bond 25%) 30-45 points down from
  ``from_session``, building up over four sessions; a task deficit makes homework mostly undone;
* ``splits`` (35% of multi-member cases): one member 30-40 points below the others;
* ``ceilings`` (6% of members without another event): every answer at the maximum;
* ``strain`` (12%): three missed or late-cancelled sessions two apart, or four late arrivals
  in a row;
* ``dropouts`` (12%): two no-shows in a row end the case, after a slow decline;
* ``hidden`` (40% of cases with transcripts, no split or deficit, and a session where every
  member's latent alliance is at least 82 and 4 points above the cutoff): unresolved markers in
  such a session; with a cultural context, 70% are withdrawal resting only
  on normative cues, recorded as ``ambiguous``;
* ``discrepancies`` (20% of cases with therapist ratings): the therapist rates 25-35 points
  above the client throughout.

With ``outcomes=True`` (:func:`add_outcomes`, drawn from a separate random stream so the
alliance data stay identical) the first client of every case also answers an outcome measure
at each held session: PHQ-9 in 70% of cases (intake total ~ N(15, 5) within 5-27, higher is
worse), ORS in 30% (intake ~ N(19, 6) within 4-34, higher is better). Clients on track
improve by a share ~ N(0.45, 0.1) of their room for change by ``ln(t) / ln 12``, with
answer noise; planted ``not_on_track`` paths (20% of cases) follow that course until a
session between 3 and 6 (with at least four rated sessions after it), then worsen steadily
(PHQ-9 +1 to +2 a session, ORS -1.5 to -3: a reliable worsening within 3-5 sessions);
``risk`` (5% of PHQ-9 cases): item 9 answered above 0 at one session.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from alliance.instruments import Instrument, get_instrument

INSTRUMENTS: tuple[tuple[str, float], ...] = (("alliance-12", 0.6), ("session-check-4", 0.25),
                                              ("pulse-3", 0.15))
MODALITIES: tuple[tuple[str, float], ...] = (("individual", 0.78), ("couple", 0.10),
                                             ("family", 0.07), ("group", 0.05))
ATTENDANCE_P: tuple[tuple[str, float], ...] = (("attended", 0.88), ("late", 0.053),
                                               ("cancelled", 0.04), ("late_cancelled", 0.012),
                                               ("no_show", 0.015))
NORMATIVE = ("deference", "silence", "limited_eye_contact")
WITHDRAWAL_CUES = ("silence", "deference", "minimal_response", "topic_shift",
                   "limited_eye_contact", "abstract_talk")
START = dt.date(2026, 1, 5)


def _choice(rng: np.random.Generator, options: tuple[tuple[str, float], ...]) -> str:
    names = [o[0] for o in options]
    p = np.array([o[1] for o in options])
    return str(names[int(rng.choice(len(names), p=p / p.sum()))])


def _item_plan(inst: Instrument) -> list[tuple[str, str, bool, float, float]]:
    """(item id, component, reverse, min, max) for every item."""
    comp_of = {s.id: (s.component or "overall") for s in inst.subscales}
    plan = []
    for item in inst.items:
        comp = comp_of.get(item.subscale or "", "overall")
        plan.append((item.id, comp, item.reverse, item.scale.min, item.scale.max))
    return plan


def generate(cases: int, seed: int, *, sessions: int | None = None,
             multi_member: bool = True, therapist_ratings: bool = True,
             transcripts: bool = True, id_prefix: str = "syn",
             outcomes: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    """``cases`` synthetic cases: ``(case_file_dict, ground_truth)``.

    ``sessions`` fixes the number of scheduled sessions per case (dropouts still end early);
    the flags switch off multi-member cases, therapist ratings and transcript summaries, e.g.
    for a benchmark of exactly one rating per session; ``outcomes`` adds outcome-measure
    paths (:func:`add_outcomes`).
    """
    rng = np.random.default_rng(seed)
    plans = {name: _item_plan(get_instrument(name)) for name, _ in INSTRUMENTS}
    levels = {name: _level(get_instrument(name)) for name, _ in INSTRUMENTS}
    out_cases: list[dict[str, Any]] = []
    truth: dict[str, Any] = {}
    width = len(str(max(cases, 1)))
    for index in range(cases):
        cid = f"{id_prefix}{index + 1:0{width}d}"
        case, events = _case(rng, cid, plans, levels, sessions, multi_member,
                             therapist_ratings, transcripts)
        out_cases.append(case)
        truth[cid] = events
    data = {"cases": out_cases}
    meta = {"seed": seed, "generator": "alliance.synthetic/1", "cases": truth}
    if outcomes:
        add_outcomes(data, meta, seed)
    return data, meta


OUTCOME_INSTRUMENTS: tuple[tuple[str, float], ...] = (("phq-9", 0.7), ("ors", 0.3))


def add_outcomes(data: dict[str, Any], truth: dict[str, Any], seed: int) -> None:
    """Add an outcome measure to every case's first client, in place (see the module doc).

    The ground truth of each case gains ``outcome`` (instrument, intake) and, where planted,
    ``not_on_track`` (from which session) and ``risk`` (the session)."""
    rng = np.random.default_rng([seed, 20260105])
    for case in data["cases"]:
        events = truth["cases"][case["id"]]
        client = next(m["id"] for m in case["members"] if m["role"] == "client")
        name = _choice(rng, OUTCOME_INSTRUMENTS)
        inst = get_instrument(name)
        lo, hi = inst.score_range()
        worse_high = inst.higher_is == "worse"
        intake = float(np.clip(rng.normal(15, 5), 5, 27) if worse_high
                       else np.clip(rng.normal(19, 6), 4, 34))
        room = (intake - lo) if worse_high else (hi - intake)
        gain = float(np.clip(rng.normal(0.45, 0.1), 0.15, 0.8)) * room
        held = [s for s in case["sessions"] if s["attendance"] in ("attended", "late")]
        start = int(rng.integers(3, 7))
        # at least four rated sessions off course
        off_from = start if rng.random() < 0.2 and len(held) >= start + 4 else None
        slope = float(rng.uniform(1.5, 2.5) if worse_high else -rng.uniform(2.0, 3.5))
        risk_at = (int(rng.integers(1, len(held) + 1))
                   if worse_high and rng.random() < 0.05 else None)
        events["outcome"] = {"instrument": name, "intake": round(intake, 2)}
        level = intake
        for rank, session in enumerate(held, start=1):
            on_course = intake + (-gain if worse_high else gain) * math.log(rank) / math.log(12)
            level = on_course if off_from is None or rank <= off_from else level + slope
            level = float(np.clip(level, lo, hi))
            items = _outcome_answers(rng, inst, level)
            if risk_at == rank:
                items["phq9"] = int(rng.integers(1, 4))
            session.setdefault("ratings", []).append(
                {"rater": client, "instrument": name, "items": items})
        if off_from is not None:
            events["not_on_track"] = [{"member": client, "instrument": name,
                                       "from_session": held[off_from]["number"]}]
        if risk_at is not None:
            events["risk"] = [{"member": client, "session": held[risk_at - 1]["number"]}]


def _outcome_answers(rng: np.random.Generator, inst: Instrument, total: float
                     ) -> dict[str, Any]:
    """Item answers whose sum is close to ``total`` (noise SD about 1.5 on the total)."""
    items = [i for i in inst.items if not i.risk]   # risk items stay at their floor
    scale = items[0].scale
    share = total / len(items)
    values = share + rng.normal(0, 1.5 / math.sqrt(len(items)), len(items))
    values = np.clip(values, scale.min, scale.max)
    answers: dict[str, Any] = {i.id: int(i.scale.min) for i in inst.items if i.risk}
    for item, v in zip(items, values, strict=True):
        answers[item.id] = round(float(v)) if scale.integer else round(float(v), 1)
    return answers


def _level(inst: Instrument) -> tuple[float, float]:
    """The instrument's norm mean and SD on the 0-100 scale (its spec's assumed norms)."""
    norm = inst.norm()
    lo, hi = inst.score_range()
    if norm is None or norm.mean is None or norm.sd is None:
        return 72.0, 10.0
    return 100 * (norm.mean - lo) / (hi - lo), 100 * norm.sd / (hi - lo)


def _case(rng: np.random.Generator, cid: str, plans: dict[str, list[Any]],
          levels: dict[str, tuple[float, float]], fixed_sessions: int | None,
          multi_member: bool, therapist_ratings: bool, transcripts: bool
          ) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    events: dict[str, list[Any]] = {k: [] for k in (
        "ruptures", "deficits", "splits", "ceilings", "strain", "dropouts", "hidden",
        "discrepancies")}
    modality = _choice(rng, MODALITIES) if multi_member else "individual"
    n_members = {"individual": 1, "couple": 2, "family": int(rng.integers(3, 5)),
                 "group": int(rng.integers(4, 7))}[modality]
    members = [f"m{i + 1}" for i in range(n_members)]
    roles = ["client" if (modality != "family" or i == 0) else "family_member"
             for i in range(n_members)]
    instrument = _choice(rng, INSTRUMENTS)
    plan = plans[instrument]
    n = fixed_sessions or int(rng.integers(10, 21))
    has_context = rng.random() < 0.15
    normative = list(NORMATIVE) if has_context else []
    has_therapist = therapist_ratings and rng.random() < 0.35
    has_transcripts = transcripts and rng.random() < 0.3

    # attendance
    att = [_choice(rng, ATTENDANCE_P) for _ in range(n)]
    att[0] = "attended"
    minutes = [int(rng.integers(5, 20)) if a == "late" else 0 for a in att]
    decline_from = n + 1
    if n >= 8 and rng.random() < 0.12:
        end = int(rng.integers(6, n))              # sessions end and end+1 are no-shows
        n = min(end + 1, n)
        end = n - 1
        att = att[:n]
        minutes = minutes[:n]
        att[end - 1] = att[end] = "no_show"
        minutes[end - 1] = minutes[end] = 0
        events["dropouts"].append({"from_session": end})
        decline_from = max(2, end - 4)
    last_open = n - 2 if events["dropouts"] else n      # sessions 1..last_open may carry events
    # never a chance pair of missed sessions in a row outside a planted pattern
    for j in range(1, last_open):
        if att[j] in ("no_show", "late_cancelled") and att[j - 1] in ("no_show",
                                                                      "late_cancelled"):
            att[j] = "attended"
    strain_idx: set[int] = set()
    if rng.random() < 0.12 and last_open >= 8:
        if rng.random() < 0.6:
            s = int(rng.integers(2, last_open - 4))
            idx = [s, s + 2, s + 4]
            for j in range(s, s + 5):
                att[j], minutes[j] = "attended", 0
            for j in idx:
                att[j] = "no_show" if rng.random() < 0.5 else "late_cancelled"
            events["strain"].append({"pattern": "missed", "sessions": [j + 1 for j in idx]})
            strain_idx.update(idx)
        else:
            s = int(rng.integers(1, last_open - 4))
            idx = list(range(s, s + 4))
            for j in idx:
                att[j], minutes[j] = "late", int(rng.integers(10, 26))
            events["strain"].append({"pattern": "lateness", "sessions": [j + 1 for j in idx]})
            strain_idx.update(idx)

    # latent alliance per member and session
    mean_pom, sd_pom = levels[instrument]
    case_level = rng.normal(mean_pom, 0.7 * sd_pom)
    base = np.clip(case_level + rng.normal(0, 3, n_members), 45, 90)
    growth = rng.normal(0.5, 0.3, n_members)
    t = np.arange(n)
    latent = base[:, None] + growth[:, None] * t[None, :] + rng.normal(0, 1.5, (n_members, n))
    latent = np.minimum(latent, 95.0)
    if decline_from <= n:
        latent[:, decline_from:] -= 2.5 * (t[decline_from:] - decline_from + 1)
    comp_offset = {c: rng.normal(0, 3, (n_members, 1)) for c in ("bond", "goal", "task")}
    item_offset = rng.normal(0, 0.08, (n_members + 1, len(plan)))
    comp_extra = {c: np.zeros((n_members, n)) for c in ("bond", "goal", "task")}
    held = np.array([a in ("attended", "late") for a in att])
    busy: set[int] = set()
    therapist_gap = 0.0
    if has_therapist and rng.random() < 0.2:
        therapist_gap = float(rng.uniform(25, 35))
        latent -= np.maximum(latent.mean(axis=1, keepdims=True) - 58.0, 0.0)

    if n_members >= 2 and rng.random() < 0.35:
        m = int(rng.integers(n_members))
        latent[m] -= rng.uniform(30, 40)
        events["splits"].append({"member": members[m]})
        busy.add(m)

    candidates = [m for m in range(n_members) if m not in busy]
    if candidates and rng.random() < 0.30 and last_open >= 9:
        m = int(rng.choice(candidates))
        d = int(rng.integers(3, last_open - 4))             # 0-based column of the drop
    else:
        m, d = -1, -1
    if d > 0 and not strain_idx & set(range(d - 1, d + 4)):
        for j in range(d - 1, d + 4):
            att[j], minutes[j], held[j] = "attended", 0, True
        depth = rng.uniform(24, 36)
        if rng.random() < 0.55:
            r = int(rng.integers(1, 4))
            latent[m, d] -= depth
            for j in range(d + 1, d + r):
                latent[m, j] -= depth * rng.uniform(0.5, 0.9)
            latent[m, d + r:] = np.maximum(latent[m, d + r:],
                                           latent[m, d - 1] + rng.uniform(3, 6))
            status = "repaired"
        else:
            latent[m, d:] -= depth * rng.uniform(0.7, 1.0)
            status = "unrepaired"
        events["ruptures"].append({"member": members[m], "drop_session": d + 1,
                                   "status": status})
        busy.add(m)

    candidates = [m for m in range(n_members) if m not in busy]
    task_deficit_from: int | None = None
    if candidates and rng.random() < 0.15 and last_open >= 6:
        m = int(rng.choice(candidates))
        comp = _choice(rng, (("task", 0.5), ("goal", 0.25), ("bond", 0.25)))
        f = int(rng.integers(1, last_open - 4))
        depth = rng.uniform(30, 45)
        ramp = np.minimum(np.arange(n - f) + 1, 4) / 4      # builds up over four sessions
        comp_extra[comp][m, f:] -= depth * ramp
        events["deficits"].append({"member": members[m], "component": comp,
                                   "from_session": f + 1})
        busy.add(m)
        if comp == "task":
            task_deficit_from = f

    ceiling = np.zeros(n_members, dtype=bool)
    for m in range(n_members):
        if m not in busy and rng.random() < 0.06:
            ceiling[m] = True
            events["ceilings"].append({"member": members[m],
                                       "ambiguous": "deference" in normative})

    if therapist_gap:
        events["discrepancies"].extend({"member": members[m]} for m in range(n_members)
                                       if not ceiling[m])

    # transcripts
    summaries: list[dict[str, Any] | None] = [None] * n
    if has_transcripts:
        for j in range(n):
            if not held[j]:
                continue
            w, c = int(rng.poisson(0.3)), int(rng.poisson(0.1))
            summaries[j] = {"withdrawal": w, "confrontation": c, "unresolved": 0, "threats": 0}
        for ev in events["ruptures"]:
            j = ev["drop_session"] - 1
            kind = "withdrawal" if rng.random() < 0.6 else "confrontation"
            summaries[j] = {"withdrawal": 2 if kind == "withdrawal" else 0,
                            "confrontation": 2 if kind == "confrontation" else 0,
                            "unresolved": 1, "threats": 0}
        inst = get_instrument(instrument)
        cut = inst.cutoff()
        lo, hi = inst.score_range()
        high = max(82.0, 100 * (cut.below - lo) / (hi - lo) + 4 if cut else 0.0)
        near_rupture = {ev["drop_session"] - 1 + k for ev in events["ruptures"]
                        for k in range(-1, 5)}
        quiet = [j for j in range(1, last_open) if held[j] and summaries[j] is not None
                 and j not in near_rupture and latent[~ceiling, j].min(initial=100) >= high]
        if quiet and rng.random() < 0.4 and not events["splits"] and not events["deficits"]:
            j = int(rng.choice(quiet))
            if normative and rng.random() < 0.7:
                cues = list(rng.choice(NORMATIVE, size=2, replace=False))
                summaries[j] = {"withdrawal": 2, "confrontation": 0, "unresolved": 1,
                                "threats": 0, "cues": sorted(cues)}
                events["hidden"].append({"session": j + 1, "type": "withdrawal",
                                         "ambiguous": True})
            else:
                kind = "withdrawal" if rng.random() < 0.5 else "confrontation"
                entry: dict[str, Any] = {"withdrawal": 2 if kind == "withdrawal" else 0,
                                         "confrontation": 1 if kind == "confrontation" else 0,
                                         "unresolved": 1, "threats": 0}
                if kind == "withdrawal":
                    entry["cues"] = ["minimal_response", "topic_shift"]
                summaries[j] = entry
                events["hidden"].append({"session": j + 1, "type": kind, "ambiguous": False})

    # sessions with ratings
    out_sessions = []
    for j in range(n):
        entry = {"number": j + 1, "date": (START + dt.timedelta(days=7 * j)).isoformat(),
                 "attendance": att[j]}
        if minutes[j]:
            entry["minutes_late"] = minutes[j]
        if j > 0 and held[j] and rng.random() < 0.6:
            undone_p = 0.7 if task_deficit_from is not None and j >= task_deficit_from else 0.25
            if rng.random() < undone_p:
                entry["homework"] = "partial" if rng.random() < 0.6 else "not_done"
            else:
                entry["homework"] = "completed"
        if held[j]:
            ratings = []
            for m in range(n_members):
                comps = {c: latent[m, j] + comp_offset[c][m, 0] + comp_extra[c][m, j]
                         for c in ("bond", "goal", "task")}
                ratings.append({"rater": members[m], "instrument": instrument,
                                "items": _answers(rng, plan, comps, bool(ceiling[m]),
                                                  item_offset[m])})
            if has_therapist:
                level = float(np.mean(latent[:, j])) + 3 + therapist_gap + rng.normal(0, 2)
                comps = {c: min(level, 97.0) for c in ("bond", "goal", "task")}
                ratings.append({"rater": "therapist", "instrument": instrument,
                                "items": _answers(rng, plan, comps, False,
                                                  item_offset[n_members])})
            entry["ratings"] = ratings
        if summaries[j] is not None:
            entry["transcript_summary"] = summaries[j]
        out_sessions.append(entry)

    case: dict[str, Any] = {"id": cid, "modality": modality,
                            "members": [{"id": m, "role": r} for m, r in zip(members, roles,
                                                                            strict=True)]}
    if has_context:
        case["context"] = {"cultural_notes": "Deference to the therapist, quiet pauses and "
                                             "little eye contact are respectful norms here.",
                           "normative_cues": normative}
    case["sessions"] = out_sessions
    return case, events


def _answers(rng: np.random.Generator, plan: list[Any], comps: dict[str, float],
             ceiling: bool, offset: np.ndarray) -> dict[str, int]:
    answers: dict[str, int] = {}
    overall = (comps["bond"] + comps["goal"] + comps["task"]) / 3
    noise = rng.normal(0, 0.03, len(plan)) + offset
    for (item_id, comp, reverse, lo, hi), e in zip(plan, noise, strict=True):
        if ceiling:
            value = hi
        else:
            level = min(max(comps.get(comp, overall), 0.0), 100.0) / 100.0
            value = float(np.clip(np.rint(lo + (hi - lo) * (level + e)), lo, hi))
        if reverse:
            value = lo + hi - value
        answers[item_id] = int(value)
    return answers
