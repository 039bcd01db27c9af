"""Queries without torch: a collection built with torch is queried through its fp32 ONNX
export (vectors equal to torch's, the same top 10 on Cranfield), a fresh interpreter
answers search, ask, more_like and the server's requests without importing torch, and
``CITESEEK_QUERY_BACKEND=torch`` brings torch back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import citeseek
from citeseek.embed.onnx_runtime import OnnxEmbedder, export_ready
from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder
from tests.helpers import CRANFIELD, REPO, require_shared

pytestmark = pytest.mark.model

QUERIES = ["Which foundation did the US Treasury sanction?", "lighthouse keeper",
           "What did the report say about harbour cranes and the weather at sea?", "x"]


@pytest.fixture(scope="module")
def torch_built(real_sample_collection, tmp_path_factory) -> Path:
    """A copy of the sample collection built with torch (its build made the export)."""
    store = tmp_path_factory.mktemp("torch-built") / "sample"
    shutil.copytree(real_sample_collection.root, store)
    assert citeseek.open(store).manifest["settings"]["backend"] == "torch"
    return store


def test_a_torch_built_collection_is_queried_through_its_onnx_export(
        torch_built: Path, real_model) -> None:
    assert export_ready(real_model.model_id)
    col = citeseek.open(torch_built)
    assert isinstance(col.embedder, OnnxEmbedder) and col.embedder.backend == "onnx"
    assert col.embedder.model_id == real_model.model_id == col.manifest["model"]["id"]
    cos = (col.embedder.encode(QUERIES) * real_model.encode(QUERIES)).sum(axis=1)
    assert cos.min() >= 0.9999, cos
    torch_col = citeseek.open(torch_built, model=real_model)
    for q in QUERIES:
        assert [h.chunk_id for h in col.search(q, k=10)] == \
            [h.chunk_id for h in torch_col.search(q, k=10)]


FRESH = """
import json, sys
sys.path.insert(0, {src!r})
import citeseek
from citeseek.server.holder import CollectionHolder
col = citeseek.open({store!r})
hits = col.search({query!r}, k=5)
answer = col.ask({query!r})
like = col.more_like(hits[0], k=3)
served = CollectionHolder({store!r}).run(lambda c: c.search({query!r}, k=5))[1]
heavy = sorted(m for m in ("torch", "sentence_transformers", "transformers")
               if m in sys.modules)
print("RESULT" + json.dumps({{"hits": [h.chunk_id for h in hits],
    "served": [h.chunk_id for h in served], "like": [h.chunk_id for h in like],
    "answer": answer.answer, "heavy": heavy, "embedder": type(col.embedder).__name__}}))
"""


def fresh(store: Path, query: str, **env: str) -> dict:
    script = FRESH.format(src=str(REPO / "src"), store=str(store), query=query)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1", **env})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.rsplit("RESULT", 1)[1])


@pytest.mark.parametrize("built", ["torch", "default"])
def test_the_query_path_imports_no_torch(built: str, torch_built: Path, real_model,
                                         tmp_path: Path) -> None:
    from citeseek.demo import sample_dir

    if built == "torch":
        store = torch_built
    else:  # a new collection's default: int8 weights through ONNX Runtime
        store = tmp_path / "default"
        col = citeseek.build(sample_dir(), store, progress=False)
        assert col.manifest["model"]["id"] == real_model.model_id + "@onnx-int8-fused"
    query = QUERIES[0]
    got = fresh(store, query)
    assert got["heavy"] == [] and got["embedder"] == "OnnxEmbedder"
    assert got["hits"] == got["served"] and len(got["like"]) == 3
    assert got["answer"]  # the sample answers this question
    same = citeseek.open(store, model=real_model if built == "torch" else None)
    assert got["hits"] == [h.chunk_id for h in same.search(query, k=5)]


def test_the_torch_query_path_can_still_be_asked_for(torch_built: Path) -> None:
    got = fresh(torch_built, QUERIES[1], CITESEEK_QUERY_BACKEND="torch")
    assert "torch" in got["heavy"] and got["embedder"] == "SentenceTransformerEmbedder"
    assert got["hits"] == fresh(torch_built, QUERIES[1])["hits"]


@pytest.mark.slow
def test_onnx_and_torch_queries_rank_cranfield_alike(tmp_path: Path, real_model) -> None:
    """Every Cranfield query: ONNX fp32 vectors within cosine 0.9999 of torch's and
    the same top 10 passages, dense and hybrid, over a collection of torch's vectors."""
    require_shared(CRANFIELD / "corpus.jsonl")
    from citeseek.evaluation import load_beir

    data = load_beir(CRANFIELD)
    # The corpus by the fused fp32 graph (torch's vectors within float rounding, in
    # less time); the queries by each side.
    citeseek.build(data.corpus, tmp_path / "cran", backend="onnx", progress=False)
    onnx_col = citeseek.open(tmp_path / "cran")
    torch_col = citeseek.open(tmp_path / "cran", model=real_model)
    assert isinstance(onnx_col.embedder, OnnxEmbedder)
    assert isinstance(torch_col.embedder, SentenceTransformerEmbedder)
    queries = list(data.queries.values())
    assert len(queries) == 225
    cos = (onnx_col.embedder.encode(queries) * real_model.encode(queries)).sum(axis=1)
    assert float(np.min(cos)) >= 0.9999
    for mode in ("dense", "hybrid"):
        differ = [q for q in queries
                  if [h.chunk_id for h in onnx_col.search(q, k=10, mode=mode)] !=
                  [h.chunk_id for h in torch_col.search(q, k=10, mode=mode)]]
        assert differ == [], (mode, differ[:3])
