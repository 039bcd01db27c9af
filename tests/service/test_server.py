"""``citeseek serve`` for real: a uvicorn child process on a free loopback port, queried
over HTTP. Its bodies equal the command line's ``--json`` output for the same request,
errors are JSON naming the field, an API key guards it, damage is a 503 with the reason,
and rebuilds are picked up mid-traffic with every answer from one generation."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import citeseek
from citeseek.cli import main
from citeseek.embed.hashing import HashingEmbedder
from citeseek.storage import layout
from tests.helpers import running_threads
from tests.reliability.worker import check_hits, write_version

from .server_process import running_server

QUERIES = ["Mostazafan Foundation sanctions", "How many protesters were killed?",
           "1988 massacre of political prisoners"]
FILTERS: list[dict[str, Any]] = [
    {}, {"k": 2, "source": ["*002*"]}, {"k": 3, "doc_id": ["003"], "mode": "dense"},
    {"date_from": "2021-01-01", "mode": "keyword"}, {"k": 8, "per_doc": 1}]


@pytest.fixture(scope="module")
def store(hashed_sample_store: Path) -> Path:
    return hashed_sample_store


@pytest.fixture(scope="module")
def url(store: Path) -> Iterator[str]:
    with running_server(store) as base:
        yield base


def cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def cli_args(params: dict[str, Any]) -> list[str]:
    """The command-line options that say what ``params`` (request fields) say."""
    out: list[str] = []
    for key, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            out += ["-k" if key == "k" else f"--{key.replace('_', '-')}", str(item)]
    return out


def test_search_and_ask_bodies_are_the_cli_json(url: str, store: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    for query in QUERIES:
        for params in FILTERS:
            code, expected = cli_json(capsys, "search", query, "--store", str(store),
                                      *cli_args(params))
            assert code == 0 and expected, (query, params)
            got = httpx.get(f"{url}/search", params={"query": query, **params})
            assert got.status_code == 200 and got.json() == expected
            assert got.headers["x-citeseek-generation"] == layout.current_generation(store)
            posted = httpx.post(f"{url}/search", json={"query": query, **params})
            assert posted.json() == expected
            ask = {k: v for k, v in params.items() if k != "per_doc"}
            code, answer = cli_json(capsys, "ask", query, "--store", str(store),
                                    *cli_args(ask))
            assert code == 0
            assert httpx.post(f"{url}/ask", json={"question": query, **ask}).json() == answer
            assert httpx.get(f"{url}/ask", params={"question": query, **ask}).json() == answer


def test_documents_info_and_health_are_the_cli_json(url: str, store: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _, docs = cli_json(capsys, "docs", "--store", str(store))
    assert len(docs) == 5 and httpx.get(f"{url}/documents").json() == docs
    for doc in docs:
        _, shown = cli_json(capsys, "show", doc["doc_id"], "--store", str(store))
        assert httpx.get(f"{url}/documents/{doc['doc_id']}").json() == shown
        assert httpx.get(f"{url}/documents/{doc['doc_id'][:3]}").json() == shown  # a prefix
    _, info = cli_json(capsys, "info", "--store", str(store))
    assert httpx.get(f"{url}/info").json() == info
    health = httpx.get(f"{url}/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "generation": info["generation"]}


def test_cli_server_option_prints_what_the_local_command_prints(
        url: str, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["search", QUERIES[0], "-k", "3"], ["search", QUERIES[1], "--mode", "dense"],
                 ["ask", QUERIES[1]], ["ask", "Who won the 2018 FIFA World Cup?"],
                 ["search", QUERIES[2], "--doc-id", "004", "--per-doc", "1"]):
        for extra in ([], ["--json"]):
            assert main([*argv, *extra, "--store", str(store)]) == 0
            local = capsys.readouterr().out
            assert main([*argv, *extra, "--server", url]) == 0
            assert capsys.readouterr().out == local, argv
    assert main(["search", "x", "--server", url, "--store", str(store)]) == 2
    assert main(["search", "   ", "--server", url, "--json"]) == 2
    assert "empty" in json.loads(capsys.readouterr().out)["error"]
    assert main(["search", "x", "--server", url, "--doc-id", "nope"]) == 1
    assert "did you mean" not in capsys.readouterr().err  # nothing close to "nope"
    assert main(["ask", "x", "--server", "http://127.0.0.1:9", "--json"]) == 1
    assert "cannot reach" in json.loads(capsys.readouterr().out)["error"]


def test_python_client(url: str, store: Path) -> None:
    from citeseek.errors import DocumentNotFound, UsageError
    from citeseek.server.client import Client

    client = Client(url)
    local = citeseek.open(store)
    hits = client.search(QUERIES[0], k=2, mode="keyword", source=["*002*"])
    assert citeseek.HitList.from_dict(hits).to_dict() == hits == local.search(
        QUERIES[0], k=2, mode="keyword", sources="*002*").to_dict()
    answer = citeseek.Answer.from_dict(client.ask(QUERIES[1]))
    assert str(answer) == str(local.ask(QUERIES[1]))
    with pytest.raises(DocumentNotFound, match="did you mean"):
        client.search("x", doc_id=["002_e43f018c271d3216.txt"])
    with pytest.raises(UsageError, match="k"):
        client.search("x", k=0)


def test_a_doc_id_prefix_means_the_same_through_every_way_in(
        url: str, store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line, the server and its client resolve ``doc_id`` with the one
    translation (``Filters.from_request``): a prefix several ids start, one no id starts
    and a near miss are the same ``DocumentNotFound`` everywhere, and a unique prefix
    selects the same passages as the whole id."""
    from citeseek.errors import DocumentNotFound
    from citeseek.server.client import Client

    local = citeseek.open(store)
    for given in ("00", "nope", "002_e43f018c271d3216.txt"):
        with pytest.raises(DocumentNotFound) as python:
            local.resolve_doc_id(given)
        said = {"error": str(python.value), "type": "DocumentNotFound"}
        for where in (["--store", str(store)], ["--server", url]):
            assert main(["search", "x", "--doc-id", given, "--json", *where]) == 1
            assert json.loads(capsys.readouterr().out) == said, where
        for path, field in (("/search", "query"), ("/ask", "question")):
            got = httpx.get(f"{url}{path}", params={field: "x", "doc_id": given})
            assert got.status_code == 404 and got.json() == {**said, "field": "doc_id"}
        with pytest.raises(DocumentNotFound) as remote:
            Client(url).ask("x", doc_id=[given])
        assert str(remote.value) == said["error"]
    whole = local.search(QUERIES[0], k=3, doc_ids="002_e43f018c271d3215.txt").to_dict()
    assert Client(url).search(QUERIES[0], k=3, doc_id=["002"]) == whole


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("GET", "/search", {"query": "x", "k": "0"}, 422, "k"),
    ("GET", "/search", {"query": "x", "k": "three"}, 422, "k"),
    ("GET", "/search", {"query": "x", "mode": "fuzzy"}, 422, "mode"),
    ("GET", "/search", {"query": "x", "mdoe": "dense"}, 422, "mdoe"),
    ("GET", "/search", {"query": "   "}, 422, "query"),
    ("GET", "/search", {}, 422, "query"),
    ("GET", "/search", {"query": "x", "per_doc": "0"}, 422, "per_doc"),
    ("POST", "/search", {"query": "x", "source": "not-a-list"}, 422, "source"),
    ("POST", "/ask", {"query": "x"}, 422, "question"),
    ("POST", "/search", {"query": "x" * 100_001}, 400, None),
    ("GET", "/search", {"query": "x", "doc_id": "00"}, 404, "doc_id"),
    ("GET", "/documents/002_e43f018c271d3216.txt", {}, 404, "doc_id"),
    ("GET", "/nowhere", {}, 404, None),
])
def test_bad_requests_get_json_errors_naming_the_field(
        url: str, method: str, path: str, body: dict[str, Any], status: int,
        field: str | None) -> None:
    if method == "GET":
        got = httpx.get(f"{url}{path}", params=body)
    else:
        got = httpx.post(f"{url}{path}", json=body)
    assert got.status_code == status, got.text
    error = got.json()
    assert error["error"] and error["type"]
    assert error.get("field") == field
    if field:
        assert field in error["error"] or error["type"] == "DocumentNotFound"


def test_unknown_ids_are_answered_with_the_ids_meant(url: str) -> None:
    near = httpx.get(f"{url}/documents/002_e43f018c271d3216.txt").json()
    assert "did you mean 002_e43f018c271d3215.txt?" in near["error"]
    several = httpx.get(f"{url}/documents/00").json()
    assert "starts several" in several["error"] and "004_4711baa52dff02b9.txt" in \
        several["error"]


def test_openapi_docs_describe_every_endpoint_and_the_hit_shape(url: str) -> None:
    page = httpx.get(f"{url}/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    spec = httpx.get(f"{url}/openapi.json").json()
    assert {"/search", "/ask", "/documents", "/documents/{doc_id}", "/info",
            "/health"} <= set(spec["paths"])
    search = spec["paths"]["/search"]["get"]
    assert {p["name"] for p in search["parameters"]} == {
        "query", "k", "mode", "source", "date_from", "date_to", "doc_id", "per_doc",
        "rerank", "rerank_top"}
    hit_schema = spec["components"]["schemas"]["Hit"] if "Hit" in \
        spec["components"]["schemas"] else \
        search["responses"]["200"]["content"]["application/json"]["schema"]["$defs"]["Hit"]
    hit = httpx.get(f"{url}/search", params={"query": "Mostazafan"}).json()[0]
    assert set(hit_schema["properties"]) == set(hit)  # the schema is the one served


def test_an_api_key_guards_everything_but_health(store: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with running_server(store, env={"CITESEEK_API_KEY": "s3cret"}) as base:
        assert httpx.get(f"{base}/health").status_code == 200
        for path in ("/search?query=x", "/documents", "/info"):
            refused = httpx.get(f"{base}{path}")
            assert refused.status_code == 401 and refused.json()["type"] == "HTTPError"
            assert refused.headers["www-authenticate"] == "Bearer"
            wrong = httpx.get(f"{base}{path}", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            right = httpx.get(f"{base}{path}", headers={"Authorization": "Bearer s3cret"})
            assert right.status_code == 200
        assert main(["search", "Mostazafan", "--server", base]) == 1
        assert "API key" in capsys.readouterr().err
        monkeypatch.setenv("CITESEEK_API_KEY", "s3cret")
        assert main(["search", "Mostazafan", "--server", base]) == 0


def test_binding_beyond_loopback_needs_a_key(store: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITESEEK_API_KEY", raising=False)
    assert main(["serve", "--store", str(store), "--host", "0.0.0.0", "--json"]) == 2
    assert "CITESEEK_API_KEY" in json.loads(capsys.readouterr().out)["error"]
    # With a key it serves on every address; only loopback is spoken to here.
    with running_server(store, env={"CITESEEK_API_KEY": "k"}, host="0.0.0.0") as base:
        assert httpx.get(f"{base}/info").status_code == 401
        assert httpx.get(f"{base}/info", headers={"Authorization": "Bearer k"}).json()[
            "counts"]["documents"] == 5
    assert main(["serve", "--store", str(store.parent / "missing")]) == 1


def test_a_damaged_collection_is_a_503_with_the_reason(store: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(store, copy)
    live = layout.current_generation(copy)
    assert live is not None
    with running_server(copy) as base:
        assert httpx.get(f"{base}/search", params={"query": "Mostazafan"}).status_code == 200
        # A generation whose index was altered after its manifest is published.
        broken = "gen-000099"
        shutil.copytree(copy / live, copy / broken)
        index = copy / broken / layout.INDEX_FILE
        index.write_bytes(index.read_bytes()[:-8] + b"\0" * 8)
        layout.publish(copy, broken)
        for path in ("/search?query=Mostazafan", "/documents", "/health"):
            got = httpx.get(f"{base}{path}")
            assert got.status_code == 503, path
            assert "index.faiss" in got.json()["error"]
        assert httpx.get(f"{base}/search", params={"query": "Mostazafan"}).json()[
            "type"] == "CorruptCollection"
        layout.publish(copy, live)  # a good generation live again: answered again
        assert httpx.get(f"{base}/health").status_code == 200
    # A server started on a damaged collection serves 503s rather than dying.
    layout.publish(copy, broken)
    with running_server(copy) as base:
        got = httpx.get(f"{base}/search", params={"query": "Mostazafan"})
        assert got.status_code == 503 and "index.faiss" in got.json()["error"]


def test_rebuilds_are_picked_up_mid_traffic_one_generation_per_request(
        tmp_path: Path) -> None:
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    fake = HashingEmbedder()
    write_version(corpus, 0)
    citeseek.build(corpus, store, model=fake, progress=False)
    local = citeseek.open(store, model=fake)  # for the settings check_hits needs
    query = "harbour crane cargo"
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def traffic(base: str, n: int) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            while True:
                finished = done.is_set()
                mode = ("dense", "keyword")[n % 2]
                got = client.get("/search", params={"query": query, "k": 100,
                                                    "mode": mode})
                assert got.status_code == 200, got.text
                hits = citeseek.HitList.from_dict(got.json())
                (version,) = check_hits(local, hits, fake, query)
                seen.append((got.headers["x-citeseek-generation"], version))
                doc = client.get("/documents/article0").json()
                assert doc["doc_id"] == "article0.txt"
                if finished:
                    return

    with running_server(store) as base:
        with running_threads(traffic, [(base, n) for n in range(8)]):
            try:
                for version in range(1, 7):
                    write_version(corpus, version)
                    citeseek.build(corpus, store, model=fake, progress=False)
            finally:
                done.set()
        final = httpx.get(f"{base}/search", params={"query": query, "k": 100}).json()
    by_generation: dict[str, str] = {}
    for generation, version in seen:  # one generation, one version, every time
        assert by_generation.setdefault(generation, version) == version
    assert len(by_generation) >= 2 and "version6" in by_generation.values()
    assert {w for h in final for w in h["text"].split() if w.startswith("version")} == \
        {"version6"}


def test_requests_share_one_embedder_even_without_a_warm_up(store: Path) -> None:
    """Each request runs on its own pinned copy of the collection; the model must be the
    one the server holds, not one loaded anew by every copy (a server started on a
    damaged collection never warms up, and would load it on every request)."""
    from citeseek.server.holder import CollectionHolder

    holder = CollectionHolder(store)
    used = [holder.run(lambda col: col.search("Mostazafan Foundation", k=1,
                                              mode="dense") and col.embedder)[1]
            for _ in range(3)]
    assert used[0] is used[1] is used[2] is holder.collection().embedder


def test_the_client_never_follows_a_redirect_with_the_key() -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from citeseek.errors import CiteseekError
    from citeseek.server.client import Client

    seen: list[str | None] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the standard library's name
            seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args: Any) -> None:
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(307)
            self.send_header("Location", f"http://127.0.0.1:{other.server_port}/search")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    first = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    for server in (other, first):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = Client(f"http://127.0.0.1:{first.server_port}", api_key="secret-key")
        with pytest.raises(CiteseekError, match="307"):
            client.search("anything")
        assert seen == []  # the key went nowhere else
    finally:
        for server in (first, other):
            server.shutdown()
            server.server_close()
