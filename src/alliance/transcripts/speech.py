"""Reading transcribed speech: listener tokens, crosstalk fragments and disfluencies.

Real session transcripts (speech-to-text, or a human transcript of talk) do not look like
written dialogue. Three things change how a turn should be read:

* **Listener tokens** ("Mm.", "Um.", "Mm, yeah.", "Uh-huh.", "Right."): a turn made only of
  backchannel words. It tells the speaker "go on"; it is not an answer and carries no code
  (the codebook excludes them from ``withdrawal.minimal_response``).
* **Crosstalk fragments**: a turn cut off by the other speaker ends with a dash
  ("I've been feeling like this—"), and its continuation starts with one ("-for years.").
  A continuation is re-attached to the cut-off turn of the same speaker, so the two are read
  as one turn; a short cut-off turn that is never continued ("So—") is crosstalk inside the
  other speaker's turn and is read with the turn it interrupts, not on its own. The original
  utterances and their indices are kept; :func:`reading_units` only says which belong
  together.
* **Disfluencies** (um, uh, "you know", "I mean", repeated words, cut-off words, dashes):
  :func:`normalise_speech` removes them for the rules and the encoder; the report keeps the
  original text, and the returned index map points every normalised character back at the
  original one, so evidence spans still mark the words the client or therapist said.

>>> normalise_speech("Um, I- I just, you know, I don't- I don't know.").text
"I just, I don't know."
>>> is_listener_token("Mm, yeah.")
True
>>> [u.indices for u in reading_units(["C", "T", "C"], ["I've been like this—", "Mm.",
...                                                     "-for years."])]
[(0, 2), (1,)]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: Words that make up a listener token, alone or two to four together ("mm, yeah, right").
_LISTENER_TEXT = (
    "mm mmm mhm mm-hmm mm-hm mmhm mhmm hmm hm uh-huh uh-hum um uh er erm ah oh yeah yes yep "
    "yup ya right okay ok alright sure wow gotcha true exactly totally absolutely indeed "
    "definitely")
LISTENER_WORDS = frozenset(_LISTENER_TEXT.split())
_LISTENER_PHRASES = re.compile(r"\b(i see|got it|of course|go on|all right|that's right|"
                               r"thats right|i know|fair enough|makes sense|oh no|oh wow)\b")
_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)*")
MAX_LISTENER_WORDS = 4
#: A cut-off turn of at most this many words that nobody continues is read as crosstalk.
MAX_CROSSTALK_WORDS = 4
#: A continuation ("-for years.") is joined to a cut-off turn at most this many turns back.
CONTINUATION_WINDOW = 3

_DASH = "\u2014\u2013"  # em and en dash
_ENDS_CUT = re.compile(rf"(--|-|[{_DASH}]|\.\.\.)\s*$")
_STARTS_CONT = re.compile(rf"^\s*(--|-|[{_DASH}]|\.\.\.)\s*\w")


def is_listener_token(text: str) -> bool:
    """The whole turn is backchannel: up to four listener words and nothing else."""
    low = text.lower().replace("\u2019", "'")
    low = _LISTENER_PHRASES.sub(" yeah ", low)
    words = _TOKEN.findall(low)
    if not words or len(words) > MAX_LISTENER_WORDS:
        return False
    if re.search(r"[?]", low):
        return False  # "Yeah?" or "Right?" asks something
    return all(w in LISTENER_WORDS for w in words)


def is_cut_off(text: str) -> bool:
    """The turn ends with a dash (or an ellipsis): the other speaker cut in."""
    return bool(_ENDS_CUT.search(text)) and bool(text.strip(" -\u2014\u2013."))


def is_continuation(text: str) -> bool:
    """The turn starts with a dash: it continues the same speaker's cut-off turn."""
    return bool(_STARTS_CONT.match(text))


# ------------------------------------------------------------------ disfluency normalising
@dataclass(frozen=True)
class Normalised:
    """Normalised text and, per character, the index of the original character it came from."""

    text: str
    index: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` that a span of the normalised text covers."""
        if not self.index or end <= start:
            return (0, 0)
        s = self.index[min(start, len(self.index) - 1)]
        e = self.index[min(end, len(self.index)) - 1] + 1
        return (s, max(s, e))


_FILLER = re.compile(r"(?i)(?<![\w'-])(um+|uh+|erm+|er|hmm+|mm+)(?![\w'-])[,.]?\s*")
_YOU_KNOW = re.compile(r"(?i)(^|(?<=,)|(?<=\.))\s*(you know|i mean|like),\s*")
_CUT_WORD = re.compile(r"(?i)(?<![\w'])([a-z']{1,6})-\s+(?=\1|[a-z])")
_REPEAT = re.compile(r"(?i)\b([a-z']+)((?:,?\s+)\1\b)+")
_REPEAT_PHRASE = re.compile(r"(?i)\b((?:[a-z']+\s+){1,2}[a-z']+)(?:,?\s+\1\b)+")
_INNER_DASH = re.compile(rf"\s*(--|[{_DASH}]|\s-\s|\s-(?=\w))[\s-]*")
_EDGE = re.compile(rf"^[\s,;{_DASH}.-]+|[\s,;{_DASH}-]+$")
_SPACES = re.compile(r"\s{2,}")
_SPACE_PUNCT = re.compile(r"\s+([,.;!?])")
_DOUBLE_COMMA = re.compile(r",\s*,+")
_COMMA_STOP = re.compile(r",\s*([.!?])")


def _sub(text: str, index: list[int], pattern: re.Pattern[str],
         repl: str) -> tuple[str, list[int]]:
    """``pattern.sub(repl, text)`` that keeps the per-character map to the original."""
    out: list[str] = []
    idx: list[int] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(text[pos:m.start()])
        idx.extend(index[pos:m.start()])
        r = m.expand(repl)
        out.append(r)
        last = max(m.start(), m.end() - 1)
        idx.extend(index[min(m.start() + k, last)] if index else 0 for k in range(len(r)))
        pos = m.end()
    out.append(text[pos:])
    idx.extend(index[pos:])
    return "".join(out), idx


def normalise_speech(text: str) -> Normalised:
    """Remove fillers, filler phrases, cut-off and repeated words and dashes (see module)."""
    t, idx = text, list(range(len(text)))
    for pattern, repl in ((_INNER_DASH, ", "), (_FILLER, ""), (_YOU_KNOW, " "),
                          (_CUT_WORD, ""), (_REPEAT, r"\1"), (_REPEAT_PHRASE, r"\1"), (_EDGE, ""),
                          (_DOUBLE_COMMA, ","), (_SPACE_PUNCT, r"\1"), (_COMMA_STOP, r"\1"),
                          (_SPACES, " ")):
        t, idx = _sub(t, idx, pattern, repl)
    t, idx = _sub(t, idx, re.compile(r"^\s*,\s*"), "")
    if t[:1].islower() and text.lstrip()[:1].isupper():
        t = t[0].upper() + t[1:]
    if not t.strip():  # nothing but fillers: keep the original (a listener token)
        return Normalised(text, tuple(range(len(text))))
    return Normalised(t, tuple(idx))


# ------------------------------------------------------------------------ reading units
@dataclass(frozen=True)
class ReadingUnit:
    """Utterances read as one turn: ``indices[0]`` is the head, the others joined to it.

    ``kind``: ``turn`` (an ordinary turn, possibly with continuations joined), ``listener``
    (a listener token), ``crosstalk`` (a short cut-off turn read with the turn it
    interrupts, ``attached_to``).
    """

    indices: tuple[int, ...]
    speaker: str
    kind: str = "turn"
    attached_to: int | None = None

    @property
    def head(self) -> int:
        return self.indices[0]

    @property
    def coded(self) -> bool:
        return self.kind == "turn"


def reading_units(speakers: Sequence[str], texts: Sequence[str]) -> list[ReadingUnit]:
    """Group the utterances of one conversation into reading units (see module docstring).

    Units are ordered by their head index; every utterance belongs to exactly one unit.
    """
    n = len(texts)
    owner: list[int] = list(range(n))  # utterance -> head index of its unit
    joined: dict[int, list[int]] = {i: [i] for i in range(n)}
    for i in range(n):
        if not is_continuation(texts[i]):
            continue
        for j in range(i - 1, max(-1, i - 1 - CONTINUATION_WINDOW), -1):
            if speakers[j] == speakers[i]:
                head = owner[j]
                if is_cut_off(texts[joined[head][-1]]):
                    owner[i] = head
                    joined[head].append(i)
                    del joined[i]
                break
    units: list[ReadingUnit] = []
    for head in sorted(joined):
        members = tuple(joined[head])
        text = texts[head]
        if len(members) == 1 and is_listener_token(text):
            units.append(ReadingUnit(members, speakers[head], "listener"))
            continue
        words = len(_TOKEN.findall(text.lower()))
        if len(members) == 1 and is_cut_off(text) and words <= MAX_CROSSTALK_WORDS:
            interrupted = next((owner[j] for j in range(head - 1, -1, -1)
                                if speakers[j] != speakers[head]), None)
            if interrupted is None:
                interrupted = next((owner[j] for j in range(head + 1, n)
                                    if speakers[j] != speakers[head]), None)
            if interrupted is not None:
                units.append(ReadingUnit(members, speakers[head], "crosstalk", interrupted))
                continue
        units.append(ReadingUnit(members, speakers[head]))
    return units


def unit_text(unit: ReadingUnit, texts: Sequence[str]) -> str:
    """The original text of a unit: its utterances joined, the joining dashes kept."""
    return " ".join(texts[i].strip() for i in unit.indices)
