"""``Hit`` and ``HitList``: ranked passages with their full citation, as text, dicts,
DataFrames and HTML result cards. ``from_dict`` takes JSON from anywhere (a server's,
say) and holds every field to its declared type; every field a card shows is escaped."""

from __future__ import annotations

import html
import textwrap
import types
import typing
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from ..citation import PassageRow
from ..display import STYLE, highlight
from ..errors import CiteseekError
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
        """The hit ``to_dict`` gave (from a server's JSON, say); other keys are ignored,
        and a field of the wrong JSON type is a ``CiteseekError`` naming it."""
        return cls(**typed_fields(cls, data, "a hit"))

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
        """The list ``to_dict`` gave (each hit checked as ``Hit.from_dict`` does)."""
        if not isinstance(rows, list):
            raise CiteseekError(f"hits must be a JSON list, not {_kind(rows)}")
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


def _kind(value: object) -> str:
    return {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
            str: "text", list: "a list", dict: "an object"}.get(type(value),
                                                                 type(value).__name__)


def _is(value: object, hint: Any) -> bool:
    """Whether JSON ``value`` is of the declared type ``hint`` (the few kinds records
    hold: text, whole numbers, numbers, booleans, None, lists and dicts of them)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_is(v, item) for v in value)
    if origin is dict:
        key, item = typing.get_args(hint)
        return isinstance(value, dict) and all(_is(k, key) and _is(v, item)
                                               for k, v in value.items())
    return hint is Any


def typed_fields(cls: type, data: object, what: str,
                 skip: Sequence[str] = ()) -> dict[str, Any]:
    """The fields of dataclass ``cls`` found in the JSON object ``data``, each of its
    declared type (but those in ``skip``, which the caller reads); anything else (not
    an object, a field of another type, a required field missing) is a
    ``CiteseekError`` naming ``what`` and the field."""
    if not isinstance(data, dict):
        raise CiteseekError(f"{what} must be a JSON object, not {_kind(data)}")
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in fields(cls):
        if not f.init or f.name in skip:
            continue
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise CiteseekError(f"{what} lacks its {f.name!r} field")
            continue
        value = data[f.name]
        if not _is(value, hints[f.name]):
            raise CiteseekError(f"{what}'s {f.name!r} must be of type "
                                f"{_type_name(hints[f.name])}, not {_kind(value)} "
                                f"({value!r:.60})")
        out[f.name] = value
    return out


def _type_name(hint: Any) -> str:
    return str(hint).replace("typing.", "").replace("NoneType", "None").replace(
        "<class '", "").replace("'>", "")


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
    score = float(hit.score)  # a number, whatever a caller put there
    width = 100.0 * max(0.0, score) / top_score if top_score > 0 else 0.0
    lines = html.escape(hit.where(dash="–"))
    title = html.escape(hit.title or hit.doc_id)
    date = f" · {html.escape(hit.date)}" if hit.date else ""
    local = [(a - hit.start, b - hit.start, c) for a, b, c in spans]
    start, end = html.escape(str(hit.start), quote=True), html.escape(str(hit.end), quote=True)
    rank = html.escape(label or f"#{hit.rank}")
    return (
        f'<div class="cs-card" data-doc-id="{html.escape(hit.doc_id, quote=True)}" '
        f'data-start="{start}" data-end="{end}">'
        f'<div class="cs-head"><span class="cs-rank">{rank}</span>'
        f'<span class="cs-bar" title="score {score:.4f}"><span style="width:{width:.0f}%">'
        f'</span></span><span class="cs-meta cs-score">{score:.3f}</span>'
        f'<span class="cs-title">{title}</span><span class="cs-meta">{date}</span></div>'
        f'<div class="cs-meta cs-source" title="{html.escape(hit.source, quote=True)}">'
        f'{html.escape(short_source(hit.source, source_root))} · {lines} · chars '
        f'{start}–{end}</div>'
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
