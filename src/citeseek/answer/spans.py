"""Where the answer sits in a sentence, once ``kinds`` has said what kind it is.

The span is the candidate of the wanted kind nearest to the question's own words in the
sentence, leaving out anything the question already says; numbers keep their currency,
scale and unit ("$5.1 million", "20 years", "four millimetres", "N=10"), written in
figures or in words; dates are never the year inside an identifier ("AD 2018-23-51");
names keep their full run of words ("Assadollah Assadi") without a possessive "'s"; a
cause is the clause after "because", "due to", "after" ... or before "led to".

Places and organisations are told apart by the words around and inside a name, not by
a list of the world's names: "in/at/near/from X" or "X City/River/Province" is a place,
"X Foundation/Council/University" or an acronym is an organisation. A question for a
person ("which minister ...?") takes neither.
"""

from __future__ import annotations

import re

from ..dates import month_names, month_pattern, weekday_names, weekday_pattern
from ..words import STOPWORDS, WORD
from .corpus import stem
from .kinds import (
    CAUSE,
    DATE,
    HUMAN,
    LENGTH,
    MONEY,
    NAME,
    NUMBER,
    PERSON,
    PLACE,
    QUOTE,
    ROLE_WORDS,
    TIME,
    measured_in,
    name_kind,
    question_type,
)
from .units import MARKED_AUTHOR

__all__ = ["CAUSE", "DATE", "HUMAN", "NAME", "NUMBER", "PERSON", "PLACE", "QUOTE",
           "common_words", "find_span", "known_places", "name_kind", "question_type"]

# Capitalised, abbreviations dotted: "may" and "march" are verbs, "Jan" is a name too.
_MONTH = month_pattern(capitalised=True, dotted=True)
# A year, but not one inside an identifier ("2018–23–51", "2019–NM–035").
_YEAR_ALONE = r"(?<![\d][–‐\-])\b(?:1[5-9]|20)\d{2}s?\b(?![–‐\-/]\w)"
_DATE = re.compile(
    rf"\b(?:{weekday_pattern(capitalised=True, abbreviations=False)},?\s+)?{_MONTH}"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?\b)?(?:,?\s+(?:1[5-9]|20)\d{2})?"
    rf"|\b\d{{1,2}}\s+{_MONTH}(?:\s+(?:1[5-9]|20)\d{{2}})?"
    rf"|{_YEAR_ALONE}")
# An earlier year where a preposition makes it one ("in 1251", "by 618 AD", "c. 800 BC").
_EARLY_YEAR = re.compile(r"\b(?:[Ii]n|[Ss]ince|[Bb]y|[Uu]ntil|[Ff]rom|[Aa]round|[Cc]irca|c\.|"
                         r"[Aa]fter|[Bb]efore)\s+(\d{3,4}(?:\s*(?:AD|BC|BCE|CE)\b)?)(?![\d%]|[.,]\d)"
                         r"(?!\s*(?:%|percent|per\s+cent|people|km|miles?|metres?|meters?|"
                         r"feet|units?|cases?|votes?)\b)")
_YEAR = re.compile(r"\b(?:in|of|since|until|by|from|to|and|early|late|mid-?)\s+((?:19|20)\d{2})s?\b",
                   re.I)
_UNITS_IN_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                   "thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|"
                   "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety")
_NUMBER_WORDS = (rf"(?:{_UNITS_IN_WORDS})(?:[\s-](?:{_UNITS_IN_WORDS}))?"
                 r"|a dozen|dozens?|a hundred|hundreds?|a thousand|thousands?|millions?|"
                 r"billions?|half|a third|a quarter")
_SCALE = r"(?:\s+(?:hundred|thousand|million|billion|trillion|bn)\b|(?:[kKMB]|bn)\b)?"
_UNIT = (r"(?:\s*(?:%|percent|per cent|x\b|×|fold\b)|\s+(?:years?|months?|weeks?|days?|"
         r"hours?|minutes?|seconds?|decades?|centuries|times|dollars|euros|pounds|yuan|"
         r"rupees|yen|km|kilometres?|kilometers?|miles?|metres?|meters?|centimetres?|"
         r"centimeters?|millimetres?|millimeters?|cm|mm|feet|foot|inches|inch|yards?|kg|"
         r"kilograms?|grams?|tons?|tonnes?|litres?|liters?|gallons?|acres|hectares|"
         r"square (?:miles|kilometres|kilometers|metres|meters)|degrees?|GB|MB|TB|"
         r"per (?:cent|record|person|head|capita|year|month|day|hour))\b)?")
_CURRENCY = r"(?:(?:US|A|C|HK|NZ)?[$€£¥]\s?)"
_NUMBER = re.compile(
    r"\b[Nn]\s?=\s?\d[\d,]*"  # a sample size: "(N=10)"
    rf"|(?:{_CURRENCY}|(?<![\w.,]))(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?(?:st|nd|rd|th)?"
    + _SCALE + _UNIT + rf"|\b(?:{_NUMBER_WORDS})\b" + r"(?:\s+(?:hundred|thousand|million|"
    r"billion|trillion)\b)?" + _UNIT, re.I)
# What a number is measured in, by the words around it.
_TIME_UNIT = re.compile(r"\b(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|"
                        r"decades?|centuries|nights?)\b|-(?:year|month|week|day|hour)\b", re.I)
_LENGTH_UNIT = re.compile(r"\b(?:km|kilomet(?:re|er)s?|miles?|met(?:re|er)s?|centimet(?:re|er)s?|"
                          r"millimet(?:re|er)s?|cm|mm|feet|foot|ft|inch(?:es)?|yards?)\b", re.I)
_MONEY_UNIT = re.compile(r"[$€£¥]|\b(?:dollars?|euros?|pounds|yuan|rupees|yen|francs?|"
                         r"USD|EUR|GBP)\b", re.I)
_IN_UNITS = {TIME: _TIME_UNIT, LENGTH: _LENGTH_UNIT, MONEY: _MONEY_UNIT}
# A list item's number ("1. Install ...", "2) Run ...") is not a count.
_ITEM_NUMBER = re.compile(r"(?:^|\n)\s*\(?(\d{1,2})[.)](?:\s|$)")
# The cause a sentence gives: the clause after a causal word, or before "led to".
_CAUSE_AFTER = re.compile(
    r"\b(?:because(?:\s+of)?|due to|owing to|thanks to|as a result of|on account of|"
    r"caused by|prompted by|triggered by|sparked by|driven by|fuelled by|fueled by|"
    r"brought on by|in response to|in protest (?:at|against|over)|after|following|amid|"
    r"over|since)\s+([^,;:.!?]{3,160})", re.I)
_CAUSE_BEFORE = re.compile(
    r"(?:^|[,;:]\s*)([^,;:.!?]{3,160}?)\s+(?:led to|leads to|caused|causes|prompted|"
    r"triggered|sparked|provoked|resulted in|results in|gave rise to|drove)\b", re.I)
# Nationalities lead a person's name ("Slovak", "French", "Iranian", "Dutch").
_DEMONYM = re.compile(r"(?:ian|ean|an|ese|ish|ic|i|ch|ak|ot)$")
# Runs of capitalised words, allowing short joiners inside ("Council of Resistance").
_CAP = r"[A-ZÀ-ÖØ-ÞŠŽČ][\w’'\-.]*[\w]"
_NAME = re.compile(rf"{_CAP}(?:\.?\s+(?:(?:of|the|de|al|for|and)\s+)?{_CAP})*")
_QUOTE = re.compile(r"[“\"]([^”\"]{3,200})[”\"]")

# Months and days in full are dates, not names (an abbreviation can be one: "Jan").
_DAY_AND_MONTH = month_names(abbreviations=False) | weekday_names(abbreviations=False)
# Capitalised words that start sentences or are glue, never an answer on their own.
_NOT_NAMES = STOPWORDS | _DAY_AND_MONTH | {
    "he", "her", "his", "if", "she", "also", "although", "after", "before", "both",
    "during", "however", "meanwhile", "most", "some", "thus", "yet", "last", "first",
}
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


def common_words(text: str) -> frozenset[str]:
    """The words ``text`` writes in lower case: a capitalised "Each" or "Note" at the
    start of a sentence is one of these, not a name ("Canada" never is)."""
    return frozenset(w for w in WORD.findall(text) if w.islower())


def _candidates(sentence: str, kind: str, question: str,
                places: frozenset[str] = frozenset(),
                common: frozenset[str] = frozenset()) -> list[tuple[int, int]]:
    asked = _content_words(question)
    spans: list[tuple[int, int]] = []
    if kind == DATE:
        spans = [m.span() for m in _DATE.finditer(sentence)]
        spans += [m.span(1) for m in _EARLY_YEAR.finditer(sentence)
                  if not any(a <= m.start(1) < b for a, b in spans)]
    elif kind == NUMBER:
        # Day numbers of dates ("December 23, 2019") and years ("in 2018") are not counts,
        # nor the parts of an identifier ("2018–23–51", "737–8").
        dates = [m.span() for m in _DATE.finditer(sentence) if not m.group().isdigit()]
        dates += [m.span(1) for m in _YEAR.finditer(sentence)]
        dates += [m.span(1) for m in _ITEM_NUMBER.finditer(sentence)]
        spans = [m.span() for m in _NUMBER.finditer(sentence)
                 if not any(a <= m.start() < b for a, b in dates)
                 and not _in_identifier(sentence, *m.span())
                 and not _label(sentence, *m.span())]
        unit = measured_in(question)
        if unit is not None:  # "how long" wants a time, "how much ... cost" money
            spans = [sp for sp in spans if _IN_UNITS[unit].search(sentence[sp[0]:sp[1]])]
    elif kind == QUOTE:
        spans = [m.span(1) for m in _QUOTE.finditer(sentence)]
    elif kind == CAUSE:
        spans = [m.span(1) for m in _CAUSE_AFTER.finditer(sentence)]
        spans += [m.span(1) for m in _CAUSE_BEFORE.finditer(sentence)]
    elif kind == NAME:
        affiliation = _affiliation(sentence, question)
        if affiliation is not None:  # the author's affiliation, where the mark points
            return [affiliation]
        for m in _NAME.finditer(sentence):
            span = _trim_name(sentence, m.start(), m.end(), asked)
            word = sentence[span[0]:span[1]] if span is not None else ""
            if span is not None and not (word.isalpha() and word.lower() in common):
                spans.append(span)
        wanted = name_kind(question)
        if wanted in (PERSON, HUMAN):  # a person (or for "who" an organisation)
            spans = [sp for sp in spans if _name_class(sentence, sp) != PLACE
                     and sentence[sp[0]:sp[1]] not in places]
        if wanted == HUMAN:
            spans = [part for sp in spans for part in _person_parts(sentence, *sp)
                     if _name_class(sentence, part) != ORGANISATION]
        elif wanted == PLACE:
            spans = [sp for sp in spans if _name_class(sentence, sp) != ORGANISATION]
    out = []
    for s, e in spans:
        stems = {stem(w) for w in WORD.findall(sentence[s:e])}
        if stems and not stems <= asked:  # the question already says it: not an answer
            out.append((s, e))
    return out


def _affiliation(sentence: str, question: str) -> tuple[int, int] | None:
    """In a paper's authors and affiliations read as one unit ("Zejiang Shen1, Ruochen
    Zhang2, ... 1 Allen Institute for AI ... 2 Brown University ..."), the affiliation
    whose footnote mark follows the surname of an author the question names ("Brown
    University" for Ruochen Zhang); None where the unit is not such or names none."""
    marks = {m.group(1).lower(): m.group(2) for m in MARKED_AUTHOR.finditer(sentence)}
    if len(marks) < 2:
        return None
    named = {w.lower() for w in WORD.findall(question)}
    mark = next((d for surname, d in marks.items() if surname in named), None)
    if mark is None:
        return None
    for m in re.finditer(rf"(?:^|\s){mark}\s+(?={_CAP})", sentence):
        name = _NAME.match(sentence, m.end())
        if name is not None:
            return name.span()
    return None


def _person_parts(sentence: str, start: int, end: int) -> list[tuple[int, int]]:
    """The people's names in a run of capitalised words: its pieces between "of",
    "for", "the" and "and" ("Ivan Štefanec of the European People's Party", "Minister
    of Justice Mostafa Pourmohammadi"), each without the role, title, acronym or
    nationality that leads it ("Slovak MEP Ivan Štefanec" -> "Ivan Štefanec")."""
    pieces: list[list[re.Match[str]]] = [[]]
    for word in WORD.finditer(sentence, start, end):
        if word.group() in ("of", "for", "the", "and"):
            pieces.append([])
        else:
            pieces[-1].append(word)
    out = []
    for words in pieces:
        while words and (words[0].group().lower() in ROLE_WORDS
                         or (len(words[0].group()) > 1 and words[0].group().isupper())
                         or (len(words) > 2 and _DEMONYM.search(words[0].group()))):
            words = words[1:]
        if words:
            out.append((words[0].start(), words[-1].end()))
    return out


def _label(sentence: str, start: int, end: int) -> bool:
    """A bare number that names rather than counts: right after a capitalised word
    inside the sentence ("Flight 302", "Table 1", "Model 737")."""
    if not sentence[start:end].isdigit():
        return False
    before = re.search(r"(\S+)\s+$", sentence[:start])
    if before is None or not before.group(1)[:1].isupper():
        return False
    return before.start(1) > 0 and not sentence[:before.start(1)].rstrip().endswith(
        (".", "!", "?", ":", "\n"))


def _in_identifier(sentence: str, start: int, end: int) -> bool:
    """A figure joined by a dash or slash to more of the same ("2018–23–51")."""
    return bool(re.match(r"[–‐\-/]\w", sentence[end:end + 2])
                or re.search(r"\w[–‐\-/]$", sentence[max(0, start - 2):start]))


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
    # Nor when glue follows: "University of Washington" stays whole, not "of Washington".
    echo = 0
    while (echo < len(words) - 2 and stem(words[echo].group()) in asked
           and not words[echo + 1].group().islower()):
        echo += 1
    words = words[echo:]
    while len(words) > 1 and words[-1].group().lower() == "s" \
            and sentence[words[-1].start() - 1] in "'’":
        words = words[:-1]
    if not words:
        return None
    return (words[0].start(), words[-1].end())


def find_span(sentence: str, question: str, kind: str | None = None,
              places: frozenset[str] = frozenset(),
              common: frozenset[str] = frozenset()) -> tuple[int, int] | None:
    """Offsets (within ``sentence``) of the part that answers ``question``, or None.

    Among several candidates of the wanted kind, the one nearest to the question's own
    words wins ("1,500" rather than "4,000" for "How many protesters were killed?").
    ``places`` are names known as places from the text around (``known_places``),
    ``common`` the words it writes in lower case (``common_words``).
    """
    kind = kind if kind is not None else question_type(question)
    if kind is None:
        return None
    found = _candidates(sentence, kind, question, places, common)
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
