"""One query's results in several modes side by side: a table of ranks, text, and HTML
columns of result cards in Jupyter."""

from __future__ import annotations

import dataclasses
import html
import textwrap
from dataclasses import dataclass
from typing import Any

from ..display import STYLE, VIEW_STYLE
from ..terminal import printable
from ..words import topic_words
from .hits import HitList, render_hit

SHORT_PASSAGE = 320  # characters of each passage shown side by side


@dataclass
class ModeComparison:
    """One query's results in several modes (``results``: mode -> ``HitList``). Cards
    show sources relative to ``source_root`` (the folder the articles came from), so
    long paths do not crowd the narrow columns."""

    query: str
    results: dict[str, HitList]
    source_root: str | None = None

    def _ranks(self, chunk_id: int) -> dict[str, int | None]:
        return {mode: next((h.rank for h in hits if h.chunk_id == chunk_id), None)
                for mode, hits in self.results.items()}

    def to_pandas(self) -> Any:
        """One row per rank, one column per mode: ``doc_id:line_start-line_end`` (with
        ``p.N`` before the lines for a PDF)."""
        import pandas as pd

        depth = max((len(h) for h in self.results.values()), default=0)
        return pd.DataFrame(
            {mode: [f"{h.doc_id}:" + (f"p.{h.page_start}:" if h.page_start else "")
                    + f"{h.line_start}-{h.line_end}" for h in hits]
             + [None] * (depth - len(hits)) for mode, hits in self.results.items()},
            index=pd.RangeIndex(1, depth + 1, name="rank"))

    def __str__(self) -> str:
        blocks = [f"{self.query!r}"]
        for mode, hits in self.results.items():
            blocks.append(f"{mode}:")
            blocks += [f"  [{h.rank}] {h.score:.3f} {h.title or h.doc_id} "
                       f"({h.where()})"
                       for h in hits]
        return printable("\n".join(blocks))

    def _repr_html_(self) -> str:
        terms = topic_words(self.query)
        columns = []
        for mode, hits in self.results.items():
            top = max((h.score for h in hits), default=0.0)
            cards = []
            for hit in hits:
                text = textwrap.shorten(hit.text, SHORT_PASSAGE, placeholder=" …")
                others = ", ".join(f"{m} {'#' + str(r) if r else '—'}"
                                   for m, r in self._ranks(hit.chunk_id).items() if m != mode)
                cards.append(render_hit(dataclasses.replace(hit, text=text), top_score=top,
                                        terms=terms, source_root=self.source_root)
                             + f"<div class='cs-meta'>elsewhere: {html.escape(others)}</div>")
            columns.append(f"<div class='cs-col' data-mode='{html.escape(mode, quote=True)}'>"
                           f"<h4>{html.escape(mode)}</h4>{''.join(cards)}</div>")
        return (f"{STYLE}{VIEW_STYLE}<div class='cs-meta'>Query: <b>"
                f"{html.escape(self.query)}</b></div><div class='cs-cols'>"
                f"{''.join(columns)}</div>")
