"""The page labels a PDF defines (its ``/PageLabels``): the numbers printed on its pages,
which differ from the physical page index where front matter counts in roman numerals
or an article keeps its journal's page range ("iv", "231", "A-3"). Read with PDFium's
``FPDF_GetPageLabel`` (``pypdfium2``'s ``PdfDocument.get_page_label``)."""

from __future__ import annotations

from typing import Any

MAX_LABEL_CHARS = 32  # a longer "label" is not a page number a reader looks for


def page_labels(pdf: Any) -> list[str] | None:
    """Each page's label, in page order (``""`` for a page the labels leave out), or
    None when the PDF defines none. Control characters are dropped and a label is cut at
    ``MAX_LABEL_CHARS``: labels come from the file and end up in printed citations."""
    labels = []
    for index in range(len(pdf)):
        label = pdf.get_page_label(index)
        labels.append("".join(ch for ch in label if ch.isprintable()).strip()
                      [:MAX_LABEL_CHARS])
    return labels if any(labels) else None
