"""Displayable views beyond result cards: a document (whole, or around a citation), a
collection's summary, and one query's results in several modes side by side. Each prints
as text, renders as HTML in Jupyter, and escapes every piece of article text."""

from __future__ import annotations

import dataclasses
import html
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .display import STYLE, highlight, query_terms, render_hit
from .errors import UsageError

if TYPE_CHECKING:
    from .collection import Collection
    from .document import Document
    from .results import HitList

VIEW_STYLE = """<style>
.cs-doc{font-family:system-ui,sans-serif;max-width:60em}
.cs-lines{border:1px solid #ddd;border-radius:6px;max-height:32em;overflow:auto;
  margin-top:.4em;padding:.3em 0}
.cs-line{display:flex;gap:.8em;line-height:1.45}
.cs-ln{flex:0 0 3.5em;text-align:right;color:#999;font-variant-numeric:tabular-nums}
.cs-lt{white-space:pre-wrap;flex:1;min-width:0}
.cs-line.cs-cited .cs-ln{color:#2e7d32;font-weight:700}
.cs-lines .cs-said{background:#dff3da;border-bottom:2px solid #5cb85c}
.cs-cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(16em,1fr));gap:.8em;
  font-family:system-ui,sans-serif}
.cs-col h4{margin:.2em 0}
.cs-table{border-collapse:collapse;font-size:.9em}
.cs-table td,.cs-table th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left}
</style>"""
MAX_LINES = 2000  # a whole-document view stops here; view(start, end) shows any part
SHORT_PASSAGE = 320  # characters of each passage shown side by side


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


def _lines_html(rows: list[tuple[int, int, int, str]], mark: tuple[int, int] | None) -> str:
    out = []
    for line, a, b, text in rows:
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
            f"{_lines_html(rows[:MAX_LINES], None)}{more}</div>")


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
        first, last = hit[0], hit[-1]
        return rows[max(0, first - self.context):last + 1 + self.context]

    def __str__(self) -> str:
        doc = self.document
        out = [f"{doc.title or doc.doc_id} · {doc.source}"]
        for line, a, b, text in self.lines():
            if self.start is not None and self.end is not None and \
                    _touches(a, b, self.start, self.end):
                s, e = max(self.start, a) - a, min(self.end, b) - a
                text = f"{text[:s]}⟦{text[s:e]}⟧{text[e:]}"
                out.append(f"{line:>6} ▶ {text}")
            else:
                out.append(f"{line:>6} │ {text}")
        return "\n".join(out)

    def __repr__(self) -> str:
        return (f"DocumentView({self.document.doc_id!r}, start={self.start}, end={self.end}, "
                f"context={self.context})")

    def _repr_html_(self) -> str:
        doc = self.document
        mark = (self.start, self.end) if self.start is not None and self.end is not None \
            else None
        where = ""
        if mark:
            first, last = doc.lines_for(*mark)
            lines = f"line {first}" if first == last else f"lines {first}–{last}"
            where = (f"<div class='cs-meta'>{lines}, characters {mark[0]}–{mark[1]} "
                     f"of the stored text</div>")
        return (f"{STYLE}{VIEW_STYLE}<div class='cs-doc' data-doc-id="
                f"'{html.escape(doc.doc_id, quote=True)}'>{_doc_header(doc)}{where}"
                f"{_lines_html(self.lines()[:MAX_LINES], mark)}</div>")


def render_collection(col: Collection, max_documents: int = 50) -> str:
    """A collection's summary and a table of its documents."""
    m = col.manifest
    docs = col.documents()
    rows = "".join(
        f"<tr data-doc-id='{html.escape(d['doc_id'], quote=True)}'>"
        f"<td>{html.escape(d['title'] or '')}</td><td>{html.escape(d['date'] or '')}</td>"
        f"<td>{d['chunks']}</td><td>{d['chars']:,}</td><td>{html.escape(d['doc_id'])}</td>"
        f"</tr>" for d in docs[:max_documents])
    more = (f"<div class='cs-meta'>… and {len(docs) - max_documents:,} more documents "
            f"(<code>collection.to_pandas()</code> lists them all)</div>"
            if len(docs) > max_documents else "")
    return (f"{STYLE}{VIEW_STYLE}<div class='cs-doc'><div class='cs-title'>Collection "
            f"{html.escape(str(col.root))}</div><div class='cs-meta'>"
            f"{m['counts']['documents']:,} documents · {m['counts']['chunks']:,} passages · "
            f"model {html.escape(m['model']['id'])} · {html.escape(col.generation)}</div>"
            f"<table class='cs-table'><tr><th>title</th><th>date</th><th>passages</th>"
            f"<th>characters</th><th>id</th></tr>{rows}</table>{more}</div>")


def collection_text(col: Collection, max_documents: int = 50) -> str:
    """A collection's summary and its documents, one a line."""
    docs = col.documents()
    lines = [repr(col)] + [f"  {d['doc_id']}  {d['date'] or '-':<10}  {d['chunks']:>4} "
                           f"passages  {d['title'] or ''}" for d in docs[:max_documents]]
    if len(docs) > max_documents:
        lines.append(f"  … and {len(docs) - max_documents:,} more documents")
    return "\n".join(lines)


@dataclass
class ModeComparison:
    """One query's results in several modes (``results``: mode -> ``HitList``)."""

    query: str
    results: dict[str, HitList]

    def _ranks(self, chunk_id: int) -> dict[str, int | None]:
        return {mode: next((h.rank for h in hits if h.chunk_id == chunk_id), None)
                for mode, hits in self.results.items()}

    def to_pandas(self) -> Any:
        """One row per rank, one column per mode: ``doc_id:line_start-line_end``."""
        import pandas as pd

        depth = max((len(h) for h in self.results.values()), default=0)
        return pd.DataFrame(
            {mode: [f"{h.doc_id}:{h.line_start}-{h.line_end}" for h in hits]
             + [None] * (depth - len(hits)) for mode, hits in self.results.items()},
            index=pd.RangeIndex(1, depth + 1, name="rank"))

    def __str__(self) -> str:
        blocks = [f"{self.query!r}"]
        for mode, hits in self.results.items():
            blocks.append(f"{mode}:")
            blocks += [f"  [{h.rank}] {h.score:.3f} {h.title or h.doc_id} "
                       f"(lines {h.line_start}-{h.line_end})" for h in hits]
        return "\n".join(blocks)

    def _repr_html_(self) -> str:
        terms = query_terms(self.query)
        columns = []
        for mode, hits in self.results.items():
            top = max((h.score for h in hits), default=0.0)
            cards = []
            for hit in hits:
                text = textwrap.shorten(hit.text, SHORT_PASSAGE, placeholder=" …")
                others = ", ".join(f"{m} {'#' + str(r) if r else '—'}"
                                   for m, r in self._ranks(hit.chunk_id).items() if m != mode)
                cards.append(render_hit(dataclasses.replace(hit, text=text), top_score=top,
                                        terms=terms)
                             + f"<div class='cs-meta'>elsewhere: {html.escape(others)}</div>")
            columns.append(f"<div class='cs-col' data-mode='{html.escape(mode, quote=True)}'>"
                           f"<h4>{html.escape(mode)}</h4>{''.join(cards)}</div>")
        return (f"{STYLE}{VIEW_STYLE}<div class='cs-meta'>Query: <b>"
                f"{html.escape(self.query)}</b></div><div class='cs-cols'>"
                f"{''.join(columns)}</div>")
