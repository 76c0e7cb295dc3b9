"""The case file: cases, members and sessions, validated into immutable :class:`Case` objects.

The format is documented in ``docs/case-file.md``; its JSON Schema ships as package data
(``alliance/monitoring/case-file.schema.json``) and is what :func:`parse_cases` checks first.
Beyond the schema, :func:`parse_cases` checks what a schema cannot say: unique ids, that
every rater is a member (or ``therapist`` / ``observer``), that ratings belong to sessions
that took place, and that every rating scores on its instrument. Any problem raises one
:class:`~alliance.errors.CaseFileError` naming the path (``cases[0].sessions[3].attendance``);
nothing is returned from a file that fails, so a bad file changes nothing.

This module is pure: it receives an already-decoded mapping. Reading a file from disk lives
in :mod:`alliance.interop.casefiles`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema

from alliance.errors import AllianceError, CaseFileError
from alliance.instruments import Catalog, Instrument, Score, builtin_catalog, score_response
from alliance.vocabulary import (
    ATTENDANCE,
    HELD,
    HOMEWORK,
    MAX_MINUTES_LATE,
    PROFESSIONAL_RATERS,
    Modality,
)


@lru_cache(maxsize=1)
def case_file_schema() -> dict[str, Any]:
    """The case-file JSON Schema (draft 2020-12), read from package data."""
    text = (resources.files("alliance.monitoring") / "case-file.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(frozen=True)
class Member:
    """A person the therapist works with in this case (``client`` or ``family_member``)."""

    id: str
    role: str


@dataclass(frozen=True)
class Context:
    """Cultural context. ``normative_cues`` are cues that are respectful norms, not strain."""

    cultural_notes: str = ""
    normative_cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rating:
    """One completed questionnaire: who rated, on which instrument, the answers and the score."""

    rater: str
    instrument: str
    items: Mapping[str, float | None]
    score: Score


@dataclass(frozen=True)
class TranscriptSummary:
    """Counts of rupture markers coded in the session transcript (3RS-style).

    ``unresolved`` counts markers left without a resolution; ``cues`` names the observable
    cues the withdrawal markers rest on (``silence``, ``deference``, ...).
    """

    withdrawal: int = 0
    confrontation: int = 0
    unresolved: int = 0
    threats: int = 0
    cues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Session:
    number: int
    attendance: str
    date: str | None = None
    minutes_late: int = 0
    homework: str = "none"
    ratings: tuple[Rating, ...] = ()
    transcript: TranscriptSummary | None = None

    @property
    def held(self) -> bool:
        return self.attendance in HELD


@dataclass(frozen=True)
class Case:
    """One case: members, cultural context and sessions in ascending session number."""

    id: str
    modality: Modality
    members: tuple[Member, ...]
    sessions: tuple[Session, ...]
    context: Context = field(default_factory=Context)

    @property
    def member_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.members)

    def role_of(self, rater: str) -> str:
        for m in self.members:
            if m.id == rater:
                return m.role
        return rater


def _path(parts: Sequence[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_CUE = re.compile(r"[a-z][a-z0-9_]*")
_INSTRUMENT = re.compile(r"[a-z0-9][a-z0-9-]*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CASE_KEYS = frozenset({"id", "modality", "members", "context", "sessions"})
_SESSION_KEYS = frozenset({"number", "date", "attendance", "minutes_late", "homework", "ratings",
                           "transcript_summary"})
_SUMMARY_KEYS = frozenset({"withdrawal", "confrontation", "unresolved", "threats", "cues"})


def _is_id(x: Any) -> bool:
    return isinstance(x, str) and len(x) <= 100 and _ID.fullmatch(x) is not None


def _is_count(x: Any, maximum: int | None = None) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool) and x >= 0
            and (maximum is None or x <= maximum))


def _cues_ok(x: Any) -> bool:
    return (isinstance(x, list) and all(isinstance(c, str) and _CUE.fullmatch(c) for c in x)
            and len(set(x)) == len(x))


def quick_valid(data: Any) -> bool:
    """A fast, conservative schema check: ``True`` only for documents the JSON Schema accepts.

    Full JSON Schema validation costs milliseconds per case; this check accepts the common,
    valid shape quickly, and anything it does not accept goes through the schema validator,
    which then reports the exact path. (A test holds it to never accept what the schema
    rejects.)
    """
    if not isinstance(data, dict) or set(data) != {"cases"} or not isinstance(data["cases"],
                                                                               list):
        return False
    for case in data["cases"]:
        if not isinstance(case, dict) or not set(case) <= _CASE_KEYS or not {
                "id", "modality", "members", "sessions"} <= set(case):
            return False
        if not _is_id(case["id"]) or case["modality"] not in (
                "individual", "couple", "family", "group"):
            return False
        members = case["members"]
        if not isinstance(members, list) or not members:
            return False
        for m in members:
            if not isinstance(m, dict) or set(m) != {"id", "role"} or not _is_id(m["id"]) or \
                    m["role"] not in ("client", "family_member"):
                return False
        if "context" in case:
            ctx = case["context"]
            if not isinstance(ctx, dict) or not {"cultural_notes", "normative_cues"} >= set(ctx):
                return False
            if not isinstance(ctx.get("cultural_notes", ""), str) or \
                    not _cues_ok(ctx.get("normative_cues", [])):
                return False
        if not isinstance(case["sessions"], list):
            return False
        for s in case["sessions"]:
            if not isinstance(s, dict) or not set(s) <= _SESSION_KEYS or \
                    "number" not in s or "attendance" not in s:
                return False
            if not _is_count(s["number"]) or s["number"] < 1 or s["attendance"] not in ATTENDANCE:
                return False
            if "date" in s and not (isinstance(s["date"], str) and _DATE.fullmatch(s["date"])):
                return False
            if "minutes_late" in s and not _is_count(s["minutes_late"], MAX_MINUTES_LATE):
                return False
            if "homework" in s and s["homework"] not in HOMEWORK:
                return False
            if "transcript_summary" in s:
                ts = s["transcript_summary"]
                if not isinstance(ts, dict) or not set(ts) <= _SUMMARY_KEYS:
                    return False
                if not all(_is_count(v) for k, v in ts.items() if k != "cues") or \
                        not _cues_ok(ts.get("cues", [])):
                    return False
            for r in s.get("ratings", []) if isinstance(s.get("ratings", []), list) else [None]:
                if not isinstance(r, dict) or set(r) != {"rater", "instrument", "items"}:
                    return False
                if not _is_id(r["rater"]) or not isinstance(r["instrument"], str) or \
                        not _INSTRUMENT.fullmatch(r["instrument"]):
                    return False
                items = r["items"]
                if not isinstance(items, dict) or not items or not all(
                        v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                        for v in items.values()):
                    return False
    return True


def _schema_error(data: Any, origin: str) -> None:
    if quick_valid(data):
        return
    validator = jsonschema.Draft202012Validator(case_file_schema())
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    err = min(errors, key=lambda e: (list(map(str, e.absolute_path)), e.message))
    where = _path(list(err.absolute_path))
    if err.validator == "additionalProperties":
        unknown = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        detail = f"unknown field {unknown[0]!r}" if unknown else err.message
        if len(unknown) > 1:
            detail = f"unknown fields {', '.join(map(repr, unknown))}"
    elif err.validator == "required":
        detail = err.message.replace("is a required property", "is required")
    elif err.validator == "pattern":
        detail = f"{err.instance!r} is not a valid identifier"
    else:
        detail = err.message
    raise CaseFileError(f"{origin}: {where}: {detail}", path=where)


def _expected_size(modality: str, n: int) -> str | None:
    if modality == "individual" and n != 1:
        return "an individual case has exactly one member"
    if modality == "couple" and n != 2:
        return "a couple case has exactly two members"
    if modality in ("family", "group") and n < 2:
        return f"a {modality} case has at least two members"
    return None


def parse_cases(data: Mapping[str, Any], origin: str = "<case file>",
                catalog: Catalog | None = None) -> list[Case]:
    """Validate a decoded case file and build its cases (sessions sorted by number).

    >>> cases = parse_cases({"cases": [{"id": "c1", "modality": "individual",
    ...     "members": [{"id": "m1", "role": "client"}],
    ...     "sessions": [{"number": 1, "attendance": "attended", "ratings": [
    ...         {"rater": "m1", "instrument": "pulse-3",
    ...          "items": {"bond": 6, "goal": 5, "task": 4}}]}]}]})
    >>> cases[0].sessions[0].ratings[0].score.total.raw
    5.0
    """
    if not isinstance(data, Mapping):
        raise CaseFileError(f"{origin}: a case file must be a JSON object with a \"cases\" list, "
                            f"not {type(data).__name__}")
    _schema_error(data, origin)
    catalog = catalog if catalog is not None else builtin_catalog()
    seen_cases: set[str] = set()
    cases: list[Case] = []
    for ci, raw in enumerate(data["cases"]):
        here = f"cases[{ci}]"
        if raw["id"] in seen_cases:
            raise CaseFileError(f"{origin}: {here}.id: case {raw['id']!r} appears twice")
        seen_cases.add(raw["id"])
        members = tuple(Member(m["id"], m["role"]) for m in raw["members"])
        ids = [m.id for m in members]
        for mi, mid in enumerate(ids):
            if mid in PROFESSIONAL_RATERS:
                raise CaseFileError(f"{origin}: {here}.members[{mi}].id: {mid!r} is reserved for "
                                    f"professional raters")
            if ids.index(mid) != mi:
                raise CaseFileError(f"{origin}: {here}.members[{mi}].id: member {mid!r} "
                                    f"appears twice")
        problem = _expected_size(raw["modality"], len(members))
        if problem:
            raise CaseFileError(f"{origin}: {here}.members: {problem}, not {len(members)}")
        ctx = raw.get("context") or {}
        context = Context(ctx.get("cultural_notes", ""), tuple(ctx.get("normative_cues", ())))
        sessions = [_session(s, f"{here}.sessions[{si}]", origin, set(ids), catalog)
                    for si, s in enumerate(raw["sessions"])]
        numbers = [s.number for s in sessions]
        dupes = sorted({n for n in numbers if numbers.count(n) > 1})
        if dupes:
            raise CaseFileError(f"{origin}: {here}.sessions: session number {dupes[0]} "
                                f"appears twice")
        sessions.sort(key=lambda s: s.number)
        cases.append(Case(raw["id"], raw["modality"], members, tuple(sessions), context))
    return cases


def _session(raw: Mapping[str, Any], here: str, origin: str, members: set[str],
             catalog: Catalog) -> Session:
    ratings: list[Rating] = []
    seen: set[tuple[str, str]] = set()
    attendance = raw["attendance"]
    if "date" in raw:
        try:
            dt.date.fromisoformat(raw["date"])
        except ValueError:
            raise CaseFileError(f"{origin}: {here}.date: {raw['date']!r} is not a calendar "
                                f"date") from None
    if raw.get("ratings") and attendance not in HELD:
        raise CaseFileError(f"{origin}: {here}.ratings: the session was {attendance}, so it "
                            f"cannot have ratings")
    if raw.get("minutes_late") and attendance != "late":
        raise CaseFileError(f"{origin}: {here}.minutes_late: only a session with attendance "
                            f"'late' can have minutes late (it is {attendance!r})")
    for ri, r in enumerate(raw.get("ratings", ())):
        where = f"{here}.ratings[{ri}]"
        if r["rater"] not in members and r["rater"] not in PROFESSIONAL_RATERS:
            raise CaseFileError(f"{origin}: {where}.rater: {r['rater']!r} is neither a member "
                                f"of the case ({', '.join(sorted(members))}) nor therapist "
                                f"or observer")
        key = (r["rater"], r["instrument"])
        if key in seen:
            raise CaseFileError(f"{origin}: {where}: {r['rater']} already rated "
                                f"{r['instrument']} in this session")
        seen.add(key)
        try:
            instrument: Instrument = catalog[r["instrument"]]
        except AllianceError as exc:
            raise CaseFileError(f"{origin}: {where}.instrument: {exc}") from None
        try:
            score = score_response(instrument, r["items"])
        except AllianceError as exc:
            raise CaseFileError(f"{origin}: {where}.items: {exc}") from None
        ratings.append(Rating(r["rater"], r["instrument"], dict(r["items"]), score))
    ts = raw.get("transcript_summary")
    transcript = None
    if ts is not None:
        transcript = TranscriptSummary(ts.get("withdrawal", 0), ts.get("confrontation", 0),
                                       ts.get("unresolved", 0), ts.get("threats", 0),
                                       tuple(ts.get("cues", ())))
    return Session(raw["number"], attendance, raw.get("date"), raw.get("minutes_late", 0),
                   raw.get("homework", "none"), tuple(ratings), transcript)


def case_to_mapping(case: Case) -> dict[str, Any]:
    """The case-file form of a case; :func:`parse_cases` reads it back to an equal case."""
    sessions = []
    for s in case.sessions:
        entry: dict[str, Any] = {"number": s.number, "attendance": s.attendance}
        if s.date:
            entry["date"] = s.date
        if s.minutes_late:
            entry["minutes_late"] = s.minutes_late
        if s.homework != "none":
            entry["homework"] = s.homework
        if s.ratings:
            entry["ratings"] = [{"rater": r.rater, "instrument": r.instrument,
                                 "items": dict(r.items)} for r in s.ratings]
        if s.transcript is not None:
            t = s.transcript
            entry["transcript_summary"] = {
                "withdrawal": t.withdrawal, "confrontation": t.confrontation,
                "unresolved": t.unresolved, "threats": t.threats,
                **({"cues": list(t.cues)} if t.cues else {})}
        sessions.append(entry)
    out: dict[str, Any] = {"id": case.id, "modality": case.modality,
                           "members": [{"id": m.id, "role": m.role} for m in case.members]}
    if case.context.cultural_notes or case.context.normative_cues:
        out["context"] = {"cultural_notes": case.context.cultural_notes,
                          "normative_cues": list(case.context.normative_cues)}
    out["sessions"] = sessions
    return out
