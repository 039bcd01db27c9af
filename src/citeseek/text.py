"""Small ideas about text that several stages share: what a word is, which words carry
no topic, where sentences end, and how a range of source lines (and pages) is written."""

from __future__ import annotations

import re

from .dates import month_names

WORD = re.compile(r"\w+", re.UNICODE)

# Question words and glue that carry no topic; the keyword index keeps them, queries,
# highlighting and answer scoring drop them.
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did",
     "do", "does", "for", "from", "had", "has", "have", "how", "i", "in", "into", "is", "it",
     "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "such", "than", "that",
     "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "was",
     "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with",
     "would", "you", "your"]
)
# Words that belong to how a question is asked ("how many", "what did X say"), not to
# what it is about.
QUESTION_GLUE = frozenset({"many", "much", "long", "did", "does", "say", "said", "tell",
                           "know"})

_ABBREVIATION_WINDOW = 32  # characters looked at before a full stop
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "no", "vs", "etc", "e.g", "i.e",
    "u.s", "u.k", "u.n", "gen", "col", "lt", "sgt", "rep", "sen", "gov", "inc", "ltd",
    "co", "corp", "fig", "al", "approx",
} | month_names(full=False)
# A sentence ends at . ! ? … (closing quotes/brackets allowed) before whitespace and a
# capital, digit, quote or bullet; a line break always ends one.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*(?=\s+[\"'“‘(\[•\-–—]?[A-Z0-9À-ÖØ-Þ])|\n")


# "[3]", "[1, 2]" or "[1; 4]" in a written answer (with the space before it): the numbered
# passages a sentence cites.
CITATION_MARKER = re.compile(r"\s?\[(\d+(?:\s*[,;]\s*\d+)*)\]")


def cited_numbers(marker: re.Match[str]) -> list[int]:
    """The passage numbers of one ``CITATION_MARKER`` match, in order."""
    return [int(n) for n in re.split(r"\s*[,;]\s*", marker.group(1))]


def topic_words(text: str) -> list[str]:
    """The words of ``text`` that say what it is about, in order, case kept: no
    stopwords and no question glue."""
    return [w for w in WORD.findall(text)
            if w.lower() not in STOPWORDS and w.lower() not in QUESTION_GLUE]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of sentences (and lines), trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        cut = m.end()
        if m.group() != "\n" and _ends_with_abbreviation(text, pos, cut):
            continue
        spans.extend(trim_span(text, pos, cut))
        pos = cut
    spans.extend(trim_span(text, pos, len(text)))
    return spans


def _ends_with_abbreviation(text: str, start: int, end: int) -> bool:
    # Only the tail matters; slicing from ``start`` made a long run of abbreviations
    # ("Dr. A Dr. B ...", one line of initials) quadratic in the sentence length.
    window = max(start, end - _ABBREVIATION_WINDOW)
    word = text[window:end].rstrip("\"'”’)]").rstrip(".").rsplit(None, 1)
    if not word or (window > start and len(word) == 1):
        return False  # nothing there, or a last word too long to be an abbreviation
    last = word[-1].lower().lstrip("(\"'“‘")
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def trim_span(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """``[(start, end)]`` narrowed to leave out whitespace at either end; ``[]`` when
    nothing else is there."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return [(start, end)] if start < end else []


# What a terminal would act on rather than show: C0 controls but tab and line feed, DEL,
# C1 controls (CSI, OSC: colours, titles, clipboard writes), bidirectional overrides
# that reorder what is shown, and lone surrogates no encoder can write.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
                          "\ud800-\udfff]")
# The same inside JSON text, which escapes C0 controls itself.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters, escape sequences and
    bidirectional overrides written as ``\\x1b``-style escapes; tabs and line breaks
    kept."""
    return _UNPRINTABLE.sub(_escape, text)


def printable_json(text: str) -> str:
    """A JSON document safe to print: the characters ``printable`` escapes, as JSON's own
    ``\\u`` escapes (so it still parses to the same values)."""
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def line_range(first: int, last: int, dash: str = "-") -> str:
    """"line 4" or "lines 4-7" (``dash`` joins the two: "–" in HTML)."""
    return f"line {first}" if first == last else f"lines {first}{dash}{last}"


def page_range(first: int, last: int, dash: str = "-") -> str:
    """"p. 4" or "pp. 4-5"."""
    return f"p. {first}" if first == last else f"pp. {first}{dash}{last}"


def place(page_start: int | None, page_end: int | None, line_start: int, line_end: int,
          dash: str = "-") -> str:
    """Where a citation is: "lines 4-7", or with pages "p. 4, lines 4-7" (lines counted
    within the page) and "pp. 4-5, lines 30-2"."""
    lines = line_range(line_start, line_end, dash)
    if page_start is None or page_end is None:
        return lines
    return f"{page_range(page_start, page_end, dash)}, {lines}"
