"""A hit's citation as flat metadata: what a LangChain ``Document`` and a LlamaIndex
node carry, so that every answer built on them can point at its source; and the search
options the retrievers pass on."""

from __future__ import annotations

from typing import Any

from ..search.hits import CITATION_FIELDS, Hit

# Every field of the citation (doc_id, start, end, lines, pages and their labels, title,
# date, source, url), then the passage's id and rank, its score and its place in words.
METADATA = (*CITATION_FIELDS, "chunk_id", "rank", "score", "citation")
# What a retriever passes on to ``Collection.search`` besides ``k`` and ``mode``.
SEARCH_OPTIONS = ("sources", "date_from", "date_to", "doc_ids", "per_doc", "dedupe",
                  "feedback")


def citation_metadata(hit: Hit) -> dict[str, Any]:
    """``hit``'s citation fields, id, rank and score, and ``citation``: where it is in
    words ("'Title' (2021-03-02) a.txt, lines 4-7, chars 120-380")."""
    data = {name: getattr(hit, name) for name in (*CITATION_FIELDS, "chunk_id", "rank",
                                                   "score")}
    data["citation"] = hit.citation()
    return data
