"""A hit's citation as flat metadata: what a LangChain ``Document``, a LlamaIndex node
and an MCP result carry, so that every answer built on them can point at its source."""

from __future__ import annotations

from typing import Any

from ..search.hits import CITATION_FIELDS, Hit

# Every field of the citation (doc_id, start, end, lines, pages and their labels, title,
# date, source, url), then the passage's id and rank, its score and its place in words.
METADATA = (*CITATION_FIELDS, "chunk_id", "rank", "score", "citation")


def citation_metadata(hit: Hit) -> dict[str, Any]:
    """``hit``'s citation fields, id, rank and score, and ``citation``: where it is in
    words ("'Title' (2021-03-02) a.txt, lines 4-7, chars 120-380")."""
    data = {name: getattr(hit, name) for name in (*CITATION_FIELDS, "chunk_id", "rank",
                                                   "score")}
    data["citation"] = hit.citation()
    return data
