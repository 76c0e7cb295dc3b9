"""Patterns for structured identifiers in free text: what de-identification removes.

Each detector yields :class:`Span` objects (kind, start, end). The kinds follow the HIPAA
Safe Harbor list of identifiers (45 CFR 164.514(b)(2)) where it applies to speech:
e-mail addresses, URLs, telephone numbers, dates (all elements smaller than a year),
street addresses and postcodes, and ID-like numbers (SSN, NHS number, medical record,
account, policy and card numbers, long digit strings). Names are not guessed from text;
they come from a roster (see :mod:`alliance.transcripts.deidentify`).

Years on their own, ages, durations, scores such as "8/10", counts and money are *kept*:
they carry clinical meaning and are not identifiers under Safe Harbor (ages over 89
excepted, which are rare in speech and not handled).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

KINDS: tuple[str, ...] = ("EMAIL", "URL", "PHONE", "DATE", "ADDRESS", "ID", "NAME")


@dataclass(frozen=True)
class Span:
    """An identifier found at ``text[start:end]``; lower ``rank`` wins a tie."""

    kind: str
    start: int
    end: int
    rank: int = 5


# --- e-mail and URLs ---------------------------------------------------------------------
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}(?![\w-])")
_DOT_WORD = r"(?:dot|\[dot\]|\(dot\))"
_SPOKEN_EMAIL = re.compile(
    rf"(?<![\w.])[A-Za-z0-9][A-Za-z0-9._+-]*(?:\s+{_DOT_WORD}\s+[A-Za-z0-9_-]+)*"
    r"\s+(?:at|\[at\]|\(at\))\s+[A-Za-z0-9-]+"
    rf"(?:\s+{_DOT_WORD}\s+[A-Za-z0-9-]+)*\s+{_DOT_WORD}\s+"
    r"(?:com|org|net|edu|gov|co|uk|io|me|info|ac|us|de|fr|ca|au)\b", re.IGNORECASE)
_TLD = (r"(?:com|org|net|edu|gov|io|info|me|app|health|care|co|us|uk|de|fr|ca|au|ie|nz|eu|"
        r"ly|site|online|clinic)")
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)[^\s<>\"']+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w/])(?:r|u)/[A-Za-z0-9_-]{3,}")
_BARE_DOMAIN = re.compile(
    rf"(?<![\w@.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+{_TLD}(?![\w-])(?:/[^\s<>\"']*)?",
    re.IGNORECASE)

# --- telephone numbers -------------------------------------------------------------------
# A run of digits and separators; validated by digit count and grouping in _phones().
_PHONE_RUN = re.compile(r"(?<![\w+/.-])(?:\+|00)?\(?\d[\d\s().-]{5,22}\d(?:\s*(?:ext\.?|x|"
                        r"extension)\s*\d{1,5})?(?![\w/-]|[.,]\d)", re.IGNORECASE)

# --- dates -------------------------------------------------------------------------------
# A full month name, or an abbreviation with its dot if it has one ("Mar." but not "May.").
_MONTH = (r"(?:(?:January|February|March|April|May|June|July|August|September|October|"
          r"November|December)\b|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)(?:\.|\b))")
_WEEKDAY = r"(?:(?:Mon|Tues|Tue|Wednes|Wed|Thurs|Thu|Fri|Satur|Sat|Sun)(?:day)?\.?,?\s+)"
_ORDINAL_WORD = (r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
                 r"eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|"
                 r"eighteenth|nineteenth|twentieth|twenty[- ](?:first|second|third|fourth|"
                 r"fifth|sixth|seventh|eighth|ninth)|thirtieth|thirty[- ]first)")
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORDINAL_WORD})"
_YEAR = r"(?:\d{4}|'\d{2})"
_WRITTEN_DATES = [
    # Tuesday, 12th of March 2024 / the 3rd of June, 2023 / 12 Mar 2024
    re.compile(rf"\b{_WEEKDAY}?(?:the\s+)?{_DAY}(?:\s+of)?\s+{_MONTH}(?:,?\s+{_YEAR}\b)?",
               re.IGNORECASE),
    # March 12, 2024 / Mar. 12th / March the third / Tuesday March 12
    re.compile(rf"\b{_WEEKDAY}?{_MONTH}\.?\s+(?:the\s+)?{_DAY}\b(?:,?\s+{_YEAR}\b)?",
               re.IGNORECASE),
    # Monday the 3rd (a weekday fixes which month's 3rd is meant)
    re.compile(r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+(?:the\s+)?"
               r"\d{1,2}(?:st|nd|rd|th)\b", re.IGNORECASE),
    # March 2024 / Sept. '19
    re.compile(rf"\b{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
]
_NUMERIC_DATES = [
    re.compile(r"(?<![\w./-])\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?![\w/-]|\.\d)"),
    re.compile(r"(?<![\w./-])\d{4}[/.-]\d{1,2}[/.-]\d{1,2}(?![\w/-]|\.\d)"),
    # 20240312: a compact date only if month and day are valid; otherwise an ID number
    re.compile(r"(?<![\w./-])(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\w)"),
]
# "on 3/12" is a date; "8/10" alone is a rating and is kept.
_SHORT_DATE = re.compile(r"\b(?:on|since|by|until|till|from|before|after|dated|born)\s+"
                         r"(\d{1,2}/\d{1,2})(?![\w/])", re.IGNORECASE)

# --- addresses ---------------------------------------------------------------------------
_STREET_TYPE = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|"
                r"Place|Pl|Terrace|Way|Close|Crescent|Cres|Gardens|Square|Sq|Parkway|Pkwy|"
                r"Highway|Hwy|Circle|Cir|Row|Mews|Grove|Walk|Park|Hill)")
_UNITS_WORDS = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TEENS_WORDS = (r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|"
                r"nineteen)")
_TENS_WORDS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_SPOKEN_HOUSE = (rf"(?:{_UNITS_WORDS}\s+hundred(?:\s+(?:and\s+)?(?:{_TENS_WORDS}(?:[- ]"
                 rf"{_UNITS_WORDS})?|{_TEENS_WORDS}|{_UNITS_WORDS}))?|{_TENS_WORDS}(?:[- ]"
                 rf"{_UNITS_WORDS})?|{_TEENS_WORDS}|{_UNITS_WORDS})")
_NOT_STREET_WORD = (r"(?!(?:the|a|an|to|down|up|my|his|her|our|their|your|on|in|of|at|and|"
                    r"or|for|from|with|by|is|was|more|miles?|blocks?|minutes?|hours?|times?|"
                    r"days?|weeks?|months?|years?|people|kids|steps|houses|doors|stops)\b)")
_UNIT = r"(?:(?:Apt|Apartment|Unit|Suite|Ste|Flat|Room|#)\.?\s*#?\w{1,5})"
_STREET = re.compile(
    rf"(?:(?<!\w){_UNIT},?\s+)?\b(?:\d{{1,5}}[A-Za-z]?|{_SPOKEN_HOUSE}),?\s+"
    # street-name words; only abbreviations (St. Mary's, Mt. Vernon, N. Main) carry a dot,
    # so a sentence end ("Box 18627 now. Dr. Lopez") is not read as a street
    rf"(?:(?:(?:St|Mt|Ft|[NSEW])\.|\d{{1,3}}(?:st|nd|rd|th)|{_NOT_STREET_WORD}[A-Za-z][A-Za-z'’-]*)"
    rf"\s+){{1,3}}{_STREET_TYPE}\b\.?(?-i:\s+(?:NE|NW|SE|SW|N|S|E|W)\b)?(?:,?\s+{_UNIT})?"
    r"(?-i:(?:,\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?(?:,\s+[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?)?)",
    re.IGNORECASE)
# Street name first, number after, as in much of Europe: "Rue de Rivoli 24", "Hauptstraße 5".
_CONTINENTAL = re.compile(
    r"\b(?:(?:Rue|Via|Viale|Calle|Avenida|Rua|Carrer|Piazza|Plaza|Paseo|Chemin|Quai|Place)"
    r"\s+(?:[A-Za-zÀ-ÿ'’-]+\s+){1,3}|[A-ZÄÖÜ][a-zäöüß]+(?:straße|strasse|weg|platz|allee|"
    r"gasse|ring|gracht|laan|straat|vej|gatan|gata)\s+)\d{1,4}[a-z]?\b")
_PO_BOX = re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d{1,6}\b", re.IGNORECASE)
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}\b")
_US_ZIP = re.compile(r"\b(?:[A-Z]{2}\s+|(?:zip|postal|post)\s*(?:code)?\s*(?:is|:)?\s*)"
                     r"(\d{5}(?:-\d{4})?)\b", re.IGNORECASE)

# --- ID-like numbers ---------------------------------------------------------------------
_SSN = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])")
_ID_LABEL = (r"(?:NHS|MRN|SSN|NINO|social\s+security|social|national\s+insurance|medical\s+record|"
             r"medicare|medicaid|health\s+card|health\s+insurance|"
             r"hospital|patient|chart|record|account|acct|policy|member|insurance|subscriber|"
             r"case|reference|ref|licen[cs]e|passport|employee|student|claim|card|client|ID|"
             r"identifier|file)")
_LABELLED_ID = re.compile(
    rf"\b{_ID_LABEL}(?:\s+(?:number|no\.?|num|#|ID|identifier|code|reference|ref))?\s*"
    r"(?:is|was|:|#|-|=)?\s*(?:number\s+)?"
    r"(?P<id>(?:(?-i:[A-Z]{1,4})[ -])?(?=[A-Z0-9-]*\d)[A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9])|"
    r" (?=\d))*[A-Z0-9])(?![\w-])",
    re.IGNORECASE)
# A short letter prefix before grouped digits: "HN 448 102 993".
_PREFIXED_DIGITS = re.compile(r"\b[A-Z]{1,3}[ -]?\d{3}[ -]?\d{3}[ -]?\d{3,4}(?![\w-])")
# UK National Insurance number; the prefix letters are not restricted to the issued ranges
# because example numbers (QQ 12 34 56 C) are used on forms and read out as such.
_UK_NINO = re.compile(r"\b[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b")
_ALNUM_ID = re.compile(r"(?<![\w-])(?:[A-Z]{1,4}-?\d{5,}[A-Z]?|\d{5,}[A-Z]{1,3}|"
                       r"(?=[A-Z0-9]{8,}\b)(?=(?:[A-Z]*\d){5})[A-Z0-9]+)(?![\w-])")
# Seven-digit local numbers as people say them: 555-0199.
_LOCAL_PHONE = re.compile(r"(?<![\w./-])\d{3}[-.]\d{4}(?![\w/-]|[.,]\d)")
_CARD = re.compile(r"(?<![\w-])\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}(?![\w-])")
_LONG_DIGITS = re.compile(r"(?<![\w.,])\d{7,}(?![\w]|[.,]\d)")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def _phones(text: str) -> Iterator[Span]:
    """Telephone numbers: 9-15 digits in at most 6 groups, at least one of 3+ digits.

    The grouping test keeps lists of small numbers ("12 14 16 18 20") and plain counts out.
    """
    for m in _PHONE_RUN.finditer(text):
        raw = m.group(0)
        core = re.split(r"\s*(?:ext\.?|x|extension)\s*\d", raw, flags=re.IGNORECASE)[0]
        groups = [g for g in re.split(r"[\s().-]+", core) if g]
        digits = _digits(core)
        if not 9 <= digits <= 15 or len(groups) > 6:
            continue
        if not any(len(g) >= 3 for g in groups):
            continue
        if len(groups) == 1 and not core.startswith("+") and not (
                digits in (10, 11) and core.startswith(("0", "1"))):
            continue  # an unbroken run of digits is an ID number, not a phone number
        if raw.count("(") != raw.count(")"):
            start = m.start() + (1 if raw.startswith("(") and ")" not in raw else 0)
            end = m.end() - (1 if raw.endswith(")") and "(" not in raw else 0)
            yield Span("PHONE", start, end, 6)
            continue
        yield Span("PHONE", m.start(), m.end(), 6)
    for m in _LOCAL_PHONE.finditer(text):
        yield Span("PHONE", m.start(), m.end(), 6)


def _strip_trailing(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in ".,;:!?)]}'\"":
        end -= 1
    return end


def _emails(text: str) -> Iterator[Span]:
    for pattern in (_EMAIL, _SPOKEN_EMAIL):
        for m in pattern.finditer(text):
            yield Span("EMAIL", m.start(), m.end(), 1)


def _urls(text: str) -> Iterator[Span]:
    for pattern in (_URL, _BARE_DOMAIN, _HANDLE):
        for m in pattern.finditer(text):
            yield Span("URL", m.start(), _strip_trailing(text, m.start(), m.end()), 2)


def _dates(text: str) -> Iterator[Span]:
    for pattern in (*_WRITTEN_DATES, *_NUMERIC_DATES):
        for m in pattern.finditer(text):
            yield Span("DATE", m.start(), m.end(), 4)
    for m in _SHORT_DATE.finditer(text):
        yield Span("DATE", m.start(1), m.end(1), 4)


def _addresses(text: str) -> Iterator[Span]:
    for pattern in (_STREET, _CONTINENTAL, _PO_BOX, _UK_POSTCODE):
        for m in pattern.finditer(text):
            yield Span("ADDRESS", m.start(), _strip_trailing(text, m.start(), m.end()), 5)
    for m in _US_ZIP.finditer(text):
        yield Span("ADDRESS", m.start(1), m.end(1), 5)


def _ids(text: str) -> Iterator[Span]:
    for m in _SSN.finditer(text):
        yield Span("ID", m.start(), m.end(), 3)
    for m in _LABELLED_ID.finditer(text):
        value = m.group("id")
        if _digits(value) >= 4:
            yield Span("ID", m.start("id"), m.end("id"), 3)
    for pattern in (_UK_NINO, _CARD, _PREFIXED_DIGITS):
        for m in pattern.finditer(text):
            yield Span("ID", m.start(), m.end(), 3)
    for pattern in (_ALNUM_ID, _LONG_DIGITS):
        for m in pattern.finditer(text):
            yield Span("ID", m.start(), m.end(), 7)


_SPOKEN_DIGIT = (r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                 r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|"
                 r"forty|fifty|sixty|seventy|eighty|ninety|hundred|double|triple)")
_SPOKEN_RUN = re.compile(rf"\b{_SPOKEN_DIGIT}(?:[\s,-]+{_SPOKEN_DIGIT})+\b", re.IGNORECASE)
_SPACED_DIGITS = re.compile(r"(?<![\w.,])\d(?:[ ,-]\d){6,14}(?![\w]|[.,]\d)")
_SPOKEN_VALUE = {**{w: 1 for w in ("zero", "oh", "o", "one", "two", "three", "four", "five",
                                   "six", "seven", "eight", "nine")},
                 **{w: 2 for w in ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
                                   "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
                                   "thirty", "forty", "fifty", "sixty", "seventy", "eighty",
                                   "ninety")}}
_ID_CONTEXT = re.compile(rf"{_ID_LABEL}(?:\s+(?:number|no\.?|#|ID))?\s*(?:is|was|:)?\s*$",
                         re.IGNORECASE)


def _spoken_digits(words: list[str]) -> int:
    """How many digits a run of number words spells: "double oh" 2, "twenty three" 2."""
    count, multiplier, previous_tens = 0, 1, False
    for word in words:
        if word in ("double", "triple"):
            multiplier = 2 if word == "double" else 3
            continue
        if word == "hundred":
            count += 2
            continue
        value = _SPOKEN_VALUE.get(word, 0)
        if previous_tens and value == 1:
            value = 0  # "twenty three" is two digits, not three
        previous_tens = word.endswith("ty")
        count += value * multiplier
        multiplier = 1
    return count


_COUNT_ORDER = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve")


def _is_counting(words: list[str]) -> bool:
    """"one, two, three, four..." is counting (a breathing exercise), not a number."""
    if not all(w in _COUNT_ORDER for w in words):
        return False
    positions = [_COUNT_ORDER.index(w) for w in words]
    return all(b == a + 1 for a, b in itertools.pairwise(positions))


def _spoken_numbers(text: str) -> Iterator[Span]:
    """Numbers read out digit by digit ("seven one eight, five five five, oh one two
    three"): seven or more digits is a phone number, or an ID after an ID label."""
    for m in _SPOKEN_RUN.finditer(text):
        words = re.findall(r"[a-z]+", m.group(0).lower())
        if _spoken_digits(words) < 7 or _is_counting(words):
            continue
        kind = "ID" if _ID_CONTEXT.search(text[max(0, m.start() - 40):m.start()]) else "PHONE"
        yield Span(kind, m.start(), m.end(), 6)
    for m in _SPACED_DIGITS.finditer(text):
        kind = "ID" if _ID_CONTEXT.search(text[max(0, m.start() - 40):m.start()]) else "PHONE"
        yield Span(kind, m.start(), m.end(), 6)


DETECTORS: tuple[Callable[[str], Iterator[Span]], ...] = (
    _emails, _urls, _ids, _dates, _phones, _addresses, _spoken_numbers)


def find_identifiers(text: str) -> list[Span]:
    """All structured identifiers in ``text``, non-overlapping, in text order.

    Overlaps are resolved by keeping the longest span, then the lowest rank (an SSN beats the
    phone number of the same digits, a labelled ID beats a bare long number).
    """
    spans = resolve([s for detector in DETECTORS for s in detector(text) if s.end > s.start])
    return _join_address_parts(text, spans)


def _join_address_parts(text: str, spans: list[Span]) -> list[Span]:
    """"14 Rose Gardens, Leeds" + "LS6 2AB" -> one [ADDRESS], not two in a row."""
    out: list[Span] = []
    for span in spans:
        last = out[-1] if out else None
        if (last is not None and last.kind == span.kind == "ADDRESS"
                and not text[last.end:span.start].strip(" ,")):
            out[-1] = Span("ADDRESS", last.start, span.end, min(last.rank, span.rank))
        else:
            out.append(span)
    return out


def _merge_same_kind(spans: list[Span]) -> list[Span]:
    """Overlapping spans of one kind become their union (a street plus its postcode)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.kind, s.start, -s.end)):
        last = merged[-1] if merged else None
        if last is not None and last.kind == span.kind and span.start < last.end:
            merged[-1] = Span(span.kind, last.start, max(last.end, span.end),
                              min(last.rank, span.rank))
        else:
            merged.append(span)
    return merged


def resolve(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans: same-kind overlaps merged, then longest first, lowest rank."""
    chosen: list[Span] = []
    for span in sorted(_merge_same_kind(spans), key=lambda s: (-(s.end - s.start), s.rank,
                                                               s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)
