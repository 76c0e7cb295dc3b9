"""The catalog of instruments: the bundled specs plus any a deployer added.

The bundled specs are package data (``alliance/instruments/specs/*.yaml``) and are read
through :mod:`importlib.resources`; deployer specs (licensed wording merged in with
``alliance instruments add``) are loaded by :mod:`alliance.interop.specfiles` and layered
on top with :meth:`Catalog.with_instruments`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Any

from alliance.errors import InstrumentError
from alliance.instruments.languages import language_name
from alliance.instruments.spec import RATER_TYPES, Instrument, parse_spec
from alliance.instruments.translations import (
    parse_tag,
    parse_translations,
    translation_to_mapping,
)
from alliance.yamltext import load_yaml


def parse_yaml_spec(text: str, origin: str) -> Instrument:
    """Parse one YAML spec text; YAML syntax errors become :class:`InstrumentError`."""
    return parse_spec(load_yaml(text, origin, InstrumentError), origin)


class Catalog(Mapping[str, Instrument]):
    """An immutable mapping of instrument id to :class:`Instrument`."""

    def __init__(self, instruments: Mapping[str, Instrument]) -> None:
        self._by_id = dict(sorted(instruments.items()))

    def __getitem__(self, key: str) -> Instrument:
        try:
            return self._by_id[key]
        except KeyError:
            raise InstrumentError(f"unknown instrument {key!r}; known: "
                                  f"{', '.join(self._by_id) or 'none'}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def with_instruments(self, extra: Mapping[str, Instrument]) -> Catalog:
        """A new catalog where ``extra`` replaces same-id instruments."""
        return Catalog({**self._by_id, **extra})


@lru_cache(maxsize=1)
def builtin_catalog() -> Catalog:
    """The specs shipped with alliance."""
    found: dict[str, Instrument] = {}
    folder = resources.files("alliance.instruments") / "specs"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            inst = parse_yaml_spec(entry.read_text(encoding="utf-8"), f"specs/{entry.name}")
            inst = replace(inst, source_path=None)
            found[inst.id] = inst
    return Catalog(found)


def get_instrument(instrument_id: str) -> Instrument:
    """A bundled instrument by id (raises :class:`InstrumentError` when unknown)."""
    return builtin_catalog()[instrument_id]


WORDING_KEYS = {"instrument", "version", "licence", "copyright", "title", "instructions",
                "anchors", "items", "language"}


def merge_wording(instrument: Instrument, wording: Any, origin: str = "<wording>", *,
                  replace_language: bool = False) -> Instrument:
    """Fill a structure-only instrument with a deployer's licensed wording, or add a language.

    ``wording`` is a mapping::

        instrument: wai-sr           # must match
        language: es                 # optional; en unless given
        licence: "Licensed to ... (licence no. ...)"
        title: "..."                 # optional (required for a translation)
        instructions: "..."          # optional
        anchors: {1: "...", 5: "..."}  # optional, for the instrument's shared response scale
        items: {"1": "text", "2": {"client": "text"}, ...}   # every item, no others

    For a structure-only instrument the result is a complete spec (``structure_only`` off)
    with the same scoring, worded in ``language``. For an instrument that already has
    wording in another language, the file becomes one more translation, checked like the
    ``translations:`` of a spec; replacing a language it already has needs
    ``replace_language``.
    """
    if not isinstance(wording, Mapping):
        raise InstrumentError(f"{origin}: a wording file must be a mapping")
    unknown = set(wording) - WORDING_KEYS
    if unknown:
        raise InstrumentError(f"{origin}: unknown field(s) {sorted(map(str, unknown))}; "
                              f"allowed: {sorted(WORDING_KEYS)}")
    target = wording.get("instrument")
    if target != instrument.id:
        raise InstrumentError(f"{origin}: field instrument is {target!r} but the spec is "
                              f"{instrument.id!r}")
    if not wording.get("licence"):
        raise InstrumentError(f"{origin}: field licence is required (who licensed this wording "
                              f"to you, and under which terms)")
    instructions = wording.get("instructions")
    if instructions is not None and not isinstance(instructions, str | Mapping):
        raise InstrumentError(f"{origin}: field instructions must be text or a mapping of "
                              f"rater type to text")
    items = wording.get("items")
    if not isinstance(items, Mapping) or not items:
        raise InstrumentError(f"{origin}: field items must map every item id to its text")
    items = {str(k): v for k, v in items.items()}
    language = (parse_tag(wording["language"], f"{origin}: field language")
                if wording.get("language") is not None else None)
    if instrument.has_text and language is not None and language != instrument.language:
        return _add_translation(instrument, wording, items, language, origin, replace_language)
    unknown_items = [k for k in items if k not in instrument.item_ids]
    if unknown_items:
        raise InstrumentError(f'{origin}: item "{unknown_items[0]}" is not in {instrument.id} '
                              f"(items: {', '.join(instrument.item_ids)})", item=unknown_items[0])
    missing = [i for i in instrument.item_ids if i not in items]
    if missing:
        raise InstrumentError(f'{origin}: item "{missing[0]}" has no text; every item needs '
                              f"wording", item=missing[0])
    new_items = []
    for item in instrument.items:
        text = items[item.id]
        if isinstance(text, str) and text.strip():
            mapped = {instrument.rater_types[0]: text.strip()}
        elif isinstance(text, Mapping) and all(isinstance(v, str) and v.strip()
                                               for v in text.values()) and text:
            bad = [r for r in text if r not in instrument.rater_types or r not in RATER_TYPES]
            if bad:
                raise InstrumentError(f'{origin}: item "{item.id}": rater {bad[0]!r} is not '
                                      f"among {list(instrument.rater_types)}", item=item.id)
            mapped = {str(k): str(v).strip() for k, v in text.items()}
        else:
            raise InstrumentError(f'{origin}: item "{item.id}": text must be a non-empty string '
                                  f"or a mapping of rater type to text", item=item.id)
        scale = item.scale
        if wording.get("anchors"):
            try:
                anchors = {float(k): str(v) for k, v in dict(wording["anchors"]).items()}
            except (TypeError, ValueError, OverflowError):
                raise InstrumentError(f"{origin}: field anchors must map scale values to "
                                      f"labels") from None
            outside = [a for a in anchors if not scale.min <= a <= scale.max]
            if outside:
                raise InstrumentError(f"{origin}: field anchors: {outside[0]:g} is outside "
                                      f"{scale.describe()}")
            scale = replace(scale, anchors=anchors)
        new_items.append(replace(item, text=mapped, scale=scale))
    return replace(
        instrument, items=tuple(new_items), structure_only=False,
        licence=str(wording["licence"]),
        copyright=str(wording.get("copyright", instrument.copyright)),
        title=str(wording.get("title", instrument.title.replace(" (structure only)", ""))),
        instructions=({instrument.rater_types[0]: instructions} if isinstance(instructions, str)
                      else dict(instructions or instrument.instructions)),
        source_path=None, language=language or instrument.language,
    )


def _add_translation(instrument: Instrument, wording: Mapping[str, Any],
                     items: Mapping[str, Any], language: str, origin: str,
                     replace_language: bool) -> Instrument:
    """One more language for a worded instrument, from a wording file."""
    if language in instrument.translations and not replace_language:
        raise InstrumentError(f"{origin}: {instrument.id} already has a "
                              f"{language_name(language)} ({language}) version; pass --replace "
                              f"to overwrite it", language=language)
    if not wording.get("title"):
        raise InstrumentError(f"{origin}: field title is required for a translation (the "
                              f"title clients see in {language_name(language)})")
    first = instrument.rater_types[0]
    entry: dict[str, Any] = {
        "title": str(wording["title"]), "licence": str(wording["licence"]),
        "items": {k: ({first: v} if isinstance(v, str) else v) for k, v in items.items()}}
    for key in ("copyright", "anchors"):
        if wording.get(key) is not None:
            entry[key] = wording[key]
    told = wording.get("instructions")
    if told is not None:
        entry["instructions"] = {first: told} if isinstance(told, str) else told
    for iid, text in entry["items"].items():
        if not (isinstance(text, Mapping) and text and all(isinstance(v, str) and v.strip()
                                                           for v in text.values())):
            raise InstrumentError(f'{origin}: item "{iid}": text must be a non-empty string or '
                                  f"a mapping of rater type to text", item=iid)
    added = parse_translations(
        {language: entry}, origin=origin, instrument_id=instrument.id,
        language=instrument.language, rater_types=instrument.rater_types,
        items=instrument.items, instructions=instrument.instructions,
        scale=instrument.items[0].scale)
    return replace(instrument, translations={**instrument.translations, **added},
                   source_path=None)


def spec_to_mapping(instrument: Instrument) -> dict[str, Any]:
    """The YAML-ready mapping of an instrument; :func:`parse_spec` reads it back unchanged."""
    def num(x: float) -> float | int:
        return int(x) if float(x).is_integer() else x

    def scale(s: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"min": num(s.min), "max": num(s.max)}
        if not s.integer:
            out["integer"] = False
        if s.anchors:
            out["anchors"] = {num(k): v for k, v in s.anchors.items()}
        return out

    shared = instrument.items[0].scale
    out: dict[str, Any] = {
        "id": instrument.id, "version": instrument.version, "title": instrument.title,
        "licence": instrument.licence, "rater_types": list(instrument.rater_types),
    }
    for key in ("description", "copyright"):
        if getattr(instrument, key):
            out[key] = getattr(instrument, key)
    if instrument.structure_only:
        out["structure_only"] = True
    if instrument.kind != "alliance":
        out["kind"] = instrument.kind
    if instrument.higher_is != "better":
        out["higher_is"] = instrument.higher_is
    if instrument.language != "en":
        out["language"] = instrument.language
    if instrument.instructions:
        out["instructions"] = dict(instrument.instructions)
    out["response_scale"] = scale(shared)
    if instrument.subscales:
        out["subscales"] = [
            {"id": s.id, "title": s.title, **({"component": s.component} if s.component else {}),
             **({"description": s.description} if s.description else {})}
            for s in instrument.subscales]
    items = []
    for item in instrument.items:
        entry: dict[str, Any] = {"id": item.id}
        if item.subscale:
            entry["subscale"] = item.subscale
        if item.reverse:
            entry["reverse"] = True
        if item.risk:
            entry["risk"] = True
        if item.text:
            entry["text"] = dict(item.text)
        if item.scale != shared:
            entry["response_scale"] = scale(item.scale)
        items.append(entry)
    out["items"] = items
    out["scoring"] = {"method": instrument.method,
                      "missing": {"rule": instrument.missing.rule,
                                  "max_missing_per_subscale":
                                      instrument.missing.max_missing_per_subscale}}
    for key in ("cutoffs", "bands", "thresholds", "norms", "reliability"):
        rows = getattr(instrument, key)
        if rows:
            out[key] = [{k: v for k, v in vars(r).items() if v is not None} for r in rows]
    if instrument.translations:
        out["translations"] = {tag: translation_to_mapping(tr)
                               for tag, tr in sorted(instrument.translations.items())}
    return out
