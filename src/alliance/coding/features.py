"""Context features of an utterance: what the words alone do not say.

A short "I don't know" means something else after "What was that like for you?" than after
"Did you take the bus?"; "mm-hmm" while the therapist explains is engagement, not
withdrawal; and a client reply that shares nothing with the question it follows may be a
topic shift. These features feed the rules (as conditions) and the classifier heads (as
extra inputs beside the sentence embedding).

Features of utterance *i* (``prev`` = the latest earlier utterance by another speaker):

* ``words`` and ``length_ratio`` = words / the speaker's own median length in the session
  (the speaker's "norm"; a role default when the speaker has fewer than 3 turns);
* ``after_question`` / ``after_open_question``: ``prev`` ends in a question, and its last
  question opens with *what, how, why, tell me, ...* (an open question, after Rogers/MI
  usage: it invites elaboration, so a minimal answer to it is informative);
* ``backchannel``: the whole turn is a listener token (mm-hmm, right, yeah, go on) and does
  not answer an open question;
* ``continuity``: similarity with ``prev``, the cosine of sentence embeddings when the model
  is loaded, else the overlap of content-word stems (Jaccard). Low continuity after a
  question is one cue of a topic shift;
* ``advice_requested``: ``prev`` asks for advice, an opinion or a suggestion ("what should I
  do?", "any tips?"), or grants the permission the therapist just asked for ("Sure, go
  ahead."). Advice that follows is not *unsolicited* (codebook v2).

**No length shortcut.** ``words`` and ``length_ratio`` feed the rules (a minimal response is
short by definition) but not the classifier heads: :meth:`TurnFeatures.vector` leaves them
out, so a head cannot learn "long turn, therefore a code" from the corpus (see
docs/coding.md, "No length shortcut").

Turns that are not read on their own (listener tokens, crosstalk fragments; see
:mod:`alliance.transcripts.speech`) are never anyone's ``prev``: a therapist's turn after
the client's "Mm." answers what the client said before it.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Median words per turn used when a speaker has too few turns to have a norm of their own.
#: A working assumption for spoken psychotherapy turns, not a published figure.
DEFAULT_NORM = {"client": 14.0, "therapist": 16.0, "other": 12.0}
MIN_TURNS_FOR_NORM = 3

_WORD = re.compile(r"[A-Za-z0-9']+")
_BACKCHANNEL = re.compile(
    r"^\W*((mm+[- ]?h?mm+|m+-?hm+|uh[- ]huh|yeah|yep|yes|right|ok|okay|sure|i see|go on|"
    r"totally|exactly|true|got it|mhm|hmm+|absolutely|of course)\W*){1,3}$",
    re.IGNORECASE,
)
_OPEN = re.compile(
    r"^\W*(and |so |but |okay,? |well,? )?(what|how|why|tell me|describe|say more|can you "
    r"(tell|say|describe|talk)|could you (tell|say|describe|talk)|in what way|walk me through|"
    r"talk (to me )?about|help me understand|what\'s|whats|where do you)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")
_STOP_WORDS = (
    "a an the and or but so to of in on at for with about is are was were be been am i "
    "you he she it we they me my your his her its our their this that these those do does "
    "did not no yes yeah just really very what how why when where who which there here "
    "have has had can could would should will like know think mean well oh um uh okay ok"
)
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class TurnFeatures:
    words: int
    norm: float
    length_ratio: float
    after_question: bool
    after_open_question: bool
    backchannel: bool
    continuity: float
    first_turn: bool
    previous: int = -1  # index of the turn this one answers (latest by another speaker)
    advice_requested: bool = False
    role: str = ""

    def vector(self) -> list[float]:
        """The numeric form fed to the classifier heads (order = :data:`FEATURE_NAMES`).

        No length feature: brevity is for the minimal-response rules only. On therapist
        turns the client-side flags (:data:`CLIENT_ONLY_FEATURES`) are 0: whether the client
        asked *for advice* is ``advice_requested``; a bare "the client asked a question"
        flag let the heads learn "advice never follows a question" from the corpus.
        """
        client = self.role != "therapist"
        return [
            float(self.after_question and client),
            float(self.after_open_question and client),
            float(self.backchannel and client),
            self.continuity,
            float(self.first_turn),
            float(self.advice_requested),
        ]


FEATURE_NAMES = (
    "after_question", "after_open_question", "backchannel", "continuity", "first_turn",
    "advice_requested",
)
#: Features read only on client turns (0 on therapist turns; see TurnFeatures.vector).
CLIENT_ONLY_FEATURES = ("after_question", "after_open_question", "backchannel")

#: The previous turn asks for advice, an opinion, ideas or what to do.
_ADVICE_REQUEST = re.compile(
    r"\b(what (should|do|could|would|shall) i (do|say|try)|what do you (think|suggest|"
    r"recommend|advise)|what would you (do|suggest|recommend)|(any|some|give me|got any) "
    r"(good |specific |other |practical )?(advice|tips?|ideas?|suggestions?|pointers|tricks|"
    r"recommendations?|strategies|techniques)|what (steps|things) (should|can|could|do) i|"
    r"whats the best way (to|for me)|(can|could) you (suggest|recommend|advise)|"
    r"(should|do you think) i (should )?\w+|tell me what to do|"
    r"i need (some )?(advice|ideas|help with)|"
    r"(id|i would) (like|love|appreciate) (some |your )?(advice|tips|ideas|view|opinion|input)|"
    r"(?<!for )(?<!take )(?<!took )(?<!follow )(?<!try )your (advice|opinion|view|suggestion)|"
    r"is there anything i can do)",
    re.IGNORECASE,
)
#: "How can I...?" and "what can I do?" ask for advice only as questions: said inside a
#: story or a lament ("I don't know how I can go on like this", "what can I do, the boy is
#: crying") they ask for nothing (v2.3; on the train + dev sessions of the corpus these
#: forms were 2 of the detector's 5 false firings in 13).
_HOW_REQUEST = re.compile(r"\b(how (do|can|should|could) i|what can i (do|say|try))\b",
                          re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?]")
_PERMISSION_ASKED = re.compile(
    r"\b(would it be (ok|okay|alright|all right)|is it (ok|okay|alright)|can i (share|tell|"
    r"suggest|offer|give)|may i|would you (like|want) (me to|some|to hear|an idea)|do you want "
    r"(me to|some|to hear)|would you be (open|interested))",
    re.IGNORECASE,
)
_YES = re.compile(r"^\W*(yes|yeah|yep|sure|ok|okay|please|go ahead|of course|definitely|"
                  r"absolutely|i would|id like that|that would)\b", re.IGNORECASE)
#: A "yes" that goes on to decline or hedge ("Okay, that's a bit much.") grants nothing.
_HEDGED_YES = re.compile(r"\b(but|not(?! at all)|no(?! (problem|worries|bother))|dont(?! mind)|"
                         r"rather|bit much|too much)\b", re.IGNORECASE)


def asks_for_advice(text: str) -> bool:
    """``text`` asks for advice or an opinion (the answer to it is not unsolicited)."""
    plain = text.replace("\u2019", "").replace("'", "")
    if _ADVICE_REQUEST.search(plain):
        return True
    if not _SENTENCE_END.search(plain):  # unpunctuated speech or chat: cannot tell, so yes
        return bool(_HOW_REQUEST.search(plain))
    for m in _HOW_REQUEST.finditer(plain):
        end = _SENTENCE_END.search(plain, m.end())
        if end is not None and end.group() == "?":
            return True
    return False


def asks_permission(text: str) -> bool:
    """``text`` asks the client's permission to offer something."""
    return bool(_PERMISSION_ASKED.search(text.replace("\u2019", "").replace("'", "")))


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def is_question(text: str) -> bool:
    return "?" in text


def is_open_question(text: str) -> bool:
    """True when the last question sentence of ``text`` is open (what/how/why/tell me...)."""
    questions = [s.strip() for s in _SENTENCE.findall(text) if s.strip().endswith("?")]
    if not questions:
        # "Tell me about that." is an open prompt without a question mark
        return bool(re.match(r"^\W*(tell me|say more|describe|talk about)", text.strip(), re.I))
    return bool(_OPEN.match(questions[-1]))


def is_backchannel(text: str) -> bool:
    """A listener token ("mm-hmm", "right", "Mm, yeah."): see transcripts.speech."""
    from alliance.transcripts.speech import is_listener_token

    return (bool(_BACKCHANNEL.match(text.strip())) and word_count(text) <= 4) or \
        is_listener_token(text)


def content_stems(text: str) -> set[str]:
    return {w.lower().replace("'", "")[:5] for w in _WORD.findall(text)
            if w.lower() not in _STOP and len(w) > 2}


def lexical_continuity(a: str, b: str) -> float:
    """Jaccard overlap of content-word stems of two turns, in [0, 1]."""
    sa, sb = content_stems(a), content_stems(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def turn_features(
    speakers: Sequence[str],
    roles: Sequence[str],
    texts: Sequence[str],
    embeddings: np.ndarray | None = None,
    skip: Sequence[bool] | None = None,
) -> list[TurnFeatures]:
    """Features for every turn of one conversation (parallel sequences, in order).

    ``skip[j]`` true: turn *j* is not read on its own (a listener token, a crosstalk
    fragment) and is never the turn another one answers.
    """
    n = len(texts)
    skipped = list(skip) if skip is not None else [False] * n
    counts = [word_count(t) for t in texts]
    by_speaker: dict[str, list[int]] = {}
    for s, c in zip(speakers, counts, strict=True):
        by_speaker.setdefault(s, []).append(c)
    norms: dict[str, float] = {}
    for s, cs in by_speaker.items():
        norms[s] = float(statistics.median(cs)) if len(cs) >= MIN_TURNS_FOR_NORM else -1.0
    out: list[TurnFeatures] = []
    for i in range(n):
        prev = next((j for j in range(i - 1, -1, -1)
                     if speakers[j] != speakers[i] and not skipped[j]), None)
        norm = norms[speakers[i]]
        if norm <= 0:
            norm = DEFAULT_NORM.get(roles[i], 12.0)
        after_q = prev is not None and is_question(texts[prev])
        after_open = prev is not None and is_open_question(texts[prev])
        if prev is None:
            continuity = 0.0
        elif embeddings is not None:
            continuity = float(max(0.0, np.dot(embeddings[i], embeddings[prev])))
        else:
            continuity = lexical_continuity(texts[i], texts[prev])
        out.append(TurnFeatures(
            words=counts[i],
            norm=norm,
            length_ratio=counts[i] / max(norm, 1.0),
            after_question=after_q,
            after_open_question=after_open,
            backchannel=is_backchannel(texts[i]) and not after_open,
            continuity=continuity,
            first_turn=prev is None,
            previous=-1 if prev is None else prev,
            advice_requested=prev is not None and _requested(texts, speakers, skipped, prev),
            role=roles[i],
        ))
    return out


def _requested(texts: Sequence[str], speakers: Sequence[str], skipped: Sequence[bool],
               prev: int) -> bool:
    """``prev`` asks for advice, or says yes to a permission question just before it."""
    if asks_for_advice(texts[prev]):
        return True
    if not _YES.match(texts[prev]) or _HEDGED_YES.search(texts[prev].replace("'", "")):
        return False
    before = next((j for j in range(prev - 1, -1, -1)
                   if speakers[j] != speakers[prev] and not skipped[j]), None)
    return before is not None and asks_permission(texts[before])
