"""Where a citation points, written out: "lines 4-7", "p. 4, lines 4-7" (lines counted
within the page) or "pp. 4-5, lines 30-2"; where a PDF prints other page numbers than
its physical ones, the printed ones first: "p. iv (PDF p. 4), lines 4-7"."""

from __future__ import annotations


def line_range(first: int, last: int, dash: str = "-") -> str:
    """"line 4" or "lines 4-7" (``dash`` joins the two: "–" in HTML)."""
    return f"line {first}" if first == last else f"lines {first}{dash}{last}"


def page_range(first: int, last: int, dash: str = "-", *, label: str | None = None,
               label_end: str | None = None) -> str:
    """"p. 4" or "pp. 4-5"; with the pages' printed labels, where they differ from the
    physical numbers, "p. iv (PDF p. 4)" or "pp. 231-232 (PDF pp. 5-6)"."""
    physical = f"p. {first}" if first == last else f"pp. {first}{dash}{last}"
    if not label or not label_end or (label, label_end) == (str(first), str(last)):
        return physical
    printed = f"p. {label}" if first == last else f"pp. {label}{dash}{label_end}"
    return f"{printed} (PDF {physical})"


def place(page_start: int | None, page_end: int | None, line_start: int, line_end: int,
          dash: str = "-", *, label: str | None = None, label_end: str | None = None) -> str:
    """Where a citation is: "lines 4-7", or with pages "p. 4, lines 4-7" (lines counted
    within the page) and "pp. 4-5, lines 30-2"; ``label`` / ``label_end``, the pages'
    printed labels, are shown where they differ ("p. iv (PDF p. 4), lines 4-7")."""
    lines = line_range(line_start, line_end, dash)
    if page_start is None or page_end is None:
        return lines
    pages = page_range(page_start, page_end, dash, label=label, label_end=label_end)
    return f"{pages}, {lines}"

