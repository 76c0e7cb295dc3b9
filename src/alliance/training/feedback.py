"""Scoring a trainee response against the repair sequence, with feedback on every response.

A response is coded with the transcript coder (the client line, when given, is coded as the
turn it answers) and read by the repair-step detectors of :mod:`alliance.training.steps`.
A step counts when either source finds it; coder codes map onto steps as in
:data:`CODE_STEPS` (codes the coder does not have yet, such as ``bond.reflection``, are used
as soon as a codebook carries them).

Verdict, first that applies (the labelling guide, ``data/training/labelling-guide.md``,
uses the same rules):

1. ``judgmental``: the response judges, blames, mocks or interrogates the client;
2. ``defensive``: it protects the counsellor (justifies, disputes, minimises, argues);
3. ``technique_first``: it reaches for technique, advice or a lecture with fewer than two
   relational steps in place (``technique_before_repair``);
4. ``repair``: at least two of named / invited / responsibility / renegotiated / reflected;
5. ``partial``: anything else.

With the embedding model (the ``hybrid`` coder, the CLI default when the model loads), the
verdict and the steps come from the heads (:mod:`alliance.training.head`) instead: on
responses written after the scorer was frozen the phrase rules fell to 0.525-0.614, and in
cross-validation over the later fresh sets the heads beat the rules on the verdict and on
every step (``docs/training.md``). Since scorer v10 the heads also read what the phrase
detectors found (:func:`phrase_findings`, as a small extra feature); the rules still supply
the phrases quoted as evidence. Since v13 they also read the transcript coder's calibrated
per-code scores of the response and of each of its sentences (:func:`~alliance.training.
head.coder_features`). Since v11 the head's `repair` needs two step heads behind it
(:func:`backed_verdict`); since v12 a judgement or defensiveness the rules found overrides
a `partial` or `technique_first` verdict when the head gives that harm some weight
(:func:`harm_gated_verdict`). Since v15 the **reader** (:mod:`alliance.training.reader`:
the embedding model fine-tuned with a low-rank update to read the client line and the
response together) gives its own verdict and step probabilities, blended with the heads'
(:func:`blend_readings`) before those gates.

The score (0-1) is the weighted share of the six steps present (weights in
:data:`STEP_WEIGHTS`), capped at 0.2 for a judgmental or defensive response and at 0.35
when technique comes before repair.

>>> s = score_trainee_response("I think I pushed the sheets too hard. What has it been like "
...                            "for you?", client="Didn't get to it. Busy week.")
>>> s.verdict, s.steps["responsibility"], s.steps["invited"], s.technique_before_repair
('repair', True, True, False)
>>> score_trainee_response("You need to do the homework if you want to get better.").verdict
'technique_first'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from alliance.coding.coder import Coder
from alliance.errors import TrainingError
from alliance.training.casebook import TrainingCase
from alliance.training.steps import STEP_NAMES, StepFindings, detect_steps
from alliance.training.verdicts import RELATIONAL, verdict_for
from alliance.transcripts.model import Transcript, Utterance

MAX_CHARS = 5000  # a spoken turn of several minutes; anything longer is not one response
STEP_WEIGHTS = {"noticed": 0.1, "named": 0.2, "invited": 0.2, "responsibility": 0.15,
                "renegotiated": 0.15, "reflected": 0.2}
CAP_HARM, CAP_TECHNIQUE = 0.2, 0.35

# Coder codes that stand for a step or a harm. Codes from coder v2 (bond.*, collaboration.
# elicit, threat.unsolicited_advice) are listed so they count once the codebook has them.
CODE_STEPS: Mapping[str, str] = {
    "repair.name_rupture": "named",
    "repair.invite_feedback": "invited",
    "collaboration.elicit": "invited",
    "repair.take_responsibility": "responsibility",
    "repair.renegotiate": "renegotiated",
    "repair.empathize_validate": "reflected",
    "bond.reflection": "reflected",
    "repair.reaffirm_nonjudgment": "named",
}
CODE_HARMS: Mapping[str, str] = {
    "threat.judgmental": "judgmental",
    "threat.mocking_humor": "judgmental",
    "threat.prosecutorial": "judgmental",
    "threat.defensive_blaming": "defensive",
    "threat.dismissive": "defensive",
    "threat.lecturing": "technique",
    "threat.unsolicited_advice": "technique",
}

_GOOD = {
    "noticed": "You registered the client's reaction instead of carrying on.",
    "named": "You named the strain openly and without defensiveness.",
    "invited": "You invited the client's own view.",
    "responsibility": "You took a proportionate share of the strain.",
    "renegotiated": "You offered to adjust the goal, task or pace together.",
    "reflected": "You reflected the client's meaning or feeling.",
}
_IMPROVE = {
    "noticed": "Show that you noticed the marker (the flat answer, the complaint, the "
               "silence) before moving on.",
    "named": "Name what seems to be happening between you, tentatively and without "
             "defending yourself.",
    "invited": "Ask for the client's view of what is happening, including criticism.",
    "responsibility": "Own your part in the strain, briefly, without over-apologising.",
    "renegotiated": "Once the client's view is heard, agree the goal, task or pace "
                    "together.",
    "reflected": "Reflect what the client said or showed in your own words.",
}
_HARM_ADVICE = {
    "judgmental": "Drop the judgement: blaming, moralising or interrogating the client "
                  "deepens the rupture.",
    "defensive": "Do not defend yourself or dispute the client's experience; get curious "
                 "about it instead.",
    "technique": "Hold the technique or advice until the alliance is secured and you have "
                 "the client's view: repair first.",
    "overapology": "An over-apology puts you at the centre; take your share in one short, "
                   "specific sentence.",
}
_ALTERNATIVES = {
    "withdrawal": "I notice you've gone a bit quiet, and I wonder if something in how we've "
                  "been working isn't sitting right. I may have pushed ahead too fast. What "
                  "has it been like for you?",
    "confrontation": "Thank you for telling me straight. It sounds like this hasn't been "
                     "helping, and that's frustrating. I may have missed something; what "
                     "feels most off to you, so we can change it together?",
    "safety": "It sounds hard to say. I'm not here to judge you; whatever it is, I'd like to "
              "understand it with you, at your pace.",
    None: "It sounds like something isn't sitting right between us. I'd really like to hear "
          "how this has been for you, and then we can decide together what would help.",
}


@dataclass(frozen=True)
class ResponseScore:
    """The scored response; :meth:`to_dict` gives the documented JSON shape."""

    codes: tuple[str, ...]
    steps: Mapping[str, bool]
    technique_before_repair: bool
    score: float
    verdict: str
    good: tuple[str, ...]
    to_improve: tuple[str, ...]
    alternative: str
    evidence: Mapping[str, str]  # step or harm -> the phrase that made it count

    def to_dict(self) -> dict[str, Any]:
        return {"codes": list(self.codes), "steps": dict(self.steps),
                "technique_before_repair": self.technique_before_repair,
                "score": self.score, "verdict": self.verdict, "good": list(self.good),
                "to_improve": list(self.to_improve), "alternative": self.alternative}

    @property
    def harms(self) -> tuple[str, ...]:
        return tuple(h for h in ("judgmental", "defensive", "technique", "overapology")
                     if h in self.evidence)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResponseScore:
        return cls(tuple(data["codes"]), dict(data["steps"]),
                   bool(data["technique_before_repair"]), float(data["score"]),
                   str(data["verdict"]), tuple(data["good"]), tuple(data["to_improve"]),
                   str(data["alternative"]), dict(data.get("evidence", {})))


def check_text(text: str | None, what: str) -> str:
    """The stripped text, or a :class:`TrainingError` for empty or oversized input."""
    if text is None or not isinstance(text, str):
        raise TrainingError(f"the {what} is missing", field=what)
    if len(text) > MAX_CHARS:
        raise TrainingError(f"the {what} is {len(text):,} characters; at most {MAX_CHARS:,} "
                            f"are accepted for one turn", field=what, value=len(text))
    stripped = text.strip()
    if not stripped:
        raise TrainingError(f"the {what} is empty", field=what)
    return stripped


def _code(coder: Coder, response: str, client: str | None) -> tuple[tuple[str, ...],
                                                                    str | None]:
    utts = []
    if client:
        utts.append(Utterance(0, "C", "client", client))
    utts.append(Utterance(len(utts), "T", "therapist", response))
    coded = coder.code(Transcript(tuple(utts), source="<practice>"))
    codes = tuple(a.code for a in coded[-1].codes)
    marker_family = None
    if client:
        fams = [a.family for a in coded[0].codes]
        for fam in ("confrontation", "withdrawal", "safety"):
            if fam in fams:
                marker_family = fam
                break
    return codes, marker_family


_VERDICT_HARM = {"judgmental": "judgmental", "defensive": "defensive",
                 "technique_first": "technique"}


# scorer v9: a judgmental verdict of the head below this probability stands only when the
# phrase rules (or the coder) also found a judgement; otherwise the next verdict is taken.
# Cross-validated over dev + fresh1-8 (benchmarks/scorer_cv.py); the head mistook short
# reflections and reassurance (partial) for judgement.
JUDGMENT_GATE = 0.5


def gated_verdict(classes: tuple[str, ...], probabilities: Any,
                  rules_judgmental: bool) -> str:
    """The head's verdict after the judgement gate (:data:`JUDGMENT_GATE`).

    >>> gated_verdict(("judgmental", "partial"), [0.45, 0.40], rules_judgmental=False)
    'partial'
    >>> gated_verdict(("judgmental", "partial"), [0.45, 0.40], rules_judgmental=True)
    'judgmental'
    >>> gated_verdict(("judgmental", "partial"), [0.55, 0.45], rules_judgmental=False)
    'judgmental'
    """
    ranked = sorted(zip(probabilities, classes, strict=True), reverse=True)
    top_p, top = ranked[0]
    if top == "judgmental" and top_p < JUDGMENT_GATE and not rules_judgmental \
            and len(ranked) > 1:
        return str(ranked[1][1])
    return str(top)


# scorer v11: the verdict head's `repair` stands only when the step heads back it with at
# least two relational steps (named, invited, responsibility, renegotiated, reflected) at
# this probability or more; otherwise the next verdict is taken (through the judgement
# gate). v10 called repair for 17 of the 60 non-repairs of fresh set 10; chosen by
# leave-one-set-out cross-validation over fresh5-10 (0.3 / 0.4 / 0.5; benchmarks/scorer_cv.py).
REPAIR_STEP_P = 0.4


def backed_verdict(classes: tuple[str, ...], probabilities: Any,
                   step_probabilities: Mapping[str, float],
                   rules_judgmental: bool) -> str:
    """:func:`gated_verdict`, with a `repair` that the step heads do not back replaced.

    >>> steps = {"named": 0.8, "invited": 0.45, "reflected": 0.1}
    >>> backed_verdict(("partial", "repair"), [0.3, 0.7], steps, rules_judgmental=False)
    'repair'
    >>> steps = {"named": 0.8, "invited": 0.2, "reflected": 0.1}
    >>> backed_verdict(("partial", "repair"), [0.3, 0.7], steps, rules_judgmental=False)
    'partial'
    """
    verdict = gated_verdict(classes, probabilities, rules_judgmental)
    if verdict != "repair" or not step_probabilities or len(classes) < 2:
        return verdict
    backed = sum(step_probabilities.get(s, 0.0) >= REPAIR_STEP_P for s in RELATIONAL)
    if backed >= 2:
        return verdict
    rest = [0.0 if c == "repair" else float(p)
            for c, p in zip(classes, probabilities, strict=True)]
    return gated_verdict(classes, rest, rules_judgmental)


# scorer v12: a `partial` or `technique_first` verdict gives way to a harm the phrase rules
# (or the coder) found when the verdict head gives that harm at least this probability.
# v11 read defensiveness and judgement carried by the argument of a response too mildly
# (fresh set 11: 11 of 24 harmful responses scored partial or technique_first); chosen by
# leave-one-set-out cross-validation (benchmarks/scorer_cv.py) from 0 / 0.05 / 0.1 / 0.15 /
# 0.2 / 0.3 on the fresh5-10 folds (the v12 harm phrases were written after reading fresh11).
HARM_GATE = 0.2


def harm_gated_verdict(classes: tuple[str, ...], probabilities: Any, verdict: str,
                       rules_harms: Mapping[str, bool]) -> str:
    """``verdict``, or the harm the rules found when the head gives it :data:`HARM_GATE`.

    Only a `partial` or `technique_first` verdict is overridden; judgement comes before
    defensiveness, as in the guide.

    >>> classes = ("defensive", "judgmental", "partial")
    >>> harm_gated_verdict(classes, [0.3, 0.05, 0.65], "partial", {"defensive": True})
    'defensive'
    >>> harm_gated_verdict(classes, [0.3, 0.05, 0.65], "partial", {"judgmental": True})
    'partial'
    """
    if verdict not in ("partial", "technique_first"):
        return verdict
    for harm in ("judgmental", "defensive"):
        if rules_harms.get(harm) and harm in classes and \
                float(probabilities[classes.index(harm)]) >= HARM_GATE:
            return harm
    return verdict


def blend_readings(classes: tuple[str, ...], probabilities: Any,
                   step_probabilities: Mapping[str, float],
                   reader_verdict: Mapping[str, float], reader_steps: Mapping[str, float],
                   weight: float) -> tuple[np.ndarray, dict[str, float]]:
    """``weight`` x the reader's probabilities + (1 - ``weight``) x the heads', for the
    verdict (in the head's class order) and for each step the heads have (scorer v15).

    >>> p, q = blend_readings(("partial", "repair"), [0.6, 0.4], {"named": 0.2},
    ...                       {"partial": 0.2, "repair": 0.8}, {"named": 0.9}, 0.5)
    >>> [round(float(v), 2) for v in p], round(q["named"], 2)
    ([0.4, 0.6], 0.55)
    """
    w = float(weight)
    probs = np.array([(1 - w) * float(p) + w * float(reader_verdict.get(c, 0.0))
                      for c, p in zip(classes, probabilities, strict=True)])
    steps = {s: (1 - w) * q + w * float(reader_steps.get(s, q))
             for s, q in step_probabilities.items()}
    return probs, steps


def _head_verdict(embedder: Any, response: str, client: str | None, verdict: str,
                  technique_first: bool, steps: dict[str, bool], evidence: dict[str, str],
                  rules_judgmental: bool = False,
                  rules_defensive: bool = False, coder: Coder | None = None,
                  reader: Any = None) -> tuple[str, bool]:
    """The heads' verdict (and steps, in place) when the embedding model is at hand; since
    v15 the ``reader``'s probabilities (the packaged one when ``None``, none when ``False``)
    are blended with the heads' first (:func:`blend_readings`).

    See ``head.py``. The verdict is the head's most probable one after the judgement gate
    (:func:`gated_verdict`), a `repair` only when two step heads back it
    (:func:`backed_verdict`, v11), a `partial` or `technique_first` one replaced by a harm the
    rules found and the head gives at least :data:`HARM_GATE` (:func:`harm_gated_verdict`,
    v12); since v13 the heads also read the hybrid ``coder``'s per-code scores of the
    response and of its sentences (without them the phrase rules decide); each step is
    present when its head's probability reaches the step's threshold (v11: 0.6 for
    invited, 0.5 for the others; v9 also let the phrase rules add reflections, which
    over-fired). ``technique_before_repair`` is true when the
    verdict is ``technique_first``, or when the rules found it and the verdict is a harm that
    comes before it in the guide (judgmental, defensive).
    """
    from alliance.training.head import head_features, packaged_head

    head = packaged_head()
    if head is None or (head.model and getattr(embedder, "name", head.model) != head.model):
        return verdict, technique_first
    trained_with = head.manifest.get("coder_heads")
    coder_heads = getattr(getattr(coder, "heads", None), "version", None)
    if trained_with and coder_heads and coder_heads != trained_with:
        # the heads read the coder's scores: other coder heads would feed them other numbers
        evidence["verdict"] = (f"phrase rules: the verdict head was trained with coder heads "
                               f"{trained_with}, this coder has {coder_heads}; rebuild it with "
                               "`alliance practice train-head`")
        return verdict, technique_first
    try:
        x = head_features(embedder, [response], head.features, [client], coder,
                          head.coder_codes or None)
    except TrainingError:
        return verdict, technique_first
    if x.shape[1] != head.coef.shape[1]:
        return verdict, technique_first
    probs = head.probabilities(x)[0]
    step_probs = head.step_probabilities(x)[0]
    source = "verdict head"
    if reader is None:
        from alliance.training.reader import packaged_reader

        reader = packaged_reader()
    if reader and reader.blend > 0:
        read_verdict, read_steps = reader.read([client], [response])
        probs, step_probs = blend_readings(head.classes, probs, step_probs, read_verdict[0],
                                           read_steps[0], reader.blend)
        source = f"verdict head + reader ({reader.blend:.1f})"
    backed = backed_verdict(head.classes, probs, step_probs, rules_judgmental)
    predicted = harm_gated_verdict(head.classes, probs, backed,
                                   {"judgmental": rules_judgmental,
                                    "defensive": rules_defensive})
    p = float(probs[head.classes.index(predicted)])
    evidence["verdict"] = f"{source} ({predicted} {p:.2f}); phrase rules said {verdict}"
    if backed != gated_verdict(head.classes, probs, rules_judgmental):
        evidence["verdict"] += "; repair not backed by two step heads"
    if predicted != backed:
        evidence["verdict"] += f"; a {predicted} phrase overrides {backed} (harm gate)"
    for step, q in step_probs.items():
        found = q >= head.threshold(step)
        if found != steps.get(step):
            evidence[f"{step} (step head)"] = f"{q:.2f}; phrase rules said {steps.get(step)}"
        steps[step] = found
        if not found:
            evidence.pop(step, None)
    if head.steps and any(steps[s] for s in ("named", "reflected", "responsibility")):
        steps["noticed"] = True  # the guide: naming, reflecting or owning is noticing
    technique_first = predicted == "technique_first" or (
        technique_first and predicted in ("judgmental", "defensive"))
    return predicted, technique_first


def _score(steps: Mapping[str, bool], verdict: str) -> float:
    raw = sum(w for s, w in STEP_WEIGHTS.items() if steps[s])
    if verdict in ("judgmental", "defensive"):
        raw = min(raw, CAP_HARM)
    elif verdict == "technique_first":
        raw = min(raw, CAP_TECHNIQUE)
    return round(raw, 2)


def score_trainee_response(response: str, client: str | None = None, *,
                           case: TrainingCase | None = None, stage: int | None = None,
                           coder: Coder | None = None, reader: Any = None) -> ResponseScore:
    """Score ``response`` (answering ``client``; for ``case`` and ``stage`` when given).

    ``reader``: the reader to blend with the heads (:mod:`alliance.training.reader`); the
    packaged one when ``None``, none when ``False``.

    With a case and a stage and no client line, the stage's client statement is used; the
    alternative response is then the one written for that stage.
    """
    response = check_text(response, "response")
    if client is not None:
        client = check_text(client, "client line")
    st = None
    if case is not None:
        st = case.stage(stage if stage is not None else 1)
        client = client or st.client
    elif stage is not None:
        raise TrainingError("--stage needs --case", field="stage")
    if coder is None:
        from alliance.training.coders import default_coder

        coder = default_coder()
    codes, marker_family = _code(coder, response, client)
    found: StepFindings = detect_steps(response, client)
    present = found.present()
    evidence = {k: v for k, v in vars(found).items() if v is not None}
    for code in codes:
        if code in CODE_STEPS:
            present[CODE_STEPS[code]] = True
            evidence.setdefault(CODE_STEPS[code], code)
        if code in CODE_HARMS:
            present[CODE_HARMS[code]] = True
            evidence.setdefault(CODE_HARMS[code], code)
    if present["overapology"] and present["responsibility"] and \
            found.responsibility is None:
        present["responsibility"] = False
        evidence.pop("responsibility", None)
    if any(present[s] for s in ("named", "reflected", "responsibility", "judgmental",
                                "defensive")):
        present["noticed"] = True
    steps = {s: bool(present[s]) for s in STEP_NAMES}
    harms = {h: bool(present[h]) for h in ("judgmental", "defensive", "technique",
                                           "overapology")}
    verdict, technique_before_repair = verdict_for(steps, harms)
    embedder = getattr(coder, "embedder", None)
    if embedder is not None:
        verdict, technique_before_repair = _head_verdict(embedder, response, client, verdict,
                                                         technique_before_repair, steps,
                                                         evidence, harms["judgmental"],
                                                         harms["defensive"], coder,
                                                         reader)
        for harm in ("judgmental", "defensive"):  # the head's verdict decides these
            harms[harm] = verdict == harm
        harms[_VERDICT_HARM.get(verdict, "")] = True
        harms.pop("", None)
    good = [_GOOD[s] for s in STEP_NAMES if steps[s]]
    if technique_before_repair or verdict in ("judgmental", "defensive"):
        good = [g for g in good if g != _GOOD["noticed"]]
    to_improve = [_HARM_ADVICE[h] for h in ("judgmental", "defensive", "technique",
                                            "overapology") if harms[h]
                  and (h != "technique" or technique_before_repair or verdict != "repair")]
    to_improve += [_IMPROVE[s] for s in STEP_NAMES if not steps[s]]
    if st is not None:
        alternative = st.alternative
    else:
        family = marker_family
        if family is None and case is not None and case.start.marker:
            family = case.start.marker.split(".")[0]
        alternative = _ALTERNATIVES.get(family, _ALTERNATIVES[None])
    return ResponseScore(codes, steps, technique_before_repair, _score(steps, verdict),
                         verdict, tuple(good), tuple(to_improve), alternative, evidence)
