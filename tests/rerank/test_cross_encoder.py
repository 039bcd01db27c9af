"""Cross-encoder reranking with tiny models the tests make (``models.py``): the order
follows the model's own scores (and reverses with a negated model), only the top N
move, filters and exact citations hold, ``ask`` answers from the reranked passages, the
ONNX exports give the model's scores, nothing changes when reranking is off, and a
missing or wrong model is a clear error before anything loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import citeseek
from citeseek.cli import main
from citeseek.embed.base import default_model_path
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import UsageError
from citeseek.rerank.cross_encoder import CrossEncoderReranker

from .models import make_cross_encoder

QUERY = "How many protesters were killed in November 2019?"
CITATION = ("chunk_id", "doc_id", "text", "start", "end", "title", "date", "source", "url",
            "line_start", "line_end", "page_start", "page_end")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cross-encoders")
    return {"model": make_cross_encoder(root / "model"),
            "negated": make_cross_encoder(root / "negated", negate=True),
            "three": make_cross_encoder(root / "three", labels=3)}


@pytest.fixture(scope="module")
def col(tmp_path_factory: pytest.TempPathFactory):
    from citeseek.demo import sample_dir

    store = tmp_path_factory.mktemp("col") / "sample"
    return citeseek.build(sample_dir(), store, model=HashingEmbedder(), progress=False)


@pytest.fixture(autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """ONNX exports go to a cache of this module's own, not the user's."""
    monkeypatch.setenv("CITESEEK_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def model_scores(path: Path, query: str, texts: list[str]) -> np.ndarray:
    """The scores sentence-transformers itself gives, outside citeseek."""
    from sentence_transformers import CrossEncoder

    return np.asarray(CrossEncoder(str(path), local_files_only=True).predict(
        [(query, t) for t in texts]))


def test_the_order_follows_the_models_scores(col, models) -> None:
    fused = col.search(QUERY, k=10)
    scores = model_scores(models["model"], QUERY, [h.text for h in fused])
    expected = [fused[i].chunk_id for i in np.argsort(-scores, kind="stable")]
    torch = CrossEncoderReranker(str(models["model"]), backend="torch")
    hits = col.search(QUERY, k=10, rerank=torch, rerank_top=10)
    assert [h.chunk_id for h in hits] == expected
    assert expected != [h.chunk_id for h in fused]  # the model moved something
    by_id = {h.chunk_id: (h, s) for h, s in zip(fused, scores, strict=True)}
    for rank, hit in enumerate(hits, start=1):
        before, score = by_id[hit.chunk_id]
        assert hit.rank == rank
        assert hit.score == pytest.approx(score, abs=1e-6) == hit.scores["rerank"]
        assert hit.scores["fused"] == before.score
        assert {k: v for k, v in hit.scores.items() if k not in ("fused", "rerank")} == \
            before.scores
    assert hits.rerank_error is None
    negated = col.search(QUERY, k=10, rerank=CrossEncoderReranker(
        str(models["negated"]), backend="torch"), rerank_top=10)
    assert [h.chunk_id for h in negated] == expected[::-1]


def test_only_the_top_n_move(col, models) -> None:
    fused = col.search(QUERY, k=8)
    hits = col.search(QUERY, k=8, rerank=str(models["model"]), rerank_top=4)
    assert {h.chunk_id for h in hits[:4]} == {h.chunk_id for h in fused[:4]}
    assert [h.chunk_id for h in hits[4:]] == [h.chunk_id for h in fused[4:]]
    assert all("rerank" in h.scores for h in hits[:4])
    assert not any("rerank" in h.scores for h in hits[4:])
    assert [h.rank for h in hits] == list(range(1, 9))
    # k smaller than N: the best k of the N reranked
    top = col.search(QUERY, k=3, rerank=str(models["model"]), rerank_top=10)
    ten = col.search(QUERY, k=10, rerank=str(models["model"]), rerank_top=10)
    assert [h.chunk_id for h in top] == [h.chunk_id for h in ten[:3]]


@pytest.mark.parametrize("filters", [{"doc_ids": ["002"]}, {"sources": "*001*"},
                                     {"date_from": "2021-01-01"}, {"per_doc": 1}])
def test_filters_and_citations_are_those_of_the_fused_search(col, models, filters) -> None:
    if "doc_ids" in filters:
        filters = {"doc_ids": [col.resolve_doc_id(d) for d in filters["doc_ids"]]}
    fused = col.search(QUERY, k=6, **filters)
    hits = col.search(QUERY, k=6, rerank=str(models["model"]), rerank_top=6, **filters)
    assert fused and sorted(h.chunk_id for h in hits) == sorted(h.chunk_id for h in fused)
    before = {h.chunk_id: h for h in fused}
    for hit in hits:
        assert {f: getattr(hit, f) for f in CITATION} == \
            {f: getattr(before[hit.chunk_id], f) for f in CITATION}
        assert col.document(hit.doc_id).text[hit.start:hit.end] == hit.text


def test_ask_answers_from_the_reranked_passages(col, models) -> None:
    reranker = str(models["model"])
    ans = col.ask(QUERY, rerank=reranker, rerank_top=10)
    hits = col.search(QUERY, k=5, rerank=reranker, rerank_top=10)
    # the reranked five, cited in the order of the evidence they hold
    assert sorted(h.chunk_id for h in ans.citations) == sorted(h.chunk_id for h in hits)
    assert {h.chunk_id for h in hits} != {h.chunk_id for h in col.search(QUERY, k=5)}
    assert all("rerank" in h.scores for h in ans.citations)
    for sentence in ans.sentences:
        hit = ans.citations[sentence.citation - 1]
        assert hit.start <= sentence.start < sentence.end <= hit.end
        assert col.document(sentence.doc_id).text[sentence.start:sentence.end] == \
            sentence.text
    assert ans.to_dict()["rerank_error"] is None


def test_nothing_changes_when_reranking_is_off(col) -> None:
    plain = col.search(QUERY, k=7).to_dict()
    assert col.search(QUERY, k=7, rerank=None).to_dict() == plain
    assert col.search(QUERY, k=7, rerank=False).to_dict() == plain
    assert not any("rerank" in h["scores"] or "fused" in h["scores"] for h in plain)
    assert col.ask(QUERY, rerank=None).to_dict() == col.ask(QUERY).to_dict()


def test_the_onnx_exports_give_the_models_scores(col, models, tmp_path_factory) -> None:
    texts = [h.text for h in col.search(QUERY, k=10)]
    torch = CrossEncoderReranker(str(models["model"]), backend="torch").score(QUERY, texts)
    fp32 = CrossEncoderReranker(str(models["model"]), backend="onnx").score(QUERY, texts)
    int8 = CrossEncoderReranker(str(models["model"]), backend="onnx-int8").score(QUERY, texts)
    assert np.allclose(fp32, torch, atol=1e-4)
    assert np.abs(int8 - torch).max() < 0.1  # int8 weights: near, not equal
    exports = list((tmp_path_factory.getbasetemp() / "cache" / "rerank").iterdir())
    assert len(exports) == 1  # exported once, for both ONNX backends
    again = CrossEncoderReranker(str(models["model"]), backend="onnx").score(QUERY, texts)
    assert np.array_equal(again, fp32)


def test_a_missing_or_wrong_model_is_a_clear_error(col, models, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "file.bin").write_bytes(b"x")
    cases = {
        str(tmp_path / "nowhere"): "no cross-encoder at",
        "someone/no-such-reranker": "no model of that name in the local Hugging Face cache",
        str(tmp_path / "file.bin"): "is a file",
        str(tmp_path / "empty"): "holds no model",
        str(default_model_path()): "is not a cross-encoder",
        str(models["three"]): "gives 3 scores per pair",
    }
    for rerank, says in cases.items():
        with pytest.raises(UsageError, match=says):
            col.search(QUERY, rerank=rerank)
    with pytest.raises(UsageError, match="rerank must be"):
        col.search(QUERY, rerank=42)
    with pytest.raises(UsageError, match="rerank_top must be a whole number >= 1"):
        col.search(QUERY, rerank=str(models["model"]), rerank_top=0)
    with pytest.raises(UsageError, match="rerank_top goes with rerank"):
        col.ask(QUERY, rerank_top=5)
    with pytest.raises(UsageError, match="needs an endpoint"):
        col.ask(QUERY, rerank="llm")
    with pytest.raises(UsageError, match="rerank_backend must be one of"):
        CrossEncoderReranker(str(models["model"]), backend="cuda")


def test_the_command_line_reranks(col, models, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(col.root)
    code = main(["search", QUERY, "--store", store, "-k", "6", "--rerank",
                 str(models["model"]), "--rerank-top", "6", "--json"])
    body = json.loads(capsys.readouterr().out)
    expected = col.search(QUERY, k=6, rerank=str(models["model"]), rerank_top=6).to_dict()
    assert code == 0 and body == expected
    code = main(["ask", QUERY, "--store", store, "--rerank", str(models["model"]), "--json"])
    said = json.loads(capsys.readouterr().out)
    assert code == 0 and all("rerank" in h["scores"] for h in said["citations"])
    code = main(["search", QUERY, "--store", store, "--rerank", str(models["three"]),
                 "--json"])
    error = json.loads(capsys.readouterr().out)
    assert code == 2 and error["type"] == "UsageError" and "3 scores" in error["error"]
