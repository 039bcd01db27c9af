"""What kind of answer a question wants, and where that answer sits in a sentence.

"How many ...?" wants a number, "When ...?" a date, "Who/Which ...?" a name, "What was
the title ...?" a quotation. Names are narrowed further by the question: "who" wants a
person or an organisation (never a place), "where" and "which city/country" a place
(never an organisation). The span is the candidate nearest to the question's own words
in the sentence, leaving out anything the question already says; numbers keep their
currency, scale and unit ("$5.1 million", "20 years"), names their full run of words
("Assadollah Assadi") without a possessive "'s".

Places and organisations are told apart by the words around and inside a name, not by
a list of the world's names: "in/at/near/from X" or "X City/River/Province" is a place,
"X Foundation/Council/University" or an acronym is an organisation.
"""

from __future__ import annotations

import re

from ..dates import month_names, month_pattern, weekday_names, weekday_pattern
from ..words import STOPWORDS, WORD
from .corpus import stem

NUMBER, DATE, NAME, QUOTE = "number", "date", "name", "quote"

# Capitalised, abbreviations dotted: "may" and "march" are verbs, "Jan" is a name too.
_MONTH = month_pattern(capitalised=True, dotted=True)
_DATE = re.compile(
    rf"\b(?:{weekday_pattern(capitalised=True, abbreviations=False)},?\s+)?{_MONTH}"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?\b)?(?:,?\s+(?:1[5-9]|20)\d{2})?"
    rf"|\b\d{{1,2}}\s+{_MONTH}(?:\s+(?:1[5-9]|20)\d{{2}})?"
    r"|\b(?:1[5-9]|20)\d{2}s?\b")
_YEAR = re.compile(r"\b(?:in|of|since|until|by|from|to|and|early|late|mid-?)\s+((?:19|20)\d{2})s?\b",
                   re.I)
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                 "dozens?|hundreds?|thousands?|millions?|billions?")
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion|bn)\b)?"
_UNIT = (r"(?:\s*(?:%|percent|per cent)|\s+(?:years?|months?|weeks?|days?|hours?|minutes?|"
         r"seconds?|decades?|centuries|times|dollars|euros|pounds|yuan|rupees|km|kilometres?|"
         r"kilometers?|miles?|metres?|meters?|feet|foot|inches|kg|kilograms?|tons?|tonnes?|"
         r"acres|hectares|square (?:miles|kilometres|kilometers)|degrees?)\b)?")
_CURRENCY = r"(?:(?:US|A|C|HK|NZ)?[$€£¥]\s?)"
_NUMBER = re.compile(
    rf"(?:{_CURRENCY}|(?<![\w.,]))(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?(?:st|nd|rd|th)?"
    + _SCALE + _UNIT + rf"|\b(?:{_NUMBER_WORDS})\b" + _SCALE + _UNIT, re.I)
# Runs of capitalised words, allowing short joiners inside ("Council of Resistance").
_CAP = r"[A-ZÀ-ÖØ-ÞŠŽČ][\w’'\-.]*[\w]"
_NAME = re.compile(rf"{_CAP}(?:\.?\s+(?:(?:of|the|de|al|for|and)\s+)?{_CAP})*")
_QUOTE = re.compile(r"[“\"]([^”\"]{3,200})[”\"]")

_NUMBER_CUES = ("how many", "how much", "how long", "how old", "how tall", "how big",
                "how far", "how large", "how high", "what number", "what percentage",
                "what share", "death toll", "what age", "what amount", "what proportion")
_DATE_CUES = ("when", "what year", "which year", "what date", "what day", "which day",
              "what month", "which month", "trial date", "what time", "what century",
              "which century", "what decade")
_QUOTE_CUES = ("title", "slogan", "called", "say", "said", "call")
_PLACE_CUES = re.compile(
    r"^\s*where\b|\b(?:which|what|in what|in which)\s+(?:\w+\s+)?(?:city|country|nation|"
    r"place|town|village|state|region|province|continent|island|river|capital|area|"
    r"location|county|district|port|territory)\b")
# Months and days in full are dates, not names (an abbreviation can be one: "Jan").
_DAY_AND_MONTH = month_names(abbreviations=False) | weekday_names(abbreviations=False)
# Capitalised words that start sentences or are glue, never an answer on their own.
_NOT_NAMES = STOPWORDS | _DAY_AND_MONTH | {
    "he", "her", "his", "if", "she", "also", "although", "after", "before", "both",
    "during", "however", "meanwhile", "most", "some", "thus", "yet", "last", "first",
}
PERSON, PLACE = "person", "place"  # what a NAME question narrows to
ORGANISATION = "organisation"  # a name that is neither (never the answer to "where")
# A name right after one of these is a place ("in Paris", "near Vienna").
_PLACE_BEFORE = re.compile(r"\b(?:in|at|near|from|across|throughout|outside|inside|"
                           r"around|into|to)\s+(?:the\s+)?$", re.I)
_PLACED = re.compile(r"\b(?:in|at|near|across|throughout)\s+(?:the\s+)?"
                     r"([A-Z][\w\-]*(?:\s+[A-Z][\w\-]*)*)")
_PLACE_WORDS = frozenset({
    "city", "county", "province", "state", "states", "river", "island", "islands",
    "mountain", "mountains", "lake", "sea", "ocean", "valley", "street", "square", "bay",
    "coast", "republic", "kingdom", "region", "peninsula", "desert", "gulf", "strait",
    "district", "village", "town", "airport", "harbour", "harbor", "port", "park",
})
_ORG_WORDS = frozenset({
    "foundation", "council", "committee", "party", "university", "college", "school",
    "ministry", "court", "company", "corporation", "inc", "ltd", "agency", "association",
    "organization", "organisation", "commission", "parliament", "assembly", "union",
    "institute", "bank", "church", "army", "guard", "guards", "corps", "department",
    "office", "government", "group", "society", "league", "federation", "network",
    "nations", "service", "services", "force", "forces", "police", "congress", "senate",
    "board", "times", "news", "press", "club", "team", "academy", "museum", "hospital",
    "mission", "movement", "front", "coalition", "treasury", "fund", "trust", "centre",
    "center", "order", "house",
})


def _has_cue(q: str, cues: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{re.escape(cue)}\b", q) for cue in cues)


def question_type(question: str) -> str | None:
    """The kind of answer ``question`` asks for: number, date, name, quote or None."""
    q = " " + " ".join(question.lower().split()) + " "
    if _has_cue(q, _NUMBER_CUES):
        return NUMBER
    if _has_cue(q, _DATE_CUES):
        return DATE
    if re.match(r"\s*(who|whom|whose)\b", q):  # "Who said ...?" wants the speaker
        return NAME
    if _has_cue(q, _QUOTE_CUES):
        return QUOTE
    if re.search(r"\b(who|whom|whose|where|which|name)\b", q):
        return NAME
    return None


def name_kind(question: str) -> str | None:
    """For a question that wants a name: ``PERSON`` (who: a person or an organisation),
    ``PLACE`` (where, which city/country...) or None (any name)."""
    q = " ".join(question.lower().split())
    if _PLACE_CUES.search(q):
        return PLACE
    if re.search(r"\b(who|whom|whose)\b", q):
        return PERSON
    return None


def _name_class(sentence: str, span: tuple[int, int]) -> str | None:
    """``PLACE``, ``ORGANISATION`` or None for a capitalised span, from its words and
    the words before it."""
    words = WORD.findall(sentence[span[0]:span[1]])
    lowered = {w.lower() for w in words}
    if lowered & _ORG_WORDS or any(len(w) >= 2 and w.isupper() for w in words):
        return ORGANISATION
    if lowered & _PLACE_WORDS or _PLACE_BEFORE.search(sentence[max(0, span[0] - 16):span[0]]):
        return PLACE
    return None


def _content_words(question: str) -> set[str]:
    return {stem(w) for w in WORD.findall(question)}


def known_places(text: str) -> frozenset[str]:
    """Names that ``text`` uses as places somewhere ("in Iran", "near Paris"): a name
    is a place in one sentence when the same passages place it in another."""
    return frozenset(m.group(1) for m in _PLACED.finditer(text))


def _candidates(sentence: str, kind: str, question: str,
                places: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    asked = _content_words(question)
    spans: list[tuple[int, int]] = []
    if kind == DATE:
        spans = [m.span() for m in _DATE.finditer(sentence)]
    elif kind == NUMBER:
        # Day numbers of dates ("December 23, 2019") and years ("in 2018") are not counts.
        dates = [m.span() for m in _DATE.finditer(sentence) if not m.group().isdigit()]
        dates += [m.span(1) for m in _YEAR.finditer(sentence)]
        spans = [m.span() for m in _NUMBER.finditer(sentence)
                 if not any(a <= m.start() < b for a, b in dates)]
    elif kind == QUOTE:
        spans = [m.span(1) for m in _QUOTE.finditer(sentence)]
    elif kind == NAME:
        for m in _NAME.finditer(sentence):
            span = _trim_name(sentence, m.start(), m.end(), asked)
            if span is not None:
                spans.append(span)
        wanted = name_kind(question)
        if wanted == PERSON:  # a person or an organisation, never a place
            spans = [sp for sp in spans if _name_class(sentence, sp) != PLACE
                     and sentence[sp[0]:sp[1]] not in places]
        elif wanted == PLACE:
            spans = [sp for sp in spans if _name_class(sentence, sp) != ORGANISATION]
    out = []
    for s, e in spans:
        stems = {stem(w) for w in WORD.findall(sentence[s:e])}
        if stems and not stems <= asked:  # the question already says it: not an answer
            out.append((s, e))
    return out


def _trim_name(sentence: str, start: int, end: int,
               asked: set[str]) -> tuple[int, int] | None:
    """A capitalised run without leading glue ("However") or leading words the question
    already says ("Council Secretary Ali Shamkhani" -> "Ali Shamkhani" when the question
    names the Council's Secretary), and without a possessive "'s"."""
    words = list(WORD.finditer(sentence, start, end))
    while words and words[0].group().lower() in _NOT_NAMES:
        words = words[1:]
    # Echoed words go only when a name of two words or more is left ("Ali Shamkhani",
    # not "Department" out of "US Treasury Department").
    echo = 0
    while echo < len(words) - 2 and stem(words[echo].group()) in asked:
        echo += 1
    words = words[echo:]
    while len(words) > 1 and words[-1].group().lower() == "s" \
            and sentence[words[-1].start() - 1] in "'’":
        words = words[:-1]
    if not words:
        return None
    return (words[0].start(), words[-1].end())


def find_span(sentence: str, question: str, kind: str | None = None,
              places: frozenset[str] = frozenset()) -> tuple[int, int] | None:
    """Offsets (within ``sentence``) of the part that answers ``question``, or None.

    Among several candidates of the wanted kind, the one nearest to the question's own
    words wins ("1,500" rather than "4,000" for "How many protesters were killed?").
    ``places`` are names known as places from the text around (``known_places``).
    """
    kind = kind if kind is not None else question_type(question)
    if kind is None:
        return None
    found = _candidates(sentence, kind, question, places)
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    asked = _content_words(question)
    cues = [m.span() for m in WORD.finditer(sentence)
            if len(m.group()) > 3 and stem(m.group()) in asked]

    def rank(span: tuple[int, int]) -> tuple[float, int, int]:
        # Fewest words echoed from the question first, then nearest to its other words.
        words = [stem(w) for w in WORD.findall(sentence[span[0]:span[1]])]
        echo = sum(w in asked for w in words) / len(words)
        outside = [c for c in cues if c[1] <= span[0] or c[0] >= span[1]]
        near = min((max(c[0] - span[1], span[0] - c[1]) for c in outside), default=10**6)
        return (round(echo, 2), near, span[0])

    return min(found, key=rank)
