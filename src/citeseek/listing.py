"""A collection's documents listed for people: one line each as text, and the card a
collection renders as in Jupyter (its summary and a table of the documents). Both show
the first ``SHOWN`` documents; ``Collection.to_pandas()`` lists them all."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from .display import STYLE, VIEW_STYLE

SHOWN = 50  # documents listed when a collection prints or renders


def document_lines(docs: Sequence[dict[str, Any]]) -> list[str]:
    """``docs`` (``Collection.documents()``) as indented lines, the rest counted."""
    lines = [f"  {d['doc_id']}  {d['date'] or '-':<10}  {d['chunks']:>4} passages  "
             f"{d['title'] or ''}" for d in docs[:SHOWN]]
    if len(docs) > SHOWN:
        lines.append(f"  … and {len(docs) - SHOWN:,} more documents")
    return lines


def collection_card(root: str, generation: str, *, documents: int, passages: int,
                    model: str, docs: Sequence[dict[str, Any]]) -> str:
    """The HTML card of a collection: its folder, counts, model and generation, then a
    table of its first documents. Headers, numbers and ids stay on one line; an id too
    long for its column is cut with "…", the whole id on hover."""
    rows = "".join(
        f"<tr data-doc-id='{html.escape(d['doc_id'], quote=True)}'>"
        f"<td>{html.escape(d['title'] or '')}</td>"
        f"<td class='cs-date'>{html.escape(d['date'] or '')}</td>"
        f"<td class='cs-num'>{d['chunks']}</td><td class='cs-num'>{d['chars']:,}</td>"
        f"<td><span class='cs-id' title='{html.escape(d['doc_id'], quote=True)}'>"
        f"{html.escape(d['doc_id'])}</span></td></tr>" for d in docs[:SHOWN])
    more = (f"<div class='cs-meta'>… and {len(docs) - SHOWN:,} more documents "
            f"(<code>collection.to_pandas()</code> lists them all)</div>"
            if len(docs) > SHOWN else "")
    return (f"{STYLE}{VIEW_STYLE}<div class='cs-doc'><div class='cs-title'>Collection "
            f"{html.escape(root)}</div><div class='cs-meta'>"
            f"{documents:,} documents · {passages:,} passages"
            f" · model {html.escape(model)} · {html.escape(generation)}"
            f"</div><table class='cs-table'><tr><th>title</th><th>date</th>"
            f"<th>passages</th><th>characters</th><th>id</th></tr>{rows}</table>{more}"
            f"</div>")
