"""Where a citation points, written out: "lines 4-7", "p. 4, lines 4-7" (lines counted
within the page) or "pp. 4-5, lines 30-2"."""

from __future__ import annotations


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
