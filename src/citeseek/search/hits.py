"""``Hit`` and ``HitList``: ranked passages with their full citation, as text, dicts,
DataFrames and HTML result cards."""

from __future__ import annotations

import html
import textwrap
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..citation import PassageRow
from ..display import STYLE, highlight
from ..places import place
from ..terminal import printable
from ..words import topic_words

# A hit's citation: every field of its stored row but the passage's id and text.
CITATION_FIELDS = tuple(f.name for f in fields(PassageRow) if f.name not in ("chunk_id", "text"))
LEADING = ("rank", "score", "chunk_id")  # what a reader of results looks at first


@dataclass(kw_only=True)
class Hit(PassageRow):
    """One retrieved passage. ``text == document.text[start:end]``, always.

    Its fields are its stored ``PassageRow``'s (a ``Citation`` with the passage's text
    and its document's title, date, source and url), its ``rank`` and ``score``, and
    ``scores`` per retriever. ``page_start`` / ``page_end`` are the PDF pages (1-based)
    it spans, and then ``line_start`` / ``line_end`` count lines within those pages; None
    for other files; ``page_label`` / ``page_label_end`` the numbers printed on them
    where the PDF defines page labels. ``page_breaks`` says where each later page begins inside a passage
    over a page break, as (offset, page); search fills it in, ``pages_for`` reads it. It
    is not part of ``to_dict()``: a hit rebuilt from one has none."""

    rank: int
    score: float
    scores: dict[str, float] = field(default_factory=dict)  # per retriever, for "why"

    def __post_init__(self) -> None:
        self.page_breaks: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, row: PassageRow, *, rank: int, score: float,
           scores: dict[str, float] | None = None) -> Hit:
        """The hit for stored passage ``row``: a ``Hit`` holds every field a row does."""
        return cls(**{f.name: getattr(row, f.name) for f in fields(PassageRow)},
                   rank=rank, score=score, scores=scores or {})

    def pages_for(self, start: int, end: int) -> tuple[int | None, int | None]:
        """First and last page holding ``document.text[start:end]``, a part of this
        passage (its own pages where its page breaks are not known)."""
        if not self.page_breaks:
            return self.page_start, self.page_end
        offsets = [at for at, _ in self.page_breaks]

        def page(offset: int) -> int | None:
            i = bisect_right(offsets, offset)
            return self.page_breaks[i - 1][1] if i else self.page_start

        return page(start), page(max(start, end - 1))

    def labels_for(self, start: int, end: int) -> tuple[str | None, str | None]:
        """The printed labels of ``pages_for(start, end)``: this passage's own labels
        for its first and last page; None for a page wholly inside it, whose label the
        passage does not hold."""
        labels = {self.page_start: self.page_label, self.page_end: self.page_label_end}
        first, last = self.pages_for(start, end)
        return labels.get(first), labels.get(last)

    def where(self, dash: str = "-") -> str:
        """Its pages and lines: "lines 4-7", "p. iv (PDF p. 4), lines 4-7" (``places``)."""
        return place(self.page_start, self.page_end, self.line_start, self.line_end, dash,
                     label=self.page_label, label_end=self.page_label_end)

    def citation(self) -> str:
        """A short human-readable pointer to where the passage is."""
        lines = self.where()
        title = f"{self.title!r} " if self.title else ""
        date = f"({self.date}) " if self.date else ""
        return f"{title}{date}{self.source}, {lines}, chars {self.start}-{self.end}"

    def to_dict(self) -> dict[str, Any]:
        """Every field, ``LEADING`` first (as the JSON of search results has them)."""
        data = asdict(self)
        return {**{name: data.pop(name) for name in LEADING}, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Hit:
        """The hit ``to_dict`` gave (from a server's JSON, say); other keys are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})

    def __str__(self) -> str:
        body = textwrap.shorten(" ".join(self.text.split()), width=400, placeholder=" …")
        return printable(f"[{self.rank}] {self.score:.3f}  {self.citation()}\n"
                         + textwrap.indent(textwrap.fill(body, width=96), "    "))

    def _repr_html_(self) -> str:
        return render_hits([self])


class HitList(list[Hit]):
    """A ranked list of hits that prints as text, renders as HTML in Jupyter and
    converts with ``to_pandas()`` / ``to_dict()``."""

    def __init__(self, hits: list[Hit] | None = None, *, query: str = "",
                 mode: str = "") -> None:
        super().__init__(hits or [])
        self.query = query
        self.mode = mode

    def to_dict(self) -> list[dict[str, Any]]:
        return [h.to_dict() for h in self]

    @classmethod
    def from_dict(cls, rows: list[dict[str, Any]], *, query: str = "",
                  mode: str = "") -> HitList:
        """The list ``to_dict`` gave."""
        return cls([Hit.from_dict(row) for row in rows], query=query, mode=mode)

    def to_pandas(self) -> Any:
        import pandas as pd

        columns = [*LEADING, *CITATION_FIELDS, "text"]
        return pd.DataFrame([{c: getattr(h, c) for c in columns} for h in self],
                            columns=columns)

    def __str__(self) -> str:
        if not self:
            return f"no passages match {self.query!r}"
        return "\n\n".join(str(h) for h in self)

    def __repr__(self) -> str:
        return f"HitList({len(self)} hits for {self.query!r}, mode={self.mode!r})"

    def _repr_html_(self) -> str:
        return render_hits(self, query=self.query)


def short_source(source: str, root: str | None) -> str:
    """``source`` relative to the folder ``root`` when it lies under it, else as is."""
    prefix = root.rstrip("/") + "/" if root else None
    return source[len(prefix):] if prefix and source.startswith(prefix) else source


def render_hit(hit: Hit, *, top_score: float, terms: Sequence[str],
               spans: Sequence[tuple[int, int, str]] = (), label: str | None = None,
               source_root: str | None = None) -> str:
    """One result card: rank (or ``label``), score bar, title, date, source with lines,
    and the passage with ``terms`` and ``spans`` (document offsets) highlighted. The
    source is shown relative to ``source_root`` when given (in full on hover)."""
    width = 100.0 * max(0.0, hit.score) / top_score if top_score > 0 else 0.0
    lines = hit.where(dash="–")
    title = html.escape(hit.title or hit.doc_id)
    date = f" · {html.escape(hit.date)}" if hit.date else ""
    local = [(a - hit.start, b - hit.start, c) for a, b, c in spans]
    return (
        f'<div class="cs-card" data-doc-id="{html.escape(hit.doc_id, quote=True)}" '
        f'data-start="{hit.start}" data-end="{hit.end}">'
        f'<div class="cs-head"><span class="cs-rank">{label or f"#{hit.rank}"}</span>'
        f'<span class="cs-bar" title="score {hit.score:.4f}"><span style="width:{width:.0f}%">'
        f'</span></span><span class="cs-meta cs-score">{hit.score:.3f}</span>'
        f'<span class="cs-title">{title}</span><span class="cs-meta">{date}</span></div>'
        f'<div class="cs-meta cs-source" title="{html.escape(hit.source, quote=True)}">'
        f'{html.escape(short_source(hit.source, source_root))} · {lines} · chars '
        f'{hit.start}–{hit.end}</div>'
        f'<div class="cs-text">{highlight(hit.text, terms, local)}</div></div>'
    )


def render_hits(hits: Sequence[Hit], *, query: str = "") -> str:
    """Result cards for a list of hits."""
    if not hits:
        return f"<div class='cs-hits'><em>No passages match {html.escape(query)!s}.</em></div>"
    top = max(h.score for h in hits)
    terms = topic_words(query)
    cards = "".join(render_hit(h, top_score=top, terms=terms) for h in hits)
    head = f"<div class='cs-meta'>{len(hits)} passages for <b>{html.escape(query)}</b></div>" \
        if query else ""
    return f"{STYLE}<div class='cs-hits'>{head}{cards}</div>"
