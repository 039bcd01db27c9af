"""One PDF page's characters -> its text lines in reading order.

Characters come with their boxes (PDF points, origin bottom left). Lines are runs of
characters on one baseline, cut where a gap is wider than a column's gutter could be
narrow; lines that follow each other down one column form blocks; blocks are put in
reading order by Breuel's rules (T. M. Breuel, "High Performance Document Layout
Analysis", 2003): a block comes before another below it that it overlaps horizontally,
and before one entirely to its right unless a third block between them spans both (a
full-width heading or figure that separates the upper columns from the lower ones). Two-
and three-column pages read down each column in turn.

Those rules compare every pair of blocks, so they order at most ``EXACT_BLOCKS`` blocks
at a time (no page of running text comes near). A page of more (a map, a floor plan, a
scatter chart of many separate labels) is first cut where a gap runs through it from
edge to edge, into columns or else into rows (recursive X-Y cuts, G. Nagy and S. Seth,
1984), until each part is small enough; a part that no gap cuts is read row by row,
top to bottom. Work and memory grow with the page's text, not with its square.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import numpy as np

GAP_EMS = 1.5  # a horizontal gap this many font sizes wide splits a line (a gutter)
BLOCK_GAP_EMS = 1.0  # a vertical gap this many font sizes wide between lines ends a block
EXACT_BLOCKS = 200  # blocks ordered by comparing every pair (real pages have under 100)
MAX_CUTS = 64  # nested cuts of a crowded page before its parts are read row by row
MIN_TURNED_LINES = 3  # fewer turned lines apart are a margin stamp or an axis title
APART_EMS = 3.0  # turned text this many font sizes from other turned text stands apart


@dataclass(slots=True)
class Char:
    """A character: its text, its glyph's left and right edges, its baseline, and the
    bottom and top of its font's box (a comma's glyph sits low, an apostrophe's high;
    both share their line's font box and baseline)."""

    text: str
    x0: float
    x1: float
    base: float
    y0: float
    y1: float

    @property
    def size(self) -> float:
        """The font box's height, close to the font size in points."""
        return self.y1 - self.y0


@dataclass(slots=True)
class Line:
    """A run of characters on one baseline, with its box and its place on the page
    (``turned``: in quarter turns, how far the text is turned from upright; its box is
    then measured as if the page were turned back with it)."""

    chars: list[Char]
    number: int = 0  # 1-based line of the page in reading order, set by ``page_lines``
    block: int = 0  # which block of the page (in reading order) it belongs to
    block_x0: float = 0.0  # that block's left and right edges
    block_x1: float = 0.0
    turned: int = 0
    x0: float = field(init=False)
    x1: float = field(init=False)
    top: float = field(init=False)
    bottom: float = field(init=False)
    size: float = field(init=False)

    def __post_init__(self) -> None:
        ink = [c for c in self.chars if not c.text.isspace()] or self.chars
        self.x0 = min(c.x0 for c in ink)
        self.x1 = max(c.x1 for c in ink)
        self.top = max(c.y1 for c in ink)
        self.bottom = min(c.y0 for c in ink)
        self.size = statistics.median(c.size for c in ink)

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chars)


@dataclass
class Block:
    """Lines that follow each other down one column, and their box."""

    lines: list[Line]

    def __post_init__(self) -> None:
        self.x0 = min(line.x0 for line in self.lines)
        self.x1 = max(line.x1 for line in self.lines)
        self.top = max(line.top for line in self.lines)
        self.bottom = min(line.bottom for line in self.lines)


Box = tuple[float, float, float, float]  # left, bottom, right, top, in PDF points


def placed(text: str, quarter: int, box: Box, loose: Box, origin: tuple[float, float]) -> Char:
    """A character as PDFium gives it (its glyph's ``box``, its font's ``loose`` box and
    its baseline's ``origin``, all on the page), placed as if the page were turned back
    by the ``quarter`` turns (counterclockwise) its text is turned, so that it stands
    upright: a sideways table's lines then run left to right like any others."""
    left, bottom, right, top = box
    loose_left, loose_bottom, loose_right, loose_top = loose
    x, y = origin
    if quarter == 1:  # reads upwards
        return Char(text, bottom, top, -x, -loose_right, -loose_left)
    if quarter == 2:  # upside down
        return Char(text, -right, -left, -y, -loose_top, -loose_bottom)
    if quarter == 3:  # reads downwards
        return Char(text, -top, -bottom, x, loose_left, loose_right)
    return Char(text, left, right, y, loose_bottom, loose_top)


def lines_of(chars: list[Char]) -> list[Line]:
    """Characters in content order -> lines: a new line where the baseline moves by
    more than half a character's height (a superscript stays), where the text goes back
    left, or across a gap wider than ``GAP_EMS``. Spaces are kept inside lines, dropped
    at their ends."""
    lines: list[Line] = []
    current: list[Char] = []
    last: Char | None = None
    for ch in chars:
        if ch.text in "\r\n":
            continue  # PDFium's own breaks (it breaks at superscripts): geometry decides
        if ch.text.isspace():
            if current:
                current.append(ch)
            continue
        if last is not None:
            height = max(last.size, ch.size, 1.0)
            moved = abs(ch.base - last.base) > height / 2
            gap = ch.x0 - last.x1
            if moved or gap < -height or gap > GAP_EMS * max(ch.size, last.size, 1.0):
                _close(lines, current)
                current = []
        current.append(ch)
        last = ch
    _close(lines, current)
    return lines


def _close(lines: list[Line], chars: list[Char]) -> None:
    while chars and chars[-1].text.isspace():
        chars.pop()
    if chars:
        lines.append(Line(chars))


def blocks_of(lines: list[Line]) -> list[Block]:
    """Lines in content order -> blocks: a line joins the block before it when it is
    just below that block's last line, overlaps it horizontally and has its size."""
    groups: list[list[Line]] = []
    for line in lines:
        if groups:
            prev = groups[-1][-1]
            size = max(prev.size, line.size, 1.0)
            below = -0.5 * size <= prev.bottom - line.top <= BLOCK_GAP_EMS * size
            overlap = min(prev.x1, line.x1) - max(prev.x0, line.x0)
            same_size = abs(prev.size - line.size) <= 0.15 * size
            if below and overlap > 0 and same_size:
                groups[-1].append(line)
                continue
        groups.append([line])
    return [Block(group) for group in groups]


def order(blocks: list[Block]) -> list[Block]:
    """Blocks in reading order (see the module docstring)."""
    return _cut(blocks, 0)


def _cut(blocks: list[Block], depth: int) -> list[Block]:
    """``blocks`` ordered by Breuel's rules when they are few; else cut into columns
    (or rows) by the gaps that run through them, each part ordered in turn."""
    if len(blocks) <= EXACT_BLOCKS:
        return _pairwise(blocks)
    if depth < MAX_CUTS:
        for split in (_columns, _rows):
            parts = split(blocks)
            if len(parts) > 1:
                return [block for part in parts for block in _cut(part, depth + 1)]
    return sorted(blocks, key=lambda b: (-b.top, b.x0))


def _apart(blocks: list[Block], gap: float, depth: int = 0) -> list[list[Block]]:
    """``blocks`` in groups that stand apart: cut, again and again, where a gap wider
    than ``gap`` runs through them from edge to edge."""
    if depth < MAX_CUTS:
        for split in (_columns, _rows):
            parts = split(blocks, gap)
            if len(parts) > 1:
                return [group for part in parts for group in _apart(part, gap, depth + 1)]
    return [blocks]


def _columns(blocks: list[Block], gap: float = 0.0) -> list[list[Block]]:
    """``blocks`` split, left to right, at every vertical gap wider than ``gap`` that
    no block crosses."""
    parts: list[list[Block]] = []
    right = float("-inf")
    for block in sorted(blocks, key=lambda b: b.x0):
        if block.x0 - gap >= right:
            parts.append([])
        parts[-1].append(block)
        right = max(right, block.x1)
    return parts


def _rows(blocks: list[Block], gap: float = 0.0) -> list[list[Block]]:
    """``blocks`` split, top to bottom, at every horizontal gap wider than ``gap`` that
    no block crosses."""
    parts: list[list[Block]] = []
    low = float("inf")
    for block in sorted(blocks, key=lambda b: -b.top):
        if block.top + gap <= low:
            parts.append([])
        parts[-1].append(block)
        low = min(low, block.bottom)
    return parts


def _pairwise(blocks: list[Block]) -> list[Block]:
    """Breuel's order, every pair of blocks compared; where the rules leave a choice, or
    would go round in a circle, the highest block comes first."""
    n = len(blocks)
    x0 = np.array([b.x0 for b in blocks])
    x1 = np.array([b.x1 for b in blocks])
    center = np.array([(b.top + b.bottom) / 2 for b in blocks])
    overlaps = np.minimum.outer(x1, x1) > np.maximum.outer(x0, x0)
    np.fill_diagonal(overlaps, False)
    above = center[:, None] > center[None, :]
    after = overlaps & above  # rule 1: over the other, in the same column
    left_of = x1[:, None] <= x0[None, :]
    for i in np.flatnonzero(left_of.any(axis=1)):
        js = np.flatnonzero(left_of[i])
        ks = np.flatnonzero(overlaps[i])  # blocks that could separate i from a j
        if len(ks):
            low = np.minimum(center[i], center[js])
            high = np.maximum(center[i], center[js])
            between = (center[ks][:, None] > low) & (center[ks][:, None] < high)
            separated = (between & overlaps[np.ix_(ks, js)]).any(axis=0)
            js = js[~separated]
        after[i, js] = True  # rule 2: left of the other, nothing spanning between
    after_lists = [np.flatnonzero(row).tolist() for row in after]
    waiting = after.sum(axis=0).tolist()
    done: list[int] = []
    left = set(range(n))
    while left:
        ready = [i for i in left if waiting[i] == 0] or list(left)
        pick = max(ready, key=lambda i: (blocks[i].top, -blocks[i].x0))
        left.discard(pick)
        done.append(pick)
        for j in after_lists[pick]:
            waiting[j] -= 1
    return [blocks[i] for i in done]


def page_lines(chars: list[Char], turned: dict[int, list[Char]] | None = None) -> list[Line]:
    """A page's lines in reading order, numbered from 1: its upright ``chars``, then the
    text of each quarter turn in ``turned`` (characters ``placed`` upright), each group
    of it that stands apart in its own reading order. A group of fewer than
    ``MIN_TURNED_LINES`` lines (a margin stamp, an axis title) is left out."""
    blocks = order(blocks_of(lines_of(chars)))
    for quarter, group in sorted((turned or {}).items()):
        lines = lines_of(group)
        for line in lines:
            line.turned = quarter
        em = statistics.median(line.size for line in lines) if lines else 0.0
        for part in _apart(blocks_of(lines), APART_EMS * em):
            if sum(len(block.lines) for block in part) >= MIN_TURNED_LINES:
                blocks += order(part)
    ordered: list[Line] = []
    for index, block in enumerate(blocks):
        x0, x1 = block.x0, block.x1
        for line in block.lines:
            line.block, line.block_x0, line.block_x1 = index, x0, x1
            ordered.append(line)
    for number, line in enumerate(ordered, start=1):
        line.number = number
    return ordered
