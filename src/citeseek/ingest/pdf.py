"""PDF bytes -> article text with every character's page and line, read with pypdfium2.

Pages are read one at a time and let go of once their text is taken; running headers
and footers are recognised by comparing each page with the pages around it
(``pdf_running``), so memory holds a window of pages, not the whole file. Each page's
lines come in reading order (``pdf_layout``), text turned a quarter from upright (a
sideways table) after the upright text, in its own order; a page of more than
``MAX_PAGE_CHARS`` characters is left out and reported (``PdfText.notes``). The text is
made of paragraphs, one a line,
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..dates import find_date, pdf_date
from .decoding import Unreadable
from .page_labels import page_labels
from .pdf_layout import Char, Line, page_lines, placed
from .pdf_running import without_running_lines

_TILTED = 0.1  # radians from a quarter turn: a character turned so is not running text
MAX_PAGE_CHARS = 1_000_000  # a page of more is left out (a dense page of text has 10,000)
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
    notes: list[str] = field(default_factory=list)  # pages left out, and why


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
        notes: list[str] = []
        for page in without_running_lines(_pages(pdf, len(pdf), notes)):
            first = first or page
            builder.add_page(page)
    except pdfium.PdfiumError as exc:
        raise Unreadable(f"damaged PDF: PDFium cannot read a page ({exc})") from None
    finally:
        pdf.close()
    if not builder.length:
        raise Unreadable("; ".join(notes) if notes else
                         "no text layer (a scanned PDF?): run OCR on it first")
    return PdfText("".join(builder.parts), builder.offsets, builder.pages, builder.lines,
                   _title(meta.get("Title"), first), _date(meta, first), labels, notes)


def _pages(pdf: Any, count: int, notes: list[str]) -> Iterator[_Page]:
    """Each page's lines, the page closed before the next one is opened; a page left
    out is a line in ``notes``."""
    for number in range(count):
        page = pdf[number]
        textpage = page.get_textpage()
        try:
            total = textpage.count_chars()
            if total > MAX_PAGE_CHARS:
                notes.append(f"p. {number + 1} left out: {total:,} characters, more than "
                             f"{MAX_PAGE_CHARS:,} (a page of text has about 10,000)")
                continue
            chars: dict[int, list[Char]] = {}  # quarter turns from upright -> characters
            for quarter, char in _chars(textpage, total):
                chars.setdefault(quarter, []).append(char)
            upright = chars.pop(0, [])
            yield _Page(number + 1, page.get_height(), page_lines(upright, chars))
        finally:
            textpage.close()
            page.close()


def _chars(textpage: Any, count: int) -> Iterator[tuple[int, Char]]:
    """(quarter turns counterclockwise from upright, character placed as if its text
    stood upright) for each character of a page; text at other angles (a watermark
    across the page) is not running text and is passed over. PDFium is called directly,
    into buffers made once: a page may hold hundreds of thousands of characters."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    x, y = ctypes.c_double(), ctypes.c_double()
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    loose = raw.FS_RECTF()
    for i in range(count):
        angle = raw.FPDFText_GetCharAngle(textpage, i)  # clockwise, from 0 to 2 pi
        turns = round(angle / (math.pi / 2))
        if abs(angle - turns * math.pi / 2) > _TILTED:
            continue
        code = raw.FPDFText_GetUnicode(textpage, i)
        if not (raw.FPDFText_GetCharBox(textpage, i, left, right, bottom, top) and
                raw.FPDFText_GetLooseCharBox(textpage, i, loose) and
                raw.FPDFText_GetCharOrigin(textpage, i, x, y)):
            raise pdfium.PdfiumError(f"cannot place character {i}")
        quarter = -turns % 4
        yield quarter, placed(chr(code) if code else " ", quarter,
                              (left.value, bottom.value, right.value, top.value),
                              (loose.left, loose.bottom, loose.right, loose.top),
                              (x.value, y.value))


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
