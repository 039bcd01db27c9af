"""The retrievers for LangChain and LlamaIndex with the real libraries: the frameworks'
own document and node types with every citation field and the score, the collection's
filters passed on, bad options refused, and each retriever inside the smallest real
pipeline of its framework (an LCEL chain with LangChain's ``FakeListLLM``, a
``RetrieverQueryEngine`` with LlamaIndex's ``MockLLM``), so the passages and their
citations are seen to reach the model.

The ``langchain`` and ``llama-index`` extras are installed by ``make test``; where one is
missing its tests skip, except under CI, where they fail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.demo import sample_dir, sample_formats_dir
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import UsageError
from citeseek.search.hits import CITATION_FIELDS
from tests.helpers import need_modules

QUESTION = "When was the harbour wall at Port Ellen built?"


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = tmp_path_factory.mktemp("retrievers") / "sample"
    return citeseek.build([sample_dir(), sample_formats_dir()], store,
                          model=HashingEmbedder(), progress=False)


def check_citation(metadata: dict[str, Any], hit: Any) -> None:
    """``metadata`` holds ``hit``'s whole citation, its score and its place in words."""
    for name in CITATION_FIELDS:
        assert metadata[name] == getattr(hit, name), name
    assert metadata["chunk_id"] == hit.chunk_id and metadata["rank"] == hit.rank
    assert metadata["score"] == pytest.approx(hit.score)
    assert metadata["citation"] == hit.citation()


# -- LangChain ----------------------------------------------------------------------------

def test_langchain_documents_carry_the_citation(collection: Any) -> None:
    need_modules("langchain_core")
    from langchain_core.documents import Document

    from citeseek.integrations.langchain import CiteseekRetriever

    retriever = CiteseekRetriever(collection=collection, k=3, mode="keyword")
    docs = retriever.invoke("harbour wall granite")
    hits = collection.search("harbour wall granite", k=3, mode="keyword")
    assert len(docs) == len(hits) == 3
    for doc, hit in zip(docs, hits, strict=True):
        assert isinstance(doc, Document) and doc.page_content == hit.text
        assert doc.id == str(hit.chunk_id)
        check_citation(doc.metadata, hit)
    pdf = next(d for d in docs if d.metadata["source"].endswith(".pdf"))
    assert pdf.metadata["page_start"] == 1 and "p. 1, lines" in pdf.metadata["citation"]


def test_langchain_filters_and_bad_options(collection: Any) -> None:
    need_modules("langchain_core")
    from pydantic import ValidationError

    from citeseek.integrations.langchain import CiteseekRetriever

    only = CiteseekRetriever(collection=collection, k=5, mode="keyword",
                             search_kwargs={"doc_ids": ["001_4177c0e56a96c8e4.txt"]})
    docs = only.invoke("human rights")
    assert docs and {d.metadata["doc_id"] for d in docs} == {"001_4177c0e56a96c8e4.txt"}
    with pytest.raises(ValidationError, match="mode must be one of"):
        CiteseekRetriever(collection=collection, mode="fuzzy")
    with pytest.raises(ValidationError, match="unknown search option"):
        CiteseekRetriever(collection=collection, search_kwargs={"source": "*"})
    with pytest.raises(ValidationError):
        CiteseekRetriever(collection=collection, k=0)
    dated = CiteseekRetriever(collection=collection,
                              search_kwargs={"date_from": "yesterday"})
    with pytest.raises(UsageError, match="date_from"):
        dated.invoke("harbour")


def test_langchain_retriever_in_a_chain_with_a_fake_llm(collection: Any) -> None:
    need_modules("langchain_core")
    from langchain_core.language_models import FakeListLLM
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import PromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    from citeseek.integrations.langchain import CiteseekRetriever

    retriever = CiteseekRetriever.from_store(collection.root, k=2, mode="keyword")
    prompts: list[str] = []

    def cited(docs: list[Any]) -> str:
        return "\n\n".join(f"[{d.metadata['citation']}]\n{d.page_content}" for d in docs)

    def seen(prompt: Any) -> Any:
        prompts.append(prompt.to_string())
        return prompt

    prompt = PromptTemplate.from_template("Answer from the sources.\n{context}\nQ: {question}")
    chain = ({"context": retriever | cited, "question": RunnablePassthrough()} | prompt
             | RunnableLambda(seen) | FakeListLLM(responses=["In 1832."]) | StrOutputParser())
    assert chain.invoke(QUESTION) == "In 1832."
    top = collection.search(QUESTION, k=2, mode="keyword")
    assert len(prompts) == 1 and QUESTION in prompts[0]
    for hit in top:
        assert hit.citation() in prompts[0] and hit.text in prompts[0]


# -- LlamaIndex ---------------------------------------------------------------------------

def test_llama_index_nodes_carry_the_citation_and_score(collection: Any) -> None:
    need_modules("llama_index.core")
    from llama_index.core.schema import MetadataMode, NodeRelationship, NodeWithScore

    from citeseek.integrations.llama_index import CiteseekRetriever

    retriever = CiteseekRetriever(collection, k=3, mode="keyword")
    nodes = retriever.retrieve("harbour wall granite")
    hits = collection.search("harbour wall granite", k=3, mode="keyword")
    assert len(nodes) == 3
    for node, hit in zip(nodes, hits, strict=True):
        assert isinstance(node, NodeWithScore) and node.score == pytest.approx(hit.score)
        assert node.node.get_content() == hit.text
        assert node.node.node_id == f"citeseek-{hit.chunk_id}"
        assert node.node.relationships[NodeRelationship.SOURCE].node_id == hit.doc_id
        check_citation(node.node.metadata, hit)
        # the model reads the text with where it is; nothing of it is embedded
        for_llm = node.node.get_content(metadata_mode=MetadataMode.LLM)
        assert hit.citation() in for_llm and "chunk_id" not in for_llm
        assert node.node.get_content(metadata_mode=MetadataMode.EMBED) == hit.text


def test_llama_index_filters_and_bad_options(collection: Any) -> None:
    need_modules("llama_index.core")
    from citeseek.integrations.llama_index import CiteseekRetriever

    nodes = CiteseekRetriever(collection, k=4, mode="keyword", sources="*harbour*"
                              ).retrieve("harbour wall")
    assert nodes and all("harbour" in n.node.metadata["source"] for n in nodes)
    with pytest.raises(UsageError, match="mode must be one of"):
        CiteseekRetriever(collection, mode="fuzzy")
    with pytest.raises(UsageError, match="unknown search option"):
        CiteseekRetriever(collection, filters={"a": 1})
    with pytest.raises(UsageError, match="k must be"):
        CiteseekRetriever(collection, k=0)


def test_llama_index_retriever_in_a_query_engine_with_mock_llm(collection: Any) -> None:
    need_modules("llama_index.core")
    from llama_index.core.llms import MockLLM
    from llama_index.core.query_engine import RetrieverQueryEngine

    from citeseek.integrations.llama_index import CiteseekRetriever

    retriever = CiteseekRetriever.from_store(Path(collection.root), k=2, mode="keyword")
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM())
    response = engine.query(QUESTION)
    top = collection.search(QUESTION, k=2, mode="keyword")
    assert [n.node.metadata["chunk_id"] for n in response.source_nodes] == \
        [h.chunk_id for h in top]
    # MockLLM answers with the prompt it was given: the passages and their citations
    for hit in top:
        assert hit.citation() in str(response) and hit.text in str(response)
