"""``Document``: one article as stored, the text that citations' offsets index into
(``citation.py`` declares the places in it); ``DocumentView``: its lines around a
citation. Documents and views print as text and render as HTML with the source file's
line numbers."""

from __future__ import annotations

import hashlib
import html
import json
import textwrap
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .display import STYLE, VIEW_STYLE, highlight
from .errors import UsageError
from .places import page_range, place
from .terminal import printable

MAX_TITLE_CHARS = 300


@dataclass
class SourceMap:
    """Where each character of a document's text lies in its source file, finer than a
    line of text: the characters from ``offsets[i]`` up to the next offset are on source
    line ``lines[i]`` and, for a PDF, on page ``pages[i]`` (``lines`` then count within
    the page). ``labels[p - 1]``, where the PDF defines page labels, is the number
    printed on page ``p`` ("iv", "231"; "" where the labels leave a page out). An HTML paragraph whose words run over several source lines, or a PDF
    paragraph over two pages, is cited where each of its words is."""

    offsets: list[int]
    lines: list[int]
    pages: list[int] | None = None
    labels: list[str] | None = None

    @classmethod
    def from_characters(cls, lines: Sequence[int],
                        pages: Sequence[int] | None = None) -> SourceMap:
        """The map of a text whose character ``i`` is on ``lines[i]`` (page ``pages[i]``)."""
        offsets: list[int] = []
        runs: list[int] = []
        run_pages: list[int] = []
        for i, line in enumerate(lines):
            page = pages[i] if pages is not None else 0
            if not offsets or line != runs[-1] or page != run_pages[-1]:
                offsets.append(i)
                runs.append(line)
                run_pages.append(page)
        return cls(offsets, runs, run_pages if pages is not None else None)

    def index(self, offset: int) -> int:
        return max(0, bisect_right(self.offsets, offset) - 1)

    def page_breaks(self, start: int, end: int) -> tuple[tuple[int, int], ...]:
        """Where a new page begins inside ``text[start:end]``, as (offset, page)."""
        if self.pages is None:
            return ()
        first, last = self.index(start), self.index(max(start, end - 1))
        return tuple((self.offsets[i], self.pages[i]) for i in range(first + 1, last + 1)
                     if self.pages[i] != self.pages[i - 1])

    def to_json(self) -> str:
        data: dict[str, list[int] | list[str]] = {"offsets": self.offsets,
                                                  "lines": self.lines}
        if self.pages is not None:
            data["pages"] = self.pages
        if self.labels is not None:
            data["labels"] = self.labels
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> SourceMap | None:
        if not text:
            return None
        data = json.loads(text)
        return cls(data["offsets"], data["lines"], data.get("pages"), data.get("labels"))

    def label(self, page: int | None) -> str | None:
        """The label printed on ``page`` (1-based), None where there is none."""
        if page is None or not self.labels or not 0 < page <= len(self.labels):
            return None
        return self.labels[page - 1] or None


@dataclass(repr=False)
class Document:
    """One article as stored: ``text`` is what citations' offsets index into.

    ``line_map[i]`` is the 1-based line of the source file that holds line ``i`` of
    ``text``; for a JSONL record every line maps to the record's line. ``source_map``,
    where a reader made one (HTML, PDF), places every character (see ``SourceMap``);
    citations then use it. For a PDF, lines count within the page. It prints as text,
    renders as HTML in Jupyter and converts with ``to_pandas()`` (one row a line).
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
    source_map: SourceMap | None = None

    def __post_init__(self) -> None:
        if self.title is not None and len(self.title) > MAX_TITLE_CHARS:
            # A "title" this long is a paragraph: every passage carries its title into
            # the keyword index and before its text for the model.
            cut = self.title[:MAX_TITLE_CHARS].rsplit(None, 1)[0] or \
                self.title[:MAX_TITLE_CHARS]
            self.title = cut.rstrip() + "…"
        self._line_starts: list[int] | None = None
        if not self.line_map and self.source_map is not None:
            smap = self.source_map
            self.line_map = [smap.lines[smap.index(start)] for start in self._starts()]
        if not self.line_map:
            self.line_map = list(range(1, self.text.count("\n") + 2))

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for part in (self.text, self.title or "", self.date or "", self.url or ""):
            for i in range(0, len(part), 1 << 20):  # a long text is not encoded whole
                h.update(part[i:i + (1 << 20)].encode("utf-8", "surrogatepass"))
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
        """Source lines (1-based, inclusive) holding ``text[start:end]`` (for a PDF,
        lines within the pages ``pages_for`` gives)."""
        if self.source_map is not None:
            smap = self.source_map
            return (smap.lines[smap.index(start)],
                    smap.lines[smap.index(max(start, end - 1))])
        starts = self._starts()
        first = bisect_right(starts, start) - 1
        last = bisect_right(starts, max(start, end - 1)) - 1
        return self.line_map[first], self.line_map[last]

    def pages_for(self, start: int, end: int) -> tuple[int | None, int | None]:
        """First and last page (1-based) holding ``text[start:end]``; None for documents
        without pages."""
        smap = self.source_map
        if smap is None or smap.pages is None:
            return None, None
        return smap.pages[smap.index(start)], smap.pages[smap.index(max(start, end - 1))]

    def labels_for(self, start: int, end: int) -> tuple[str | None, str | None]:
        """The printed labels of the first and last page holding ``text[start:end]``
        (None, None where the PDF defines none; see ``SourceMap``)."""
        if self.source_map is None:
            return None, None
        first, last = self.pages_for(start, end)
        return self.source_map.label(first), self.source_map.label(last)

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
        return printable("\n".join([*head, "", body]))

    def _repr_html_(self) -> str:
        return render_document(self)


MAX_LINES = 2000  # a whole-document view stops here; view(start, end) shows any part


def _doc_header(doc: Document) -> str:
    meta = " · ".join(html.escape(part) for part in (doc.date, doc.source, doc.url) if part)
    return (f"<div class='cs-title'>{html.escape(doc.title or doc.doc_id)}</div>"
            f"<div class='cs-meta'>{meta} · {len(doc.text):,} characters · "
            f"id {html.escape(doc.doc_id)}</div>")


def _touches(a: int, b: int, start: int, end: int) -> bool:
    """Whether line ``[a, b)`` shows part of ``[start, end)`` (an empty range: its place)."""
    if start == end:
        return a <= start <= b
    return (a < end and start < b) or (a == b and start <= a < end)


def _page_marks(doc: Document, rows: list[tuple[int, int, int, str]]) -> list[str]:
    """Per row, the page it starts ("p. 4") where that page begins there, else ""."""
    out, last = [], None
    for _, a, _, _ in rows:
        page = doc.pages_for(a, a + 1)[0]
        label = doc.labels_for(a, a + 1)[0]
        out.append(page_range(page, page, label=label, label_end=label)
                   if page is not None and page != last else "")
        last = page
    return out


def _lines_html(doc: Document, rows: list[tuple[int, int, int, str]],
                mark: tuple[int, int] | None) -> str:
    """Numbered rows of text, each page's first marked with its number; a run of blank
    lines is one unnumbered gap, as paragraphs are spaced in the article, rather than
    rows of numbers beside nothing."""
    out = []
    for i, ((line, a, b, text), page) in enumerate(zip(rows, _page_marks(doc, rows),
                                                        strict=True)):
        if page:
            out.append(f"<div class='cs-meta cs-page'>{page}</div>")
        if not text.strip():
            if i and rows[i - 1][3].strip():
                out.append(f"<div class='cs-gap' data-line='{line}'></div>")
            continue
        cited = mark is not None and _touches(a, b, *mark)
        spans = [(mark[0] - a, mark[1] - a, "cs-said")] if cited and mark else []
        out.append(f"<div class='cs-line{' cs-cited' if cited else ''}' data-line='{line}'>"
                   f"<span class='cs-ln'>{line}</span>"
                   f"<span class='cs-lt'>{highlight(text, (), spans) or ' '}</span></div>")
    return "<div class='cs-lines'>" + "".join(out) + "</div>"


def render_document(doc: Document) -> str:
    """The whole document with the source file's line numbers (up to ``MAX_LINES``)."""
    rows = doc.lines()
    more = (f"<div class='cs-meta'>… {len(rows) - MAX_LINES:,} more lines; "
            f"<code>document.view(start, end)</code> shows any part</div>"
            if len(rows) > MAX_LINES else "")
    return (f"{STYLE}{VIEW_STYLE}<div class='cs-doc' data-doc-id="
            f"'{html.escape(doc.doc_id, quote=True)}'>{_doc_header(doc)}"
            f"{_lines_html(doc, rows[:MAX_LINES], None)}{more}</div>")


@dataclass
class DocumentView:
    """The lines of ``document`` holding ``text[start:end]``, which is marked, with
    ``context`` lines either side (the whole document when no range is given)."""

    document: Document
    start: int | None = None
    end: int | None = None
    context: int = 2

    def __post_init__(self) -> None:
        n = len(self.document.text)
        if (self.start is None) != (self.end is None):
            raise UsageError("give both start and end, or neither")
        if self.start is not None and self.end is not None and \
                not 0 <= self.start <= self.end <= n:
            raise UsageError(f"range {self.start}-{self.end} is outside the document "
                             f"({n} characters)")
        if self.context < 0:
            raise UsageError(f"context must be >= 0, not {self.context!r}")

    @property
    def text(self) -> str:
        """The marked characters (the whole text when no range was given)."""
        return self.document.text[self.start:self.end]

    def lines(self) -> list[tuple[int, int, int, str]]:
        """The lines shown, as (source line, start, end, text)."""
        rows = self.document.lines()
        if self.start is None or self.end is None:
            return rows
        hit = [i for i, (_, a, b, _) in enumerate(rows) if _touches(a, b, self.start, self.end)]
        if not hit:  # the range is only line breaks: show the line it starts in
            hit = [max(0, bisect_right([a for _, a, _, _ in rows], self.start) - 1)]
        first, last = hit[0], hit[-1]
        return rows[max(0, first - self.context):last + 1 + self.context]

    def __str__(self) -> str:
        doc = self.document
        out = [f"{doc.title or doc.doc_id} · {doc.source}"]
        rows = self.lines()
        for (line, a, b, text), page in zip(rows, _page_marks(doc, rows), strict=True):
            if page:
                out.append(f"{'':>6} ─ {page}")
            if self.start is not None and self.end is not None and \
                    _touches(a, b, self.start, self.end):
                s, e = max(self.start, a) - a, min(self.end, b) - a
                text = f"{text[:s]}⟦{text[s:e]}⟧{text[e:]}"
                out.append(f"{line:>6} ▶ {text}")
            else:
                out.append(f"{line:>6} │ {text}")
        return printable("\n".join(out))

    def __repr__(self) -> str:
        return (f"DocumentView({self.document.doc_id!r}, start={self.start}, end={self.end}, "
                f"context={self.context})")

    def _repr_html_(self) -> str:
        doc = self.document
        mark = (self.start, self.end) if self.start is not None and self.end is not None \
            else None
        where = ""
        if mark:
            label, label_end = doc.labels_for(*mark)
            lines = place(*doc.pages_for(*mark), *doc.lines_for(*mark), dash="–",
                          label=label, label_end=label_end)
            where = (f"<div class='cs-meta'>{lines}, characters {mark[0]}–{mark[1]} "
                     f"of the stored text</div>")
        return (f"{STYLE}{VIEW_STYLE}<div class='cs-doc' data-doc-id="
                f"'{html.escape(doc.doc_id, quote=True)}'>{_doc_header(doc)}{where}"
                f"{_lines_html(doc, self.lines()[:MAX_LINES], mark)}</div>")
