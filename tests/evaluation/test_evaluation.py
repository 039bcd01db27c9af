from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from citeseek.cli import main
from citeseek.errors import UsageError
from citeseek.evaluation import (
    documents_by_best_passage,
    evaluate_rankings,
    load_beir,
    mrr_at,
    ndcg_at,
    recall_at,
)
from tests.helpers import CRANFIELD, require_shared


def test_ndcg_by_hand() -> None:
    judged = {"a": 3, "c": 1, "d": 2}
    # DCG = 3/log2(2) + 0 + 1/log2(4) = 3.5 ; IDCG = 3 + 2/log2(3) + 1/log2(4)
    expected = 3.5 / (3 + 2 / math.log2(3) + 0.5)
    assert ndcg_at(["a", "b", "c"], judged, 10) == pytest.approx(expected)
    assert ndcg_at(["a", "d", "c"], judged, 10) == pytest.approx(1.0)
    assert ndcg_at(["x", "y"], judged, 10) == 0.0
    # the cut-off applies to the ranking and to the ideal list alike
    assert ndcg_at(["d", "a"], judged, 1) == pytest.approx(2 / 3)


def test_recall_and_mrr_by_hand() -> None:
    judged = {"a": 1, "b": 2, "c": 0, "d": 4}
    ranking = ["x", "c", "b", "y", "a"]
    assert recall_at(ranking, judged, 10) == pytest.approx(2 / 3)  # c has grade 0
    assert recall_at(ranking, judged, 3) == pytest.approx(1 / 3)
    assert mrr_at(ranking, judged, 10) == pytest.approx(1 / 3)
    assert mrr_at(ranking, judged, 2) == 0.0


def test_means_skip_queries_without_relevant_judgments() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 0}, "q3": {"c": 2}}
    result = evaluate_rankings({"q1": ["a"], "q3": ["z"]}, qrels)
    assert result.queries == 2
    assert result.metrics["ndcg@10"] == pytest.approx(0.5)
    assert result.metrics["mrr@10"] == pytest.approx(0.5)


def test_passages_aggregate_to_documents_by_best_passage() -> None:
    assert documents_by_best_passage(["d2", "d1", "d2", "d3", "d1"]) == ["d2", "d1", "d3"]
    assert documents_by_best_passage(["a", "b", "c"], limit=2) == ["a", "b"]


def tiny_beir(root: Path) -> Path:
    root.mkdir()
    docs = {"1": "Canal locks raise boats between water levels.",
            "2": "Steam locomotives pulled the first passenger trains.",
            "3": "Lighthouses warn ships away from rocky coasts at night."}
    (root / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": k, "title": "", "text": v}) + "\n" for k, v in docs.items()))
    (root / "queries.jsonl").write_text(
        json.dumps({"_id": "q1", "text": "how do canal locks work"}) + "\n"
        + json.dumps({"_id": "q2", "text": "lighthouses and ships"}) + "\n")
    (root / "qrels").mkdir()
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\t1\t2\nq2\t3\t1\n")
    return root


def test_eval_command_on_a_tiny_beir_folder(tmp_path, capsys) -> None:
    beir = tiny_beir(tmp_path / "tiny")
    store = str(tmp_path / "col")
    assert main(["eval", str(beir), "--store", store, "--model", "hashing", "--json",
                 "--mode", "keyword",
                 "--mode", "hybrid"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["mode"] for r in out["results"]] == ["keyword", "hybrid"]
    keyword = out["results"][0]
    assert keyword["queries"] == 2
    assert keyword["ndcg@10"] == pytest.approx(1.0) and keyword["mrr@10"] == 1.0


def test_load_beir_rejects_other_folders(tmp_path) -> None:
    with pytest.raises(UsageError, match="corpus.jsonl"):
        load_beir(tmp_path)
    assert main(["eval", str(tmp_path), "--json"]) == 2


@pytest.mark.model
@pytest.mark.slow
def test_cranfield_targets(tmp_path, real_model) -> None:
    """The retrieval quality targets on a real test collection."""
    require_shared(CRANFIELD / "corpus.jsonl")
    from citeseek.evaluation import evaluate_beir

    results = {r.mode: r.metrics["ndcg@10"] for r in
               evaluate_beir(CRANFIELD, store=tmp_path / "cran", model=real_model)}
    assert results["keyword"] >= 0.352  # bm25s on this collection
    assert results["dense"] >= 0.382 - 0.005  # raw sentence-transformers exact search
    assert results["hybrid"] >= 0.42
