"""A seeded synthetic corpus for measuring de-identification.

Therapy-like sentences with planted identifiers in many surface forms (every identifier
and name here is invented), plus clean sentences full of numbers that are *not*
identifiers (ratings, ages, durations, scores, money). :func:`evaluate` reports

* recall per kind: a planted identifier counts as removed only if every letter and digit
  of it lies inside a replacement;
* kind accuracy: the replacement covering it has the planted kind;
* over-redaction: the share of word tokens replaced in clean sentences, and of tokens
  outside planted spans in planted sentences.

Run ``python -m alliance.testing.phi_corpus --seed 2026 --sentences 3000``. The
patterns were tuned on seed 1 and are reported on other seeds; the generator and the
patterns share an author, so treat the figures as an upper bound for real transcripts.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from alliance.transcripts.deidentify import deidentify_text

ROSTER: tuple[str, ...] = (
    "Maria Lopez", "Daniel Okafor", "Priya Raman", "Tom Becker", "Aoife Byrne", "Kwame Mensah",
    "Sofia Rossi", "Liam O'Neill", "Hannah Weiss", "Jamal Carter", "Mei Chen", "Olga Petrova",
)
_FIRST = [n.split()[0] for n in ROSTER]
_LAST = [n.split()[-1] for n in ROSTER]
_STREETS = ["Elm", "Maple", "Harcourt", "Station", "Church", "Mill", "Victoria", "Oak",
            "Cedar Hill", "Kingsley", "Albert", "Lakeview", "Riverside", "Martin Luther King"]
_STREET_TYPES = ["Street", "St.", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Court",
                 "Close", "Crescent", "Boulevard", "Way", "Terrace", "Place"]
_CITIES = [("Springfield", "IL"), ("Portland", "OR"), ("Austin", "TX"), ("Leeds", None),
           ("Bristol", None), ("Dayton", "OH"), ("Cork", None), ("Albany", "NY")]
_DOMAINS = ["gmail.com", "yahoo.co.uk", "outlook.com", "example.org", "clinic-mail.net",
            "uni.ac.uk", "hotmail.com", "proton.me", "work.example.com"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov",
               "Dec"]
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 12: "twelfth",
             20: "twentieth", 21: "twenty-first", 23: "twenty-third", 30: "thirtieth"}


def _suffix(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def _email(rng: random.Random) -> str:
    first, last = rng.choice(_FIRST).lower(), rng.choice(_LAST).lower().replace("'", "")
    user = rng.choice([f"{first}.{last}", f"{first}{rng.randint(1, 99)}", f"{first[0]}{last}",
                       f"{first}_{last}", f"{first}+therapy", f"{last}.{first}{_digits(rng, 2)}"])
    domain = rng.choice(_DOMAINS)
    form = rng.random()
    if form < 0.12:
        return f"{user} at {domain.replace('.', ' dot ')}"
    if form < 0.22:
        return f"{user}@{domain}".upper()
    return f"{user}@{domain}"


def _url(rng: random.Random) -> str:
    name = rng.choice(["maria-lopez-art", "okaforfamily", "mindful-priya", "tombecker",
                       "byrne-photos", "mensah-consulting", "sofiarossi"])
    tld = rng.choice(["com", "org", "net", "co.uk", "me", "io"])
    path = rng.choice(["", "/blog", "/about-me", "/posts/2023/my-story", "/p?id=4471"])
    return rng.choice([f"https://www.{name}.{tld}{path}", f"http://{name}.{tld}{path}",
                       f"www.{name}.{tld}{path}", f"{name}.{tld}{path}",
                       f"https://{name}.{tld}/"])


def _phone(rng: random.Random) -> str:
    a, b, c = _digits(rng, 3), _digits(rng, 3), _digits(rng, 4)
    a = str(rng.randint(2, 9)) + a[1:]
    forms = [
        f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}", f"{a} {b} {c}", f"+1 {a} {b} {c}",
        f"1-{a}-{b}-{c}", f"+1 ({a}) {b}-{c}", f"{a}-{b}-{c} ext. {rng.randint(2, 999)}",
        f"07{_digits(rng, 3)} {_digits(rng, 6)}", f"+44 7{_digits(rng, 3)} {_digits(rng, 6)}",
        f"020 {_digits(rng, 4)} {_digits(rng, 4)}",
        f"+44 (0)20 {_digits(rng, 4)} {_digits(rng, 4)}",
        f"01{_digits(rng, 3)} {_digits(rng, 6)}", f"0{_digits(rng, 10)}",
        f"+33 {rng.randint(1, 9)} {_digits(rng, 2)} {_digits(rng, 2)} {_digits(rng, 2)} "
        f"{_digits(rng, 2)}",
        f"+49 30 {_digits(rng, 8)}", f"+61 2 {_digits(rng, 4)} {_digits(rng, 4)}",
        f"+353 87 {_digits(rng, 3)} {_digits(rng, 4)}", f"+91 {_digits(rng, 5)} {_digits(rng, 5)}",
        f"0044 7{_digits(rng, 3)} {_digits(rng, 6)}",
    ]
    return rng.choice(forms)


def _date(rng: random.Random) -> str:
    year, month, day = rng.randint(1950, 2026), rng.randint(1, 12), rng.randint(1, 28)
    name, abbr = _MONTHS[month - 1], _MONTH_ABBR[month - 1]
    weekday = rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                          "Sunday"])
    ordinal_day = rng.choice(list(_ORDINALS))
    forms = [
        f"{month}/{day}/{year}", f"{day}/{month}/{year}", f"{month:02d}/{day:02d}/{year % 100:02d}",
        f"{year}-{month:02d}-{day:02d}", f"{day:02d}.{month:02d}.{year}", f"{day}-{month}-{year}",
        f"{name} {day}, {year}", f"{name} {day}{_suffix(day)}", f"{day} {name} {year}",
        f"{day}{_suffix(day)} of {name}", f"the {day}{_suffix(day)} of {name}, {year}",
        f"{abbr}. {day}", f"{abbr} {day} {year}", f"{weekday}, {name} {day}",
        f"{weekday} the {day}{_suffix(day)} of {name}", f"{name} {year}",
        f"the {_ORDINALS[ordinal_day]} of {name}", f"{name} the {_ORDINALS[ordinal_day]}",
        f"{name.lower()} {day}", f"{day} {abbr} {year}",
    ]
    return rng.choice(forms)


def _address(rng: random.Random) -> str:
    number = rng.randint(1, 9999)
    street = f"{rng.choice(_STREETS)} {rng.choice(_STREET_TYPES)}"
    city, state = rng.choice(_CITIES)
    unit = rng.choice(["Apt 4B", "Apartment 12", "Unit 3", "Suite 200", "Flat 2", "#7"])
    postcode = (f"{rng.choice(['SW', 'LS', 'BS', 'M', 'E', 'N', 'CF'])}{rng.randint(1, 19)} "
                f"{rng.randint(1, 9)}{rng.choice(['AB', 'QT', 'XY', 'DH', 'NW'])}")
    zip_code = _digits(rng, 5)
    forms = [
        f"{number} {street}", f"{number} {street}, {unit}",
        f"{number} {street}, {city}" + (f", {state} {zip_code}" if state else ""),
        f"{unit}, {number} {street}", f"{number} {street.lower()}",
        f"{number} {street}, {city} {postcode}", f"P.O. Box {rng.randint(10, 99999)}",
        f"PO Box {rng.randint(10, 9999)}", postcode,
    ]
    return rng.choice(forms)


def _identifier(rng: random.Random) -> str:
    forms = [
        f"{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 4)}",
        f"{_digits(rng, 3)} {_digits(rng, 3)} {_digits(rng, 4)}",
        f"{rng.choice('ABCEGHKMPT')}{_digits(rng, 7)}",
        f"MRN-{_digits(rng, 6)}", f"PT{_digits(rng, 6)}", _digits(rng, rng.randint(7, 12)),
        f"{_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}",
        f"{rng.choice(['AB', 'JK', 'QQ', 'NP'])} {_digits(rng, 2)} {_digits(rng, 2)} "
        f"{_digits(rng, 2)} {rng.choice('ABCD')}",
        f"XJH{_digits(rng, 9)}", f"{_digits(rng, 8)}K",
    ]
    return rng.choice(forms)


def _name(rng: random.Random) -> str:
    full = rng.choice(ROSTER)
    first, last = full.split()[0], full.split()[-1]
    return rng.choice([full, first, first, last, full.lower(), first.upper(), f"{first}'s",
                       f"Dr. {last}", f"Mr. {last}"])


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "EMAIL": _email, "URL": _url, "PHONE": _phone, "DATE": _date, "ADDRESS": _address,
    "ID": _identifier, "NAME": _name,
}

TEMPLATES: dict[str, tuple[str, ...]] = {
    "EMAIL": (
        "You can email me at {} if anything comes up before next week.",
        "My old address was {}, but I don't really check it anymore.",
        "I wrote to my manager at {} and she never answered.",
        "The school counsellor said to contact her on {}.",
        "Send the worksheet to {}, that's the one I actually read.",
        "I made a new account, {}, so he can't find me.",
    ),
    "URL": (
        "My sister posts everything about us on {} and it drives me mad.",
        "I found the breathing exercise on {} last night.",
        "He keeps a blog at {} where he writes about the divorce.",
        "There's a support group listed at {} that I might try.",
    ),
    "PHONE": (
        "If I'm late, text me on {} and I'll pick up.",
        "My mum's number is {}, she said you could call her.",
        "I called the crisis line, {}, on Sunday night.",
        "The number for my GP is {} if you need it.",
        "He left three voicemails from {} this week.",
        "You can reach my work phone at {} during the day.",
    ),
    "DATE": (
        "It all started on {} when I lost the job.",
        "My court hearing is {} and I can't stop thinking about it.",
        "My father died on {}, so this time of year is hard.",
        "I've been sober since {}.",
        "We got married {} and things were good at first.",
        "The appointment letter says {} but I might not go.",
        "I was born {} so I'm the youngest in the family.",
    ),
    "ADDRESS": (
        "We moved to {} after the fire.",
        "I still drive past the old house at {} sometimes.",
        "My mother lives at {}, about twenty minutes from me.",
        "The letters go to {} now.",
        "He turned up at my flat, {}, at two in the morning.",
    ),
    "ID": (
        "The form asked for my social security number, {}, and I froze.",
        "My NHS number is {} if the referral needs it.",
        "The hospital wristband said {} and I just stared at it.",
        "They told me my file number is {} and to quote it.",
        "My insurance member ID is {}.",
        "The reference on the letter was {}.",
        "I had to read out the card number, {}, twice.",
    ),
    "NAME": (
        "I told {} that I couldn't come to the party.",
        "Honestly, {} is the only one who listens.",
        "When {} said that, I just went quiet.",
        "I keep thinking about what {} would say.",
        "{} wants me to keep coming here.",
        "It was {} who found me that night.",
    ),
}

CLEAN: tuple[str, ...] = (
    "I'd rate this week about a 6/10, maybe a 7/10 on a good day.",
    "I slept maybe 4 hours a night, 3 nights in a row.",
    "I've been coming here for 2 years and I'm 34 now.",
    "May I say something that might sound rude?",
    "We went on the march in town and it felt good to be with people.",
    "It cost me $1,200 to fix the car, which I didn't have.",
    "My PHQ-9 score was 14 last time and the GAD-7 was 9.",
    "I walked 3 blocks down the road and had to turn back.",
    "Back in 2019 I was doing much better.",
    "I take 50 mg in the morning and 25 mg at night.",
    "The session is at 5:30 pm on Tuesdays, which is hard with work.",
    "I spent 10-15 minutes doing the exercise, 3 times a week.",
    "I hope you don't think I'm being difficult.",
    "I will try, but I don't know if it will help.",
    "My grace period at work ends soon.",
    "It was maybe 20 or 30 minutes before I calmed down.",
    "I've lost 5 kilos since the spring.",
    "We have 2 kids, 7 and 11.",
    "Page 12 of the workbook was the one about thoughts.",
    "I've had 3 panic attacks since we last met.",
    "In March I felt like things were finally moving.",
    "I moved house twice last year and it wrecked me.",
    "On a scale from 0 to 10 I'd say 8.",
    "The bus takes 45 minutes and I have to change at the station.",
    "Room 12 is where we had group last month.",
    "It's like 1 step forward, 2 steps back.",
    "I counted 100 breaths and it didn't work.",
    "I owe about 3,500 pounds on the card.",
    "My daughter turned 16 on Saturday.",
    "I work 9 to 5, 5 days a week, plus the commute.",
    "We were together for 12 years before it ended.",
    "At 3 am I was still awake thinking about it.",
    "I scored 22 out of 27 on that questionnaire.",
    "The street where I grew up was loud and I liked it.",
    "Drive safely, the road is icy tonight.",
    "I said we could meet at the park near the lane.",
    "Version 2.0 of me is the goal, I guess.",
    "I've been doing this for 20 minutes a day since the winter.",
    "Maybe we could look at chapter 4 together.",
    "It was 1 of the worst weeks of the year.",
    "Breathe in, one, two, three, four, five, six, seven, and out slowly.",
    "Count with me: one two three four five six seven eight.",
    "It was one or two times, maybe three, in the whole of the month.",
    "I've told him a hundred times, maybe two hundred.",
)


@dataclass(frozen=True)
class Planted:
    """A sentence and the identifiers planted in it: (kind, start, end)."""

    text: str
    spans: tuple[tuple[str, int, int], ...]


def planted_sentences(seed: int, count: int, kinds: tuple[str, ...] = tuple(GENERATORS)
                      ) -> list[Planted]:
    """``count`` sentences; about one in four carries a second identifier of another kind."""
    rng = random.Random(seed)
    out: list[Planted] = []
    for i in range(count):
        kind = kinds[i % len(kinds)]
        parts = [(kind, rng.choice(TEMPLATES[kind]))]
        if rng.random() < 0.25:
            other = rng.choice([k for k in kinds if k != kind])
            parts.append((other, rng.choice(TEMPLATES[other])))
        text, spans = "", []
        for planted_kind, template in parts:
            value = GENERATORS[planted_kind](rng)
            if template.startswith("{}") and planted_kind == "NAME" and value[0].islower():
                value = value[0].upper() + value[1:]
            before, after = template.split("{}")
            start = len(text) + len(before) + (1 if text else 0)
            text = f"{text} {before}{value}{after}" if text else f"{before}{value}{after}"
            end = start + len(value)
            if planted_kind == "NAME":
                if value.endswith("'s"):
                    end -= 2  # the possessive is grammar, not the name
                if value.startswith(("Dr. ", "Mr. ")):
                    start += 4  # so is the title
            spans.append((planted_kind, start, end))
        out.append(Planted(text, tuple(spans)))
    return out


# Clean sentences with numbers drawn at random: the numbers therapy talk is full of.
_CLEAN_TEMPLATES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"I slept {r.randint(1, 12)} hours last night, maybe {r.randint(1, 5)} of them well.",
    lambda r: f"It took {r.randint(2, 90)} minutes before I could breathe properly.",
    lambda r: f"I'm {r.randint(18, 89)} and my brother is {r.randint(10, 89)}.",
    lambda r: f"I'd give this week a {r.randint(0, 10)}/10, last week was a {r.randint(0, 10)}/10.",
    lambda r: f"My score went from {r.randint(0, 27)} to {r.randint(0, 27)} on the PHQ-9.",
    lambda r: f"I take {r.choice([25, 50, 75, 100, 150, 200])} mg in the morning.",
    lambda r: f"The rent went up by {r.randint(50, 900)} dollars a month.",
    lambda r: f"It cost about £{r.randint(1, 9)},{r.randint(100, 999)} in the end.",
    lambda r: f"About {r.randint(5, 95)}% of the time I feel fine.",
    lambda r: f"Back in {r.randint(1975, 2026)} things were different.",
    lambda r: f"Between {r.randint(1, 12)}:{r.choice(['00', '15', '30', '45'])} and "
              f"{r.randint(1, 12)}:{r.choice(['00', '15', '30', '45'])} I just lay there.",
    lambda r: f"I ran {r.randint(1, 20)}.{r.randint(1, 9)} km on Sunday.",
    lambda r: f"That was {r.randint(2, 40)} years ago, in the {r.choice([70, 80, 90])}s.",
    lambda r: f"Chapter {r.randint(1, 20)}, page {r.randint(1, 300)}, was the useful bit.",
    lambda r: f"{r.randint(1, 7)} out of {r.randint(7, 14)} days I managed the walk.",
    lambda r: f"In {r.choice(_MONTHS)} I felt like things were moving again.",
    lambda r: f"It was the {r.choice(list(_ORDINALS.values()))} time this week.",
    lambda r: f"I live on the {r.randint(2, 20)}th floor and the lift is broken.",
    lambda r: f"I counted to {r.randint(10, 1000)} and it still didn't help.",
    lambda r: f"In {r.randint(2, 6)}-{r.randint(7, 12)} weeks we can review it.",
    lambda r: f"We scored {r.randint(10, 20)} {r.randint(20, 30)} {r.randint(30, 40)} "
              f"{r.randint(40, 50)} on the quiz nights.",
    lambda r: f"It was {r.randint(2, 9)} against {r.randint(2, 9)} in the family vote.",
    lambda r: f"I lost {r.randint(2, 30)} pounds, {r.randint(1, 12)} of them since "
              f"{r.choice(['spring', 'summer', 'Christmas', 'the funeral'])}.",
    lambda r: f"The bus number {r.randint(1, 399)} takes {r.randint(10, 70)} minutes.",
    lambda r: f"I had {r.randint(1, 9)} drinks on Friday and {r.randint(0, 9)} on Saturday.",
    lambda r: f"My daughter is {r.randint(2, 17)} and my son is {r.randint(2, 17)}.",
    lambda r: f"It's {r.randint(1, 9)}.{r.randint(0, 9)} miles to the clinic.",
    lambda r: f"We split it {r.choice(['50/50', '60/40', '70/30'])} and it still felt unfair.",
    lambda r: f"Session {r.randint(2, 30)} of {r.randint(12, 40)}, and I'm still not sure.",
)


def clean_sentences(seed: int, count: int) -> list[str]:
    """Sentences without identifiers: fixed hard cases and templates with random numbers."""
    rng = random.Random(seed + 7919)
    return [rng.choice(CLEAN) if rng.random() < 0.4 else rng.choice(_CLEAN_TEMPLATES)(rng)
            for _ in range(count)]


@dataclass
class Evaluation:
    """Counts behind the recall and over-redaction figures."""

    planted: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    right_kind: dict[str, int] = field(default_factory=dict)
    clean_tokens: int = 0
    clean_tokens_replaced: int = 0
    clean_sentences_touched: int = 0
    clean_sentences: int = 0
    outside_tokens: int = 0
    outside_tokens_replaced: int = 0
    misses: list[str] = field(default_factory=list)

    def recall(self, kinds: tuple[str, ...] | None = None) -> float:
        keys = kinds or tuple(self.planted)
        total = sum(self.planted.get(k, 0) for k in keys)
        return sum(self.removed.get(k, 0) for k in keys) / total if total else 1.0

    def report(self) -> str:
        structured = tuple(k for k in self.planted if k != "NAME")
        lines = [f"{'kind':8} {'planted':>8} {'removed':>8} {'recall':>8} {'kind ok':>8}"]
        for kind in self.planted:
            n = self.planted[kind]
            lines.append(f"{kind:8} {n:8d} {self.removed.get(kind, 0):8d} "
                         f"{self.removed.get(kind, 0) / n:8.2%} "
                         f"{self.right_kind.get(kind, 0) / n:8.2%}")
        lines.append(f"structured identifiers recall: {self.recall(structured):.2%} "
                     f"({sum(self.removed.get(k, 0) for k in structured)}/"
                     f"{sum(self.planted[k] for k in structured)})")
        if "NAME" in self.planted:
            lines.append(f"roster names recall: {self.recall(('NAME',)):.2%}")
        lines.append(f"over-redaction, clean sentences: {self.clean_tokens_replaced}/"
                     f"{self.clean_tokens} tokens "
                     f"({self.clean_tokens_replaced / max(self.clean_tokens, 1):.2%}); "
                     f"{self.clean_sentences_touched}/{self.clean_sentences} sentences touched")
        lines.append(f"over-redaction, outside planted spans: {self.outside_tokens_replaced}/"
                     f"{self.outside_tokens} tokens "
                     f"({self.outside_tokens_replaced / max(self.outside_tokens, 1):.2%})")
        return "\n".join(lines)


_TOKEN = re.compile(r"\w+")


def evaluate(seed: int, count: int, clean_count: int | None = None) -> Evaluation:
    """Run de-identification (with :data:`ROSTER`) over the seeded corpus and count."""
    ev = Evaluation()
    for item in planted_sentences(seed, count):
        result = deidentify_text(item.text, ROSTER)
        covered: dict[int, str] = {}
        for r in result.replacements:
            for pos in range(r.start, r.end):
                covered[pos] = r.kind
        inside: set[int] = set()
        for kind, start, end in item.spans:
            inside.update(range(start, end))
            ev.planted[kind] = ev.planted.get(kind, 0) + 1
            chars = [p for p in range(start, end) if item.text[p].isalnum()]
            if all(p in covered for p in chars):
                ev.removed[kind] = ev.removed.get(kind, 0) + 1
                kinds = [covered[p] for p in chars]
                if max(set(kinds), key=kinds.count) == kind:
                    ev.right_kind[kind] = ev.right_kind.get(kind, 0) + 1
            else:
                ev.misses.append(f"{kind}: {item.text[start:end]!r} in {item.text!r}")
        for m in _TOKEN.finditer(item.text):
            if m.start() in inside:
                continue
            ev.outside_tokens += 1
            ev.outside_tokens_replaced += m.start() in covered
    for sentence in clean_sentences(seed, clean_count or count):
        result = deidentify_text(sentence, ROSTER)
        ev.clean_sentences += 1
        ev.clean_sentences_touched += bool(result.replacements)
        spans = [(r.start, r.end) for r in result.replacements]
        for m in _TOKEN.finditer(sentence):
            ev.clean_tokens += 1
            ev.clean_tokens_replaced += any(a <= m.start() < b for a, b in spans)
    return ev


def main() -> None:  # pragma: no cover - exercised by hand and in docs
    parser = argparse.ArgumentParser(description="Measure de-identification on the seeded "
                                     "synthetic corpus.")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--sentences", type=int, default=3000)
    parser.add_argument("--show-misses", type=int, default=0)
    args = parser.parse_args()
    ev = evaluate(args.seed, args.sentences)
    print(f"seed {args.seed}, {args.sentences} planted sentences, "
          f"{args.sentences} clean sentences")
    print(ev.report())
    for miss in ev.misses[:args.show_misses]:
        print("missed", miss)


if __name__ == "__main__":  # pragma: no cover
    main()
