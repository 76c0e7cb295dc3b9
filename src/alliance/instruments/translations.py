"""Translations of an instrument's wording, and the wording a rater sees in a language.

A spec's own wording is in its ``language`` (``en`` unless it says otherwise). Its
``translations`` mapping adds other languages, each complete: a title, every item's wording
for every rater version the spec itself words, the instructions and the response-scale
anchors. Scoring never depends on the language: items, subscales and keys are shared.

:meth:`Instrument.wording <alliance.instruments.spec.Instrument.wording>` picks the wording
for one rater and language; when the instrument has no version in that language it returns
the spec's own wording with a note for the clinician ("no Spanish version of wai-sr: shown in
English"). A structure-only spec has no wording in any language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alliance.errors import InstrumentError
from alliance.instruments.languages import best_match, is_tag, language_name, normalise_tag

if TYPE_CHECKING:
    from alliance.instruments.spec import Instrument, Item, ResponseScale

TAG_HINT = "a language tag like es, fr, de or pt-BR"


@dataclass(frozen=True)
class Translation:
    """One language's wording of an instrument (scoring stays the instrument's own)."""

    language: str
    title: str
    items: Mapping[str, Mapping[str, str]]
    instructions: Mapping[str, str] = field(default_factory=dict)
    anchors: Mapping[float, str] = field(default_factory=dict)
    # A translation may be licensed on other terms than the spec (a deployer's licensed
    # Spanish version of a questionnaire); empty means the spec's own licence.
    licence: str = ""
    copyright: str = ""


@dataclass(frozen=True)
class Wording:
    """What one rater is shown in one language: the form's text, ready to render.

    ``language`` is the language of the text (empty for a structure-only spec), ``requested``
    the language asked for. ``fallback`` is true when the two differ (other than by region)
    and ``note`` then tells the clinician so; ``note`` is also set for a structure-only spec.
    """

    instrument: str
    rater: str
    requested: str
    language: str
    title: str
    instructions: str
    anchors: Mapping[float, str]
    items: Mapping[str, str]
    item_anchors: Mapping[str, Mapping[float, str]] = field(default_factory=dict)
    fallback: bool = False
    note: str = ""
    # The terms of the wording shown: a licensed translation's own, else the instrument's.
    licence: str = ""

    def text(self, item_id: str) -> str | None:
        """The wording of one item (``None`` for a structure-only spec)."""
        return self.items.get(item_id)

    def anchors_for(self, item_id: str) -> Mapping[float, str]:
        """The answer labels of one item (its own scale's, when it has one)."""
        return self.item_anchors.get(item_id, self.anchors)


def rater_text(raw: Any, default_rater: str = "client") -> dict[str, str]:
    """Wording as ``{rater: text}``: a plain string is the ``default_rater``'s."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {default_rater: raw}
    return {str(k): str(v) for k, v in dict(raw).items()}


def _pick(texts: Mapping[str, str], rater: str) -> str:
    """The rater's own wording, else the client's, else the first there is."""
    return texts.get(rater) or texts.get("client") or next(iter(texts.values()), "")


def parse_tag(tag: Any, where: str) -> str:
    """A well-formed tag in its conventional spelling, or a readable :class:`InstrumentError`."""
    if isinstance(tag, bool):
        # YAML 1.1 reads a bare `no:` (Norwegian) or `on:` as a boolean.
        raise InstrumentError(f"{where}: {tag!r} is not {TAG_HINT}; quote the tag "
                              f"(YAML reads a bare no, yes, on or off as true/false)")
    if not is_tag(tag):
        raise InstrumentError(f"{where}: {tag!r} is not {TAG_HINT}", language=tag)
    return normalise_tag(str(tag))


def parse_translations(raw: Any, *, origin: str, instrument_id: str, language: str,
                       rater_types: Sequence[str], items: Sequence[Item],
                       instructions: Mapping[str, str],
                       scale: ResponseScale) -> dict[str, Translation]:
    """Check every translation against the spec's own wording and build them.

    Each must word every item for every rater version the spec words, give instructions
    for every rater the spec instructs, label every anchor the spec labels (inside the
    scale), and word nothing for a rater the instrument does not have.
    """
    out: dict[str, Translation] = {}
    item_ids = [i.id for i in items]
    for tag, entry in (raw or {}).items():
        lang = parse_tag(tag, f"{origin}: field translations")
        where = f'{origin}: translation "{lang}"'
        if lang in out:
            raise InstrumentError(f"{where} appears twice", language=lang)
        if lang == language:
            raise InstrumentError(f"{where} repeats the spec's own language ({language}); that "
                                  f"wording belongs in the items", language=lang)
        texts = {str(k): v for k, v in (entry.get("items") or {}).items()}
        unknown = [k for k in texts if k not in item_ids]
        if unknown:
            raise InstrumentError(f'{where}: item "{unknown[0]}" is not in {instrument_id} '
                                  f"(items: {', '.join(item_ids)})", language=lang,
                                  item=unknown[0])
        worded: dict[str, dict[str, str]] = {}
        for item in items:
            if item.id not in texts:
                raise InstrumentError(f'{where}: item "{item.id}" has no wording; a translation '
                                      f"words every item", language=lang, item=item.id)
            text = rater_text(texts[item.id])
            _check_raters(text, item.text, rater_types, f'{where}, item "{item.id}"', language)
            worded[item.id] = text
        told = rater_text(entry.get("instructions"))
        _check_raters(told, instructions, rater_types, f"{where}, field instructions", language)
        out[lang] = Translation(lang, str(entry["title"]), worded, told,
                                _anchors(entry.get("anchors"), scale, where, language),
                                str(entry.get("licence", "")), str(entry.get("copyright", "")))
    return out


def _check_raters(text: Mapping[str, str], own: Mapping[str, str], rater_types: Sequence[str],
                  where: str, language: str) -> None:
    strangers = sorted(set(text) - set(rater_types))
    if strangers:
        raise InstrumentError(f"{where}: wording for {strangers}, who are not among the "
                              f"rater_types {list(rater_types)}")
    missing = [r for r in own if r not in text]
    if missing:
        raise InstrumentError(f"{where}: no {missing[0]} wording (the {language} version has "
                              f"one)")


def _anchors(raw: Any, scale: ResponseScale, where: str, language: str) -> dict[float, str]:
    labels: dict[float, str] = {}
    for key, label in (raw or {}).items():
        try:
            value = float(key)
        except (TypeError, ValueError):
            raise InstrumentError(f"{where}, field anchors: {key!r} is not a scale value"
                                  ) from None
        if not scale.min <= value <= scale.max:
            raise InstrumentError(f"{where}, field anchors: {value:g} is outside "
                                  f"{scale.describe()}")
        labels[value] = str(label)
    missing = [v for v in scale.anchors if v not in labels]
    if missing:
        raise InstrumentError(f"{where}, field anchors: no label for {missing[0]:g} (the "
                              f"{language} version labels it)")
    return labels


def wording_for(instrument: Instrument, rater: str, requested: str) -> Wording:
    """The wording ``rater`` sees in ``requested``; see :meth:`Instrument.wording`."""
    if not instrument.has_text:
        note = (f"{instrument.id} is structure-only: it has no wording in any language (a "
                f"licensed deployer adds it with `alliance instruments add`)")
        return Wording(instrument.id, rater, requested, "", instrument.title, "", {}, {},
                       note=note, licence=instrument.licence)
    shared = instrument.items[0].scale.anchors
    chosen = best_match(requested, instrument.languages) or instrument.language
    fallback = chosen.split("-")[0] != requested.split("-")[0]
    note = (f"no {language_name(requested)} version of {instrument.id}: shown in "
            f"{language_name(chosen)}") if fallback else ""
    own_anchors = {i.id: i.scale.anchors for i in instrument.items if i.scale.anchors != shared}
    tr = instrument.translations.get(chosen)
    if tr is None:
        return Wording(instrument.id, rater, requested, chosen, instrument.title,
                       _pick(instrument.instructions, rater), dict(shared),
                       {i.id: _pick(i.text, rater) for i in instrument.items}, own_anchors,
                       fallback, note, instrument.licence)
    # Items on their own scale keep their own labels: a translation labels the shared scale.
    return Wording(instrument.id, rater, requested, chosen, tr.title,
                   _pick(tr.instructions, rater), dict(tr.anchors),
                   {i.id: _pick(tr.items[i.id], rater) for i in instrument.items}, own_anchors,
                   fallback, note, tr.licence or instrument.licence)


def translation_to_mapping(tr: Translation) -> dict[str, Any]:
    """The YAML-ready form of one translation (the ``translations:`` entry)."""
    out: dict[str, Any] = {"title": tr.title}
    for key in ("licence", "copyright"):
        if getattr(tr, key):
            out[key] = getattr(tr, key)
    if tr.instructions:
        out["instructions"] = dict(tr.instructions)
    if tr.anchors:
        out["anchors"] = {int(k) if float(k).is_integer() else k: v for k, v in tr.anchors.items()}
    out["items"] = {k: dict(v) for k, v in tr.items.items()}
    return out
