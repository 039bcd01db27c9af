"""``CiteseekRetriever`` for LlamaIndex: a ``llama_index.core`` ``BaseRetriever`` over a
collection (the ``llama-index`` extra), for query engines and agents. Each passage
comes back as a ``NodeWithScore``: a ``TextNode`` with the passage's text, its document
as the node's source, its full citation in ``metadata`` (doc_id, source, start, end,
lines, pages and their printed labels, title, date, url, rank, score and
``citation``, where it is in words) and the passage's score. The model sees the text
with ``citation`` only; no metadata is embedded.

    retriever = CiteseekRetriever.from_store("embeddings/sample", k=4)
    engine = RetrieverQueryEngine.from_args(retriever, llm=llm)
"""

from __future__ import annotations

import os
from typing import Any

from llama_index.core.callbacks import CallbackManager
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import (
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)

from ..collection import Collection
from ..collection import open as open_collection
from ..errors import UsageError
from ..search.hits import Hit
from ..search.retrieval import check_mode
from .citations import METADATA, SEARCH_OPTIONS, citation_metadata


def to_node(hit: Hit) -> NodeWithScore:
    """The ``NodeWithScore`` of a hit (see the module docstring)."""
    node = TextNode(
        id_=f"citeseek-{hit.chunk_id}", text=hit.text, metadata=citation_metadata(hit),
        excluded_embed_metadata_keys=list(METADATA),
        excluded_llm_metadata_keys=[name for name in METADATA if name != "citation"],
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=hit.doc_id)})
    return NodeWithScore(node=node, score=hit.score)


class CiteseekRetriever(BaseRetriever):
    """Passages of a citeseek collection for a query, as LlamaIndex nodes.

    ``k`` passages ranked by ``mode`` ("hybrid", "dense" or "keyword"); the other
    keyword arguments go to ``Collection.search`` (``sources``, ``date_from``,
    ``date_to``, ``doc_ids``, ``per_doc``, ``dedupe``, ``feedback``)."""

    def __init__(self, collection: Collection, *, k: int = 5, mode: str = "hybrid",
                 callback_manager: CallbackManager | None = None,
                 **search_kwargs: Any) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise UsageError(f"k must be a whole number >= 1, not {k!r}")
        unknown = sorted(set(search_kwargs) - set(SEARCH_OPTIONS))
        if unknown:
            raise UsageError(f"unknown search option(s) {', '.join(unknown)}: one of "
                             f"{', '.join(SEARCH_OPTIONS)}")
        self.collection, self.k, self.mode = collection, k, check_mode(mode)
        self.search_kwargs = search_kwargs
        super().__init__(callback_manager=callback_manager)

    @classmethod
    def from_store(cls, store: str | os.PathLike[str], *, model: Any = None,
                   **options: Any) -> CiteseekRetriever:
        """The retriever over the collection at ``store`` (``citeseek.open``)."""
        return cls(open_collection(store, model=model), **options)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.collection.search(query_bundle.query_str, k=self.k, mode=self.mode,
                                      **self.search_kwargs)
        return [to_node(hit) for hit in hits]
