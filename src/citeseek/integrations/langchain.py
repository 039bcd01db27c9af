"""``CiteseekRetriever`` for LangChain: a ``langchain_core`` ``BaseRetriever`` over a
collection (the ``langchain`` extra). Each passage comes back as a LangChain
``Document``: its text as ``page_content``, its chunk id as ``id``, and in ``metadata``
its full citation (doc_id, source, start, end, lines, pages and their printed labels,
title, date, url), its rank and its ``score``, and ``citation``, where it is in words.

    retriever = CiteseekRetriever.from_store("embeddings/sample", k=4, mode="hybrid")
    docs = retriever.invoke("How many protesters were killed?")
"""

from __future__ import annotations

import os
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, field_validator

from ..collection import Collection
from ..collection import open as open_collection
from ..errors import UsageError
from ..search.hits import Hit
from ..search.retrieval import check_mode
from .citations import SEARCH_OPTIONS, citation_metadata


def to_document(hit: Hit) -> Document:
    """The LangChain ``Document`` of a hit (see the module docstring)."""
    return Document(page_content=hit.text, metadata=citation_metadata(hit),
                    id=str(hit.chunk_id))


class CiteseekRetriever(BaseRetriever):
    """Passages of a citeseek collection for a query, as LangChain documents.

    ``k`` passages, ranked by ``mode`` ("hybrid", "dense" or "keyword"), with
    ``search_kwargs`` passed on to ``Collection.search`` (``sources``, ``date_from``,
    ``date_to``, ``doc_ids``, ``per_doc``, ``dedupe``, ``feedback``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    collection: Collection
    k: int = Field(5, ge=1)
    mode: str = "hybrid"
    search_kwargs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, mode: str) -> str:
        try:
            return check_mode(mode)
        except UsageError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("search_kwargs")
    @classmethod
    def _known_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(options) - set(SEARCH_OPTIONS))
        if unknown:
            raise ValueError(f"unknown search option(s) {', '.join(unknown)}: one of "
                             f"{', '.join(SEARCH_OPTIONS)}")
        return options

    @classmethod
    def from_store(cls, store: str | os.PathLike[str], *, model: Any = None,
                   **fields: Any) -> CiteseekRetriever:
        """The retriever over the collection at ``store`` (``citeseek.open``)."""
        return cls(collection=open_collection(store, model=model), **fields)

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.collection.search(query, k=self.k, mode=self.mode, **self.search_kwargs)
        return [to_document(hit) for hit in hits]
