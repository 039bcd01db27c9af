"""PDF bytes -> article text with every character's page and line, read with pypdfium2.

Pages are read one at a time and let go of once their text is taken; running headers
and footers are recognised by comparing each page with the pages around it (``WINDOW``
either side), so memory holds a window of pages, not the whole file. Each page's lines
come in reading order (``pdf_layout``); the text is made of paragraphs, one a line,
with words hyphenated at a line's end joined again ("infor-" + "mation" is stored as
"information", its two parts on their two lines). Line numbers count a page's lines in
reading order, headers and footers included, so "p. 4, line 12" is the twelfth line a
reader meets on page 4.

A file with no text layer (scanned), one that needs a password and one PDFium cannot
parse are ``Unreadable``, each with its reason. Title and date come from the file's
metadata where they are plausible, else from the first page: its largest heading, a
date written on it.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..dates import find_date, pdf_date
from .decoding import Unreadable
from .page_labels import page_labels
from .pdf_layout import Char, Line, page_lines

_TILTED = 0.1  # radians: a character turned further is not running text
WINDOW = 4  # pages either side compared when looking for running headers and footers
BAND = 0.1  # the top and bottom tenth of a page is where headers and footers are
_PAGE_NUMBER = re.compile(r"^\W*(page\s+)?([0-9]+|[ivxlcdm]+)(\s*(of|/)\s*[0-9]+)?\W*$", re.I)
# Ligatures spelled out; soft hyphens (PDFium gives \x02 for them) and hyphens as "-".
_SPELLED = {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st",
            "\x02": "-", "\xad": "-", "‐": "-"}
_BROKEN = re.compile(r"(://|\S@|\S/)$")  # an address cut at the line's end
_BAD_TITLE = re.compile(r"^(untitled|microsoft (word|powerpoint)|document\d*$|slide \d+)|"
                        r"\.(docx?|pdf|tex|dvi|indd|rtf|odt|pptx?|qxd)$", re.I)


@dataclass
class PdfText:
    """A PDF's text; from ``offsets[i]`` on, it is on page ``pages[i]`` (1-based), line
    ``lines[i]`` of that page. ``labels[p - 1]`` is the label printed on page ``p``
    (``page_labels``), None where the PDF defines no labels."""

    text: str
    offsets: list[int]
    pages: list[int]
    lines: list[int]
    title: str | None
    date: str | None
    labels: list[str] | None = None


@dataclass
class _Page:
    number: int
    height: float
    lines: list[Line]


def read_pdf(data: bytes) -> PdfText:
    """Read a PDF's text (see the module docstring); ``Unreadable`` says why not."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise Unreadable("encrypted PDF: it needs a password") from None
        raise Unreadable(f"damaged PDF: PDFium cannot read it ({message})") from None
    try:
        meta = pdf.get_metadata_dict(skip_empty=True)
        labels = page_labels(pdf)
        builder = _Builder()
        first: _Page | None = None
        for page in _without_running_lines(_pages(pdf, len(pdf))):
            first = first or page
            builder.add_page(page)
    except pdfium.PdfiumError as exc:
        raise Unreadable(f"damaged PDF: PDFium cannot read a page ({exc})") from None
    finally:
        pdf.close()
    if not builder.length:
        raise Unreadable("no text layer (a scanned PDF?): run OCR on it first")
    return PdfText("".join(builder.parts), builder.offsets, builder.pages, builder.lines,
                   _title(meta.get("Title"), first), _date(meta, first), labels)


def _pages(pdf: Any, count: int) -> Iterator[_Page]:
    """Each page's lines, the page closed before the next one is opened."""
    import ctypes

    import pypdfium2.raw as raw

    x, y = ctypes.c_double(), ctypes.c_double()
    for number in range(count):
        page = pdf[number]
        textpage = page.get_textpage()
        try:
            chars = []
            for i in range(textpage.count_chars()):
                angle = raw.FPDFText_GetCharAngle(textpage, i)
                if _TILTED < angle < 2 * math.pi - _TILTED:
                    continue  # rotated text: a margin stamp, an axis label
                code = raw.FPDFText_GetUnicode(textpage, i)
                left, _, right, _ = textpage.get_charbox(i)
                _, bottom, _, top = textpage.get_charbox(i, loose=True)
                raw.FPDFText_GetCharOrigin(textpage, i, ctypes.byref(x), ctypes.byref(y))
                chars.append(Char(chr(code) if code else " ", left, right, y.value, bottom,
                                  top))
            yield _Page(number + 1, page.get_height(), page_lines(chars))
        finally:
            textpage.close()
            page.close()


def _band_key(page: _Page, line: Line) -> str | None:
    """How a line at a page's top or bottom is compared across pages (digits alike, so
    "Page 3" matches "Page 4"); None for a line in between. At the top or bottom means
    in the outer tenth of the page, or in the first or last row of its text."""
    middle = (line.top + line.bottom) / 2
    if page.lines:
        highest = max(other.top for other in page.lines)
        lowest = min(other.bottom for other in page.lines)
    if line.top >= highest - line.size or middle >= (1 - BAND) * page.height:
        where = "top"
    elif line.bottom <= lowest + line.size or middle <= BAND * page.height:
        where = "bottom"
    else:
        return None
    return where + ":" + re.sub(r"\d+", "#", " ".join(line.text.lower().split()))


def _without_running_lines(pages: Iterator[_Page]) -> Iterator[_Page]:
    """Pages with their running headers, footers and page numbers taken out: a line in
    the top or bottom band that recurs on other pages near it, or that is a page number."""
    window: deque[_Page] = deque()
    keys: deque[set[str]] = deque()
    counts: Counter[str] = Counter()
    ahead = iter(pages)
    done = False
    position = 0  # index in ``window`` of the next page to hand out
    while True:
        while not done and len(window) - position <= WINDOW:
            page = next(ahead, None)
            if page is None:
                done = True
                break
            found = {k for k in (_band_key(page, line) for line in page.lines) if k}
            window.append(page)
            keys.append(found)
            counts.update(found)
        if position >= len(window):
            return
        page = window[position]
        others = len(window) - 1
        needed = 1 if others <= 3 else 2
        numbered = _numbered_rows(page)
        page.lines = [line for line in page.lines
                      if not _running(page, line, counts, needed, numbered)]
        yield page
        position += 1
        if position > WINDOW:  # the oldest page leaves the window
            window.popleft()
            counts.subtract(keys.popleft())
            position -= 1


def _running(page: _Page, line: Line, counts: Counter[str], needed: int,
             numbered: list[tuple[float, float]]) -> bool:
    key = _band_key(page, line)
    if key is None:
        return False
    beside_number = any(line.bottom < top and bottom < line.top for bottom, top in numbered)
    return beside_number or counts[key] - 1 >= needed


def _numbered_rows(page: _Page) -> list[tuple[float, float]]:
    """The heights (bottom, top) of the page's page numbers: what stands in the same row
    at the page's top or bottom runs with them ("4    Z. Shen et al.")."""
    return [(line.bottom, line.top) for line in page.lines
            if _PAGE_NUMBER.match(line.text) and _band_key(page, line)]


class _Builder:
    """The document's text, paragraph by paragraph, and where it changes page or line
    (runs, not a value per character: memory grows with the text, not five times it)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.offsets: list[int] = []
        self.pages: list[int] = []
        self.lines: list[int] = []
        self.last: Line | None = None

    def _put(self, text: str, page: int, line: int) -> None:
        if not self.offsets or (self.pages[-1], self.lines[-1]) != (page, line):
            self.offsets.append(self.length)
            self.pages.append(page)
            self.lines.append(line)
        self.parts.append(text)
        self.length += len(text)

    def add_page(self, page: _Page) -> None:
        for line in page.lines:
            text = "".join(_SPELLED.get(c.text, c.text) for c in line.chars
                           if c.text.isprintable() or c.text in _SPELLED)
            if not text.strip():
                continue
            if self.last is not None:
                self._join(self.last, line, text)
            self._put(text, page.number, line.number)
            self.last = line

    def _join(self, prev: Line, line: Line, text: str) -> None:
        """What goes between two lines: nothing after a hyphen that splits a word, a
        space inside a paragraph, a line break between paragraphs."""
        tail = self.parts[-1]  # the previous line's text
        end, before = tail[-1:], tail[-2:-1]
        if end == "-" and before.isalpha() and text[:1].islower():
            # the hyphen goes; the word's two halves keep their own lines
            self.parts[-1] = tail[:-1]
            self.length -= 1
            return
        if (end in "-–" and before.isalnum() and text[:1].isdigit()) or _BROKEN.search(tail):
            return  # a number (2018–23–51), an address or a URL broken at a line's end
        self._put("\n" if _new_paragraph(prev, line, end, text) else " ", self.pages[-1],
                  self.lines[-1])


def _new_paragraph(prev: Line, line: Line, end: str, text: str) -> bool:
    """A paragraph ends at another block, unless a sentence runs on into it (a column
    or page turned mid-sentence); within a block, after a sentence's end on a short
    line or before an indented one."""
    if abs(prev.size - line.size) > 0.08 * max(prev.size, line.size):
        return True  # a heading and its text
    if prev.block != line.block:
        return end in ".!?:;\"”’)" or not (text[:1].islower() or text[:1].isdigit()
                                            or text[:1] in "([,;")
    em = max(prev.size, 1.0)
    short = prev.x1 < prev.block_x1 - 2 * em
    indented = line.x0 > line.block_x0 + em
    return end in ".!?:\"”’)" and (short or indented)


def _title(meta_title: str | None, first: _Page | None) -> str | None:
    """The metadata title where plausible, else the first page's largest heading."""
    if meta_title:
        title = " ".join(meta_title.split())
        if 3 <= len(title) <= 300 and sum(ch.isalpha() for ch in title) >= 3 and \
                not _BAD_TITLE.search(title):
            return title
    if first is None or not first.lines:
        return None
    head = first.lines[:25]
    body = statistics.median(line.size for line in first.lines)
    big = max(head, key=lambda line: line.size)
    if big.size < 1.15 * body:
        big = next((line for line in head if sum(ch.isalpha() for ch in line.text) >= 3),
                   head[0])
        return " ".join(big.text.split())[:300]
    parts = [line.text for line in head if line.block == big.block and
             abs(line.size - big.size) < 0.05 * big.size]
    return " ".join(" ".join(parts).split())[:300] or None


def _date(meta: dict[str, str], first: _Page | None) -> str | None:
    """The metadata creation date where plausible, else a date on the first page."""
    stamped = pdf_date(meta.get("CreationDate", ""))
    if stamped:
        return stamped
    for line in first.lines[:40] if first else []:
        if written := find_date(line.text):
            return written
    return None
