"""LLM answers against a real local HTTP server that speaks the chat-completions
protocol (``tests/chat_server.py``, on a free port, standard library only), streaming (SSE) and not,
and each way it can fail: refused connection, timeout, 401, 429 (retried, then given
up), a malformed reply and an empty one. The extractive answer is never lost."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.answer.llm import LLM, as_llm
from citeseek.cli import main
from citeseek.errors import UsageError
from tests.chat_server import chat, sse
from tests.helpers import free_port

QUESTION = "Which foundation did the US Treasury sanction?"


def answer_text(passages: dict[int, str]) -> str:
    """A reply that uses the passages: the sentence naming the foundation, cited."""
    n = next(n for n, text in passages.items() if "Mostazafan Foundation" in text)
    return (f"The US Treasury sanctioned the Mostazafan Foundation [{n}]. "
            "The foundation also runs a chain of lunar hotels on Mars [7].")


def passages_in(request: dict[str, Any]) -> dict[int, str]:
    """The passages of a prompt by number (each fenced as ``<passage n="N" ...>``)."""
    user = request["messages"][-1]["content"]
    return {int(n): text for n, text in
            re.findall(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', user, re.S)}


def test_streamed_answer_is_cited_checked_and_flagged(col, serve) -> None:
    def reply(body: dict[str, Any], n: int):
        assert body["stream"] is True and body["model"] == "tiny-model"
        text = answer_text(passages_in(body))
        return 200, {}, sse([text[i:i + 7] for i in range(0, len(text), 7)])

    server = serve(reply)
    pieces: list[str] = []
    answer = col.ask(QUESTION, k=3, llm=server.url, llm_model="tiny-model",
                     on_text=pieces.append, min_evidence=0.0)
    assert len(pieces) > 5 and "".join(pieces).startswith("The US Treasury")
    assert answer.generated and answer.llm_error is None
    assert "[7]" not in answer.answer and answer.dropped_citations == [7]
    prompt = server.requests[0]["messages"]
    assert "[n]" in prompt[0]["content"] + prompt[1]["content"]
    assert QUESTION in prompt[1]["content"] and answer.citations[0].text.strip() in \
        prompt[1]["content"]
    first, second = answer.claims
    assert first.status == "supported" and "Mostazafan" in first.text
    # The invented sentence cited a passage that does not exist: nothing supports it.
    assert second.status == "uncited" and answer.unsupported() == [second]
    assert not answer.confident
    data = answer.to_dict()
    assert [c["status"] for c in data["claims"]] == ["supported", "uncited"]
    json.dumps(data)
    assert "cites no passage" in str(answer) and "lunar hotels" in str(answer)
    page = answer._repr_html_()
    assert "cs-unsupported" in page and "lunar hotels" in page


def test_a_claim_its_passage_does_not_hold_is_unsupported(col, serve) -> None:
    def reply(body: dict[str, Any], n: int):
        passages = passages_in(body)
        k = next(n for n, text in passages.items() if "Mostazafan Foundation" in text)
        return 200, {}, chat(f"The Mostazafan Foundation was sanctioned [{k}]. "
                             f"Quetzalcoatl Zyzzyva paid 987,654 ducats for it [{k}].")

    server = serve(reply)
    answer = col.ask(QUESTION, k=3, llm=LLM(url=server.url, model="m", stream=False),
                     min_evidence=0.0)
    assert [c.status for c in answer.claims] == ["supported", "unsupported"]
    bad = answer.claims[1]
    assert {"quetzalcoatl", "zyzzyva", "987,654"} <= set(bad.missing)
    assert answer.unsupported() == [bad] and not answer.confident
    assert "not supported by" in str(answer)


def test_api_key_from_the_environment(col, serve, monkeypatch) -> None:
    monkeypatch.setenv("CITESEEK_LLM_API_KEY", "sekrit")
    server = serve(lambda body, n: (200, {}, sse(["The Mostazafan Foundation [1]."])))
    col.ask(QUESTION, k=3, llm=server.url, llm_model="m", min_evidence=0.0)
    assert server.headers[0]["authorization"] == "Bearer sekrit"


def assert_fallback(answer, reason: str) -> None:
    """The extractive answer is there, with the reason the model gave none."""
    assert answer.answer is not None and "Mostazafan" in answer.answer
    assert not answer.generated and answer.sentences
    assert answer.llm_error is not None and reason in answer.llm_error
    assert reason in answer.message and "extractive" in answer.message
    assert answer.to_dict()["llm_error"] == answer.llm_error
    assert "note:" in str(answer)


def test_connection_refused(col) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    answer = col.ask(QUESTION, k=3, llm=LLM(url=url, model="m", max_retries=0),
                     min_evidence=0.0)
    assert_fallback(answer, "cannot connect")


def test_timeout(col, serve) -> None:
    def slow(body: dict[str, Any], n: int):
        time.sleep(2.0)
        return 200, {}, chat("too late [1]")

    server = serve(slow)
    answer = col.ask(QUESTION, k=3, llm=LLM(url=server.url, model="m", timeout=0.3,
                                            max_retries=1), min_evidence=0.0)
    assert_fallback(answer, "did not answer within 0.3 s")
    assert len(server.requests) == 2  # one retry, then it gave up


def test_unauthorised(col, serve) -> None:
    error = json.dumps({"error": {"message": "bad key", "type": "auth"}}).encode()
    server = serve(lambda body, n: (401, {}, error))
    answer = col.ask(QUESTION, k=3, llm=server.url, llm_model="m", min_evidence=0.0)
    assert_fallback(answer, "401")
    assert "CITESEEK_LLM_API_KEY" in answer.llm_error
    assert len(server.requests) == 1  # a refused key is not retried


def test_rate_limited_then_answered(col, serve) -> None:
    error = json.dumps({"error": {"message": "slow down"}}).encode()

    def limited(body: dict[str, Any], n: int):
        if n <= 2:
            return 429, {"retry-after-ms": "20"}, error
        return 200, {}, sse(["The Mostazafan ", "Foundation [1]."])

    server = serve(limited)
    answer = col.ask(QUESTION, k=3, llm=server.url, llm_model="m", min_evidence=0.0)
    assert answer.generated and answer.llm_error is None
    assert answer.answer == "The Mostazafan Foundation [1]."
    assert len(server.requests) == 3  # two refusals, retried with backoff


def test_rate_limited_for_good(col, serve) -> None:
    error = json.dumps({"error": {"message": "slow down"}}).encode()
    server = serve(lambda body, n: (429, {"retry-after-ms": "10"}, error))
    answer = col.ask(QUESTION, k=3, llm=LLM(url=server.url, model="m", max_retries=2),
                     min_evidence=0.0)
    assert_fallback(answer, "429")
    assert len(server.requests) == 3  # bounded: the first try and two retries


@pytest.mark.parametrize("stream, payload", [
    (False, b"this is not JSON"),
    (False, json.dumps({"choices": "nope"}).encode()),
    (True, [b"data: {broken json\n\n"]),
])
def test_malformed_reply(col, serve, stream: bool, payload) -> None:
    server = serve(lambda body, n: (200, {}, payload))
    answer = col.ask(QUESTION, k=3, llm=LLM(url=server.url, model="m", stream=stream),
                     min_evidence=0.0)
    assert_fallback(answer, "malformed reply")


@pytest.mark.parametrize("stream, payload", [
    (False, chat("")),
    (False, chat("   ")),
    (True, sse([])),
])
def test_empty_reply(col, serve, stream: bool, payload) -> None:
    server = serve(lambda body, n: (200, {}, payload))
    answer = col.ask(QUESTION, k=3, llm=LLM(url=server.url, model="m", stream=stream),
                     min_evidence=0.0)
    assert_fallback(answer, "empty reply")


def test_a_declined_question_never_reaches_the_model(col, serve) -> None:
    server = serve(lambda body, n: (200, {}, chat("anything [1]")))
    answer = col.ask("quantum chromodynamics gluon propagator lattice", llm=server.url,
                     llm_model="m")
    assert answer.answer is None and server.requests == []


def test_llm_arguments() -> None:
    assert as_llm(None) is None
    assert as_llm("http://localhost:11434/v1", "llama3.2") == LLM(
        url="http://localhost:11434/v1", model="llama3.2")
    for bad in (("localhost:11434", "m"), ("http://x/v1", None), (None, "m"),
                (LLM(url="http://x/v1", model="m"), "other")):
        with pytest.raises(UsageError):
            as_llm(*bad)


def test_cli_streams_and_reports(col, serve, capsys) -> None:
    text = "The US Treasury sanctioned the Mostazafan Foundation [1]. Then more [9]."
    server = serve(lambda body, n: (200, {}, sse([text[:20], text[20:]])))
    store = str(col.root)
    assert main(["ask", QUESTION, "--store", store, "--mode", "keyword", "-k", "3",
                 "--llm", server.url, "--llm-model", "m"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Q: {QUESTION}\nA: The US Treasury")
    assert out.count("Mostazafan Foundation [1]") == 1  # streamed once, not repeated
    assert "removed citations to no passage: [9]" in out and "Sources:" in out
    assert main(["ask", QUESTION, "--store", store, "--mode", "keyword", "-k", "3",
                 "--llm", server.url, "--llm-model", "m", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["generated"] and data["claims"][0]["status"] == "supported"
    refused = f"http://127.0.0.1:{free_port()}/v1"
    assert main(["ask", QUESTION, "--store", store, "--mode", "keyword", "--llm", refused,
                 "--llm-model", "m", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "cannot connect" in data["llm_error"] and "Mostazafan" in data["answer"]
    assert main(["ask", QUESTION, "--store", store, "--llm", server.url, "--json"]) == 2


def test_reply_streams_into_a_jupyter_cell(col, serve, tmp_path: Path, monkeypatch) -> None:
    """In a real kernel, the reply grows in a display of its own (updated piece by
    piece), and the checked answer renders below it."""
    import os

    from tests.helpers import need_modules
    from tests.service.test_notebooks import execute

    need_modules("nbclient", "nbformat", "ipykernel")
    from nbformat.v4 import new_code_cell, new_notebook

    text = "The US Treasury sanctioned the Mostazafan Foundation [1]."
    server = serve(lambda body, n: (200, {}, sse([text[i:i + 5]
                                                  for i in range(0, len(text), 5)])))
    src = str(Path(citeseek.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        p for p in (src, os.environ.get("PYTHONPATH", "")) if p))
    cell = (f"import citeseek\ncol = citeseek.open({str(col.root)!r}, model='hashing')\n"
            f"col.ask({QUESTION!r}, k=3, mode='keyword', llm={server.url!r}, "
            f"llm_model='m', min_evidence=0)")
    nb = execute(new_notebook(cells=[new_code_cell(cell)], metadata={"kernelspec": {
        "name": "python3", "language": "python", "display_name": "Python 3"}}), tmp_path)
    outs = nb.cells[0].outputs
    streamed = [o for o in outs if o["output_type"] == "display_data"]
    # one display, first "writing…", updated in place until it held the whole reply
    assert len(streamed) == 1
    shown = streamed[0]["data"]["text/html"]
    assert "Mostazafan Foundation [1]." in shown and "writing" not in shown
    result = next(o for o in outs if o["output_type"] == "execute_result")
    assert "cs-answer" in result["data"]["text/html"] and len(server.requests) == 1


@pytest.mark.model
def test_claim_checks_with_the_real_model(real_sample_collection) -> None:
    """With the bundled model: a faithful paraphrase of its passage is supported; the
    same sentence with a made-up figure is not, nor a true sentence cited to a passage
    about something else."""
    question = "How many protesters were killed in November 2019?"
    hits = real_sample_collection.search(question, k=5)
    n = next(i for i, h in enumerate(hits, start=1) if "1,500 protesters" in h.text)
    text = (f"Iranian security forces killed more than 1,500 protesters [{n}]. "
            f"Iranian security forces killed more than 9,700 protesters [{n}]. "
            f"The US Treasury sanctioned the Mostazafan Foundation [{n}].")
    answer = real_sample_collection.ask(question, generator=lambda q, p: text)
    assert [c.status for c in answer.claims] == ["supported", "unsupported",
                                                 "unsupported"]
    assert answer.claims[0].similarity is not None and answer.claims[0].similarity > 0.6
    assert "9,700" in answer.claims[1].missing
    assert not answer.confident


def test_escape_sequences_in_a_streamed_reply_never_reach_the_terminal(col, serve,
                                                                      capsys) -> None:
    text = ("The US Treasury sanctioned the Mostazafan Foundation [1]. "
            "\x1b]0;pwned\x07\x1b[2J\x9b31m Done [1].")
    server = serve(lambda body, n: (200, {}, sse([text[:30], text[30:45], text[45:]])))
    assert main(["ask", QUESTION, "--store", str(col.root), "--mode", "keyword", "-k", "3",
                 "--llm", server.url, "--llm-model", "m"]) == 0
    out = capsys.readouterr().out
    assert "Mostazafan Foundation [1]" in out
    for raw in ("\x1b", "\x07", "\x9b"):
        assert raw not in out
    assert "\\x1b]0;pwned" in out  # shown, as an escape


def test_a_written_answer_survives_its_json(col, serve) -> None:
    from citeseek.answer.result import Answer

    server = serve(lambda body, n: (200, {}, sse([answer_text(passages_in(body))])))
    answer = col.ask(QUESTION, k=3, llm=server.url, llm_model="m", min_evidence=0.0)
    back = Answer.from_dict(json.loads(json.dumps(answer.to_dict())))
    assert back.to_dict() == answer.to_dict()
    assert [c.status for c in back.claims] == ["supported", "uncited"]
    assert str(back) == str(answer)
