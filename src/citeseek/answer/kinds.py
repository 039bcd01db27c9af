"""What kind of answer a question asks for, read from how it is asked.

"How many ...?", "What was the average age ...?" and "What was the largest movement
...?" want a number (a statistic or a superlative of something measured, in a length
for "the largest movement", in a time for "the mean incubation period"); "When ...?"
a date; "Who/Which ...?" a name; "What was the title ...?" a quotation; "Why ...?",
"What caused/prompted/led to ...?" a cause. Names are narrowed further: "who" wants a
person or an organisation, "which minister/official/author ...?" a person (never an
organisation nor a place), "where" and "which city/country" a place.
"""

from __future__ import annotations

import re

NUMBER, DATE, NAME, QUOTE, CAUSE = "number", "date", "name", "quote", "cause"
PERSON, PLACE = "person", "place"  # what a NAME question narrows to
HUMAN = "human"  # "which minister ...?": a person, never an organisation or a place

_NUMBER_CUES = ("how many", "how much", "how long", "how old", "how tall", "how big",
                "how far", "how large", "how high", "how deep", "how wide", "how heavy",
                "how fast", "how often", "what number", "what percentage", "what percent",
                "what share", "death toll", "what age", "what amount", "what proportion",
                "by how much", "what fraction", "what ratio")
# A statistic or a superlative of a measured thing: "the average age", "the largest
# movement", "the total cost", "the number of".
_MEASURES = (r"numbers?|amounts?|totals?|rates?|shares?|percentages?|proportions?|costs?|"
             r"prices?|values?|sizes?|lengths?|heights?|widths?|depths?|weights?|speeds?|"
             r"distances?|durations?|ages?|temperatures?|increases?|decreases?|rises?|"
             r"falls?|drops?|gains?|losses?|growth|movements?|changes?|differences?|"
             r"scores?|counts?|volumes?|capacity|population|budgets?|salary|salaries|fees?|"
             r"fines?|revenues?|income|ratios?|margins?|delays?|periods?|times?|sums?|"
             r"levels?|doses?|accuracy|quantity|quantities|frequency|yields?")
_STAT_WORDS = (r"(?:average|mean|median|total|overall|maximum|minimum|typical|estimated|"
               r"largest|biggest|smallest|highest|lowest|greatest|longest|shortest|fastest|"
               r"slowest|peak)")
_STATISTIC = re.compile(
    rf"\b{_STAT_WORDS}\s+(?:[\w-]+\s+)?(?:{_MEASURES})\b"
    rf"|^\s*(?:what|which)\s+(?:is|was|are|were)\s+the\s+(?:{_MEASURES})\s+of\b")
# "When" asks for a date where it asks the question ("When was ...?", "Since when ...?",
# "... and when?"); inside a clause ("... the force called when two forces act ...?")
# it is a conjunction.
_WHEN_ASKS = re.compile(r"^\s*(?:and\s+|but\s+|so\s+)?when\b|\b(?:since|until|till|from|by)"
                        r"\s+when\b|\bwhen\s*\?\s*$")
_DATE_CUES = ("what year", "which year", "what date", "what day", "which day",
              "what month", "which month", "trial date", "what time", "what century",
              "which century", "what decade", "since when", "until when")
_QUOTE_CUES = ("title", "slogan", "called", "say", "said", "call")
_CAUSE_CUES = re.compile(
    r"^\s*why\b|\bfor what reason\b|\bwhat\s+(?:was|is|were|are)\s+(?:the\s+)?"
    r"(?:main\s+|chief\s+|primary\s+)?(?:reasons?|causes?)\b|\bwhat\s+(?:caused|causes|"
    r"prompted|prompts|led to|leads to|triggered|triggers|sparked|sparks|provoked|"
    r"drove|drives|made)\b")
_PLACE_CUES = re.compile(
    r"^\s*where\b|\b(?:which|what|in what|in which)\s+(?:\w+\s+)?(?:city|country|nation|"
    r"place|town|village|state|region|province|continent|island|river|capital|area|"
    r"location|county|district|port|territory)\b")
# "Which [former] [French] minister ...": a role only a person holds.
_PERSON_NOUNS = (r"person|people|man|woman|men|women|official|officials|minister|"
                 r"president|leader|politician|lawmaker|legislator|mep|senator|"
                 r"congressman|congresswoman|spokesman|spokeswoman|spokesperson|author|"
                 r"authors|writer|poet|player|actor|actress|singer|artist|scientist|"
                 r"researcher|professor|student|judge|diplomat|general|commander|chief|"
                 r"director|secretary|governor|mayor|candidate|journalist|reporter|"
                 r"activist|lawyer|attorney|prosecutor|ambassador|king|queen|prince|"
                 r"princess|emperor|ceo|chairman|chairwoman|founder|coach|inventor|"
                 r"engineer|doctor|physician|architect|composer|philosopher|explorer|"
                 r"bishop|pope|prime minister|deputy|cleric|commissioner|inspector|"
                 r"investigator|witness|victim|suspect|member|members|economist|analyst")
# The words of a role or title before a person's name ("Former French Minister ...").
ROLE_WORDS = frozenset(_PERSON_NOUNS.split("|")) | {
    "former", "deputy", "vice", "senior", "acting", "mr", "mrs", "ms", "dr", "prof",
    "sir", "dame", "lord", "lady", "saint", "st", "new", "then", "late", "chief",
    "defense", "defence", "foreign", "interior", "justice", "culture", "intelligence",
    "prime", "supreme", "general", "attorney"}
_HUMAN_CUES = re.compile(
    r"\b(?:which|what)\s+(?:(?!(?:did|does|do|is|was|were|are|has|have|had|will|can)\b)"
    rf"[\w’'\-]+\s+){{0,3}}?(?:{_PERSON_NOUNS})\b")


TIME, LENGTH, MONEY = "time", "length", "money"  # what a number is measured in
_MEASURED_IN = (
    (TIME, re.compile(r"\bhow long\b(?!.*\b(?:km|miles?|metres?|meters?|feet|inches)\b)")),
    (LENGTH, re.compile(r"\bhow (?:far|tall|high|deep|wide)\b")),
    # "What price did ...?", "What fine can ...?" ask for a sum; "What fuel price rise
    # ...?" asks for the rise.
    (MONEY, re.compile(r"\bhow much\b.*\b(?:cost|costs|price|prices|pay|paid|pays|spend|"
                       r"spent|worth|charge|charged|earn|earned|earns|fine|fined|salary|"
                       r"budget|fee|fees)\b|\bwhat (?:\w+ )?(?:price|cost|fee|fine|salary|"
                       r"penalty|wage)s?(?=\s*\?|\s+(?:is|was|are|were|does|do|did|has|have|"
                       r"had|will|would|can|could|might|must|of|for|per|in|on|at|to)\b)"
                       r"|\b(?:what|how much)\s+(?:does|do|did|will|would|"
                       r"could|can|might)\b.*\bcost\b")),
    # A statistic of a measured thing: "the largest movement", "the height of", "the
    # average incubation period".
    (LENGTH, re.compile(rf"\b{_STAT_WORDS}\s+(?:[\w-]+\s+)?(?:movements?|distances?|"
                        r"lengths?|heights?|widths?|depths?)\b|^\s*(?:what|which)\s+(?:is|"
                        r"was|are|were)\s+the\s+(?:distance|length|height|width|depth)\s+"
                        r"(?:of|from|between)\b")),
    (TIME, re.compile(rf"\b{_STAT_WORDS}\s+(?:[\w-]+\s+)?(?:durations?|delays?|periods?)\b"
                      r"|^\s*(?:what|which)\s+(?:is|was|are|were)\s+the\s+(?:[\w-]+\s+)?"
                      r"(?:duration|delay|period)\s+(?:of|for|between|before|after)\b")),
)


def measured_in(question: str) -> str | None:
    """For a question that wants a number: what it must be measured in, where the
    question says (``TIME`` for "how long", ``LENGTH`` for "how far/tall/high/deep/
    wide", ``MONEY`` for "how much ... cost/pay/spend ..."), else None."""
    q = " ".join(question.lower().split())
    return next((unit for unit, cue in _MEASURED_IN if cue.search(q)), None)


# Numbers a passage writes as figures or number words when it gives them at all: counts,
# shares and sums of money. "How long/far/old/big ...?" are often answered in words
# ("by a hand's width", "until the end of the war") and are left out.
_DESCRIBED = re.compile(r"\bhow (?:long|far|tall|high|deep|wide|old|big|large|heavy|fast|"
                        r"often|soon|late|early)\b")


def asks_for_figure(question: str) -> bool:
    """Whether ``question`` asks for a date, a count, a share or a sum of money: an
    answer a passage writes as a date, a figure or a number word."""
    kind = question_type(question)
    if kind == DATE:
        return True
    q = " ".join(question.lower().split())
    return kind == NUMBER and (measured_in(q) == MONEY or not _DESCRIBED.search(q))


def _has_cue(q: str, cues: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(cue)}\b", q) for cue in cues)


def question_type(question: str) -> str | None:
    """The kind of answer ``question`` asks for: number, date, name, quote, cause or
    None (a question that names no kind: "What is ...?")."""
    q = " " + " ".join(question.lower().split()) + " "
    if _has_cue(q, _NUMBER_CUES):
        return NUMBER
    if measured_in(q) == MONEY:  # "What does a subscription cost?", "What fine ...?"
        return NUMBER
    if _WHEN_ASKS.search(q) or _has_cue(q, _DATE_CUES):
        return DATE
    if re.match(r"\s*(who|whom|whose)\b", q):  # "Who said ...?" wants the speaker
        return NAME
    if _CAUSE_CUES.search(q):
        return CAUSE
    if _has_cue(q, _QUOTE_CUES):
        return QUOTE
    if re.search(r"\b(who|whom|whose|where|which|name)\b", q):
        return NAME
    if _STATISTIC.search(q):
        return NUMBER
    return None


def name_kind(question: str) -> str | None:
    """For a question that wants a name: ``PLACE`` (where, which city/country...),
    ``HUMAN`` (which minister/official/author...: a person), ``PERSON`` (who: a person
    or an organisation) or None (any name)."""
    q = " ".join(question.lower().split())
    if _PLACE_CUES.search(q):
        return PLACE
    if _HUMAN_CUES.search(q):
        return HUMAN
    if re.search(r"\b(who|whom|whose)\b", q):
        return PERSON
    return None


# The thing a "which/what/how many X ...?" question asks for is the last word of the
# phrase after "which"/"what"/"how many"/"how much" (and any "is the", "does a"; "kind
# of" and "type of" skipped): the phrase ends at a verb, a preposition, a determiner or
# a pronoun, or after three words not counting figures ("Which deep learning frameworks
# does ...": frameworks; "What was the weather at ...": weather; "How many Boeing 737
# MAX airplanes had ...": airplanes). Verbs are told by the auxiliaries, "-ed", "n't",
# the common irregular past forms and, past the first word, a verb seldom used as a noun
# ("make", "live") or a word followed by "the"/"a"/"to" or a particle ("What food upsets
# the", "How many units make up").
_ASKING = re.compile(r"^\s*(?:(?:in|on|at|for|from|to|by|of|with|during|under|into)\s+)?"
                     r"(?:which|what|how\s+many|how\s+much)\s+(.+)$", re.I | re.S)
_AUX = frozenset({
    "is", "was", "are", "were", "be", "been", "does", "did", "do", "has", "have", "had", "can",
    "could", "will", "would", "shall", "should", "may", "might", "must"})
_DETERMINERS = frozenset({
    "the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her"})
_PHRASE_ENDS = frozenset({
    "of", "at", "in", "on", "for", "from", "to", "by", "with", "about", "during", "after",
    "before", "under", "over", "between", "into", "as", "than", "that", "which", "who", "whom",
    "whose", "where", "when", "while", "if", "and", "or", "but", "not", "it", "there", "they",
    "he", "she", "we", "you", "them", "him"})  # not "us", "i": "US presidents", "IBM i"
# "How many units make up ...", "How many people live in ...": after the noun, a verb.
_PARTICLES = frozenset({"up", "out", "off", "down", "back", "away"})
_BASE_VERBS = frozenset({  # verbs that are seldom nouns ("study", "use", "play" are)
    "live", "make", "makes", "take", "takes", "come", "comes", "go", "goes", "die", "dies",
    "exist", "exists", "remain", "survive", "survives", "belong", "belongs", "serve",
    "serves", "occur", "occurs", "happen", "happens", "appear", "appears", "compete",
    "competes", "attend", "attends", "speak", "speaks", "own", "owns", "lose", "loses",
    "get", "gets", "contain", "contains", "include", "includes", "receive", "receives",
    "join", "joins", "enter", "enters"})
_ED_NOUNS = frozenset({"hundred", "shed", "sled"})  # "speed", "seed", "need": "-eed"
_SORTS = frozenset({
    "type", "types", "kind", "kinds", "sort", "sorts", "form", "forms", "category", "categories",
    "class", "classes", "variety"})
_IRREGULAR_PAST = frozenset({
    "spoke", "sat", "put", "won", "led", "held", "wrote", "took", "made", "gave", "said", "set",
    "ran", "became", "began", "came", "found", "got", "knew", "left", "lost", "met", "paid",
    "sent", "told", "thought", "brought", "bought", "built", "caught", "chose", "drew", "drove",
    "fell", "fought", "flew", "grew", "hid", "hit", "kept", "laid", "meant", "rose", "saw", "sold",
    "shot", "stood", "struck", "taught", "threw", "went", "wore", "broke", "beat", "bore", "bound",
    "fed", "forgot", "hung", "lent", "read", "rode", "rang", "sang", "sank", "shook", "slept",
    "spent", "split", "spread", "stole", "swam", "swept", "swung", "tore", "understood", "woke",
    "wound"})


def asked_for(question: str) -> str | None:
    """The word naming what a "which/what/how many X ...?" question asks for,
    lower-cased ("Which browser did ...?": "browser"; "How many months did ...?":
    "months"); None for other questions, or where no noun follows ("What caused ...?",
    "What did Amnesty call ...?", "How much did it cost?")."""
    match = _ASKING.match(question)
    if not match:
        return None
    words = [w.lower() for w in re.findall(r"[\w-]+(?:['’]\w+)?", match.group(1))]
    if words and words[0] in ("do", "does", "did"):  # "What did Amnesty call ...?"
        return None
    i = 0
    while i < len(words) and (words[i] in _AUX or words[i] in _DETERMINERS):
        i += 1
    if i + 1 < len(words) and words[i] in _SORTS and words[i + 1] == "of":
        i += 2  # "What kind of cells ...": cells
        while i < len(words) and words[i] in _DETERMINERS:
            i += 1
    phrase: list[str] = []
    for j in range(i, len(words)):
        word, after = words[j], words[j + 1] if j + 1 < len(words) else ""
        if len([w for w in phrase if not w[0].isdigit()]) == 3:
            break
        if (word in _AUX or word in _DETERMINERS or word in _PHRASE_ENDS
                or word in _IRREGULAR_PAST or word.endswith(("n't", "n’t"))
                or (word.endswith("ed") and len(word) > 3 and not word.endswith("eed")
                    and word not in _ED_NOUNS)
                or (phrase and (after in _DETERMINERS or after in _PARTICLES
                                or after == "to" or word in _BASE_VERBS))):
            break  # the last: a word after the noun and before "the"/"to" is a verb
        phrase.append(word)
    if not phrase:
        return None
    return re.sub(r"['’]s$", "", phrase[-1])
