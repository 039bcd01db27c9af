"""Reranking through ``citeseek serve --rerank``: a request names one of the server's
rerankers in its ``rerank`` field and gets what the command line prints for the same
options; a name the server was not started with is a 400 naming the field; a reranker
that keeps the fused order says why in a header beside the list of hits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import citeseek
from citeseek.cli import main
from tests.helpers import free_port
from tests.service.server_process import running_server

from .models import make_cross_encoder

QUERY = "How many protesters were killed in November 2019?"


@pytest.fixture(scope="module")
def store(hashed_sample_store: Path) -> Path:
    return hashed_sample_store


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_cross_encoder(tmp_path_factory.mktemp("ce") / "model")


@pytest.fixture(scope="module")
def url(store: Path, model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    nowhere = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: the LLM fails
    cache = str(tmp_path_factory.getbasetemp() / "cache")
    with running_server(store, "--rerank", str(model), "--rerank", "llm", "--llm", nowhere,
                        "--llm-model", "m", env={"CITESEEK_CACHE": cache}) as base:
        yield base


def test_a_request_reranks_with_a_reranker_of_the_server(url: str, store: Path, model: Path,
                                                         capsys, monkeypatch,
                                                         tmp_path_factory) -> None:
    # the server's own export of the model, so both score with the same int8 weights
    monkeypatch.setenv("CITESEEK_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
    col = citeseek.open(store)
    for path, fields in (("/search", {"query": QUERY}), ("/ask", {"question": QUERY})):
        reply = httpx.post(f"{url}{path}", json={**fields, "k": 6, "rerank": str(model),
                                                 "rerank_top": 8}, timeout=120)
        assert reply.status_code == 200, reply.text
        command = "search" if path == "/search" else "ask"
        code = main([command, QUERY, "--store", str(store), "-k", "6", "--rerank",
                     str(model), "--rerank-top", "8", "--json"])
        assert code == 0
        local = json.loads(capsys.readouterr().out)
        assert reply.json() == local
    hits = httpx.post(f"{url}/search", json={"query": QUERY, "k": 6}, timeout=60).json()
    assert hits == col.search(QUERY, k=6).to_dict()  # off: what it always was
    # the command line's --server sends the same fields
    code = main(["search", QUERY, "--server", url, "-k", "6", "--rerank", str(model),
                 "--rerank-top", "8", "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out) == \
        col.search(QUERY, k=6, rerank=str(model), rerank_top=8).to_dict()


def test_a_reranker_the_server_lacks_is_a_400_naming_the_field(url: str) -> None:
    for fields in ({"rerank": "/some/other/model"}, {"rerank_top": 5}):
        reply = httpx.post(f"{url}/search", json={"query": QUERY, **fields}, timeout=60)
        assert reply.status_code == 400
        body = reply.json()
        assert body["field"] == "rerank" and "one of the server's rerankers" in body["error"]


def test_a_failing_llm_keeps_the_fused_order_and_says_why(url: str, store: Path) -> None:
    reply = httpx.post(f"{url}/search", json={"query": QUERY, "k": 5, "rerank": "llm"},
                       timeout=120)
    assert reply.status_code == 200
    assert [h["chunk_id"] for h in reply.json()] == \
        [h.chunk_id for h in citeseek.open(store).search(QUERY, k=5)]
    assert "cannot connect" in reply.headers["X-Citeseek-Rerank-Error"]
    said = httpx.post(f"{url}/ask", json={"question": QUERY, "rerank": "llm"},
                      timeout=120).json()
    assert "cannot connect" in said["rerank_error"]
