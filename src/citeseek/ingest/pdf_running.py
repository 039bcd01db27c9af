"""A PDF's running headers, footers and page numbers: the lines of each page that are
the page's furniture rather than its text, taken out as the pages stream past.

A line is running when it stands at the page's top or bottom (in the outer ``BAND`` of
the page, or in the first or last row of its text when a body of ``BODY_LINES`` lines or
more lies between them)
and either recurs, digits aside ("Page 3" is "Page 4"), on the pages around it
(``WINDOW`` either side), or is a page number, or stands in a page number's row
("4    Z. Shen et al."). Memory holds a window of pages.

Furniture is never a page's text:

- a text that stands more than ``MAX_REPEATS`` times at one page's top or bottom (a
  table's cells, a chart's ticks) is not a header, nor is a number among many;
- a page whose every line would go (a timetable or slides, pages of a line or two that
  recur digits aside) keeps them all but its page numbers.

Work per page grows with its lines (each is keyed once, and rows are found by
bisection), never with their square.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from .pdf_layout import Line

WINDOW = 4  # pages either side compared when looking for running headers and footers
BAND = 0.1  # the top and bottom tenth of a page is where headers and footers are
MAX_REPEATS = 2  # a header or footer stands at most this often on one page
BODY_LINES = 3  # lines between a page's first and last rows that make them its top and bottom
_PAGE_NUMBER = re.compile(r"^\W*(page\s+)?([0-9]+|[ivxlcdm]+)(\s*(of|/)\s*[0-9]+)?\W*$", re.I)


class Page(Protocol):
    """What the rule reads of a page: its height and its lines (upright lines in page
    coordinates); ``lines`` is replaced by the lines that are the page's text."""

    height: float
    lines: list[Line]


P = TypeVar("P", bound=Page)


@dataclass
class _Marks:
    """What the rule notes of a page as it enters the window: each line's key (how it
    is compared across pages when it stands at the top or bottom, else None), which
    lines are its page numbers, and whether it has text between its top and bottom."""

    keys: list[str | None]
    numbers: list[bool]
    plain: bool

    def found(self) -> set[str]:
        return {key for key in self.keys if key}


def _marks(page: Page) -> _Marks:
    upright = [line for line in page.lines if not line.turned]
    if not upright:
        return _Marks([None] * len(page.lines), [False] * len(page.lines), bool(page.lines))
    highest = max(line.top for line in upright)
    lowest = min(line.bottom for line in upright)
    # the first and last rows of text count as top and bottom only around a body of text
    rows = sum(lowest + line.size < line.bottom and line.top < highest - line.size
               for line in upright) >= BODY_LINES
    keys: list[str | None] = []
    for line in page.lines:
        middle = (line.top + line.bottom) / 2
        if line.turned:
            where = None
        elif middle >= (1 - BAND) * page.height or (rows and line.top >= highest - line.size):
            where = "top"
        elif middle <= BAND * page.height or (rows and line.bottom <= lowest + line.size):
            where = "bottom"
        else:
            where = None
        keys.append(where and where + ":" + re.sub(r"\d+", "#", " ".join(line.text.lower().split())))
    numbers = _page_numbers(page.lines, keys)
    repeats = Counter(key for key in keys if key)
    keys = [key if key and repeats[key] <= MAX_REPEATS else None for key in keys]
    return _Marks(keys, numbers, any(key is None and not n for key, n in
                                     zip(keys, numbers, strict=True)))


def _page_numbers(lines: list[Line], keys: list[str | None]) -> list[bool]:
    """Which lines are page numbers: at the top (and at the bottom), the outermost line
    that is a number, and any number in its row; more than ``MAX_REPEATS`` numbers in
    that row are a table's or an axis's, and a number further in (a footnote's mark) is
    the page's text."""
    numbers = [False] * len(lines)
    for where, sign in (("top:", 1), ("bottom:", -1)):
        found = [i for i, key in enumerate(keys) if key and key.startswith(where)
                 and _PAGE_NUMBER.match(lines[i].text)]
        if not found:
            continue
        edge = lines[max(found, key=lambda i: sign * (lines[i].top if sign > 0
                                                         else lines[i].bottom))]
        row = [i for i in found if lines[i].bottom < edge.top and edge.bottom < lines[i].top]
        if len(row) <= MAX_REPEATS:
            for i in row:
                numbers[i] = True
    return numbers


def without_running_lines(pages: Iterator[P]) -> Iterator[P]:
    """``pages`` with their running headers, footers and page numbers taken out."""
    window: deque[tuple[P, _Marks]] = deque()
    counts: Counter[str] = Counter()  # pages of the window each key stands on
    framed: Counter[str] = Counter()  # ... of them with other text too
    ahead = iter(pages)
    done = False
    position = 0  # index in ``window`` of the next page to hand out
    while True:
        while not done and len(window) - position <= WINDOW:
            page = next(ahead, None)
            if page is None:
                done = True
                break
            marks = _marks(page)
            window.append((page, marks))
            counts.update(marks.found())
            if marks.plain:
                framed.update(marks.found())
        if position >= len(window):
            return
        page, marks = window[position]
        needed = 1 if len(window) - 1 <= 3 else 2
        page.lines = _text_lines(page.lines, marks, counts, framed, needed)
        yield page
        position += 1
        if position > WINDOW:  # the oldest page leaves the window
            _, old = window.popleft()
            counts.subtract(old.found())
            if old.plain:
                framed.subtract(old.found())
            position -= 1


def _text_lines(lines: list[Line], marks: _Marks, counts: Counter[str],
                framed: Counter[str], needed: int) -> list[Line]:
    """The lines of a page that are its text: the running ones out, unless they are all
    its lines and stand on no page with other text (then only its page numbers go)."""
    beside = _Rows([(line.bottom, line.top)
                    for line, number in zip(lines, marks.numbers, strict=True) if number])
    running = [number or (key is not None and (beside.crosses(line) or
                                               counts[key] - 1 >= needed))
               for line, key, number in zip(lines, marks.keys, marks.numbers, strict=True)]
    if all(running) and not any(framed[key] for key in marks.found()):
        running = marks.numbers
    return [line for line, out in zip(lines, running, strict=True) if not out]
class _Rows:
    """Heights (bottom, top) of a page's page numbers, sorted, to ask of a line in
    logarithmic time whether it stands in the row of one of them."""

    def __init__(self, spans: list[tuple[float, float]]) -> None:
        spans.sort()
        self.bottoms = [bottom for bottom, _ in spans]
        self.highest = list(itertools.accumulate((top for _, top in spans), max))

    def crosses(self, line: Line) -> bool:
        """True when a page number's height overlaps the line's."""
        below = bisect.bisect_left(self.bottoms, line.top)  # numbers whose bottom is lower
        return below > 0 and self.highest[below - 1] > line.bottom
