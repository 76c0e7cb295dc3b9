"""Instrument specs: the typed, validated form of an instrument's YAML file.

An instrument is data (``specs/*.yaml``); this module turns a mapping into an
immutable :class:`Instrument` and refuses anything inconsistent with an
:class:`~alliance.errors.InstrumentError` that names the file, the item and the field.
The format is documented in ``docs/instruments.md``; the machine-readable schema is
``SPEC_SCHEMA`` below.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

import jsonschema

from alliance.errors import InstrumentError
from alliance.instruments.languages import TAG_PATTERN
from alliance.instruments.translations import (
    TAG_HINT,
    Translation,
    Wording,
    parse_tag,
    parse_translations,
    rater_text,
    wording_for,
)

RaterType = Literal["client", "therapist", "observer", "family_member"]
# What an instrument measures: the working alliance, or the client's state (symptoms,
# functioning) that therapy tries to change. Outcome measures are read beside the alliance.
KINDS: tuple[str, ...] = ("alliance", "outcome")
RATER_TYPES: tuple[str, ...] = ("client", "therapist", "observer", "family_member")
COMPONENTS: tuple[str, ...] = ("bond", "goal", "task", "overall")
TOTAL = "total"

_SOURCE = {"type": "string", "minLength": 3}
_SCALE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["min", "max"],
    "properties": {
        "min": {"type": "number"},
        "max": {"type": "number"},
        "integer": {"type": "boolean"},
        "anchors": {
            "type": "object",
            "additionalProperties": {"type": "string", "minLength": 1},
        },
    },
}
_TEXT = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {r: {"type": "string", "minLength": 1} for r in RATER_TYPES},
        },
    ]
}

_TRANSLATION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "items"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "licence": {"type": "string", "minLength": 1},
        "copyright": {"type": "string"},
        "instructions": _TEXT,
        "anchors": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
        "items": {"type": "object", "minProperties": 1, "additionalProperties": _TEXT},
    },
}

SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "alliance instrument spec",
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "version", "title", "licence", "rater_types", "response_scale", "items",
                 "scoring"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "version": {"type": "string", "minLength": 1},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "licence": {"type": "string", "minLength": 1},
        "copyright": {"type": "string"},
        "structure_only": {"type": "boolean"},
        "kind": {"enum": list(KINDS)},
        "higher_is": {"enum": ["better", "worse"]},
        "rater_types": {
            "type": "array", "minItems": 1, "uniqueItems": True,
            "items": {"enum": list(RATER_TYPES)},
        },
        "language": {"type": "string", "pattern": TAG_PATTERN},
        "instructions": _TEXT,
        "translations": {"type": "object", "propertyNames": {"pattern": TAG_PATTERN},
                         "additionalProperties": _TRANSLATION},
        "response_scale": _SCALE,
        "subscales": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "title"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                    "title": {"type": "string", "minLength": 1},
                    "component": {"enum": list(COMPONENTS)},
                    "description": {"type": "string"},
                },
            },
        },
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9_]+$"},
                    "text": _TEXT,
                    "subscale": {"type": "string"},
                    "reverse": {"type": "boolean"},
                    "risk": {"type": "boolean"},
                    "response_scale": _SCALE,
                },
            },
        },
        "scoring": {
            "type": "object",
            "additionalProperties": False,
            "required": ["method"],
            "properties": {
                "method": {"enum": ["sum", "mean"]},
                "missing": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "rule": {"enum": ["prorate", "complete"]},
                        "max_missing_per_subscale": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
        "cutoffs": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["score", "below", "label", "source"],
                "properties": {
                    "score": {"type": "string"},
                    "below": {"type": "number"},
                    "label": {"type": "string", "minLength": 1},
                    "source": _SOURCE,
                },
            },
        },
        "bands": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["score", "at_least", "label", "source"],
                "properties": {
                    "score": {"type": "string"},
                    "at_least": {"type": "number"},
                    "label": {"type": "string", "minLength": 1},
                    "source": _SOURCE,
                },
            },
        },
        "thresholds": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "score", "value", "source"],
                "properties": {
                    "name": {"enum": ["absolute_drop"]},
                    "score": {"type": "string"},
                    "value": {"type": "number", "exclusiveMinimum": 0},
                    "source": _SOURCE,
                },
            },
        },
        "norms": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["score", "source"],
                "properties": {
                    "score": {"type": "string"},
                    "mean": {"type": "number"},
                    "sd": {"type": "number", "exclusiveMinimum": 0},
                    "sd_change": {"type": "number", "exclusiveMinimum": 0},
                    "source": _SOURCE,
                },
            },
        },
        "reliability": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["score", "statistic", "value", "source"],
                "properties": {
                    "score": {"type": "string"},
                    "statistic": {"enum": ["alpha", "omega", "test_retest"]},
                    "value": {"type": "number", "minimum": 0, "maximum": 1},
                    "source": _SOURCE,
                },
            },
        },
    },
}


@dataclass(frozen=True)
class ResponseScale:
    """The allowed answers to an item: ``min``..``max``, whole numbers unless ``integer`` is off."""

    min: float
    max: float
    integer: bool = True
    anchors: Mapping[float, str] = field(default_factory=dict)

    def describe(self) -> str:
        kind = "whole number" if self.integer else "number"
        return f"a {kind} from {_num(self.min)} to {_num(self.max)}"


@dataclass(frozen=True)
class Item:
    id: str
    subscale: str | None
    scale: ResponseScale
    reverse: bool = False
    text: Mapping[str, str] = field(default_factory=dict)
    # A safety item (e.g. thoughts of self-harm): any answer above the scale's floor calls for
    # the clinician's attention at once, whatever the total says.
    risk: bool = False

    def text_for(self, rater: str) -> str | None:
        """The wording shown to ``rater``, falling back to the client wording."""
        return self.text.get(rater) or self.text.get("client") or next(iter(self.text.values()),
                                                                       None)


@dataclass(frozen=True)
class Subscale:
    id: str
    title: str
    component: str | None
    items: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class Cutoff:
    score: str
    below: float
    label: str
    source: str


@dataclass(frozen=True)
class Band:
    """A severity band: scores of at least ``at_least`` (up to the next band) carry ``label``."""

    score: str
    at_least: float
    label: str
    source: str


@dataclass(frozen=True)
class Threshold:
    name: str
    score: str
    value: float
    source: str


@dataclass(frozen=True)
class Norm:
    score: str
    source: str
    mean: float | None = None
    sd: float | None = None
    sd_change: float | None = None


@dataclass(frozen=True)
class ReliabilityEstimate:
    score: str
    statistic: str
    value: float
    source: str


@dataclass(frozen=True)
class MissingRule:
    rule: Literal["prorate", "complete"] = "prorate"
    max_missing_per_subscale: int = 1


@dataclass(frozen=True)
class Instrument:
    """An instrument: items, subscales, scoring rule, cutoffs and psychometrics, each sourced."""

    id: str
    version: str
    title: str
    licence: str
    rater_types: tuple[str, ...]
    items: tuple[Item, ...]
    subscales: tuple[Subscale, ...]
    method: Literal["sum", "mean"]
    missing: MissingRule
    description: str = ""
    copyright: str = ""
    structure_only: bool = False
    instructions: Mapping[str, str] = field(default_factory=dict)
    cutoffs: tuple[Cutoff, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    norms: tuple[Norm, ...] = ()
    reliability: tuple[ReliabilityEstimate, ...] = ()
    source_path: str | None = None
    kind: Literal["alliance", "outcome"] = "alliance"
    higher_is: Literal["better", "worse"] = "better"
    bands: tuple[Band, ...] = ()
    # The language of the spec's own wording, and its other languages by tag.
    language: str = "en"
    translations: Mapping[str, Translation] = field(default_factory=dict)

    # An instrument never changes once built (frozen; ``replace`` makes a new one), so what
    # is derived from its items is computed once: the alert worker re-scores every stored
    # answer of a case at each assessment, and these lookups were most of that.
    @cached_property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    @cached_property
    def _items_by_id(self) -> dict[str, Item]:
        return {it.id: it for it in reversed(self.items)}  # the first of a repeated id wins

    def item(self, item_id: str) -> Item:
        try:
            return self._items_by_id[item_id]
        except KeyError:
            raise InstrumentError(f"{self.id}: no item {item_id!r}", item=item_id) from None

    @property
    def score_names(self) -> tuple[str, ...]:
        """Every score this instrument yields: its subscales, then ``total``."""
        return (*(s.id for s in self.subscales), TOTAL)

    @property
    def has_text(self) -> bool:
        return all(item.text for item in self.items)

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this instrument can be shown in: its own first, then its translations.

        A structure-only spec has none.

        >>> from alliance.instruments import get_instrument
        >>> get_instrument("alliance-12").languages, get_instrument("wai-sr").languages
        (('en', 'de', 'es', 'fr'), ())
        """
        if not self.has_text:
            return ()
        return (self.language, *sorted(self.translations))

    def wording(self, rater: str = "client", language: str | None = None) -> Wording:
        """The title, instructions, anchors and item wording ``rater`` sees in ``language``
        (by default the spec's own language).

        Without a version in that language (a region variant such as ``es-MX`` is served by
        ``es``) the spec's own wording comes back with ``fallback`` set and a ``note`` for the
        clinician. Within a language a rater without wording of their own gets the client's.

        >>> from alliance.instruments import get_instrument
        >>> es = get_instrument("pulse-3").wording("client", "es")
        >>> es.language, es.fallback, es.anchors[7.0]
        ('es', False, 'Totalmente')
        >>> get_instrument("session-check-4").wording("therapist", "it").note
        'no Italian version of session-check-4: shown in English'
        >>> get_instrument("srs").wording("client", "es").items
        {}
        """
        if rater not in self.rater_types:
            raise InstrumentError(f"{self.id} has no {rater!r} version; raters: "
                                  f"{', '.join(self.rater_types)}")
        wanted = self.language if language is None else language
        return wording_for(self, rater, parse_tag(wanted, f"{self.id}: language"))

    @property
    def risk_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.risk)

    def band(self, value: float, score: str = TOTAL) -> Band | None:
        """The severity band ``value`` falls in (the highest band whose floor it reaches).

        >>> from alliance.instruments import get_instrument
        >>> phq9 = get_instrument("phq-9")
        >>> phq9.band(4), phq9.band(12).label, phq9.band(27).label
        (None, 'moderate', 'severe')
        """
        hit = None
        for band in sorted((b for b in self.bands if b.score == score), key=lambda b: b.at_least):
            if value >= band.at_least:
                hit = band
        return hit

    def cutoff(self, score: str = TOTAL) -> Cutoff | None:
        return next((c for c in self.cutoffs if c.score == score), None)

    def threshold(self, name: str, score: str = TOTAL) -> Threshold | None:
        return next((t for t in self.thresholds if t.name == name and t.score == score), None)

    def norm(self, score: str = TOTAL) -> Norm | None:
        return next((n for n in self.norms if n.score == score), None)

    def reliability_of(self, score: str = TOTAL, statistic: str = "alpha") -> float | None:
        for est in self.reliability:
            if est.score == score and est.statistic == statistic:
                return est.value
        return None

    def score_range(self, score: str = TOTAL) -> tuple[float, float]:
        """The lowest and highest possible raw value of ``score``."""
        if score not in self._ranges:
            self._ranges[score] = self._score_range(score)
        return self._ranges[score]

    @cached_property
    def _ranges(self) -> dict[str, tuple[float, float]]:
        return {}

    def _score_range(self, score: str) -> tuple[float, float]:
        ids = self.item_ids if score == TOTAL else self._subscale(score).items
        scales = [self.item(i).scale for i in ids]
        lo, hi = sum(s.min for s in scales), sum(s.max for s in scales)
        if self.method == "mean":
            return lo / len(scales), hi / len(scales)
        return lo, hi

    def _subscale(self, score: str) -> Subscale:
        for sub in self.subscales:
            if sub.id == score:
                return sub
        raise InstrumentError(f"{self.id}: no score {score!r}; it has "
                              f"{', '.join(self.score_names)}")


def _num(x: float) -> str:
    try:
        return str(int(x)) if float(x).is_integer() else str(x)
    except OverflowError:  # an integer past the float range (a cutoff of 10**400)
        return str(x)


def _where(origin: str, raw: Mapping[str, Any], path: Sequence[Any]) -> str:
    """'file: item "b3", field text' style location for a schema error path."""
    parts: list[str] = []
    node: Any = raw
    for i, step in enumerate(path):
        if isinstance(step, int) and isinstance(node, list):
            element = node[step] if step < len(node) else None
            label = element.get("id") if isinstance(element, dict) else None
            parent = path[i - 1] if i else "entry"
            noun = {"items": "item", "subscales": "subscale"}.get(str(parent), f"{parent} entry")
            parts[-1:] = [f'{noun} "{label}"' if label else f"{noun} #{step + 1}"]
            node = element
        elif i and path[i - 1] == "translations":
            parts[-1:] = [f'translation "{step}"']
            node = node.get(step) if isinstance(node, dict) else None
        elif i > 2 and path[i - 1] == "items" and path[i - 3] == "translations":
            parts[-1:] = [f'item "{step}"']
            node = node.get(step) if isinstance(node, dict) else None
        else:
            parts.append(f"field {step}")
            node = node.get(step) if isinstance(node, dict) else None
    return f"{origin}: " + ", ".join(parts) if parts else origin


def _scale(raw: Mapping[str, Any], where: str) -> ResponseScale:
    try:  # YAML allows null or huge-integer anchor keys; min and max may be 10**400 or .nan
        anchors = {float(k): v for k, v in (raw.get("anchors") or {}).items()}
        low, high = float(raw["min"]), float(raw["max"])
    except (TypeError, ValueError, OverflowError):
        raise InstrumentError(f"{where}: min, max and anchors must be numbers") from None
    if not all(math.isfinite(v) for v in (low, high, *anchors)):
        raise InstrumentError(f"{where}: min, max and anchors must be finite numbers")
    return ResponseScale(low, high, bool(raw.get("integer", True)), anchors)


def parse_spec(raw: Any, origin: str = "<spec>") -> Instrument:
    """Validate a spec mapping and build the :class:`Instrument`.

    >>> inst = parse_spec({"id": "demo", "version": "1", "title": "Demo", "licence": "CC0-1.0",
    ...     "rater_types": ["client"], "response_scale": {"min": 1, "max": 5},
    ...     "items": [{"id": "a", "text": "First statement."},
    ...               {"id": "b", "text": "Second statement.", "reverse": True}],
    ...     "scoring": {"method": "sum"}})
    >>> inst.score_range()
    (2.0, 10.0)
    """
    if not isinstance(raw, Mapping):
        raise InstrumentError(f"{origin}: an instrument spec must be a mapping, "
                              f"not {type(raw).__name__}")
    validator = jsonschema.Draft202012Validator(SPEC_SCHEMA)
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        err = errors[0]
        if err.validator == "additionalProperties":
            detail = err.message.replace("Additional properties are not allowed", "unknown field")
        elif err.validator == "required":
            detail = err.message.replace("is a required property", "is required")
        elif err.validator == "pattern" and err.validator_value == TAG_PATTERN:
            detail = f"{err.instance!r} is not {TAG_HINT}"
        else:
            detail = err.message
        raise InstrumentError(f"{_where(origin, raw, list(err.absolute_path))}: {detail}",
                              path=list(err.absolute_path))

    default_scale = _scale(raw["response_scale"], f"{origin}: field response_scale")
    sub_raw = raw.get("subscales") or []
    sub_ids = [s["id"] for s in sub_raw]
    if len(set(sub_ids)) != len(sub_ids):
        raise InstrumentError(f"{origin}: field subscales: duplicate subscale id")
    if TOTAL in sub_ids:
        raise InstrumentError(f'{origin}: subscale "total" is reserved for the total score')

    items: list[Item] = []
    seen: set[str] = set()
    for entry in raw["items"]:
        iid = entry["id"]
        if iid in seen:
            raise InstrumentError(f'{origin}: item "{iid}" appears twice', item=iid)
        seen.add(iid)
        sub = entry.get("subscale")
        if sub_ids and sub is None:
            raise InstrumentError(f'{origin}: item "{iid}", field subscale is required when the '
                                  f"instrument has subscales", item=iid)
        if sub is not None and sub not in sub_ids:
            raise InstrumentError(f'{origin}: item "{iid}", field subscale: {sub!r} is not one of '
                                  f"{sub_ids}", item=iid)
        scale = (_scale(entry["response_scale"], f'{origin}: item "{iid}", field response_scale')
                 if "response_scale" in entry else default_scale)
        if scale.min >= scale.max:
            raise InstrumentError(f'{origin}: item "{iid}", field response_scale: min must be '
                                  f"below max", item=iid)
        for anchor in scale.anchors:
            if not scale.min <= anchor <= scale.max:
                raise InstrumentError(f'{origin}: item "{iid}", field response_scale.anchors: '
                                      f"{_num(anchor)} is outside {scale.describe()}", item=iid)
        text = rater_text(entry.get("text"))
        bad = set(text) - set(raw["rater_types"])
        if bad:
            raise InstrumentError(f'{origin}: item "{iid}", field text: wording for '
                                  f"{sorted(bad)}, who are not among the rater_types", item=iid)
        items.append(Item(iid, sub, scale, bool(entry.get("reverse", False)), text,
                          bool(entry.get("risk", False))))

    structure_only = bool(raw.get("structure_only", False))
    with_text = [i.id for i in items if i.text]
    if structure_only and with_text:
        raise InstrumentError(f'{origin}: item "{with_text[0]}": a structure-only spec must not '
                              f"carry item wording (add it with `alliance instruments add`)")
    if not structure_only and len(with_text) != len(items):
        missing = next(i.id for i in items if not i.text)
        raise InstrumentError(f'{origin}: item "{missing}", field text is required unless the '
                              f"spec is structure_only", item=missing)

    subscales = []
    for s in sub_raw:
        members = tuple(i.id for i in items if i.subscale == s["id"])
        if not members:
            raise InstrumentError(f'{origin}: subscale "{s["id"]}" has no items')
        subscales.append(Subscale(s["id"], s["title"], s.get("component"), members,
                                  s.get("description", "")))
    names = {*sub_ids, TOTAL}

    def check_score(kind: str, score: str) -> None:
        if score not in names:
            raise InstrumentError(f"{origin}: field {kind}: score {score!r} is not one of "
                                  f"{sorted(names)}")

    for kind in ("cutoffs", "thresholds", "norms", "reliability", "bands"):
        for entry in raw.get(kind) or []:
            check_score(kind, entry["score"])

    scoring = raw["scoring"]
    miss = scoring.get("missing") or {}
    inst = Instrument(
        id=raw["id"], version=str(raw["version"]), title=raw["title"], licence=raw["licence"],
        rater_types=tuple(raw["rater_types"]), items=tuple(items), subscales=tuple(subscales),
        method=scoring["method"],
        missing=MissingRule(miss.get("rule", "prorate"), int(miss.get("max_missing_per_subscale",
                                                                      1))),
        description=raw.get("description", ""), copyright=raw.get("copyright", ""),
        structure_only=structure_only, instructions=rater_text(raw.get("instructions")),
        cutoffs=tuple(Cutoff(**c) for c in raw.get("cutoffs") or []),
        thresholds=tuple(Threshold(**t) for t in raw.get("thresholds") or []),
        norms=tuple(Norm(**n) for n in raw.get("norms") or []),
        reliability=tuple(ReliabilityEstimate(**r) for r in raw.get("reliability") or []),
        source_path=None if origin.startswith("<") else origin,
        kind=raw.get("kind", "alliance"), higher_is=raw.get("higher_is", "better"),
        bands=tuple(Band(**b) for b in raw.get("bands") or []),
        language=parse_tag(raw.get("language", "en"), f"{origin}: field language"),
    )
    for cut in inst.cutoffs:
        lo, hi = inst.score_range(cut.score)
        if not lo < cut.below <= hi:
            raise InstrumentError(f"{origin}: field cutoffs: {cut.score} cutoff {_num(cut.below)} "
                                  f"lies outside the score's range {_num(lo)}..{_num(hi)}")
    for band in inst.bands:
        lo, hi = inst.score_range(band.score)
        if not lo < band.at_least <= hi:
            raise InstrumentError(f"{origin}: field bands: {band.label!r} starts at "
                                  f"{_num(band.at_least)}, outside the score's range "
                                  f"{_num(lo)}..{_num(hi)}")
    floors = [b.at_least for b in inst.bands]
    if len(set(floors)) != len(floors):
        raise InstrumentError(f"{origin}: field bands: two bands start at the same score")
    if raw.get("translations"):
        if structure_only:
            raise InstrumentError(f"{origin}: field translations: a structure-only spec has no "
                                  f"wording in any language")
        inst = replace(inst, translations=parse_translations(
            raw["translations"], origin=origin, instrument_id=inst.id, language=inst.language,
            rater_types=inst.rater_types, items=inst.items, instructions=inst.instructions,
            scale=default_scale))
    return inst
