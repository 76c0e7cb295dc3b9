"""FHIR R4 export and import: instruments, responses and scores as FHIR resources.

Resources are built as plain JSON mappings and every one is validated against the R4B
models of ``fhir.resources`` (extra ``alliance[fhir]``; R4B is the R4 line of that package,
whose root is R5) before it is returned; incoming JSON is validated the same way. Anything
malformed raises :class:`~alliance.errors.FhirError` naming the resource and the field.

Mapping
-------
* **CodeSystem** ``{base}/CodeSystem/alliance`` (the project's codes): for each instrument
  a concept ``{id}``, with children ``{id}.item.{item}``, ``{id}.score.{score}`` (each
  subscale and ``total``) and ``{id}.answer.{value}``.
* **Questionnaire** ``{base}/Questionnaire/{id}`` with the instrument's ``version`` (the
  first rater type's wording, usually the client's; another rater type's version is
  ``{id}-{rater-type}``, e.g. ``alliance-12-therapist``); one item
  per question, ``linkId`` = the item id, ``code`` from the CodeSystem. Whole-number scales
  of up to :data:`MAX_OPTIONS` points are ``choice`` items with an ``answerOption`` per
  point (a ``Coding`` ``{id}.answer.{value}`` whose ``ordinalValue`` extension carries the
  number, and whose display is the anchor where the spec has one); other scales are
  ``integer`` or ``decimal`` items bounded by the ``minValue``/``maxValue`` extensions.
  **Licensed instruments**: a structure-only spec has no wording, so none is exported; a
  spec without an open licence (:data:`OPEN_LICENCES`) exports structure only (no item
  text, instructions or anchor labels) even after a deployer added the wording locally,
  unless ``include_licensed_wording=True`` (the deployer's licence, the deployer's
  decision). Third-party wording is never part of alliance.
* **QuestionnaireResponse** ``status = completed``, ``questionnaire = {url}|{version}``, an
  answer per answered item (missing answers are left out), ``subject`` and ``authored``
  when known, and the rater in the extension ``{base}/StructureDefinition/rater``.
* **Observation** per valid score (each subscale and the total; invalid scores are left
  out): category ``survey``, ``code`` ``{id}.score.{name}``, ``valueQuantity`` with the
  UCUM unit ``{score}``, ``derivedFrom`` the QuestionnaireResponse, a ``note`` when prorated.
* **Bundle** (``collection``) of the above for a table of responses or a monitoring case.

Import reads a QuestionnaireResponse or a Bundle of them (other entries are skipped),
resolves the instrument from the canonical ``questionnaire`` URL (any base; the last path
segment is the instrument id), and reads answers given as ``valueCoding`` (our codes, or
any coding with an ``ordinalValue`` extension), ``valueInteger`` or ``valueDecimal``.
Responses marked ``entered-in-error`` are skipped.

The clinic's read-only FHIR API (``/api/v1/fhir/…`` and ``/api/v1/cases/{id}/fhir``,
:mod:`alliance.web.routes.api`) calls :func:`case_bundle`, :func:`questionnaire` and
:func:`code_system`; they take core objects and return JSON-ready mappings, so the web
layer only routes and scopes.

>>> from alliance.instruments import get_instrument
>>> q = questionnaire(get_instrument("pulse-3"))
>>> q["url"], q["item"][1]["linkId"], q["item"][1]["type"]
('https://alliance.invalid/fhir/Questionnaire/pulse-3', 'bond', 'choice')
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from alliance.errors import FhirError, InstrumentError, ScoringError
from alliance.instruments import Catalog, Instrument, builtin_catalog, score_response
from alliance.instruments.scoring import Score, check_value
from alliance.instruments.spec import RATER_TYPES, ResponseScale

#: Deployers pass their own base (``--base``); ``.invalid`` is reserved and never resolves.
DEFAULT_BASE = "https://alliance.invalid/fhir"
#: Whole-number scales with more points than this are exported as plain integers.
MAX_OPTIONS = 11
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM = "http://unitsofmeasure.org"
_ID_BAD = re.compile(r"[^A-Za-z0-9.-]+")
_NS = uuid.UUID("6f1c54d2-61c3-4b7e-9c1b-3f7d1f2c9a11")


@dataclass(frozen=True)
class ImportedResponse:
    """One QuestionnaireResponse read back: the instrument, the answers and who/when."""

    instrument: str
    answers: Mapping[str, float | None]
    response_id: str | None = None
    version: str | None = None
    subject: str | None = None
    authored: str | None = None
    rater: str | None = None
    rater_type: str | None = None
    status: str = "completed"
    extra: Mapping[str, Any] = field(default_factory=dict)


# --- identifiers and validation -------------------------------------------------------


def fhir_id(text: str) -> str:
    """A valid FHIR ``id`` (``[A-Za-z0-9.-]{1,64}``) for ``text``; long or odd ids are hashed.

    >>> fhir_id("c001"), fhir_id("case 7/b")
    ('c001', 'case-7-b')
    """
    clean = _ID_BAD.sub("-", str(text)).strip("-")
    if clean and len(clean) <= 64:
        return clean
    return str(uuid.uuid5(_NS, str(text)))


def _system(base: str) -> str:
    return f"{base.rstrip('/')}/CodeSystem/alliance"


def _version_id(instrument: Instrument, rater_type: str | None) -> str:
    """``{id}`` for the first rater type (usually the client), else ``{id}-{rater-type}``:
    each wording has its own canonical URL."""
    if rater_type is None or rater_type == instrument.rater_types[0]:
        return instrument.id
    return f"{instrument.id}-{rater_type.replace('_', '-')}"


version_id = _version_id  # the API resolves a Questionnaire id with it


def _canonical(base: str, instrument: Instrument, rater_type: str | None = None) -> str:
    return f"{base.rstrip('/')}/Questionnaire/{_version_id(instrument, rater_type)}"


def _models() -> Any:
    try:
        from fhir.resources import R4B
    except ImportError as exc:
        raise FhirError(f"FHIR support needs fhir.resources ({exc}); install "
                        f"alliance[fhir]") from None
    return R4B


def validate_resource(resource: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one resource with its fhir.resources R4B model; return its JSON form."""
    if not isinstance(resource, Mapping):
        raise FhirError(f"a FHIR resource must be a JSON object, not {type(resource).__name__}")
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind:
        raise FhirError("not a FHIR resource: it has no resourceType")
    r4b = _models()
    try:
        model = r4b.get_fhir_model_class(kind)
    except (ValueError, KeyError):
        raise FhirError(f"{kind!r} is not an R4 resource type") from None
    try:
        parsed = model.model_validate(dict(resource))
    except Exception as exc:  # pydantic.ValidationError and fhir_core's own errors
        errors = getattr(exc, "errors", None)
        if callable(errors):
            first = errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "(resource)"
            detail = f"{where}: {first.get('msg', exc)}"
        else:
            detail = str(exc).splitlines()[0]
        name = resource.get("id")
        raise FhirError(f"{kind}{'/' + str(name) if name else ''} is not valid FHIR R4: "
                        f"{detail}") from None
    return dict(parsed.model_dump(mode="json", exclude_none=True))


# --- export ---------------------------------------------------------------------------


#: Licences under which item wording may travel with an export (SPDX-style prefixes).
OPEN_LICENCES = ("CC-BY", "CC0", "CC-BY-SA", "MIT", "APACHE-2.0", "BSD-")


def _proprietary(instrument: Instrument) -> bool:
    """True unless the wording is ours or openly licensed (a deployer's added wording of a
    licensed instrument counts as proprietary)."""
    return instrument.structure_only or \
        not instrument.licence.strip().upper().startswith(OPEN_LICENCES)


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _choices(scale: ResponseScale) -> list[float] | None:
    if not scale.integer:
        return None
    points = int(scale.max - scale.min) + 1
    if points > MAX_OPTIONS or not float(scale.min).is_integer():
        return None
    return [scale.min + k for k in range(points)]


def code_system(catalog: Catalog | None = None, *, base: str = DEFAULT_BASE) -> dict[str, Any]:
    """The project CodeSystem: instruments, their items, scores and answer values.

    Displays are ids and titles only, never item wording.
    """
    catalog = catalog if catalog is not None else builtin_catalog()
    concepts = []
    for inst in catalog.values():
        children = [{"code": f"{inst.id}.item.{i.id}", "display": f"{inst.title}, item {i.id}"}
                    for i in inst.items]
        titles = {s.id: s.title for s in inst.subscales}
        children += [{"code": f"{inst.id}.score.{name}",
                      "display": f"{inst.title}, {titles.get(name, 'total')} score"}
                     for name in inst.score_names]
        values = sorted({v for i in inst.items for v in (_choices(i.scale) or [])})
        children += [{"code": f"{inst.id}.answer.{_num(v)}",
                      "display": f"{inst.title}, answer {_num(v)}"} for v in values]
        concepts.append({"code": inst.id, "display": inst.title, "concept": children})
    return validate_resource({
        "resourceType": "CodeSystem", "id": "alliance", "url": _system(base),
        "name": "AllianceCodes", "title": "alliance instruments, items, scores and answers",
        "status": "active", "content": "complete", "hierarchyMeaning": "is-a",
        "concept": concepts,
    })


def _computer_name(instrument_id: str) -> str:
    """A computer-friendly ``name`` (``[A-Z][A-Za-z0-9_]*``) from an instrument id."""
    name = re.sub(r"[^A-Za-z0-9]", "", instrument_id.title())
    return name if name[:1].isalpha() else f"Q{name}"


def _item(instrument: Instrument, item_id: str, rater: str, base: str,
          wording: bool) -> dict[str, Any]:
    item = instrument.item(item_id)
    system = _system(base)
    out: dict[str, Any] = {"linkId": item.id,
                           "code": [{"system": system, "code": f"{instrument.id}.item.{item.id}"}],
                           "prefix": item.id, "required": False}
    text = item.text_for(rater) if wording else None
    if text:
        out["text"] = text
    choices = _choices(item.scale)
    if choices is not None:
        out["type"] = "choice"
        options = []
        for v in choices:
            display = item.scale.anchors.get(v) if wording else None
            coding = {"system": system, "code": f"{instrument.id}.answer.{_num(v)}",
                      "display": display or str(_num(v))}
            options.append({"valueCoding": {**coding, "extension": [
                {"url": ORDINAL, "valueDecimal": _num(v)}]}})
        out["answerOption"] = options
    else:
        out["type"] = "integer" if item.scale.integer else "decimal"
        kind = "valueInteger" if item.scale.integer else "valueDecimal"
        out["extension"] = [{"url": MIN_VALUE, kind: _num(item.scale.min)},
                            {"url": MAX_VALUE, kind: _num(item.scale.max)}]
    return out


def questionnaire(instrument: Instrument, *, rater: str | None = None,
                  base: str = DEFAULT_BASE,
                  include_licensed_wording: bool = False) -> dict[str, Any]:
    """The instrument as a validated ``Questionnaire`` (see the module docstring).

    ``rater`` picks the wording (a rater type; default the instrument's first, usually
    ``client``); every other rater type's version has its own id and canonical URL,
    ``{id}-{rater-type}``.
    """
    rater = rater or instrument.rater_types[0]
    if rater not in instrument.rater_types:
        raise FhirError(f"{instrument.id} has no {rater!r} version; raters: "
                        f"{', '.join(instrument.rater_types)}")
    wording = instrument.has_text and (include_licensed_wording or not _proprietary(instrument))
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire", "id": fhir_id(_version_id(instrument, rater)),
        "url": _canonical(base, instrument, rater), "version": instrument.version,
        "name": _computer_name(instrument.id),
        "title": instrument.title, "status": "active", "subjectType": ["Patient"],
        "code": [{"system": _system(base), "code": instrument.id,
                  "display": instrument.title}],
        "copyright": instrument.licence if not instrument.copyright
        else f"{instrument.copyright}. {instrument.licence}",
        "item": [_item(instrument, i, rater, base, wording) for i in instrument.item_ids],
    }
    if instrument.description:
        resource["description"] = instrument.description.strip()
    if wording and instrument.instructions.get(rater):
        resource["item"].insert(0, {"linkId": "instructions", "type": "display",
                                    "text": instrument.instructions[rater]})
    return validate_resource(resource)


def _answer(instrument: Instrument, item_id: str, value: float, base: str) -> dict[str, Any]:
    item = instrument.item(item_id)
    choices = _choices(item.scale)
    if choices is not None:
        display = item.scale.anchors.get(value) if not _proprietary(instrument) else None
        return {"valueCoding": {"system": _system(base),
                                "code": f"{instrument.id}.answer.{_num(value)}",
                                "display": display or str(_num(value))}}
    return {"valueInteger": int(value)} if item.scale.integer else {"valueDecimal": value}


def questionnaire_response(instrument: Instrument, answers: Mapping[str, Any], *,
                           response_id: str | None = None, subject: str | None = None,
                           authored: str | None = None, rater: str | None = None,
                           rater_type: str | None = None,
                           base: str = DEFAULT_BASE) -> dict[str, Any]:
    """One response as a validated ``QuestionnaireResponse``.

    ``answers`` maps item ids to values, checked exactly as for scoring (a bad value raises
    :class:`~alliance.errors.ScoringError`). ``subject`` is a reference such as
    ``Patient/c001``; ``authored`` an ISO date or date-time; ``rater`` who answered (kept
    in the rater extension); ``rater_type`` which version was answered (``therapist``...),
    which picks the Questionnaire it references.
    """
    if rater_type is not None and rater_type not in instrument.rater_types:
        raise FhirError(f"{instrument.id} has no {rater_type!r} version; raters: "
                        f"{', '.join(instrument.rater_types)}")
    unknown = [k for k in answers if k not in instrument.item_ids]
    if unknown:
        raise ScoringError(f"{instrument.id}: unknown item {unknown[0]!r}", item=unknown[0])
    items = []
    for item in instrument.items:
        value = check_value(item, answers.get(item.id))
        if value is None:
            continue
        items.append({"linkId": item.id, "answer": [_answer(instrument, item.id, value, base)]})
    ident = response_id if response_id is not None else \
        str(uuid.uuid5(_NS, json.dumps([instrument.id, subject, authored, sorted(
            (k, str(v)) for k, v in answers.items())])))
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "id": fhir_id(ident),
        "questionnaire": f"{_canonical(base, instrument, rater_type)}|{instrument.version}",
        "status": "completed", "item": items,
    }
    if response_id is not None and fhir_id(response_id) != str(response_id):
        resource["identifier"] = {"system": f"{base.rstrip('/')}/response-id",
                                  "value": str(response_id)}
    if subject:
        resource["subject"] = {"reference": subject}
    if authored:
        resource["authored"] = authored
    if rater:
        resource["extension"] = [{"url": f"{base.rstrip('/')}/StructureDefinition/rater",
                                  "valueString": rater}]
    return validate_resource(resource)


def score_observations(instrument: Instrument, score: Score, response: Mapping[str, Any], *,
                       base: str = DEFAULT_BASE) -> list[dict[str, Any]]:
    """One validated ``Observation`` per valid score, each ``derivedFrom`` ``response``."""
    ref = f"QuestionnaireResponse/{response['id']}"
    titles = {s.id: s.title for s in instrument.subscales}
    out = []
    for name, sc in score.scores.items():
        if not sc.valid or sc.raw is None:
            continue
        obs: dict[str, Any] = {
            "resourceType": "Observation", "id": fhir_id(f"{response['id']}-{name}"),
            "status": "final",
            "category": [{"coding": [{"system": CATEGORY, "code": "survey",
                                      "display": "Survey"}]}],
            "code": {"coding": [{"system": _system(base),
                                 "code": f"{instrument.id}.score.{name}",
                                 "display": f"{instrument.title}, "
                                            f"{titles.get(name, 'total')} score"}]},
            "valueQuantity": {"value": round(float(sc.raw), 6), "unit": "score",
                              "system": UCUM, "code": "{score}"},
            "derivedFrom": [{"reference": ref}],
        }
        for key in ("subject", "authored"):
            if key in response:
                obs["subject" if key == "subject" else "effectiveDateTime"] = response[key]
        if sc.status == "prorated":
            obs["note"] = [{"text": sc.note}]
        out.append(validate_resource(obs))
    return out


def _bundle(resources: Iterable[Mapping[str, Any]], base: str) -> dict[str, Any]:
    entries = [{"fullUrl": f"{base.rstrip('/')}/{r['resourceType']}/{r['id']}",
                "resource": r} for r in resources]
    return validate_resource({"resourceType": "Bundle", "type": "collection",
                              "entry": entries})


def _cell(value: Any) -> Any:
    """A table cell with every missing marker (None, NaN, pd.NA, NaT) as ``None``."""
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):  # a list or other non-scalar: let validation name it
        return value


def responses_bundle(instrument: Instrument, table: pd.DataFrame, *,
                     id_column: str | None = "response_id",
                     subject_column: str | None = "client", date_column: str | None = None,
                     rater: str | None = None, rater_type: str | None = None,
                     scores: bool = True, base: str = DEFAULT_BASE) -> dict[str, Any]:
    """A table of responses (one row each, one column per item) as a FHIR ``Bundle``.

    Each row becomes a QuestionnaireResponse and, with ``scores``, its score Observations.
    Absent optional columns are ignored; a row with a bad answer raises ScoringError naming
    the row.
    """
    if not isinstance(table, pd.DataFrame):
        raise FhirError(f"expected a pandas DataFrame, not {type(table).__name__}")
    present = [i for i in instrument.item_ids if i in table.columns]
    if not present:
        raise FhirError(f"the table has no item column of {instrument.id} "
                        f"({', '.join(instrument.item_ids)})")
    resources: list[dict[str, Any]] = []
    seen: set[str] = set()
    for pos, (_, row) in enumerate(table.iterrows(), start=1):
        answers = {i: _cell(row[i]) for i in present}
        rid = _cell(row[id_column]) if id_column and id_column in table.columns else None
        subject = _cell(row[subject_column]) if subject_column and \
            subject_column in table.columns else None
        date = _cell(row[date_column]) if date_column and date_column in table.columns \
            else None
        try:
            response = questionnaire_response(
                instrument, answers, response_id=None if rid is None else str(rid),
                subject=None if subject is None else f"Patient/{fhir_id(str(subject))}",
                authored=None if date is None else str(date), rater=rater,
                rater_type=rater_type, base=base)
            score = score_response(instrument, answers)
        except ScoringError as exc:
            raise ScoringError(f"row {pos}: {exc}", row=pos) from None
        if response["id"] in seen:
            raise FhirError(f"row {pos}: response id {response['id']!r} appears twice")
        seen.add(response["id"])
        resources.append(response)
        if scores:
            resources.extend(score_observations(instrument, score, response, base=base))
    return _bundle(resources, base)


def case_bundle(case: Any, *, catalog: Catalog | None = None, base: str = DEFAULT_BASE,
                scores: bool = True) -> dict[str, Any]:
    """Every rating of a monitoring :class:`~alliance.monitoring.Case` as a FHIR Bundle.

    The subject is ``Patient/{case id}`` for an individual case and ``Group/{case id}`` for
    couple, family and group cases; the rater (member id or ``therapist``) is kept in the
    rater extension; ``authored`` is the session date when the case file has a real one
    (the case-file schema checks only the date's shape; an impossible date is left out). This is
    what the clinic's read-only FHIR API serves for a case (``/api/v1/cases/{id}/fhir``).
    """
    import datetime as dt

    def real_date(text: str | None) -> str | None:
        try:
            return dt.date.fromisoformat(text).isoformat() if text else None
        except ValueError:
            return None

    catalog = catalog if catalog is not None else builtin_catalog()
    kind = "Patient" if getattr(case, "modality", "individual") == "individual" else "Group"
    subject = f"{kind}/{fhir_id(case.id)}"
    resources: list[dict[str, Any]] = []
    for session in case.sessions:
        for k, rating in enumerate(session.ratings):
            inst = catalog[rating.instrument]
            rid = f"{case.id}-s{session.number}-{k + 1}"
            role = case.role_of(rating.rater)
            response = questionnaire_response(
                inst, dict(rating.items), response_id=rid, subject=subject,
                authored=real_date(session.date), rater=rating.rater,
                rater_type=role if role in inst.rater_types else None, base=base)
            resources.append(response)
            if scores:
                resources.extend(score_observations(inst, rating.score, response, base=base))
    return _bundle(resources, base)


# --- import ---------------------------------------------------------------------------


def _instrument_of(canonical: Any, catalog: Catalog, where: str
                   ) -> tuple[Instrument, str | None, str | None]:
    """The instrument, version and rater type named by a canonical Questionnaire URL."""
    if not isinstance(canonical, str) or not canonical.strip():
        raise FhirError(f"{where}: no questionnaire; alliance needs the canonical URL of the "
                        f"Questionnaire to know the instrument")
    url, _, version = canonical.partition("|")
    last = url.rstrip("/").rsplit("/", 1)[-1]
    known = set(catalog)  # Catalog lookups raise InstrumentError, so test membership here
    if last not in known:
        for rater_type in RATER_TYPES:
            inst_id = last.removesuffix(f"-{rater_type.replace('_', '-')}")
            if inst_id != last and inst_id in known \
                    and rater_type in catalog[inst_id].rater_types:
                return catalog[inst_id], version or None, rater_type
    try:
        inst = catalog[last]
    except InstrumentError as exc:
        raise FhirError(f"{where}: questionnaire {canonical!r}: {exc}") from None
    return inst, version or None, inst.rater_types[0]


def _flatten(items: Any, where: str) -> Iterable[Mapping[str, Any]]:
    for item in items or []:
        yield item
        yield from _flatten(item.get("item"), where)


def _answer_value(instrument: Instrument, link: str, answer: Mapping[str, Any],
                  where: str) -> float:
    if "valueCoding" in answer:
        coding = answer["valueCoding"]
        for ext in coding.get("extension") or []:
            if ext.get("url") == ORDINAL and "valueDecimal" in ext:
                return float(ext["valueDecimal"])
        code = str(coding.get("code", ""))
        prefix = f"{instrument.id}.answer."
        if code.startswith(prefix):
            try:
                return float(code[len(prefix):])
            except ValueError:
                pass
        raise FhirError(f"{where}: item {link!r}: answer code {code!r} is not one of "
                        f"{instrument.id}'s answers")
    for key in ("valueInteger", "valueDecimal"):
        if key in answer:
            return float(answer[key])
    kinds = ", ".join(k for k in answer if k.startswith("value")) or "no value"
    raise FhirError(f"{where}: item {link!r}: unsupported answer ({kinds}); expected a "
                    f"coding, integer or decimal")


def _read_response(resource: Mapping[str, Any], catalog: Catalog,
                   base_where: str) -> ImportedResponse | None:
    where = f"{base_where}QuestionnaireResponse/{resource.get('id', '?')}"
    parsed = validate_resource(resource)
    if parsed.get("status") == "entered-in-error":
        return None
    instrument, version, rater_type = _instrument_of(parsed.get("questionnaire"), catalog,
                                                     where)
    answers: dict[str, float | None] = {}
    for node in _flatten(parsed.get("item"), where):
        link = node.get("linkId")
        given = node.get("answer") or []
        if not given:
            continue
        if link not in instrument.item_ids:
            raise FhirError(f"{where}: linkId {link!r} is not an item of {instrument.id}")
        if len(given) > 1 or link in answers:
            raise FhirError(f"{where}: item {link!r} has more than one answer")
        value = _answer_value(instrument, link, given[0], where)
        try:
            answers[link] = check_value(instrument.item(link), value)
        except ScoringError as exc:
            raise FhirError(f"{where}: {exc}") from None
    rater = next((e.get("valueString") for e in parsed.get("extension") or []
                  if str(e.get("url", "")).endswith("/StructureDefinition/rater")), None)
    ident = parsed.get("identifier")
    rid = ident.get("value") if isinstance(ident, dict) and ident.get("value") \
        else parsed.get("id")
    subject = (parsed.get("subject") or {}).get("reference")
    return ImportedResponse(instrument=instrument.id, version=version, answers=answers,
                            response_id=rid, subject=subject, authored=parsed.get("authored"),
                            rater=rater, rater_type=rater_type,
                            status=str(parsed.get("status")))


def read_responses(data: Any, catalog: Catalog | None = None) -> list[ImportedResponse]:
    """Responses from a QuestionnaireResponse or a Bundle (a mapping or JSON text)."""
    catalog = catalog if catalog is not None else builtin_catalog()
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FhirError(f"not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise FhirError(f"a FHIR resource must be a JSON object, not {type(data).__name__}")
    kind = data.get("resourceType")
    if kind == "QuestionnaireResponse":
        one = _read_response(data, catalog, "")
        return [one] if one is not None else []
    if kind != "Bundle":
        raise FhirError(f"expected a QuestionnaireResponse or a Bundle, got "
                        f"{kind or 'no resourceType'}")
    validate_resource(data)
    out = []
    for pos, entry in enumerate(data.get("entry") or [], start=1):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if isinstance(resource, Mapping) and \
                resource.get("resourceType") == "QuestionnaireResponse":
            one = _read_response(resource, catalog, f"Bundle entry {pos}: ")
            if one is not None:
                out.append(one)
    if not out:
        raise FhirError("the Bundle holds no QuestionnaireResponse")
    return out


def read_responses_file(path: str | Path, catalog: Catalog | None = None
                        ) -> list[ImportedResponse]:
    """:func:`read_responses` of a JSON file; errors name the file."""
    p = Path(path)
    if not p.is_file():
        raise FhirError(f"{p}: no such file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FhirError(f"{p}: is not UTF-8 text") from None
    try:
        return read_responses(text, catalog)
    except FhirError as exc:
        raise FhirError(f"{p}: {exc}") from None


def responses_table(responses: Iterable[ImportedResponse],
                    catalog: Catalog | None = None) -> pd.DataFrame:
    """Imported responses as a table: ``response_id, instrument, rater_type, client, rater,
    authored`` and one column per item (of one instrument; a mixed list raises FhirError)."""
    catalog = catalog if catalog is not None else builtin_catalog()
    responses = list(responses)
    kinds = sorted({r.instrument for r in responses})
    if len(kinds) != 1:
        raise FhirError(f"responses of {len(kinds)} instruments ({', '.join(kinds)}); "
                        f"import them one instrument at a time" if kinds else
                        "no responses to tabulate")
    items = catalog[kinds[0]].item_ids
    rows = []
    for r in responses:
        client = r.subject.rsplit("/", 1)[-1] if r.subject else None
        rows.append({"response_id": r.response_id, "instrument": r.instrument,
                     "rater_type": r.rater_type, "client": client, "rater": r.rater,
                     "authored": r.authored,
                     **{i: r.answers.get(i) for i in items}})
    return pd.DataFrame(rows, columns=["response_id", "instrument", "rater_type", "client",
                                       "rater", "authored", *items])
