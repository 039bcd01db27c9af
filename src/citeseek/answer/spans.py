"""What kind of answer a question wants, and where that answer sits in a sentence.

"How many ...?" wants a number, "When ...?" a date, "Who/Which ...?" a name, "What was
the title ...?" a quotation. The span is the candidate nearest to the question's own
words in the sentence, leaving out anything the question already says.
"""

from __future__ import annotations

import re

from ..text import STOPWORDS, WORD

NUMBER, DATE, NAME, QUOTE = "number", "date", "name", "quote"

_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|"
          r"November|December|Jan\.|Feb\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)")
_DATE = re.compile(
    rf"\b(?:(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day,?\s+)?{_MONTH}"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?(?:,?\s+(?:1[5-9]|20)\d{2})?"
    rf"|\b\d{{1,2}}\s+{_MONTH}(?:\s+(?:1[5-9]|20)\d{{2}})?"
    r"|\b(?:1[5-9]|20)\d{2}s?\b")
_YEAR = re.compile(r"\b(?:in|of|since|until|by|from|to|and|early|late|mid-?)\s+((?:19|20)\d{2})s?\b",
                   re.I)
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                 "dozens?|hundreds?|thousands?|millions?|billions?")
_UNIT = r"(?:\s*(?:%|percent|per cent|years?|months?|weeks?|days?|hours?|times))?"
_NUMBER = re.compile(
    r"(?<![\w.,])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:st|nd|rd|th)?" + _UNIT
    + rf"|\b(?:{_NUMBER_WORDS})\b" + _UNIT, re.I)
# Runs of capitalised words, allowing short joiners inside ("Council of Resistance").
_CAP = r"[A-ZÀ-ÖØ-ÞŠŽČ][\w’'\-.]*[\w]"
_NAME = re.compile(rf"{_CAP}(?:\.?\s+(?:(?:of|the|de|al|for|and)\s+)?{_CAP})*")
_QUOTE = re.compile(r"[“\"]([^”\"]{3,200})[”\"]")

_NUMBER_CUES = ("how many", "how much", "how long", "how old", "how tall", "how big",
                "how far", "what number", "what percentage", "what share", "death toll",
                "what age")
_DATE_CUES = ("when ", "what year", "which year", "what date", "what day", "which day",
              "what month", "which month", "trial date", "what time")
_QUOTE_CUES = ("title", "slogan", "called", " say ", " said ", " say?", " call ")
# Capitalised words that start sentences or are glue, never an answer on their own.
_NOT_NAMES = STOPWORDS | {
    "he", "her", "his", "if", "she", "also", "although", "after", "before", "both",
    "during", "however", "meanwhile", "most", "some", "thus", "yet", "last", "first",
}


def question_type(question: str) -> str | None:
    """The kind of answer ``question`` asks for: number, date, name, quote or None."""
    q = " " + " ".join(question.lower().split()) + " "
    if any(cue in q for cue in _NUMBER_CUES):
        return NUMBER
    if any(cue in q for cue in _DATE_CUES):
        return DATE
    if any(cue in q for cue in _QUOTE_CUES):
        return QUOTE
    if re.search(r"\b(who|whom|whose|where|which|name)\b", q):
        return NAME
    return None


def stem(word: str) -> str:
    """A crude stem for matching question words in sentences ("killed" ~ "killing")."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ing", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def _content_words(question: str) -> set[str]:
    return {stem(w) for w in WORD.findall(question)}


def _candidates(sentence: str, kind: str, question: str) -> list[tuple[int, int]]:
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
            words = WORD.findall(m.group())
            while words and words[0].lower() in _NOT_NAMES:
                words = words[1:]
            if not words:
                continue
            start = sentence.index(words[0], m.start())
            spans.append((start, m.end()))
    out = []
    for s, e in spans:
        stems = {stem(w) for w in WORD.findall(sentence[s:e])}
        if stems and not stems <= asked:  # the question already says it: not an answer
            out.append((s, e))
    return out


def find_span(sentence: str, question: str, kind: str | None = None) -> tuple[int, int] | None:
    """Offsets (within ``sentence``) of the part that answers ``question``, or None.

    Among several candidates of the wanted kind, the one nearest to the question's own
    words wins ("1,500" rather than "4,000" for "How many protesters were killed?").
    """
    kind = kind if kind is not None else question_type(question)
    if kind is None:
        return None
    found = _candidates(sentence, kind, question)
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
