"""The units an answer is made of: a passage's sentences, read as a reader would.

Sentence ends alone cut too finely for some answers and not at all for others, so:

- a sentence that opens a quotation runs on to the sentence that closes it (the answer
  is often in the quotation's second sentence);
- a sentence or line that ends in ":" runs on through the list it introduces (lines
  that start with a bullet, a number or a letter), or into the next sentence;
- a line that breaks off mid-sentence (no closing punctuation, the next line goes on in
  lower case: a column or page break in a PDF) runs on to the next line;
- a quotation its speaker is only a pronoun for ("..." he said; He added ...) is read
  with the sentence before it, which names the speaker;
- a paper's line of authors with footnote marks ("Zejiang Shen1, Ruochen Zhang2, ...")
  runs on through the lines of affiliations the marks point to ("1 Allen Institute for
  AI ... 2 Brown University ..."), which say where each author is;
- three or more short lines without punctuation in a row (a table's rows, a list of
  names) are read as one unit;
- a heading, a short line of its own without closing punctuation (a title, "2.1
  Related Work", the PDF's "Rebuilding the harbour wall at Port Ellen", a line in
  capitals such as "6 STUDY 2: FIELD DEPLOYMENT"), is never a unit: it names a topic,
  it does not state anything.

Each unit keeps exact offsets into the passage, so ``text[start:end]`` is verbatim.
"""

from __future__ import annotations

import re

from ..sentences import sentence_spans
from ..words import WORD

MAX_JOINED = 4  # sentences or lines one unit may take in
MAX_UNIT_CHARS = 700  # nor more characters than this
HEADING_WORDS = 15  # a line of its own up to this long, unpunctuated, is a heading
TABLE_LINE_WORDS = 8  # the short lines a table or a list of names is made of
_CLOSED = re.compile(r"[.!?…:;\"”’)\]]$")
_ITEM = re.compile(r"^(?:[•▪●◦‣∙·\-–—*]|\(?\d{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}\))\s")
_SECTION_NUMBER = re.compile(r"^(?:chapter\s+)?\d+(?:\.\d+)*\.?\s", re.I)
# An author's surname with a footnote mark ("Zhang2": surname, mark), and a line that
# starts with a mark.
MARKED_AUTHOR = re.compile(r"\b([A-Z][a-z]+)(\d{1,2})\b")
_MARK_LINE = re.compile(r"^(?:\d{1,2}|[*†‡§])\s*[A-Z]")
_SAID = r"(?:said|says|added|adds|told|tells|noted|notes|stressed|argued|explained|continued|warned|insisted|wrote)"
_PRONOUN_SPEAKER = re.compile(rf"[”\"’],?\s+(?:he|she|they)\s+{_SAID}\b|^(?:He|She|They)\s+{_SAID}\b")


def _opens_quote(text: str) -> bool:
    """An unclosed quotation: more “ than ”, or an odd number of straight quotes."""
    return text.count("“") > text.count("”") or text.count('"') % 2 == 1


def _is_line(text: str, start: int, end: int) -> bool:
    """``text[start:end]`` is a whole line of ``text``."""
    before = text[:start].rstrip(" \t")
    after = text[end:].lstrip(" \t")
    return (not before or before.endswith("\n")) and (not after or after.startswith("\n"))


def is_heading(text: str, start: int, end: int) -> bool:
    """A short line of its own without closing punctuation and with no figures but a
    leading section number (a title or a section heading), or one in capitals whatever
    its figures ("6 STUDY 2: FIELD DEPLOYMENT")."""
    piece = text[start:end]
    if not _is_line(text, start, end) or _CLOSED.search(piece) or _ITEM.match(piece):
        return False
    if piece[:1].islower() or len(WORD.findall(piece)) > HEADING_WORDS:
        return False
    letters = [ch for ch in piece if ch.isalpha()]
    if len(letters) >= 4 and all(ch.isupper() for ch in letters):
        return True
    return not any(ch.isdigit() for ch in _SECTION_NUMBER.sub("", piece))


def _joins(text: str, cur: tuple[int, int], nxt: tuple[int, int], first: tuple[int, int],
           listing: bool) -> bool:
    """Whether the unit ``first``..``cur`` runs on into ``nxt``."""
    done, after = text[first[0]:cur[1]], text[nxt[0]:nxt[1]]
    if nxt[1] - first[0] > MAX_UNIT_CHARS:
        return False
    if _opens_quote(done):
        return True
    if (len(MARKED_AUTHOR.findall(text[first[0]:first[1]])) >= 2 and _MARK_LINE.match(after)
            and "\n" in text[cur[1]:nxt[0]]):
        return True  # authors, then their affiliations
    if listing or done.rstrip().endswith(":"):
        return bool(_ITEM.match(after)) or (not listing and not is_heading(text, *nxt))
    gap = text[cur[1]:nxt[0]]
    return "\n" in gap and not _CLOSED.search(done) and after[:1].islower()


def _short_line(text: str, span: tuple[int, int]) -> bool:
    piece = text[span[0]:span[1]]
    return (_is_line(text, *span) and not _CLOSED.search(piece)
            and 0 < len(WORD.findall(piece)) <= TABLE_LINE_WORDS)


def answer_units(text: str) -> list[tuple[int, int]]:
    """The units of ``text`` (offsets into it), in order; headings left out."""
    spans = sentence_spans(text)
    units: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        j = i
        while (j + 1 < len(spans) and _short_line(text, spans[j + 1])
               and _short_line(text, spans[i])
               and spans[j + 1][1] - spans[i][0] <= MAX_UNIT_CHARS):
            j += 1
        if j - i >= 2:  # a table's rows or a list of names, read together
            units.append((spans[i][0], spans[j][1]))
            i = j + 1
            continue
        j = i
        listing = False
        while (j + 1 < len(spans) and j - i < MAX_JOINED
               and _joins(text, spans[j], spans[j + 1], spans[i], listing)):
            listing = listing or text[spans[i][0]:spans[j][1]].rstrip().endswith(":")
            j += 1
        if j == i and is_heading(text, *spans[i]):
            i += 1
            continue
        units.append((spans[i][0], spans[j][1]))
        i = j + 1
    return _with_speakers(text, units)


def _with_speakers(text: str, units: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A unit whose speaker is a pronoun joined to the unit before it, when only a
    space or a line break lies between them."""
    out: list[tuple[int, int]] = []
    for start, end in units:
        if out and _PRONOUN_SPEAKER.search(text[start:end]) and end - out[-1][0] <= \
                MAX_UNIT_CHARS and "\n\n" not in text[out[-1][1]:start] and \
                not text[out[-1][1]:start].strip():
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out
