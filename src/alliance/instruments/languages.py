"""Language tags: checking, naming and choosing among them.

Instruments name their languages with BCP 47-style tags: a primary language (``es``,
``fr``, ``de``), optionally a script (``sr-Latn``) and a region (``pt-BR``, ``es-419``).
Tags are case-insensitive; :func:`normalise_tag` gives the conventional spelling.
Only the shape is checked, not the IANA registry: a deployer may use any language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The shape of a tag, also used by the JSON Schema of instrument specs.
TAG_PATTERN = r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$"
_TAG = re.compile(TAG_PATTERN)

# Names used in notes to the clinician (English) and in a language picker (the language's own
# name). Unknown tags are shown as the tag itself.
_NAMES: dict[str, tuple[str, str]] = {
    "ar": ("Arabic", "العربية"),
    "ca": ("Catalan", "Català"),
    "da": ("Danish", "Dansk"),
    "de": ("German", "Deutsch"),
    "el": ("Greek", "Ελληνικά"),
    "en": ("English", "English"),
    "es": ("Spanish", "Español"),
    "fi": ("Finnish", "Suomi"),
    "fr": ("French", "Français"),
    "it": ("Italian", "Italiano"),
    "ja": ("Japanese", "日本語"),
    "nb": ("Norwegian Bokmål", "Norsk bokmål"),
    "nl": ("Dutch", "Nederlands"),
    "no": ("Norwegian", "Norsk"),
    "pl": ("Polish", "Polski"),
    "pt": ("Portuguese", "Português"),
    "ro": ("Romanian", "Română"),
    "ru": ("Russian", "Русский"),
    "sv": ("Swedish", "Svenska"),
    "tr": ("Turkish", "Türkçe"),
    "uk": ("Ukrainian", "Українська"),
    "zh": ("Chinese", "中文"),
}
_REGIONS: dict[str, str] = {
    "419": "Latin America", "AT": "Austria", "BE": "Belgium", "BR": "Brazil", "CA": "Canada",
    "CH": "Switzerland", "DE": "Germany", "ES": "Spain", "FR": "France", "GB": "United Kingdom",
    "MX": "Mexico", "PT": "Portugal", "US": "United States",
}


def is_tag(tag: object) -> bool:
    """Whether ``tag`` has the shape of a language tag.

    >>> [is_tag(t) for t in ("es", "pt-BR", "es-419", "sr-Latn-RS", "Spanish", "e", "es_ES")]
    [True, True, True, True, False, False, False]
    """
    return isinstance(tag, str) and _TAG.match(tag) is not None


def normalise_tag(tag: str) -> str:
    """The conventional spelling of a tag: language lower case, Script title case, REGION upper.

    >>> normalise_tag("PT-br"), normalise_tag("sr-latn-rs")
    ('pt-BR', 'sr-Latn-RS')
    """
    match = _TAG.match(tag)
    if match is None:
        raise ValueError(f"{tag!r} is not a language tag")
    lang, script, region = match.groups()
    return "-".join(part for part in (lang.lower(), script and script.title(),
                                      region and region.upper()) if part)


def language_name(tag: str, *, own: bool = False) -> str:
    """A readable name for ``tag``: in English, or (``own=True``) in the language itself.

    >>> language_name("es"), language_name("pt-BR"), language_name("de", own=True)
    ('Spanish', 'Portuguese (Brazil)', 'Deutsch')
    >>> language_name("tlh")
    'tlh'
    """
    if not is_tag(tag):
        return tag
    norm = normalise_tag(tag)
    lang, _, rest = norm.partition("-")
    names = _NAMES.get(lang)
    if names is None:
        return norm
    name = names[1] if own else names[0]
    region = rest.rsplit("-", 1)[-1] if rest else ""
    if region and not own:
        return f"{name} ({_REGIONS.get(region, region)})"
    return f"{name} ({region})" if region else name


def best_match(requested: str, available: Iterable[str]) -> str | None:
    """The available tag that best serves ``requested``, or ``None``.

    An exact match first, then the same language with another region (``es-MX`` is served
    by ``es``, ``pt`` by ``pt-BR``); never another language.

    >>> best_match("es-MX", ["en", "es"]), best_match("pt", ["pt-BR"]), best_match("it", ["en"])
    ('es', 'pt-BR', None)
    """
    if not is_tag(requested):
        return None
    want = normalise_tag(requested)
    tags = [normalise_tag(t) for t in available if is_tag(t)]
    if want in tags:
        return want
    primary = want.split("-")[0]
    if primary in tags:
        return primary
    return next((t for t in tags if t.split("-")[0] == primary), None)
