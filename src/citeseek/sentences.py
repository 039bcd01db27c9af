"""Where sentences end: passages are cut at sentence ends and answers are made of
sentences. A full stop after an abbreviation ("Dr.", "Jan.", "e.g.") or an initial
ends none; a line break always ends one."""

from __future__ import annotations

import re

from .dates import month_names

_ABBREVIATION_WINDOW = 32  # characters looked at before a full stop
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "no", "vs", "etc", "e.g", "i.e",
    "u.s", "u.k", "u.n", "gen", "col", "lt", "sgt", "rep", "sen", "gov", "inc", "ltd",
    "co", "corp", "fig", "al", "approx",
} | month_names(full=False)
# A sentence ends at . ! ? … (closing quotes/brackets allowed) before whitespace and a
# capital, digit, quote or bullet; a line break always ends one.
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*(?=\s+[\"'“‘(\[•\-–—]?[A-Z0-9À-ÖØ-Þ])|\n")


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
