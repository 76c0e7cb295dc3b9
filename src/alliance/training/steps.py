"""Repair-step detectors: what a trainee response does with a strained alliance.

The repair sequence the project teaches (see ``docs/training.md``): notice the marker, name
it without defensiveness, invite the client's view, take one's own share without
over-apologising, renegotiate the goal or task, reflect accurately; and do not reach for
technique before the repair. These detectors read the response (and the client line it
answers, for reflections) with small, readable phrase patterns, so scoring works offline and
with any version of the transcript coder; the scorer adds the coder's codes on top.

Each detector returns the phrase that made it fire, so feedback can quote it.

>>> f = detect_steps("I think I pushed the worksheets too hard. How have they been for you?",
...                  "Didn't get to it.")
>>> f.responsibility is not None, f.invited is not None, f.technique is None
(True, True, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from alliance.coding.features import content_stems

STEP_NAMES = ("noticed", "named", "invited", "responsibility", "renegotiated", "reflected")
HARM_NAMES = ("judgmental", "defensive", "technique", "overapology")


# negative trait words: a counsellor calling the client one of these is judging them
_TRAITS = (r"(?:passive|rude|touchy|resistant|defensive|difficult|lazy|negative|dramatic|"
           r"unmotivated|stubborn|sensitive|paranoid|hostile|manipulative|avoidant|"
           r"oppositional|childish|ungrateful|entitled|aggressive|unreasonable|selfish|"
           r"irresponsible|dishonest|uncooperative|immature|naive|obsessed|in denial)\b")


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_YOU = r"(?:you|you'?re|your|you'?ve|you'?d)"

# Naming the strain: the counsellor puts what is happening between them into words.
_NAMED = _rx(
    r"\bi (?:can )?(?:notice|noticed|see|sense|saw|can smell)\b",
    r"\bi (?:can )?hear (?:how|that|what|you'?re|your|the)\b",
    r"\bi'?ve noticed\b", r"\bi'?m (?:noticing|hearing|sensing)\b",
    r"\b(?:it|this|that) (?:sounds|seems|feels|felt|looks) like (?:my|our|the|this|i|we|"
    r"something|you(?:'re)? (?:expect|feel))",
    r"\bfelt like (?:a|the start of a) \w+",
    r"\bsomething (?:about|in) (?:how|the way|what) (?:we|i)\b",
    r"\b(?:landed|came across|come across) (?:badly|wrong)\b",
    r"\bisn'?t (?:working|sitting right|helping) for you\b",
    r"\b(?:doesn'?t|does not|didn'?t) (?:seem|look|sound) (?:fine|fair)\b",
    r"\bsomething (?:about|in) [^.?!]*\b(?:seems?|isn'?t|doesn'?t|feels?)\b",
    r"\bit (?:looks|seems) like you(?:'ve| have| are|'re)\b",
    r"\b(?:that|my|the) (?:joke|comment|question|remark)\b[^.?!]*\b(?:off|thoughtless|"
    r"careless|clumsy|unfair|insensitive|wrong|unkind)\b",
    r"\b(?:you'?ve|'s|has|you have) got a point\b", r"\byou have a point\b",
    r"\byou(?:'ve)? (?:went|gone|go) (?:quiet|silent)\b",
    r"\b(?:you'?re|you are) right\b(?! now| here| there| away)",
    r"\bnot (?:telling you off|here to (?:police|judge|gang))",
)

# Inviting the client's view: a question or request aimed at their perspective.
_INVITE_Q = _rx(
    r"\b(?:what|how)\b[^?.!]*\b" + _YOU + r"\b[^?.!]*\?",
    r"\b(?:would|could|can|will|do|did|does|has|have|is|are) (?:you|anything|it|that|"
    r"anyone|something|there)\b[^?.!]*\?",
    r"\bhow (?:does|did|would|was) (?:that|it|this)\b[^?.!]*\?",
    r"\bwhat (?:do|did|would) you\b", r"\bwhat'?s your\b",
    r"\b(?:how|what)\b[^?.!]*\b(?:felt|feel|feels|been|landed|landing|sat|sitting|make of|"
    r"matters?|want|need|prefer|help|helped)\b[^?.!]*\?", r"\bcomes? to mind\b",
    r"\b(?:what|how)\b[^?.!]*\b(?:we|we'?ve|our|us|those sessions|the sessions)\b[^?.!]*\?",
)
_INVITE_REQ = _rx(
    r"\b(?:i'?d|i would|i) (?:really )?(?:like|love|want|be glad|value) (?:to )?(?:hear|know|"
    r"learn|understand)\b",
    r"\btell me\b", r"\bi(?:'d| would) (?:really )?want to know\b",
    r"\bi(?:'d| would) rather (?:hear|you)\b",
    r"\bif it stung\b", r"\bit'?d help me to hear\b", r"\beven if it'?s critical\b",
)
_INVITE_CLOSED = _rx(r"^\W*(?:\w+\W+){0,3}(?:what happened|why|okay\?|go on|ok\?)\W*$")
# scorer v11: questions that ask for assent, not for the client's view. A closed check-in
# after a decision ("Does that work for you?", "OK with that?") and a rhetorical question
# ("Don't you think ...?", "..., right?") are not invitations (labelling guide: "a closed or
# generic question" is partial).
_ASSENT = r"(?:okay|ok|good|fair|all ?right|fine|reasonable)"
_CHECK_IN = _rx(
    r"^\W*(?:(?:and|so|okay|ok|now)\W+)?(?:does|would|will|is|did) (?:that|this|it|the plan|"
    r"that plan) (?:be )?(?:work|suit|make sense|(?:sound|seem|feel) " + _ASSENT + r"|" + _ASSENT
    + r")\b[^?.!]{0,25}\?\W*$",
    r"^\W*(?:(?:are|is) (?:you|everyone|that)\W+)?(?:okay|ok|happy|fine|alright|all right|"
    r"good) (?:with )?(?:that|this|then)?\W*\?\W*$",
    r"^\W*(?:sound|sounds|make|makes) (?:good|okay|ok|fair|sense|all right)\W*\?\W*$",
    r"^\W*(?:deal|agreed|yes|yeah|right|alright|fair)\W*\?\W*$",
)
_RHETORICAL = _rx(
    r"^\W*(?:(?:but|and|so|well|now)\W+)?(?:surely|don'?t you|doesn'?t it|didn'?t you|"
    r"didn'?t we|wouldn'?t you|isn'?t it|isn'?t that|aren'?t you|can'?t you|shouldn'?t you|"
    r"haven'?t we|haven'?t you|won'?t you)\b[^?]*\?\W*$",
    r",\s*(?:right|yes|surely|no|eh|isn'?t it|wouldn'?t you say)\s*\?\W*$",
)

# Taking one's share: the counsellor owns a specific part.
_RESPONSIBILITY = _rx(
    r"\bi (?:may|might|probably|think i|must) (?:have )?(?:been |gone |)(?:push|pushed|"
    r"pushing|moved|went|gone|got|set|came|leaned|leaning|stuck|sticking|follow|followed|"
    r"following|miss|missed|rushed|handed|made|let|spent)\b",
    r"\bi (?:pushed|moved|went|got caught|came at|set|rushed|let|spent|didn'?t check|"
    r"didn'?t ask|missed|kept going|haven'?t asked|made)\b",
    r"\bi'?ve (?:been (?:pushing|leaning|sticking|following|firing|going)|let|spent|"
    r"made|moved|pushed)\b",
    r"\b(?:that'?s|that is|it'?s|it was) (?:on me|on us|my (?:fault|mistake|part|doing|"
    r"decision))\b",
    r"\b(?:careless|clumsy|insensitive|unfair|thoughtless) of me\b",
    r"\bmy (?:mistake|part in)\b",
    r"\bi (?:may|might|probably|must) have (?:\w+ly )?(?:been )?\w+(?:ed|en|t|ing)\b",
    r"\bi think i (?:\w+ed|went|got|came|set|made|let|took|missed|lost)\b",
    r"\bi'?ve been (?:so |too )?(?:focused on|checking|pushing|rushing|leaning|sticking|"
    r"following|firing|going too)\b",
    r"\bi (?:chose|decided)\b",
    r"\b(?:that|my|the) (?:joke|comment|question|remark)\b[^.?!]*\b(?:off|thoughtless|"
    r"careless|clumsy|unfair|insensitive|wrong|unkind)\b",
    r"\b(?:wasn'?t|was not) (?:a )?(?:kind|fair|helpful|great|good) (?:thing|joke|question|"
    r"comment|of me)\b", r"\bi'?ve (?:mostly|mainly|only|just) been\b",
    r"\bwe (?:went|pushed|moved|got|rushed)\b[^.?!]*\b(?:too|faster|deeper|further|"
    r"quickly)\b", r"\bi'?m sorry (?:that )?(?:i|we)\b",
    r"\bmy (?:joke|comment|question|remark|words?)\b[^.?!]*\b(?:thoughtless|careless|"
    r"clumsy|unfair|insensitive|wrong|off)\b",
    r"\bi made (?:it|the decision)\b", r"\bi'?m part of (?:why|the)\b",
    r"\bwe (?:went|pushed|moved|got) (?:deeper|too|faster|further|ahead)\b",
    r"\bi (?:came at|handled) (?:that|it) (?:clumsily|badly|poorly)\b",
)
_OVERAPOLOGY = _rx(
    r"\b(?:so|terribly|really|deeply) sorry\b", r"\bi'?m (?:awful|terrible|useless|a terrible)\b",
    r"\bi(?:'ve| have)? (?:clearly )?(?:failed|harmed|hurt) you\b",
    r"\bshouldn'?t (?:be doing|do) this job\b",
    r"\bi feel (?:awful|terrible)\b", r"\bsorry\W+(?:\w+\W+){0,6}sorry\b",
    r"\bnot a good fit\b",
    # scorer v11: retreats that hand the session over instead of owning a part
    r"\bforget (?:i|that i) (?:said|mentioned|asked|brought)\b",
    r"\bi(?:'ll| will) (?:do|go along with) (?:whatever|anything) you\b",
    r"\bi won'?t (?:bring|mention|ask|raise) (?:it|that|this|about it)\b[^.?!]*\bagain\b",
    r"\bi (?:completely |totally )?understand if you (?:want|need|would rather|'d rather) to "
    r"(?:leave|stop|quit|find|see|switch)\b",
    r"\bi(?:'m| am) (?:a )?(?:hopeless|useless|rubbish|the worst)\b",
)

# Renegotiating goal, task, pace or frame with the client.
_RENEGOTIATE = _rx(
    r"\btogether\b", r"\bwhat if we\b", r"\b(?:could|shall|can) we\b", r"\bwe could\b",
    r"\blet'?s (?:agree|build|find|plan|make|decide|redesign|work out|each|look again|both|"
    r"change|set a pace|slow)\b",
    r"\bhow about we\b", r"\b(?:you|you can) (?:pick|choose)\b", r"\byour (?:own )?pace\b",
    r"\b(?:smaller|different|doable|shorter)\b[^.?!]*\b(?:task|step|way|thing)\b",
    r"\bcheck[- ]in\b", r"\b(?:re-?book|reschedule)\b", r"\bwelcome back\b",
    r"\bbook (?:you|a|another)\b",
    r"\bwould (?:some|a|more|less) \w+[^.?!]*\bhelp\b",
    r"\b(?:do|try) (?:it|this|things) differently\b",
    r"\b(?:go|take it|take things) (?:slower|more slowly)\b", r"\bslow (?:down|things down)\b",
    r"\bfind a (?:time|day|slot|way)\b", r"\bany ?time\b",
    r"\bwould you (?:like|want|prefer) (?:to|the|us)\b", r"\bwhat would (?:suit|work|help)\b",
)

# Reflection: the counsellor gives back the client's meaning or feeling.
_REFLECT_LEAD = _rx(
    r"\b(?:it )?sounds like you\b", r"^\W*so\b",
    r"\b(?:leaves|left|makes|made) you (?:feel|feeling)\b",
    r"\byou'?re (?:feeling|expecting|furious|angry|worried|scared|frustrated|hurt|tired|"
    r"exhausted|right to feel|saying|telling me)\b",
    r"\bsounds? (?:very |really |so |quite )?(?:\w+ )?(?:lonely|terrifying|frightening|hard|"
    r"painful|exhausting|awful|horrible|difficult|scary|upsetting|unfair|heavy|overwhelming)\b",
    r"^\W*sounds like\b", r"\bno wonder\b",
    r"\b(?:it'?s|that'?s) a (?:fair|real|reasonable|understandable) (?:worry|question|point|"
    r"concern)\b", r"\bfair (?:enough|question|point|worry)\b",
    r"\bthat'?s (?:really |so )?(?:frustrating|hard|painful|upsetting|a lot)\b",
    r"\byou (?:feel|felt|end up|expect|really|didn'?t want|don'?t want|were|'?re used|"
    r"'?re worried|'?re fed up|'?re angry|drank|panicked)\b",
    r"\byou'?re (?:used|worried|fed up|angry|not your)\b",
    r"\b(?:it )?makes sense\b", r"\bmust (?:feel|have felt|have been)\b",
    r"\bthat sounds (?:hard|horrible|frightening|painful|"
    r"like)\b", r"\b(?:it )?took courage\b", r"\bhas (?:carried|served) you\b",
    r"\bit (?:really )?(?:scares|hurts|stings) you\b", r"\bmust be\b",
)

# Harms.
_JUDGMENTAL = _rx(
    r"\bnot (?:really )?taking (?:this|it|therapy) seriously\b", r"\bdisrespectful\b",
    r"\birresponsible\b", r"\bselfish\b", r"\bwhy are you so\b", r"\bbe honest\b",
    r"\b(?:you'?re|you are) (?:just|being|a bit|clearly|obviously) (?:\w+ )?(?:sensitive|"
    r"defensive|lazy|difficult|drunk|avoiding|deflecting|resisting)\b",
    r"\byou'?re drunk\b",
    r"\b(?:deflecting|resisting|running away|avoiding your|resistance)\b",
    r"\bpart of you (?:doesn'?t|does not) want\b",
    r"\bif you'?d been honest\b", r"\b(?:don'?t|doesn'?t) add up\b", r"\bracist\b",
    r"\byou(?:'ll)? need to be more (?:open|honest)\b", r"\bisn'?t helping anyone\b",
    r"\bhow (?:much|many) (?:have you had|units)\b",
    r"\byou'?d (?:at least|be better)\b", r"\bhave you ever (?:actually|really)\b",
    r"\byou(?:'re| are)? (?:just )?(?:using|testing|saying \w+ to|trying to (?:avoid|"
    r"manipulate|get (?:me|out)))\b", r"\byou use \w+ to\b", r"\bget me off your back\b",
    r"\b(?:that'?s|it'?s) (?:just )?(?:transference|resistance|avoidance)\b",
    r"\byour (?:silence|attitude|behaviou?r|drinking|lateness) is (?:making|causing|the)\b",
    r"\battitudes? like (?:that|yours)\b", r"\bwith (?:that|an) attitude\b",
    r"\bviews like (?:that|yours)\b", r"\bwhat (?:that|this|it) would do to\b",
    r"\barm'?s length\b",
    r"\bwhat you always\b", r"\byou always (?:say|do|make|get|find)\b",
    r"\b(?:it'?s|that'?s) interesting (?:that|how) you\b",
    r"\byou can'?t (?:just|let|keep|expect)\b",
    r"\b(?:common|typical|usual) for (?:people|clients|patients) to\b",
    r"\b(?:bolt|bolting|run off|running off)\b",
    r"\b(?:pretty|really|quite|very) (?:worrying|disturbing|concerning|odd|weird)\b",
    r"\bdisgusting\b", r"\bwon'?t (?:have|tolerate) (?:it|that)\b",
    r"\b(?:a bit|rather|quite|so|very|too) (?:paranoid|sensitive|dramatic|defensive|negative|"
    r"touchy|lazy|stubborn|difficult)\b",
    r"\byou'?re (?:just )?(?:giving up|not trying|making excuses|overreacting)\b",
    r"\bthis time,? not like\b", r"\bnot like (?:last time|with)\b",
    r"\byou say (?:that|so),? but\b", r"\btextbook\b",
    r"\byou(?:'re| are)? (?:seem|sound|look|come across as|being|are|'re)?\s?(?:being )?"
    r"(?:very |so |a bit |quite |really |rather |this |that |pretty )?" + _TRAITS,
    r"\bif you'?d (?:only |just |actually )?(?:done|tried|listened|come|put|been|followed|"
    r"practi[sc]ed|stuck)\b",
    r"\bdeep down\b", r"\byou know (?:full well|perfectly well|really)\b",
    r"\btells (?:us|me) something\b",
    r"\bif you (?:gave|give|tried|made|put)\b[^.?!]*\b(?:real|proper|honest|more)\b",
    r"\binstead of (?:mocking|complaining|moaning|whining|making excuses)\b",
    r"\b(?:a bit|pretty|quite|really|very) (?:alarming|shocking)\b", r"\bi won'?t lie\b",
    r"\bi have to say\b",
    r"\b(?:i'?m|i am) (?:getting )?(?:a (?:little|bit) )?(?:frustrated|annoyed|irritated|"
    r"tired of|fed up with)\b",
    r"\bit'?s getting (?:a (?:little|bit) )?(?:frustrating|annoying|tiring|old)\b",
    r",\s*(?:do|does|did|don'?t|doesn'?t|didn'?t|isn'?t|aren'?t|wasn'?t|haven'?t|won'?t|"
    r"can'?t) (?:they|you|it|he|she|we)\?", r"\bisn'?t nothing\b",
    # scorer v12: judgement carried by an evaluation of the client, not by a trait word
    r"\b(?:that'?s|it'?s|this is|is) (?:just |classic |typical |textbook |usually |really |"
    r"probably |a |an |another )*(?:distortion|cognitive distortion|catastrophi[sz]ing|"
    r"all-or-nothing|black-and-white|avoidance|a safety behaviou?r|an excuse|excuses|"
    r"a cop-?out|self-sabotage|attention[- ]seeking|manipulation)\b",
    r"\byou'?re being (?:unfair|unreasonable|childish|silly|ridiculous|hostile|manipulative|"
    r"paranoid|rude|immature|dramatic)\b",
    r"\bnot (?:very )?(?:fair|kind|nice) (?:of|to|on) (?:you|me)\b",
    r"\bisn'?t (?:a )?(?:very )?(?:kind|nice|fair|helpful) (?:way|thing)\b",
    r"\byou'?re (?:choosing|deciding) not to\b", r"\byou (?:lied|are lying|'re lying)\b",
    r"\blike a (?:toddler|child|baby|teenager|little kid)\b", r"\blook at yourself\b",
    r"\bwhat we call (?:a|an)\b", r"\bsounds? like (?:an )?excuses?\b",
    r"\bwhenever (?:the work|things|it|this) gets? (?:hard|difficult|tough)\b",
    r"\byou (?:find fault|blame (?:everyone|everything|the|others))\b",
    r"\b(?:plenty|lots|a lot) of (?:\w+ )?(?:people|clients|sons|daughters|parents|men|"
    r"women) say (?:that|this)\b",
    r"\bsimple as that\b", r"\bi can'?t help you (?:if|unless)\b",
    r"\bonly works if you (?:actually |really )?\b", r"\bsays a lot about\b",
    r"\byou (?:might|may) want to (?:reflect|think) (?:on|about) how\b",
    r"\byou'?d have (?:done|tried|managed) it\b",
)
_DEFENSIVE = _rx(
    r"\bi (?:did|have|had) (?:explain|listen|tell|told|say|said)\w*\b",
    r"\bi'?m (?:just|only) (?:trying|following|doing|asking|joking)\b",
    r"\bi was (?:only|just) (?:joking|asking|trying)\b",
    r"\bthat'?s (?:my|just my) job\b", r"\bnot (?:really )?my decision\b",
    r"\bi never said\b", r"\bi'?m not (?:taking sides|like the others|policing)\b(?! you)",
    r"\bi wasn'?t (?:going there|trying)\b", r"\bjust a (?:bit of fun|joke)\b",
    r"\bdidn'?t mean anything\b", r"\b(?:other|lots of my|many of my) clients\b",
    r"\beveryone goes through\b", r"\bthat'?s normal\b", r"\bconfidential clinical\b",
    r"\bdon'?t say i didn'?t warn\b", r"\bi have to keep\b", r"\bit'?s the law\b",
    r"\bany professional\b", r"\bi'?m a professional\b", r"\bdon'?t you speak to me\b",
    r"\bi don'?t have a choice\b",
    r"\bi'?m (?:just )?trying to help\b", r"\bi don'?t judge\b",
    r"(?:^|[.!?]\s*)actually\b", r"\bso (?:they'?re|it'?s|it was|i'?m|you'?re) not\b",
    r"\byou (?:have|'?ve got) to admit\b", r"\bhave a right to\b",
    r"\bdoing my job\b",
    r"\byou'?ve got (?:me|it|that) wrong\b",
    r"\bwith (?:all due )?respect\b",
    r"\bi'?ve (?:tailored|adapted|listened|been fair|done everything|tried everything|always)\b",
    r"\bi meant (?:it|that|well)\b", r"\bi wasn'?t (?:making fun|laughing|critici[sz]ing|"
    r"judging)\b", r"\bi'?m a (?:trained|qualified|experienced)\b",
    r"\bnot (?:really )?up to me\b",
    r"\bi (?:can )?(?:understand|hear|get|see)(?: (?:that|the \w+|you|it))?,? but\b",
    r"\b(?:does|do) take time\b", r"\bwe(?:'re| are) only \w+ (?:weeks|sessions) in\b",
    r"\bwe follow\b", r"\bwithout (?:a )?good reason\b", r"\bno need for (?:that|this)\b",
    r"\bi ask everyone\b", r"\b(?:it'?s|that'?s) (?:just )?(?:standard|routine|procedure)\b",
    r"\bthat'?s not what i\b", r"\bduty of care\b",
    r"\bi don'?t make the rules\b", r"\bwe agreed\b", r"\byou were fine with\b",
    r"\bi'?m (?:just |only )?here to\b", r"\bnot on anyone'?s side\b", r"^\W*but\b",
    r"\bi'?ve never (?:given up|let|had|"
    r"done|judged|failed)\b", r"\bto be fair\b", r"\byou did say\b",
    r"\bi'?ve (?:run|done|seen|worked with)\b[^.?!]*\b(?:many|years|lots|hundreds)\b",
    # scorer v12: defending the method or the counsellor by argument
    r"\b(?:it'?s|is|are|that'?s|they'?re) (?:\w+ )?(?:really |very |incredibly )?"
    r"(?:well[- ]researched|well[- ]evidenced|best[- ]evidenced|evidence[- ]based|proven|"
    r"well[- ]established|tried and tested)\b",
    r"\b(?:one of the )?(?:best|most)[- ](?:evidenced|researched|studied|proven)\b",
    r"\b(?:just |only )?needs? (?:a (?:bit|little) )?(?:more )?(?:time|practice|patience)\b",
    r"\bgive it (?:a (?:fair|proper|real) (?:go|chance|try)|(?:more |some )?time|a chance)\b",
    r"\bworth (?:persisting|persevering|sticking) with\b",
    r"\b(?:that'?s|it'?s|this is) (?:just |simply )?(?:how|the way) (?:it|this|therapy|the \w+|"
    r"\w+) works\b",
    r"\bi was (?:only|just) \w+ing\b", r"\bi'?m (?:being )?(?:neutral|impartial)\b",
    r"\b(?:it'?s|that'?s|this is) not (?:two against one|personal|like that|what this is)\b",
    r"\bthat'?s not what (?:this|it|that) is\b",
    r"\b(?:it'?s|that'?s) my job\b", r"\bnot my (?:choice|call|fault)\b",
    r"\b(?:completely|totally|perfectly|entirely) (?:standard|normal|routine)\b",
    r"\b(?:everybody|everyone|every therapist|all therapists) does (?:it|this|that)\b",
    r"\bi (?:do|always) (?:listen|try|care|explain)\b", r"\bwhy would i (?:want to )?\b",
    r"\bin fairness\b", r"\b(?:that )?isn'?t the same as\b",
    r"\bthat'?s not fair\b(?! (?:of|to|on))",
    r"\bnobody can (?:really )?(?:keep|make|force)\b",
    r"\bsorry (?:it feels|you feel|that you feel|if you)\b[^.?!]*\bbut\b",
)
_TECHNIQUE = _rx(
    r"\blet'?s (?:do|try|go (?:over|through)|fill|start|use|look at your|get back to|"
    r"pick a|make the step|park)\b(?! (?:it|this|things) differently)",
    r"\b(?:let'?s|we(?:'ll| will)|try|do|fill|start|keep|use|begin|go over|set|give you|"
    r"assign|stick with|continue|persist|add|practi[sc]e)\b[^.?!]*\b(?:exercise|worksheet|"
    r"diary|thought record|thermometer|homework|schedule|hierarchy|protocol|"
    r"sleep restriction|relaxation|breathing|exposure|trauma narrative|speaker-listener|"
    r"apps?|leaflet|time-out|relapse[- ]prevention|cognitive work|script|technique)\b",
    r"\b(?:exercise|worksheet|diary|homework|exposure|breathing|relaxation|role-plays?) "
    r"(?:\w+ )?(?:works?|helps?)\b",
    r"\bwe should\b",
    r"(?:^|[.!?;:]\s+)(?:\w+,\s+)?(?:and\s+)?(?:remember|stick to|put|stop|keep|sign|fill in|"
    r"practi[sc]e|avoid|follow|write down|read)\b",
    r"\bwhat you need (?:is|to do)\b", r"\bi(?:'ll| will) need you to\b",
    r"\b(?:sign|fill in) (?:this|the) form\b", r"\bthe rule\b",
    r"\bstick to (?:it|this|the)\b", r"\bhere'?s your\b",
    r"\b(?:our|the) policy\b", r"\b(?:we|you) need to (?:get|do|start|go)\b",
    r"\bget you into\b",
    r"\blet'?s (?:give it|practi[sc]e|work on|add|have a go|go back to)\b",
    r"\bi(?:'ll| will) (?:speak|talk) to (?:social|the|your|our) \w+",
    r"\bwe(?:'ll| will) review\b",
    r"\bwould be the (?:responsible|right|sensible|best) thing\b",
    r"\b(?:anyway|so|okay),? back to\b", r"\b(?:is|'s) the (?:answer|solution|way forward)\b",
    r"\byou (?:might|may|could) want to (?:try|consider)\b", r"\bwhy don'?t you\b",
    r"\bhave you considered\b", r"\bit (?:really )?helps (?:with|to)\b",
    r"\bwe can (?:do|try|start|use) (?:a|an|the|some|this)\b(?! (?:time|day))",
    r"\bi'?m going to give you\b", r"\bcrisis (?:line|number)\b",
    r"\b(?:it'?s|is) (?:really |so )?(?:important|essential|crucial|vital) (?:to|that you)\b",
    r"\bthe thing (?:with|about) \w+ is\b",
    r"\bmakes? (?:the|your) (?:fear|anxiety|panic|problem) (?:grow|worse|stronger)\b",
    r"\bthe best (?:approach|thing|way|option) (?:is|would be)\b",
    r"\bkeeps? (?:anxiety|it|the fear|the panic) going\b",
    r"\bi(?:'d| would) ask (?:you|everyone|all)\b",
    r"\bis part of (?:the|your) (?:programme|program|treatment|therapy|work|getting)\b",
    r"\bhave you (?:tried|thought about (?:cutting|stopping))\b", r"\byou should\b",
    r"\byou (?:need|have) to (?:take|do|learn|accept|face)\b",
    r"\bi(?:'d| would) (?:really |strongly )?(?:suggest|recommend|advise|encourage|still keep|"
    r"like to refer)\b",
    r"\b(?:the )?research (?:says|shows)\b", r"\b(?:has|have) (?:a lot of|strong) evidence\b",
    r"\bevidence\b", r"\bwell-studied|best-studied\b", r"\bis how skills\b",
    r"\brefer you\b", r"\bcall an ambulance\b", r"\bcall your gp\b", r"\bthe trick is\b",
    r"\bactually makes\b", r"\bwe(?:'ll| will) (?:start|keep|begin|talk about|revisit)\b",
    r"\bi(?:'ll| will) (?:need to|ask the doctor|give you)\b", r"\brules\b", r"\bwarning signs\b",
    r"\blet me (?:explain|show)\b",
)


@dataclass(frozen=True)
class StepFindings:
    """What the detectors found: for each step or harm, the phrase that fired, or ``None``."""

    noticed: str | None = None
    named: str | None = None
    invited: str | None = None
    responsibility: str | None = None
    renegotiated: str | None = None
    reflected: str | None = None
    judgmental: str | None = None
    defensive: str | None = None
    technique: str | None = None
    overapology: str | None = None

    def present(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) is not None for f in fields(self)}


def _first(rx: re.Pattern[str], text: str) -> str | None:
    m = rx.search(text)
    return m.group().strip() if m else None


_PLAIN = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_SENTENCE = re.compile(r"[^.?!]+[.?!]*")
_PUSH = re.compile(r"\blet'?s (?:just )?(?:do|fill|try|go through|start|use|get back)\b",
                   re.IGNORECASE)


def sentences(text: str) -> list[str]:
    return [m.group().strip() for m in _SENTENCE.finditer(text) if m.group().strip()]


def _reflection(response: str, client: str | None) -> str | None:
    # reflections are statements: a lead phrase inside a question ("how do you feel ...?")
    # is a question, not a reflection
    for sent in sentences(response):
        if sent.endswith("?"):
            continue
        lead = _first(_REFLECT_LEAD, sent)
        if lead is None:
            continue
        if not client:
            return lead
        # an accurate reflection gives back something of what the client said or showed; a
        # lead phrase with no shared content and no feeling word is usually a stock phrase
        shared = content_stems(sent) & content_stems(client)
        feeling = re.search(r"\b(?:feel|hurt|scar|frighten|hard|frustrat|angry|ashamed|shame|"
                            r"worr|dread|alone|fed up|betray|stings?|sense|invisible|pain)",
                            sent, re.IGNORECASE)
        if shared or feeling:
            return lead
    return None


def _renegotiation(response: str) -> str | None:
    # "let's fill in the record together" pushes a technique; it does not renegotiate it
    for sent in sentences(response):
        if _PUSH.search(sent):
            continue
        found = _first(_RENEGOTIATE, sent)
        if found:
            return found
    return None


def _invitation(response: str) -> str | None:
    if _INVITE_CLOSED.search(response):
        return None
    for sent in sentences(response):
        if _JUDGMENTAL.search(sent):
            continue  # "why are you so ...?" is an accusation put as a question
        if _CHECK_IN.search(sent) or _RHETORICAL.search(sent):
            continue  # asks for assent, not for the client's view
        found = _first(_INVITE_REQ, sent) or _first(_INVITE_Q, sent)
        if found:
            return found
    return None


def detect_steps(response: str, client: str | None = None) -> StepFindings:
    """Run every detector on ``response`` (answering ``client``, when given)."""
    # typographic apostrophes and quotes read as plain ones ("we’ll" is "we'll")
    response = response.translate(_PLAIN)
    client = client.translate(_PLAIN) if client else client
    overapology = _first(_OVERAPOLOGY, response)
    responsibility = None if overapology else _first(_RESPONSIBILITY, response)
    named = _first(_NAMED, response)
    reflected = _reflection(response, client)
    invited = _invitation(response)
    renegotiated = _renegotiation(response)
    judgmental = _first(_JUDGMENTAL, response)
    defensive = _first(_DEFENSIVE, response)
    # a judging or defensive reply has registered the marker too; it mishandles it
    noticed = named or reflected or responsibility or overapology or judgmental or defensive
    return StepFindings(
        noticed=noticed, named=named, invited=invited, responsibility=responsibility,
        renegotiated=renegotiated, reflected=reflected,
        judgmental=judgmental, defensive=defensive,
        technique=_first(_TECHNIQUE, response), overapology=overapology)
