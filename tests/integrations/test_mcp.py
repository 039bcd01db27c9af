"""``citeseek mcp`` with the MCP SDK's own client, over stdio (the server a child
process the client starts, as an assistant does) and over streamable HTTP: the tools
listed with their schemas, each called, every result carrying its full citation in
text and structured output, the command line's filters and errors, bad arguments
refused, documents as resources, and the API key over HTTP.

The ``mcp`` extra is installed by ``make test``; where it is missing these tests skip,
except under CI, where they fail."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.cli import main
from citeseek.demo import sample_dir, sample_formats_dir
from citeseek.embed.hashing import HashingEmbedder
from tests.helpers import REPO, free_port, need_modules, wait_until

need_modules("mcp")

import anyio  # noqa: E402 - after the check that the extra is there
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

ENV = {"PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]), "HF_HUB_OFFLINE": "1"}
CITATION = {"doc_id", "source", "start", "end", "line_start", "line_end", "page_start",
            "page_end", "page_label", "page_label_end"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("mcp") / "sample"
    citeseek.build([sample_dir(), sample_formats_dir()], target, model=HashingEmbedder(),
                   progress=False)
    return target


def over_stdio(store: Path, session: Callable[[Client], Awaitable[None]]) -> None:
    """Run ``session`` with a client connected to ``citeseek mcp`` over stdio."""
    params = StdioServerParameters(command=sys.executable, env=ENV,
                                   args=["-m", "citeseek", "mcp", "--store", str(store)])

    async def run() -> None:
        async with Client(params) as client:
            await session(client)

    anyio.run(run)


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    main([*argv, "--json"])
    return json.loads(capsys.readouterr().out)


def test_the_tools_over_stdio(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    said: dict[str, Any] = {}

    async def session(client: Client) -> None:
        said["tools"] = (await client.list_tools()).tools
        said["search"] = await client.call_tool("search", {"query": "harbour wall", "k": 3})
        said["filtered"] = await client.call_tool("search", {
            "query": "human rights", "k": 4, "mode": "keyword", "source": ["*00[12]*"],
            "doc_id": ["001"]})
        hit = said["search"].structured_content["hits"][0]
        said["show"] = await client.call_tool("show", {"doc_id": hit["doc_id"],
                                                       "start": hit["start"],
                                                       "end": hit["end"], "context": 1})
        said["ask"] = await client.call_tool("ask", {
            "question": "When was the harbour wall at Port Ellen built?"})
        said["docs"] = await client.call_tool("docs", {})
        said["resources"] = (await client.list_resources()).resources
        said["templates"] = (await client.list_resource_templates()).resource_templates
        said["document"] = await client.read_resource(f"citeseek://documents/{hit['doc_id']}")
        said["listing"] = await client.read_resource("citeseek://documents")

    over_stdio(store, session)
    tools = {tool.name: tool for tool in said["tools"]}
    assert set(tools) == {"search", "ask", "show", "docs"}
    for tool in tools.values():
        assert tool.annotations is not None and tool.annotations.read_only_hint
        assert tool.output_schema is not None and tool.description
    hit_schema = json.dumps(tools["search"].output_schema)
    assert all(f'"{name}"' in hit_schema for name in CITATION)
    assert {"query", "k", "mode", "source", "date_from", "date_to", "doc_id", "per_doc"} == \
        set(tools["search"].input_schema["properties"])

    # search: the same passages as `citeseek search --json`, each cited in the text too
    found = said["search"]
    assert not found.is_error
    hits = found.structured_content["hits"]
    cli = cli_json(capsys, "search", "harbour wall", "-k", "3", "--store", str(store))
    assert hits == cli
    assert hits[0]["source"].endswith("harbour-wall.pdf") and hits[0]["page_start"] == 1
    text = found.content[0].text
    for h in hits:
        assert f"chars {h['start']}-{h['end']}" in text and f"doc_id {h['doc_id']!r}" in text
    assert "p. 1, lines " in text
    # the command line's filters, by the same names
    assert said["filtered"].structured_content["hits"] == cli_json(
        capsys, "search", "human rights", "-k", "4", "--mode", "keyword", "--source",
        "*00[12]*", "--doc-id", "001", "--store", str(store))
    assert {h["doc_id"] for h in said["filtered"].structured_content["hits"]} == \
        {"001_4177c0e56a96c8e4.txt"}

    # show: the document's lines around the citation, the cited ones marked
    shown = said["show"].structured_content
    hit = hits[0]
    doc = citeseek.open(store, model=HashingEmbedder()).document(hit["doc_id"])
    assert shown["cited_text"] == doc.text[hit["start"]:hit["end"]] == hit["text"]
    assert shown["where"] == f"p. 1, lines {hit['line_start']}-{hit['line_end']}, chars " \
        f"{hit['start']}-{hit['end']}"
    cited = [line for line in shown["lines"] if line["cited"]]
    assert cited and cited[0]["line"] == hit["line_start"] and cited[0]["page"] == 1
    assert "▶ ⟦" in said["show"].content[0].text

    # ask: the answer object of `citeseek ask --json`, its sentences verbatim and cited
    answer = said["ask"].structured_content
    assert answer["answer"] and "1832" in answer["answer"]
    first = answer["sentences"][0]
    cited_hit = answer["citations"][first["citation"] - 1]
    assert set(cited_hit) >= CITATION
    assert doc.text[first["start"]:first["end"]] == first["text"]
    assert "Sources:" in said["ask"].content[0].text

    # docs: the documents of `citeseek docs --json`
    listed = cli_json(capsys, "docs", "--store", str(store))
    assert said["docs"].structured_content["documents"] == listed
    assert all(d["doc_id"] in said["docs"].content[0].text for d in listed)

    # documents as resources: the list, and each document's text by its id
    assert [str(r.uri) for r in said["resources"]] == ["citeseek://documents"]
    assert [t.uri_template for t in said["templates"]] == ["citeseek://documents/{+doc_id}"]
    assert said["document"].contents[0].text == doc.text
    assert json.loads(said["listing"].contents[0].text) == listed


def test_bad_arguments_and_the_command_lines_errors(
        store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    said: dict[str, Any] = {}
    calls = {
        "k0": ("search", {"query": "harbour", "k": 0}),
        "mode": ("search", {"query": "harbour", "mode": "fuzzy"}),
        "no_query": ("search", {"k": 2}),
        "blank": ("ask", {"question": ""}),
        "date": ("search", {"query": "harbour", "date_from": "yesterday"}),
        "unknown_doc": ("show", {"doc_id": "no-such-doc"}),
        "range": ("show", {"doc_id": "harbour-wall.pdf", "start": 10, "end": 10**9}),
        "filter_doc": ("ask", {"question": "Who?", "doc_id": ["zz"]}),
        "no_tool": ("delete", {}),
    }

    async def session(client: Client) -> None:
        for name, (tool, arguments) in calls.items():
            try:
                said[name] = await client.call_tool(tool, arguments)
            except Exception as exc:  # the SDK raises for a protocol-level refusal
                said[name] = exc

    over_stdio(store, session)
    for name in ("k0", "mode", "no_query", "blank", "date", "unknown_doc", "range",
                 "filter_doc"):
        assert said[name].is_error, name
    assert "k" in said["k0"].content[0].text and "greater than or equal to 1" in \
        said["k0"].content[0].text
    assert "fuzzy" in said["mode"].content[0].text
    assert "query" in said["no_query"].content[0].text
    # the errors the command line gives for the same mistakes, word for word
    for name, argv in (("date", ["search", "harbour", "--date-from", "yesterday"]),
                       ("unknown_doc", ["show", "no-such-doc"]),
                       ("filter_doc", ["ask", "Who?", "--doc-id", "zz"])):
        cli = cli_json(capsys, *argv, "--store", str(store))
        result = said[name]
        assert result.structured_content == cli, name
        assert result.content[0].text == f"{cli['type']}: {cli['error']}"
    assert said["range"].structured_content["type"] == "UsageError"
    no_tool = said["no_tool"]
    assert (getattr(no_tool, "is_error", False) or isinstance(no_tool, Exception)) and \
        "delete" in str(getattr(no_tool, "content", no_tool))


@contextlib.contextmanager
def http_server(store: Path, api_key: str | None = None) -> Iterator[str]:
    """``citeseek mcp --http`` on a free loopback port, with ``CITESEEK_API_KEY`` set
    to ``api_key`` (unset when None); yields its endpoint."""
    env = {k: v for k, v in os.environ.items() if k != "CITESEEK_API_KEY"}
    env.update(ENV, **({"CITESEEK_API_KEY": api_key} if api_key else {}))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "citeseek", "mcp", "--store", str(store),
                             "--http", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(listening, proc=proc, limit=60, what="the MCP server to listen")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_tools_over_streamable_http(store: Path) -> None:
    said: dict[str, Any] = {}

    async def run(url: str) -> None:
        async with Client(url) as client:
            said["tools"] = (await client.list_tools()).tools
            said["search"] = await client.call_tool("search", {"query": "granite quarried",
                                                               "k": 2, "mode": "keyword"})
            said["bad"] = await client.call_tool("search", {"query": "granite", "k": "many"})

    with http_server(store) as url:
        anyio.run(run, url)
    assert {t.name for t in said["tools"]} == {"search", "ask", "show", "docs"}
    hits = said["search"].structured_content["hits"]
    direct = citeseek.open(store, model=HashingEmbedder()).search("granite quarried", k=2,
                                                                   mode="keyword")
    assert hits == direct.to_dict() and set(hits[0]) >= CITATION
    assert said["bad"].is_error and "k" in said["bad"].content[0].text


def test_http_needs_the_api_key_when_one_is_set(store: Path) -> None:
    import httpx

    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    with http_server(store, api_key="mcp-secret") as url:
        refused = httpx.post(url, json=hello, timeout=30)
        wrong = httpx.post(url, json=hello, timeout=30,
                           headers={"Authorization": "Bearer guess"})
        allowed = httpx.post(url, json=hello, timeout=30, headers={
            "Authorization": "Bearer mcp-secret",
            "Accept": "application/json, text/event-stream"})
    assert refused.status_code == 401 and refused.json()["type"] == "HTTPError"
    assert wrong.status_code == 401
    assert allowed.status_code != 401


def test_a_store_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "citeseek", "mcp", "--store",
                           str(tmp_path / "missing")], env={**os.environ, **ENV},
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 1 and "no collection at" in done.stderr
