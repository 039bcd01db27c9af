"""PDFs made for the tests with reportlab: every line's text, page and place is known,
so what the reader returns can be checked against it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

WIDTH, HEIGHT = A4
LEADING = 13  # points between baselines of body text (11 pt)


def lorem(n: int, seed: str) -> list[str]:
    """``n`` distinct lines of body text, each about 40 characters (fits a column)."""
    words = ["harbour", "stone", "wall", "storm", "council", "engineer", "winter", "boats",
             "tide", "crew", "survey", "repair", "granite", "mortar", "anchor", "pier"]
    out = []
    for i in range(n):
        picked = [words[(i * 7 + k * 3 + len(seed)) % len(words)] for k in range(5)]
        out.append(f"{seed}{i} " + " ".join(picked) + ".")
    return out


def make_pdf(path: Path, pages: Sequence[Sequence[tuple[float, float, str]]], *,
             title: str | None = None, header: str | None = None,
             footer_numbers: bool = False, size: float = 11, encrypt: str | None = None,
             font_sizes: dict[str, float] | None = None,
             labels: Sequence[tuple[int, dict[str, Any]]] = ()) -> Path:
    """A PDF whose page ``i`` holds ``pages[i]``: (x, y from the top, text) each; with
    a running ``header`` and a page number at the foot of every page when asked, and
    page labels (``/PageLabels``): from page index ``i`` on, labels as ``options`` say
    (reportlab's ``addPageLabel``: ``style`` "ROMAN_LOWER", "ARABIC"..., ``start``,
    ``prefix``)."""
    kwargs = {}
    if encrypt:
        from reportlab.lib.pdfencrypt import StandardEncryption

        kwargs["encrypt"] = StandardEncryption(encrypt, ownerPassword=encrypt + "-owner")
    c = canvas.Canvas(str(path), pagesize=A4, **kwargs)
    if title is not None:
        c.setTitle(title)
    for number, items in enumerate(pages, start=1):
        if header:
            c.setFont("Helvetica", 9)
            c.drawString(72, HEIGHT - 40, f"{header} · {number}")
        for x, y, text in items:
            c.setFont("Helvetica", (font_sizes or {}).get(text, size))
            c.drawString(x, HEIGHT - y, text)
        if footer_numbers:
            c.setFont("Helvetica", 9)
            c.drawCentredString(WIDTH / 2, 30, str(number))
        c.showPage()
    for index, options in labels:
        c.addPageLabel(index, **options)
    c.save()
    return path


def column(lines: Sequence[str], x: float, top: float) -> list[tuple[float, float, str]]:
    """Lines set one under the other from ``top`` down, at ``x``."""
    return [(x, top + i * LEADING, line) for i, line in enumerate(lines)]
