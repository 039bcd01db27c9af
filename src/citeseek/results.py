"""``Hit`` and ``HitList``: ranked passages with their full citation."""

from __future__ import annotations

import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

CITATION_FIELDS = ("doc_id", "title", "date", "source", "url", "start", "end", "line_start",
                   "line_end")


@dataclass
class Hit:
    """One retrieved passage. ``text == document.text[start:end]``, always."""

    rank: int
    score: float
    chunk_id: int
    doc_id: str
    title: str | None
    date: str | None
    source: str
    start: int
    end: int
    line_start: int
    line_end: int
    text: str
    url: str | None = None
    scores: dict[str, float] = field(default_factory=dict)  # per retriever, for "why"

    def citation(self) -> str:
        """A short human-readable pointer to where the passage is."""
        lines = (f"line {self.line_start}" if self.line_start == self.line_end
                 else f"lines {self.line_start}-{self.line_end}")
        title = f"{self.title!r} " if self.title else ""
        date = f"({self.date}) " if self.date else ""
        return f"{title}{date}{self.source}, {lines}, chars {self.start}-{self.end}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        body = textwrap.shorten(" ".join(self.text.split()), width=400, placeholder=" …")
        return (f"[{self.rank}] {self.score:.3f}  {self.citation()}\n"
                + textwrap.indent(textwrap.fill(body, width=96), "    "))

    def _repr_html_(self) -> str:
        from .display import render_hits

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

    def to_pandas(self) -> Any:
        import pandas as pd

        columns = ["rank", "score", "chunk_id", *CITATION_FIELDS, "text"]
        return pd.DataFrame([{c: getattr(h, c) for c in columns} for h in self],
                            columns=columns)

    def __str__(self) -> str:
        if not self:
            return f"no passages match {self.query!r}"
        return "\n\n".join(str(h) for h in self)

    def __repr__(self) -> str:
        return f"HitList({len(self)} hits for {self.query!r}, mode={self.mode!r})"

    def _repr_html_(self) -> str:
        from .display import render_hits

        return render_hits(self, query=self.query)
