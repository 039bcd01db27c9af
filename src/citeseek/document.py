"""``Document``: one article as stored, the text that citations' offsets index into."""

from __future__ import annotations

import hashlib
import textwrap
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .views import DocumentView


@dataclass(repr=False)
class Document:
    """One article as stored: ``text`` is what citations' offsets index into.

    ``line_map[i]`` is the 1-based line of the source file that holds line ``i`` of
    ``text``; for a JSONL record every line maps to the record's line. It prints as
    text, renders as HTML in Jupyter and converts with ``to_pandas()`` (one row a line).
    """

    doc_id: str
    source: str
    text: str
    title: str | None = None
    date: str | None = None
    url: str | None = None
    format: str = "txt"
    line_map: list[int] = field(default_factory=list)
    file_key: str = ""

    def __post_init__(self) -> None:
        if not self.line_map:
            self.line_map = list(range(1, self.text.count("\n") + 2))
        self._line_starts: list[int] | None = None

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for part in (self.text, self.title or "", self.date or "", self.url or ""):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()

    def _starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            pos = self.text.find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = self.text.find("\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    def lines_for(self, start: int, end: int) -> tuple[int, int]:
        """Source lines (1-based, inclusive) holding ``text[start:end]``."""
        starts = self._starts()
        first = bisect_right(starts, start) - 1
        last = bisect_right(starts, max(start, end - 1)) - 1
        return self.line_map[first], self.line_map[last]

    def lines(self) -> list[tuple[int, int, int, str]]:
        """Each line of ``text`` as (source line, start, end, text), ``end`` before "\\n"."""
        starts = self._starts()
        ends = [s - 1 for s in starts[1:]] + [len(self.text)]
        return [(self.line_map[i], a, b, self.text[a:b])
                for i, (a, b) in enumerate(zip(starts, ends, strict=True))]

    def view(self, start: int | None = None, end: int | None = None, *,
             context: int = 2) -> DocumentView:
        """The lines holding ``text[start:end]`` (marked) with ``context`` lines around
        them; the whole document when no range is given."""
        from .views import DocumentView

        return DocumentView(self, start, end, context=context)

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "title": self.title, "date": self.date,
                "source": self.source, "url": self.url, "format": self.format,
                "text": self.text}

    def to_pandas(self) -> Any:
        """One row per line: the source file's line number, offsets and text."""
        import pandas as pd

        return pd.DataFrame(self.lines(), columns=["line", "start", "end", "text"])

    def __repr__(self) -> str:
        return (f"Document({self.doc_id!r}, title={self.title!r}, date={self.date!r}, "
                f"{len(self.text):,} chars)")

    def __str__(self) -> str:
        head = [self.title or self.doc_id, " · ".join(
            part for part in (self.date, self.source, self.url) if part)]
        body = "\n".join(textwrap.fill(line, width=96) if line else ""
                         for line in self.text.splitlines())
        return "\n".join([*head, "", body])

    def _repr_html_(self) -> str:
        from .views import render_document

        return render_document(self)
