"""The listwise LLM reranker against a real local chat-completions server (``tests/chat_server.py``,
on the standard library's http.server): a ranking in
the reply reorders the candidates window by window, sliding from the last to the first;
every reply that is not a ranking (prose, a number outside the window, a repeat, a
passage left out, an HTTP error, an empty reply) keeps the fused order and says why."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import citeseek
from citeseek.answer.llm import LLM
from citeseek.cli import main
from citeseek.rerank.listwise import LLMReranker, parse_ranking, window_starts
from tests.chat_server import chat, sse

QUERY = "Which foundation did the US Treasury sanction?"


@pytest.fixture(scope="module")
def col(hashed_sample_store):
    return citeseek.open(hashed_sample_store)


def shown(request: dict[str, Any]) -> list[str]:
    """The passages one ranking request showed, in its numbering."""
    user = request["messages"][-1]["content"]
    return re.findall(r"^\[\d+\] (.*)$", user, re.M)


def reversing(body: dict[str, Any], n: int) -> tuple[int, dict[str, str], bytes]:
    """A model that ranks every window in reverse."""
    count = len(shown(body))
    return 200, {}, chat(json.dumps(list(range(count, 0, -1))))


def test_a_ranking_reorders_each_window(col, serve) -> None:
    server = serve(reversing)
    fused = col.search(QUERY, k=7)
    hits = col.search(QUERY, k=7, rerank=LLM(server.url, "m", stream=False), rerank_top=7)
    assert [h.chunk_id for h in hits] == [h.chunk_id for h in fused][::-1]
    assert [h.scores["rerank"] for h in hits] == [1 / n for n in range(1, 8)]
    assert hits.rerank_error is None
    request = server.requests[0]
    assert request["model"] == "m" and not request.get("stream")
    assert shown(request) == [" ".join(h.text.split())[:700] for h in fused]
    assert QUERY in request["messages"][-1]["content"]


def test_the_window_slides_from_the_last_candidates_to_the_first(col, serve) -> None:
    assert window_starts(25, 10, 5) == [15, 10, 5, 0]
    assert window_starts(12, 10, 5) == [2, 0]
    assert window_starts(6, 10, 5) == [0]
    server = serve(reversing)
    fused = col.search(QUERY, k=15)
    llm = LLM(server.url, "m")
    hits = col.search(QUERY, k=15, rerank=LLMReranker(llm, window=10, step=5),
                      rerank_top=15)
    assert len(server.requests) == 2
    first, second = (shown(r) for r in server.requests)
    texts = [" ".join(h.text.split())[:700] for h in fused]
    assert first == texts[5:15]  # the last ten first
    # the second window holds the first five and the five best of the first window
    assert second == texts[:5] + texts[14:9:-1]
    assert sorted(h.chunk_id for h in hits) == sorted(h.chunk_id for h in fused)


@pytest.mark.parametrize("reply, why", [
    ("The first passage is the most relevant.", "holds no ranking"),
    ("[2, 1, 9]", "names passage 9, not one of 1-5"),
    ("[2] > [2] > [1] > [3] > [4] > [5]", "names passage 2 twice"),
    ("[3, 1, 2]", "leaves out passage(s) 4, 5"),
])
def test_a_reply_that_is_not_a_ranking_keeps_the_fused_order(col, serve, reply: str,
                                                              why: str) -> None:
    server = serve(lambda body, n: (200, {}, chat(reply)))
    fused = col.search(QUERY, k=5)
    hits = col.search(QUERY, k=5, rerank=LLM(server.url, "m"), rerank_top=5)
    assert [h.chunk_id for h in hits] == [h.chunk_id for h in fused]
    assert hits.rerank_error is not None and why in hits.rerank_error
    assert "passages 1-5" in hits.rerank_error


@pytest.mark.parametrize("status, body, why", [
    (500, b'{"error": {"message": "boom"}}', "HTTP 500"),
    (200, b"not json at all", "malformed reply"),
    (200, chat(""), "empty reply"),
])
def test_a_failing_endpoint_keeps_the_fused_order(col, serve, status: int, body: bytes,
                                                  why: str) -> None:
    server = serve(lambda request, n: (status, {}, body))
    fused = col.search(QUERY, k=5)
    ans = col.ask(QUERY, rerank=LLM(server.url, "m", max_retries=0), rerank_top=7)
    assert sorted(h.chunk_id for h in ans.citations) == sorted(h.chunk_id for h in fused)
    assert ans.rerank_error is not None and why in ans.rerank_error
    assert ans.to_dict()["rerank_error"] == ans.rerank_error
    assert "reranking:" in str(ans)


def test_parse_ranking_reads_the_usual_shapes() -> None:
    assert parse_ranking("[3, 1, 2]", 3) == ([2, 0, 1], None)
    assert parse_ranking("Ranking: [2] > [3] > [1]", 3) == ([1, 2, 0], None)
    assert parse_ranking('{"ranking": [1, 3, 2]}', 3) == ([0, 2, 1], None)
    assert parse_ranking("2\n1\n3", 3) == ([1, 0, 2], None)
    assert parse_ranking("", 3)[0] is None


def test_rerank_llm_uses_the_endpoint_of_the_answer(col, serve, capsys) -> None:
    def reply(body: dict[str, Any], n: int) -> tuple[int, dict[str, str], bytes | list[bytes]]:
        if "Rank the" in body["messages"][-1]["content"]:
            return reversing(body, n)
        return 200, {}, sse(["The Mostazafan ", "Foundation [1]."])

    server = serve(reply)
    fused = col.search(QUERY, k=10)
    ans = col.ask(QUERY, rerank="llm", llm=server.url, llm_model="m", rerank_top=10,
                  min_evidence=0.0)
    # the last five of the fused ten, reversed to the top, are the passages answered from
    assert sorted(h.chunk_id for h in ans.citations) == \
        sorted(h.chunk_id for h in fused[5:])
    assert ans.generated and len(server.requests) == 2
    code = main(["search", QUERY, "--store", str(col.root), "--rerank", "llm", "--llm",
                 server.url, "--llm-model", "m", "--rerank-top", "5", "-k", "5", "--json"])
    body = json.loads(capsys.readouterr().out)
    assert code == 0 and [h["chunk_id"] for h in body] == \
        [h.chunk_id for h in fused[:5]][::-1]
